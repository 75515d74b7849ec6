"""Train: fine-tune and evaluate per version, and compare versions (built by the training stage)."""

from curate.ui import state


def render() -> None:
    state.coming("Train", [
        "fine-tune the bundled MiniLM (or any local model) on a version with one click",
        "evaluate on pinned eval sets and compare versions by score",
        "see which eval items flipped between two runs, and their nearest training rows",
    ])
