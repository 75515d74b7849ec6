"""Gopher / C4-style quality heuristics as signals in [0, 1] (1 = good), fully vectorised.

Every count comes from pyarrow kernels over the whole batch (whitespace split, regex counts) and
numpy ``bincount`` per row; repeated n-grams and lines are found with one ``factorize`` and one
``duplicated`` over the batch, not a Python loop per row. Rae et al. 2021 (Gopher, appendix A) and
Raffel et al. 2020 (C4) give the rules; here each rule becomes a score so a threshold can move:

Words are counted in the units of the row's script (``curate.scripts``): whitespace words for
spaced scripts (Latin, Cyrillic, Arabic, Devanagari, Hangul, ...), jieba words for Chinese, single
characters for Japanese and Thai (runs of Latin letters or digits inside them are one unit each).
So ``min_words: 4`` means four words of an English or Chinese row, four characters of a Japanese one.

- ``length``: ``min(1, words / min_words)``, scaled down by ``max_words / words`` above ``max_words``.
- ``word_length``: 1 while the mean word length lies in [min, max] characters, else the ratio to the
  bound; missing (never flags) for Chinese, Japanese and Thai rows, whose bounds the Latin 3-10 are not.
- ``alpha_words``: share of words with at least one letter (Gopher keeps ≥ 0.8).
- ``symbols``: ``1 - min(1, (#'#' + #'...' + #'…') / words)`` (Gopher drops a ratio over 0.1, i.e. < 0.9).
- ``repetition``: ``1 -`` the larger of the share of duplicated lines and of repeated word n-grams.
- ``stopwords``: ``min(1, stop words / min_stopwords)``; English uses Gopher's eight (the, be, to, of,
  ...), other languages the stopwords-iso lists (Chinese ones matched against jieba words). Missing for
  character-unit rows (Japanese, Thai): a one-character unit cannot match a multi-character stop word.
- ``terminal_punct``: share of lines that end in terminal punctuation (C4 keeps only such lines); CJK
  ``。！？``, Devanagari ``।`` and Arabic ``؟`` count.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from pydantic import Field, field_validator

from curate.ops.base import Operator, Params
from curate.ops.text import FieldOrAuto, field_values, per_row_sum, safe_div
from curate.scripts import units

GOPHER_STOPWORDS = ["the", "be", "to", "of", "and", "that", "have", "with"]
_TERMINAL = r"[.!?\"'\x{201D}\x{2019}»)\]。！？」』）\x{0964}\x{061F}]$"   # CJK, Devanagari danda, Arabic ?
SIGNALS = ("length", "word_length", "alpha_words", "symbols", "repetition", "stopwords", "terminal_punct")


class HeuristicParams(Params):
    field: FieldOrAuto = Field("auto", description="Field to score; auto: text, the sft response, or all chat turns.")
    min_words: int = Field(5, ge=1, le=10_000, description="Words at which `length` reaches 1.")
    max_words: int = Field(100_000, ge=1, le=10_000_000, description="Words above which `length` decreases.")
    min_mean_word_length: float = Field(3.0, ge=0.5, le=20, description="Shortest good mean word length (chars).")
    max_mean_word_length: float = Field(10.0, ge=1, le=100, description="Longest good mean word length (chars).")
    ngram: int = Field(3, ge=2, le=10, description="Word n-gram size for the repetition score.")
    min_stopwords: int = Field(2, ge=1, le=20, description="Stop words at which `stopwords` reaches 1.")
    stopword_languages: list[str] = Field(
        ["en"], min_length=1, max_length=60,
        description="Languages whose stop words count (en: Gopher's eight; others: stopwords-iso).")

    @field_validator("stopword_languages")
    @classmethod
    def _listed(cls, value: list[str]) -> list[str]:
        missing = [code for code in value if code != "en" and not _has_stopwords(code)]
        if missing:
            raise ValueError(f"no stop-word list for {missing[0]!r}; leave it out and drop filter.stopwords "
                             f"for that language")
        return value


def _has_stopwords(code: str) -> bool:
    import stopwordsiso

    return stopwordsiso.has_lang(code)


@lru_cache(maxsize=16)
def stopword_set(languages: tuple[str, ...]) -> pa.Array:
    """Lower-case stop words of ``languages``: Gopher's for English, stopwords-iso for the rest."""
    import stopwordsiso

    found = set()
    for code in languages:
        found |= set(GOPHER_STOPWORDS) if code == "en" else {w.lower() for w in stopwordsiso.stopwords(code)}
    return pa.array(sorted(found), pa.string())


