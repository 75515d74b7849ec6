"""The demo workspace: every sample file of ``sample_data/`` ingested into named datasets, and a story.

SST-2 files hold 0/1 labels; the demo ingests them with their class names (``LABEL_NAMES``).

The story: ``sst2`` is ingested with planted label noise (``NOISE`` of its labels flipped, seeded, in
a copy written beside the store; the sample file is untouched). Two annotators relabel its first 60
rows (their majority fixes the planted errors there), cleanlab flags likely label errors, ``sst2:v1``
keeps everything as ingested and ``sst2:v2`` takes the majority labels and leaves the suspects out.
The quick baseline, scored on the pinned ``sst2-dev``, then ranks v2 above v1, and the Compare page
lists the eval items v2 gets right that v1 got wrong.
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Callable

from curate import browse
from curate.errors import CurateError
from curate.ingest import IngestReport, ingest
from curate.store.workspace import Workspace

# sample_data/ of the repository, shipped inside the package (curate/_data/ links to it; a wheel copies it).
SAMPLE_DATA = Path(__file__).resolve().parent / "_data" / "sample_data"
NOISE = 0.3          # share of sst2 labels flipped on purpose
NOISY_SST2 = "demo-inputs/sst2_noisy.jsonl"   # written under the workspace folder

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
# Class names of the datasets whose files hold numeric labels, so the UI shows names, not 0 and 1.
SST2_NAMES = {"0": "negative", "1": "positive"}
LABEL_NAMES: dict[str, dict[str, str]] = {"sst2": SST2_NAMES, "sst2-dev": SST2_NAMES}
STEPS = ("ingesting the sample files", "finding duplicate clusters", "labelling: annotators, pre-labels, suspects",
         "running the cleaning recipes", "creating versions", "training the quick baselines")


def noisy_copy(clean: Path, out: Path, rate: float = NOISE, seed: int = 0) -> set[int]:
    """Write ``clean`` (binary-labelled JSONL) to ``out`` with ``rate`` of its labels flipped, the same
    rows every time; return the flipped row positions."""
    rows = [json.loads(line) for line in clean.read_text().splitlines()]
    flipped = set(random.Random(seed).sample(range(len(rows)), int(rate * len(rows))))
    for i in flipped:
        rows[i]["label"] = 1 - int(rows[i]["label"])
        if "label_text" in rows[i]:
            rows[i]["label_text"] = {"positive": "negative", "negative": "positive"}[rows[i]["label_text"]]
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return flipped


def build_demo(root: str | Path, sample_data: Path = SAMPLE_DATA,
               progress: Callable[[int, str], None] | None = None) -> list[IngestReport]:
    """Create (or top up) a demo workspace at ``root``; re-running adds nothing. ``progress(i, step)``
    is told each step of ``STEPS`` as it starts."""
    if not sample_data.is_dir():
        raise CurateError(f"{sample_data}: sample data not found; fix: reinstall curate (the package ships it)")
    say = progress or (lambda i, step: None)
    workspace = Workspace(root)
    say(0, STEPS[0])
    noisy = workspace.root / NOISY_SST2
    noisy_copy(sample_data / DEMO_DATASETS["sst2"][0], noisy)
    files = {**DEMO_DATASETS, "sst2": [noisy]}
    from curate.browse import datasets

    # label names go with a first ingest only: ingest refuses names for a file already read (it cannot
    # tell them from a renaming), and a re-run reads the same files, so it adds nothing
    made = {d.name for d in datasets(workspace)}
    reports = [ingest(workspace, [sample_data / f for f in names], name,
                      labels=None if name in made else LABEL_NAMES.get(name))
               for name, names in files.items()]
    say(1, STEPS[1])
    from curate.dedup import dedup_demo

    dedup_demo(workspace, ["messy", "gpteacher"])  # MinHash clusters for the Dedup page (<1 s)
    say(2, STEPS[2])
    from curate.label.demo import add_label_demo

    add_label_demo(workspace, truth=_truth(workspace, sample_data))  # alice/bob (tokens demo-alice, demo-bob)
    say(3, STEPS[3])
    from curate.ops import RECIPES_DIR, run_recipe

    run_recipe(workspace, RECIPES_DIR / "classification.yaml", "messy")  # filtering report (<2 s; skipped
    run_recipe(workspace, RECIPES_DIR / "sft.yaml", "gsm8k")             # when re-run on the same data)
    say(4, STEPS[4])
    from curate.versions.demo import add_versions_demo

    add_versions_demo(workspace)  # sst2-dev pinned whole as an eval set; sst2:v1 (as ingested) → sst2:v2 (curated)
    say(5, STEPS[5])
    from curate.train.demo import add_train_demo

    add_train_demo(workspace)  # keep last: quick baseline on every sst2 version, for the Compare page (~10 s)
    return reports


def _truth(workspace: Workspace, sample_data: Path) -> dict[int, str]:
    """The clean label of each sst2 example, by example id (rows keep their file order)."""
    clean = [json.loads(line)["label"] for line in (sample_data / DEMO_DATASETS["sst2"][0]).read_text().splitlines()]
    ids = [r["id"] for r in browse.page(workspace, "sst2", limit=len(clean)).rows]
    return {i: SST2_NAMES[str(label)] for i, label in zip(ids, clean)}
