"""The demo workspace: every sample file of ``sample_data/`` ingested into named datasets.

Later stages extend ``build_demo`` so every page of the UI has something to show.
"""

from __future__ import annotations

from pathlib import Path

from curate.errors import CurateError
from curate.ingest import IngestReport, ingest
from curate.store.workspace import Workspace

SAMPLE_DATA = Path(__file__).resolve().parent.parent / "sample_data"

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
        raise CurateError(f"{sample_data}: sample data not found; fix: run from a clone of the curate repository")
    workspace = Workspace(root)
    return [ingest(workspace, [sample_data / f for f in files], name) for name, files in DEMO_DATASETS.items()]
