"""Label: keyboard-first annotation (built by the labelling stage)."""

from curate.ui import state


def render() -> None:
    state.coming("Label", [
        "label classes, multi-label, ratings and SFT response edits with the keyboard alone",
        "work as several annotators, with agreement (Cohen's κ, Fleiss' κ, Krippendorff's α)",
        "accept model pre-labels, follow an active-learning queue, and review label-error suspects",
    ])
