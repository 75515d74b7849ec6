"""Filters: a threshold over one signal. A row whose signal is below ``min_score`` gets an issue with
the filter's reason; nothing is deleted. A missing signal (a skipped step) never flags a row.

Each named filter reads one signal and writes one reason; ``filter.threshold`` takes both as params.
"""

from __future__ import annotations

import numpy as np
from pydantic import Field, create_model

from curate.ops.base import Operator, Params

# name → (signal read, issue reason written, default min_score, what the default means)
FILTERS: dict[str, tuple[str, str, float, str]] = {
    "filter.too_short": ("length", "too_short", 1.0, "fewer words than the scorer's min_words"),
    "filter.word_length": ("word_length", "bad_word_length", 0.7, "mean word length far outside 3–10 characters"),
    "filter.alpha": ("alpha_words", "low_alpha", 0.8, "under 80% of words hold a letter (Gopher)"),
    "filter.symbols": ("symbols", "too_many_symbols", 0.9, "over 0.1 '#' or '...' per word (Gopher)"),
    "filter.repetition": ("repetition", "repetitive", 0.7, "over 30% repeated lines or n-grams"),
    "filter.stopwords": ("stopwords", "no_stopwords", 1.0, "fewer than min_stopwords English stop words"),
    "filter.terminal_punct": ("terminal_punct", "no_terminal_punct", 0.5, "most lines lack end punctuation (C4)"),
    "filter.lang": ("lang_match", "lang_mismatch", 0.5, "under 50% probability of an expected language"),
    "filter.lang_conf": ("lang_conf", "lang_unsure", 0.5, "the detector is under 50% sure of any language"),
    "filter.empty_response": ("response_present", "empty_response", 1.0, "an empty response"),
    "filter.truncated": ("response_complete", "truncated_response", 0.5, "an unclosed fence or dangling end"),
    "filter.copies_instruction": ("response_novel", "copies_instruction", 0.1,
                                  "over 90% of the response's words come from the prompt"),
    "filter.refusal": ("no_refusal", "refusal", 0.5, "refusal or 'as an AI' boilerplate"),
    "filter.length_ratio": ("length_ratio", "bad_length_ratio", 0.5, "response/prompt ratio far outside bounds"),
    "filter.role_order": ("role_order", "broken_roles", 1.0, "chat turns out of user/assistant order"),
    "filter.outlier": ("typicality", "outlier", 0.5, "under half as close to its neighbours as the median row"),
    "filter.quality": ("quality_score", "low_quality", 0.5, "the quality classifier says bad more likely than good"),
}


class ThresholdParams(Params):
    signal: str = Field(..., pattern=r"^[a-z][a-z0-9_]{0,63}$", description="Signal the threshold applies to.")
    reason: str = Field(..., pattern=r"^[a-z][a-z0-9_]{0,63}$", description="Issue kind written for rows below it.")
    min_score: float = Field(..., ge=0, le=1, description="Rows whose signal is below this get the issue.")


def passes(values: np.ndarray, min_score: float) -> np.ndarray:
    """True where a row is kept: its signal is at least ``min_score``, or missing."""
    values = np.asarray(values, dtype=np.float64)
    return np.isnan(values) | (values >= min_score)


def signal_and_reason(op: Operator, params: Params) -> tuple[str, str]:
    """The signal a filter step reads and the reason it writes."""
    if op.name == "filter.threshold":
        return params.signal, params.reason
    return op.signals[0], op.reason


def _named(name: str, signal: str, reason: str, default: float, meaning: str) -> Operator:
    """The filter ``name``: ``min_score`` over ``signal`` (default ``default``), writing ``reason``."""
    model = create_model(
        "Params_" + name.replace(".", "_"), __base__=Params,
        min_score=(float, Field(default, ge=0, le=1,
                                description=f"Rows whose {signal} is below this get the issue {reason} "
                                            f"(default {default}: {meaning}).")))
    return Operator(name, "filter", model, passes, f"{signal} below min_score → {reason} ({meaning}).",
                    signals=(signal,), reason=reason)


THRESHOLD = Operator("filter.threshold", "filter", ThresholdParams, passes,
                     "Any signal below min_score → an issue with the given reason.")

OPERATORS = [THRESHOLD, *(_named(name, *spec) for name, spec in FILTERS.items())]
