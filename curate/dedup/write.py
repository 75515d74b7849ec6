"""The write-back of a dedup run, shared by both engines: people's decisions re-applied to the found
clusters, then clusters, members (with their similarity to the canonical row), ``is_dup`` issues and
the run's counters in one transaction."""

from __future__ import annotations

from typing import Any, Callable

import pyarrow as pa

from curate.dedup.clusters import Decision, Resolved, match_decisions, resolve
from curate.dedup.params import DedupParams
from curate.store import catalog
from curate.store import dedup as store
from curate.store.workspace import Workspace


def store_clusters(workspace: Workspace, dataset_id: int, run_id: int, params: DedupParams, groups: list[list[int]],
                    decisions: list[Decision], sim: Callable[[int, int], float], counts: dict[str, int],
                    progress: Callable[[str, int, int], None]) -> dict[str, Any]:
    """Decisions re-applied to ``groups``, clusters, members and ``is_dup`` issues written with the counters."""
    matched = match_decisions(groups, decisions)
    resolved = [resolve(g, m) for g, m in zip(groups, matched)]
    clusters_t, members_t = tables(resolved, sim)
    flagged = sum(r == "dup" for r in members_t.column("role").to_pylist())
    counters = {"total": counts["total"], "compared": counts["compared"], "candidates": counts["candidates"],
                "verified": counts["verified"], "clusters": len(groups),
                "in_clusters": int(sum(len(g) for g in groups)), "dropped_is_dup": int(flagged),
                "kept": counts["total"] - int(flagged), "decisions_applied": sum(1 for m in matched if m)}
    progress("writing", 0, len(groups))
    with workspace.transaction() as con:
        store.write_clusters(con, run_id, dataset_id, clusters_t, members_t, params.method)
        catalog.finish_run(con, run_id, counters)
    return counters


def tables(resolved: list[Resolved], sim: Callable[[int, int], float]) -> tuple[pa.Table, pa.Table]:
    c_id, c_size, c_canon, c_status, c_dec = [], [], [], [], []
    m_cl, m_ex, m_role, m_sim = [], [], [], []
    for cid, r in enumerate(resolved, 1):
        c_id.append(cid)
        c_size.append(len(r.members))
        c_canon.append(r.canonical_id)
        c_status.append(r.status)
        c_dec.append(r.decision_id)
        anchor = r.canonical_id if r.canonical_id is not None else r.members[0]
        for m in r.members:
            m_cl.append(cid)
            m_ex.append(m)
            m_role.append(r.roles[m])
            m_sim.append(1.0 if m == anchor else float(sim(anchor, m)))
    clusters = pa.table({"cluster_id": pa.array(c_id, pa.int32()), "size": pa.array(c_size, pa.int32()),
                         "canonical_id": pa.array(c_canon, pa.int64()), "status": pa.array(c_status, pa.string()),
                         "decision_id": pa.array(c_dec, pa.int64())})
    members = pa.table({"cluster_id": pa.array(m_cl, pa.int32()), "example_id": pa.array(m_ex, pa.int64()),
                        "role": pa.array(m_role, pa.string()), "similarity": pa.array(m_sim, pa.float64())})
    return clusters, members
