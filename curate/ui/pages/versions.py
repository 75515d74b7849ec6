"""Versions: immutable snapshots, diffs, leak-free splits and exports (built by the versions stage)."""

from curate.ui import state


def render() -> None:
    state.coming("Versions", [
        "snapshot a dataset as an immutable version and diff any two versions",
        "split train/validation/test without a near-duplicate across splits",
        "pin eval sets and export to JSONL, Parquet, HF DatasetDict, alpaca and sharegpt",
    ])
