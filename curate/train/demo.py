"""The demo's model runs: the quick baseline on every version of ``sst2``, so the Compare page has a
leaderboard (the fine-tune stays one click away on the Train page). Re-running adds nothing."""

from __future__ import annotations

from curate.store.workspace import Workspace

DEMO_DATASET = "sst2"


def add_train_demo(workspace: Workspace, dataset: str = DEMO_DATASET) -> list[int]:
    """Train and score the quick baseline on each version of ``dataset`` that has none; return run ids."""
    from curate import versions
    from curate.errors import NotFound
    from curate.train import compare, runner

    try:
        names = [v.name for v in versions.list_versions(workspace, dataset)]
    except NotFound:
        return []
    have = {r.version for r in compare.runs(workspace, dataset) if r.kind == "baseline" and r.status == "done"}
    made = []
    for name in names:
        if name not in have:
            run_id = runner.create(workspace, f"{dataset}:{name}", baseline=True)
            runner.execute(workspace, run_id)
            made.append(run_id)
    return made
