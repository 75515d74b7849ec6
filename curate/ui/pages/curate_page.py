"""Curate: clean, score and deduplicate (built by the clean-and-score and dedup stages)."""

from curate.ui import state


def render() -> None:
    state.coming("Curate", [
        "find exact, near-duplicate (MinHash LSH) and semantic duplicates and decide each cluster",
        "repair unicode, strip HTML, normalise whitespace and redact PII, with before/after diffs",
        "score language, heuristic and model-based quality, and filter with recipes from pipelines/*.yaml",
        "read a filtering report: rows kept and dropped per reason, with samples",
    ])
