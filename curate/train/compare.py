"""Compare model runs: a leaderboard of versions × eval sets × runs (ranked only within one label
space), flips between two runs, and the nearest training rows of a failed eval item (MiniLM kNN) with
where they came from."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from curate.errors import InputError
from curate.store import catalog, train as store
from curate.store.workspace import Workspace
from curate.train.model import (BaselineGap, LeaderboardRow, ModelRun, Prediction, ProgressPoint, Trainable,
                                model_name)

HIGHER_IS_BETTER = {"loss": False, "perplexity": False}


def runs(workspace: Workspace, dataset: str | None = None) -> list[ModelRun]:
    """Model runs (of one dataset, or all), oldest first, with their live progress."""
    with workspace.connect() as con:
        dataset_id = catalog.get_dataset(con, dataset)["id"] if dataset else None
        rows = store.list_model_runs(con, dataset_id)
    return [ModelRun.from_row(r) for r in rows]


def scores(workspace: Workspace, run_id: int) -> dict[str, dict[str, float | None]]:
    """eval set → metric → value for one run."""
    with workspace.connect() as con:
        rows = store.eval_results(con, [run_id])
    found: dict[str, dict[str, float | None]] = {}
    for r in rows:
        if r["metric"] != "detail":
            found.setdefault(r["eval_set"], {})[r["metric"]] = r["value"]
    return found


def details(workspace: Workspace, run_id: int) -> dict[str, dict[str, Any]]:
    """eval set → confusion matrix and per-class scores (classification runs)."""
    import json

    with workspace.connect() as con:
        rows = store.eval_results(con, [run_id])
    return {r["eval_set"]: json.loads(r["detail"]) for r in rows if r["metric"] == "detail" and r["detail"]}


def metrics_of(workspace: Workspace, dataset: str) -> list[str]:
    """The headline metrics a dataset's runs were scored with (accuracy first)."""
    with workspace.connect() as con:
        rows = store.eval_results(con, dataset_id=catalog.get_dataset(con, dataset)["id"])
    names = sorted({r["metric"] for r in rows if ":" not in r["metric"] and r["metric"] not in ("n", "detail")})
    order = ["accuracy", "macro_f1", "exact_match", "loss", "perplexity"]
    return sorted(names, key=lambda m: (order.index(m) if m in order else len(order), m))


def _label_spaces(rows: list[dict[str, Any]]) -> dict[tuple[int, str], tuple[str, bool]]:
    """(run, eval set) → (the model's classes as one string, whether every reference is one of them),
    read from each classification score's detail."""
    import json

    found = {}
    for r in rows:
        if r["metric"] == "detail" and r["detail"]:
            detail = json.loads(r["detail"])
            classes = detail.get("classes") or list(detail.get("per_class", {}))
            seen = detail.get("confusion", {}).get("labels", [])
            refs = [c for c, row in zip(seen, detail.get("confusion", {}).get("matrix", [])) if sum(row)]
            found[(r["run_id"], r["eval_set"])] = (", ".join(classes), set(refs) <= set(classes))
    return found


def leaderboard(workspace: Workspace, dataset: str, metric: str = "accuracy", *,
                best_trials: bool = False) -> list[LeaderboardRow]:
    """One row per (finished run, eval set) with the run's version, kind, label space and ``metric``;
    ranked (``rank``, best first) only among runs of the same kind and label space on the same eval set.
    A score whose eval set holds labels outside the model's classes (recorded before curate refused
    such sets) is kept with ``rank`` None and ``mismatch`` True: it is not a comparable number. With
    ``best_trials`` a hyperparameter search counts once, by its best trial (chosen on validation):
    versions are ranked by their best setting, not by one lucky trial on the eval set."""
    with workspace.connect() as con:
        ds = catalog.get_dataset(con, dataset)
        rows = store.eval_results(con, dataset_id=ds["id"])
    known = {r["metric"] for r in rows}
    if rows and metric not in known:
        choices = sorted(m for m in known if m != "detail")
        raise InputError("--metric", f"no run of {dataset} was scored with {metric!r}",
                         fix=f"pick one of: {', '.join(choices)}")
    spaces = _label_spaces(rows)
    board = []
    for r in rows:
        if r["metric"] != metric or r["status"] != "done":
            continue
        space, fits = spaces.get((r["run_id"], r["eval_set"]), ("", True))
        board.append(LeaderboardRow(run=r["run_id"], version=r["version"], kind=r["kind"], eval_set=r["eval_set"],
                                    label_space=space, mismatch=not fits, metric=metric, value=r["value"],
                                    model=model_name(r["kind"], r["model"]), started=r["started_at"]))
    if best_trials:
        from curate.train.search import best_trials as marked

        best, trials = marked(workspace, dataset)
        board = [r for r in board if r.run in best or r.run not in trials]
    sign = 1 if HIGHER_IS_BETTER.get(metric, True) else -1
    board.sort(key=lambda r: (r.eval_set, r.label_space, r.kind, r.mismatch,
                              -sign * (r.value if r.value is not None else -np.inf)))
    group, rank, ranked = None, 0, []
    for r in board:
        key = (r.eval_set, r.label_space, r.kind)
        rank = 1 if key != group else rank + 1
        group = key
        ranked.append(replace(r, rank=None if r.mismatch else rank))
    return ranked