def _duplicated_share(tokens: pa.Array, parents: np.ndarray, n_rows: int, n: int = 1) -> np.ndarray:
    """Per row: the share of its n-grams (n=1: items) that already occurred earlier in the same row."""
    if len(tokens) == 0:
        return np.zeros(n_rows)
    codes = pd.factorize(np.asarray(tokens.to_numpy(zero_copy_only=False), dtype=object))[0].astype(np.int64)
    if n > 1:
        if len(codes) < n:
            return np.zeros(n_rows)
        valid = parents[: len(codes) - n + 1] == parents[n - 1:]
        key = codes[: len(codes) - n + 1].copy()
        for k in range(1, n):
            key = key * np.int64(1_000_003) + codes[k: len(codes) - n + 1 + k]
        key, rows = key[valid], parents[: len(codes) - n + 1][valid]
    else:
        key, rows = codes, parents
    dup = pd.DataFrame({"r": rows, "k": key}).duplicated().to_numpy()
    return safe_div(per_row_sum(rows, dup.astype(np.float64), n_rows), per_row_sum(rows, None, n_rows), 0.0)


def heuristic_scores(batch: pd.DataFrame, p: HeuristicParams, ctx: dict | None = None) -> dict[str, np.ndarray]:
    values = field_values(batch, p.field)
    n = len(values)
    flat, parents, counts, kinds = units(values)
    spaced = kinds == "words"
    counts_f = counts.astype(np.float64)
    length = np.minimum(1.0, counts_f / p.min_words)
    length = np.where(counts_f > p.max_words, p.max_words / np.maximum(counts_f, 1), length)

    chars = per_row_sum(parents, pc.utf8_length(flat).to_numpy(zero_copy_only=False).astype(np.float64), n)
    mean_len = safe_div(chars, counts_f, 0.0)
    word_length = np.where(mean_len < p.min_mean_word_length, mean_len / p.min_mean_word_length,
                           np.where(mean_len > p.max_mean_word_length,
                                    p.max_mean_word_length / np.maximum(mean_len, 1e-9), 1.0))
    word_length = np.where(counts == 0, 0.0, np.where(spaced, word_length, np.nan))

    has_alpha = pc.match_substring_regex(flat, r"\pL").to_numpy(zero_copy_only=False).astype(np.float64)
    alpha_words = safe_div(per_row_sum(parents, has_alpha, n), counts_f, 0.0)

    symbols = (pc.count_substring(values, "#").to_numpy(zero_copy_only=False)
               + pc.count_substring(values, "...").to_numpy(zero_copy_only=False)
               + pc.count_substring(values, "\u2026").to_numpy(zero_copy_only=False)).astype(np.float64)
    symbol_score = 1.0 - np.minimum(1.0, safe_div(symbols, counts_f, 0.0))

    lower = pc.utf8_lower(flat)
    stop_set = stopword_set(tuple(p.stopword_languages))
    is_stop = pc.is_in(lower, value_set=stop_set).to_numpy(zero_copy_only=False).astype(np.float64)
    stopwords = np.minimum(1.0, per_row_sum(parents, is_stop, n) / p.min_stopwords)
    stopwords = np.where(kinds == "chars", np.nan, stopwords)

    lines = pc.split_pattern(values, "\n")
    flat_lines = pc.utf8_trim_whitespace(pc.list_flatten(lines))
    line_parents = pc.list_parent_indices(lines).to_numpy(zero_copy_only=False)
    nonempty = pc.greater(pc.utf8_length(flat_lines), 0).to_numpy(zero_copy_only=False)
    flat_lines = flat_lines.filter(pa.array(nonempty))
    line_parents = line_parents[nonempty]
    dup_lines = _duplicated_share(flat_lines, line_parents, n)
    dup_grams = _duplicated_share(lower, parents, n, p.ngram)
    repetition = 1.0 - np.maximum(dup_lines, dup_grams)

    ends = pc.match_substring_regex(flat_lines, _TERMINAL).to_numpy(zero_copy_only=False)
    terminal = safe_div(per_row_sum(line_parents, ends.astype(np.float64), n),
                        per_row_sum(line_parents, None, n), 0.0)
    return {"length": length, "word_length": word_length, "alpha_words": alpha_words, "symbols": symbol_score,
            "repetition": repetition, "stopwords": stopwords, "terminal_punct": terminal}


HEURISTICS = Operator("score.heuristics", "scorer", HeuristicParams, heuristic_scores,
                      "Gopher/C4 heuristics: length, mean word length, alphabetic words, symbols, repetition, "
                      "stop words, terminal punctuation.", signals=SIGNALS)

OPERATORS = [HEURISTICS]
