"""The demo workspace: every sample file of ``sample_data/`` ingested into named datasets.

Later stages extend ``build_demo`` so every page of the UI has something to show.
"""

from __future__ import annotations

from pathlib import Path

from curate.errors import CurateError
from curate.ingest import IngestReport, ingest
from curate.store.workspace import Workspace

# sample_data/ of the repository, shipped inside the package (curate/_data/ links to it; a wheel copies it).
SAMPLE_DATA = Path(__file__).resolve().parent / "_data" / "sample_data"

# dataset name → sample files (see sample_data/PROVENANCE.md for where each comes from).
DEMO_DATASETS: dict[str, list[str]] = {
    "sst2": ["sst2_sentences.jsonl"],
    "sst2-dev": ["sst2_dev.jsonl"],
    "trec": ["trec_questions.csv"],
    "gsm8k": ["gsm8k_train.jsonl"],
    "gsm8k-test": ["gsm8k_test.jsonl"],
    "gpteacher": ["gpteacher_codegen.parquet"],
    "chat": ["chat_sample.jsonl", "chat_sharegpt.json"],
    "messy": ["messy_reviews.jsonl"],
}


def build_demo(root: str | Path, sample_data: Path = SAMPLE_DATA) -> list[IngestReport]:
    """Create (or top up) a demo workspace at ``root``; re-running adds nothing."""
    if not sample_data.is_dir():
        raise CurateError(f"{sample_data}: sample data not found; fix: reinstall curate (the package ships it)")
    workspace = Workspace(root)
    reports = [ingest(workspace, [sample_data / f for f in files], name) for name, files in DEMO_DATASETS.items()]
    from curate.dedup import dedup_demo

    dedup_demo(workspace, ["messy", "gpteacher"])  # MinHash clusters for the Dedup page (<1 s)
    from curate.label.demo import add_label_demo

    add_label_demo(workspace)  # annotators alice/bob (tokens demo-alice, demo-bob), answers, pre-labels, suspects
    from curate.ops import RECIPES_DIR, run_recipe

    run_recipe(workspace, RECIPES_DIR / "classification.yaml", "messy")  # filtering report (<2 s; skipped
    run_recipe(workspace, RECIPES_DIR / "sft.yaml", "gsm8k")             # when re-run on the same data)
    from curate.versions.demo import add_versions_demo

    add_versions_demo(workspace)  # sst2-dev pinned whole as an eval set; sst2:v1 (as ingested) → sst2:v2 (curated)
    from curate.train.demo import add_train_demo

    add_train_demo(workspace)  # keep last: quick baseline on every sst2 version, for the Compare page (~10 s)
    return reports