def behind_baseline(workspace: Workspace, dataset: str, run_id: int, metric: str = "accuracy") -> list[BaselineGap]:
    """Where a finished fine-tune scores worse than the quick baseline of the same version on the same
    eval set (its latest baseline run there): one gap per such eval set; empty for other runs, or when
    no baseline of that version was scored there."""
    board = [r for r in leaderboard(workspace, dataset, metric) if not r.mismatch and r.value is not None]
    sign = 1 if HIGHER_IS_BETTER.get(metric, True) else -1
    out = []
    for r in (r for r in board if r.run == run_id and r.kind == "finetune"):
        base = max((b for b in board if b.kind == "baseline" and b.version == r.version
                    and b.eval_set == r.eval_set), key=lambda b: b.run, default=None)
        if base is not None and r.value is not None and base.value is not None and sign * (base.value - r.value) > 0:
            out.append(BaselineGap(eval_set=r.eval_set, metric=metric, value=r.value, baseline=base.value,
                                   baseline_run=base.run))
    return out


@dataclass
class Flips:
    eval_set: str
    run_a: int
    run_b: int
    fixed: list[dict[str, Any]] = field(default_factory=list)    # wrong in A, right in B
    broken: list[dict[str, Any]] = field(default_factory=list)   # right in A, wrong in B
    both_right: int = 0
    both_wrong: int = 0


def common_eval_sets(workspace: Workspace, run_a: int, run_b: int) -> list[str]:
    a, b = scores(workspace, run_a), scores(workspace, run_b)
    return sorted(set(a) & set(b))


def flips(workspace: Workspace, run_a: int, run_b: int, eval_set: str | None = None) -> Flips:
    """Eval items whose correctness differs between run A and run B on one eval set."""
    shared = common_eval_sets(workspace, run_a, run_b)
    if not shared:
        raise InputError(f"runs {run_a} and {run_b}", "share no eval set",
                         fix="compare runs scored on the same pinned eval set")
    eval_set = eval_set or shared[0]
    if eval_set not in shared:
        raise InputError(eval_set, f"runs {run_a} and {run_b} were not both scored on it",
                         fix=f"pick one of: {', '.join(shared)}")
    with workspace.connect() as con:
        pairs = store.prediction_pairs(con, run_a, run_b, eval_set)
    out = Flips(eval_set, run_a, run_b)
    for p in pairs:
        if p["correct_a"] and not p["correct_b"]:
            out.broken.append(p)
        elif p["correct_b"] and not p["correct_a"]:
            out.fixed.append(p)
        elif p["correct_a"]:
            out.both_right += 1
        else:
            out.both_wrong += 1
    return out


def failures(workspace: Workspace, run_id: int, eval_set: str) -> list[Prediction]:
    """The eval items a run got wrong on one eval set."""
    with workspace.connect() as con:
        rows = store.predictions(con, run_id, eval_set, wrong_only=True)
    return [Prediction(**r) for r in rows]


def nearest_training_rows(workspace: Workspace, run_id: int, example_id: int, *, k: int = 5) -> list[dict[str, Any]]:
    """The ``k`` training rows of the run's version closest to an eval item (cosine of MiniLM
    embeddings), each with its label in the version and where it came from: source file and row,
    edits, annotations and issues."""
    from curate import browse, versions
    from curate.embed import embed_cached

    with workspace.connect() as con:
        run = ModelRun.from_row(store.get_model_run(con, run_id))
    rows = versions.load_rows(workspace, run.ref, split="train")
    if not rows:
        return []
    query = _text_of(browse.example(workspace, example_id))
    texts = [_text_of(r) for r in rows]
    vectors = embed_cached(workspace, texts + [query])
    sims = vectors[:-1] @ vectors[-1]
    top = np.argsort(-sims, kind="stable")[:k]
    with workspace.connect() as con:
        where = store.provenance(con, [rows[i]["example_id"] for i in top])
    return [{"example_id": rows[i]["example_id"], "similarity": float(sims[i]), "text": texts[i],
             "label": rows[i].get("label"), **{key: where.get(rows[i]["example_id"], {}).get(key)
                                               for key in ("source", "row_num", "edits", "annotations", "issues")}}
            for i in top]


def _text_of(row: dict[str, Any]) -> str:
    fields = row["fields"] if isinstance(row.get("fields"), dict) else row
    if fields.get("text"):
        return fields["text"]
    parts = [fields.get("instruction"), fields.get("input")]
    if not any(parts) and fields.get("messages"):
        msgs = fields["messages"]
        parts = [m.get("content") for m in msgs if isinstance(m, dict) and m.get("role") == "user"][:1]
    return "\n".join(p for p in parts if p)


def trainable(workspace: Workspace) -> dict[str, Trainable]:
    """Datasets that have versions: name → its task and versions (newest first)."""
    from curate import browse, versions

    found = {}
    for d in browse.datasets(workspace):
        names = [v.name for v in versions.list_versions(workspace, d.name)]
        if names:
            found[d.name] = Trainable(task=d.task, versions=names[::-1])
    return found


def eval_set_names(workspace: Workspace, dataset: str, task: str) -> list[str]:
    """Names of the pinned eval sets a run of ``dataset`` may be scored on besides its version's own
    validation/test splits (see ``evaluate.eval_sets_for``; a set whose labels differ is refused then)."""
    from curate import versions

    return [e.name for e in versions.list_eval_sets(workspace)
            if e.task == task and (e.dataset == dataset or task == "classification")]


def model_label(run: ModelRun) -> str:
    """A short name for a run's model: the baseline, the bundled MiniLM, or the model folder's name."""
    return model_name(run.kind, run.model)


def progress(workspace: Workspace, run_id: int) -> list[ProgressPoint]:
    """The loss curve of a run: step, epoch, loss, lr, val_loss, val_score."""
    with workspace.connect() as con:
        rows = store.progress(con, run_id)
    return [ProgressPoint(**r) for r in rows]
