"""A person's decision on a cluster of the latest dedup run, recorded and applied to that run at once
(later runs re-apply it, ``curate.dedup.clusters.match_decisions``).
"""

from __future__ import annotations

import json

from curate.dedup.clusters import ACTIONS, Decision, Resolved, decisions_from_rows, match_decisions, resolve
from curate.dedup.pairs import pair_similarity
from curate.dedup.params import DedupError, DedupParams
from curate.dedup.results import cluster_or_raise, dataset_and_run
from curate.store import dedup as store
from curate.store.workspace import Workspace


def decide(workspace: Workspace, dataset: str, cluster_id: int, action: str, *, canonical_id: int | None = None,
           split_out: list[int] | None = None, author: str = "ui") -> Resolved:
    """Record a person's decision on a cluster of the latest run and apply it to that run at once.

    ``canonical`` needs ``canonical_id`` (a member); ``split`` takes ``split_out`` members (all when
    empty) out of the cluster; ``keep_all`` flags nobody. The decision is re-applied by later runs.
    """
    if action not in ACTIONS:
        raise DedupError(f"dedup {dataset}: unknown decision {action!r}; fix: use one of {', '.join(ACTIONS)}")
    if not author or not author.strip():
        raise DedupError(f"dedup {dataset}: a decision needs who made it; fix: pass an annotator name")
    with workspace.connect() as con:
        ds, run = dataset_and_run(con, dataset)
        cluster_or_raise(con, dataset, run, cluster_id)  # raises if the cluster is not in the latest run
        member_ids = sorted(m["example_id"] for m in store.members(con, run["id"], cluster_id))
        earlier = decisions_from_rows(store.decisions(con, ds["id"]))
        params = DedupParams(**json.loads(run["params"]))
        texts = store.doc_texts(con, ds["id"], ds["task"], list(params.fields), ids=member_ids)
    if action == "canonical" and canonical_id not in member_ids:
        raise DedupError(f"dedup {dataset}: example {canonical_id} is not in cluster {cluster_id}; "
                         f"fix: choose one of {', '.join(map(str, member_ids))}")
    bad = [m for m in split_out or [] if m not in member_ids]
    if bad:
        raise DedupError(f"dedup {dataset}: example {bad[0]} is not in cluster {cluster_id}; "
                         f"fix: choose members of the cluster to split out")
    canonical_id = canonical_id if action == "canonical" else None
    new = Decision(max([d.id for d in earlier], default=0) + 1, action, frozenset(member_ids), canonical_id,
                   frozenset(split_out or []), author.strip())
    result = resolve(member_ids, match_decisions([member_ids], [*earlier, new])[0])
    sim = pair_similarity(workspace, texts.column("text").combine_chunks(), params)
    ids = texts.column("id").to_pylist()
    anchor = ids.index(result.canonical_id if result.canonical_id is not None else result.members[0])
    similarity = {m: 1.0 if i == anchor else float(sim(anchor, i)) for i, m in enumerate(ids)}
    with workspace.transaction() as con:
        decision_id = store.add_decision(con, ds["id"], run["id"], action, member_ids, canonical_id,
                                         split_out, author.strip())
        result.decision_id = decision_id
        store.update_cluster(con, run["id"], cluster_id, canonical_id=result.canonical_id, status=result.status,
                             decision_id=decision_id, roles=result.roles, similarity=similarity,
                             reason=params.method)
    return result
