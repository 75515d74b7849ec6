r"""Writing systems: which rows are written without spaces, and the units their words are counted in.

Whitespace splits words in most scripts, including Korean (Hangul writes spaces between eojeol).
Chinese, Japanese, Thai, Lao, Khmer and Myanmar do not, so a whitespace count calls a whole sentence
"one word". A row is *spaceless* when at least ``SPACELESS_SHARE`` of its letters are in one of those
scripts, each word of another script (a run of its letters) counting as one letter; its units are then:

- **Chinese** (Han, no kana): words from the jieba segmenter, run on the Simplified form (OpenCC
  ``t2s``) because jieba's dictionary is Simplified; Latin words and numbers inside stay whole.
- **Japanese** (kana present), **Thai**, Lao, Khmer, Myanmar: one unit per character of the script
  (a Thai vowel or tone mark counts with the consonant it sits on); runs of other letters and digits
  (Latin names, numbers) are one unit each.

Units made only of punctuation are dropped (a whitespace split attaches punctuation to words, so it
never counts separately there either). Every other row keeps whitespace words (``text.words``).
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

HAN = "\\x{3400}-\\x{4DBF}\\x{4E00}-\\x{9FFF}\\x{F900}-\\x{FAFF}"
KANA = "\\x{3040}-\\x{30FF}\\x{31F0}-\\x{31FF}\\x{FF66}-\\x{FF9F}"
HANGUL = "\\x{1100}-\\x{11FF}\\x{3130}-\\x{318F}\\x{AC00}-\\x{D7AF}"
SOUTHEAST = "\\x{0E00}-\\x{0EFF}\\x{1000}-\\x{109F}\\x{1780}-\\x{17FF}"   # Thai, Lao, Myanmar, Khmer
SPACELESS = f"[{HAN}{KANA}{SOUTHEAST}]"
SPACELESS_SHARE = 0.3   # of a row's letters: a Chinese sentence quoting English names is still Chinese

_PY_SPACELESS = re.compile("[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u3040-\u30ff\u31f0-\u31ff\uff66-\uff9f"
                           "\u0e00-\u0eff\u1000-\u109f\u1780-\u17ff]")
_PY_CHAR_UNITS = re.compile(_PY_SPACELESS.pattern + r"|[^\s\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
                            r"\u3040-\u30ff\u31f0-\u31ff\uff66-\uff9f\u0e00-\u0eff\u1000-\u109f\u1780-\u17ff]+")


def _counts(values: pa.Array, pattern: str) -> np.ndarray:
    return pc.fill_null(pc.count_substring_regex(values, pattern), 0).to_numpy(zero_copy_only=False)


def _script_share(sub: pa.Array, scripts: str) -> np.ndarray:
    """Per row: characters of ``scripts`` / (those + words of any other script), 0 without any."""
    inside = _counts(sub, f"[{scripts}]")
    other_words = _counts(sub, f"[^\\s\\pP\\pS\\pN\\pM{scripts}]+")
    return np.where(inside > 0, inside / np.maximum(inside + other_words, 1), 0.0)


def _non_ascii(values: pa.Array) -> np.ndarray:
    return np.flatnonzero(~pc.string_is_ascii(values).to_numpy(zero_copy_only=False))


def unit_kinds(values: pa.Array) -> np.ndarray:
    """Per row: ``words`` (whitespace), ``jieba`` (Chinese) or ``chars`` (Japanese, Thai, ...).
    ASCII rows are settled by one vectorised test; only the others are counted by script."""
    values = pc.fill_null(values, "")
    kinds = np.full(len(values), "words", dtype=object)
    rest = _non_ascii(values)
    if len(rest) == 0:
        return kinds
    sub = values.take(pa.array(rest))
    spaceless = _counts(sub, SPACELESS)
    kana, han = _counts(sub, f"[{KANA}]"), _counts(sub, f"[{HAN}]")
    is_spaceless = _script_share(sub, HAN + KANA + SOUTHEAST) >= SPACELESS_SHARE
    chinese = is_spaceless & (han > 0) & (kana == 0) & (han * 2 >= spaceless)
    kinds[rest[is_spaceless]] = "chars"
    kinds[rest[chinese]] = "jieba"
    return kinds


def char_script_rows(values: pa.Array) -> np.ndarray:
    """Per row: True when it is mostly CJK (Han, kana, Hangul) or Thai-family script, whose near
    duplicates differ by a character, not a word (dedup shingles them by characters)."""
    values = pc.fill_null(values, "")
    out = np.zeros(len(values), bool)
    rest = _non_ascii(values)
    if len(rest):
        out[rest] = _script_share(values.take(pa.array(rest)), HAN + KANA + HANGUL + SOUTHEAST) >= SPACELESS_SHARE
    return out


@lru_cache(maxsize=1)
def _jieba():
    import jieba

    jieba.setLogLevel(60)
    jieba.initialize()
    return jieba


@lru_cache(maxsize=4)
def opencc_converter(config: str):
    """An OpenCC converter (``t2s``, ``s2t``, ``s2tw``, ``tw2sp``, ...), loaded once."""
    import opencc

    return opencc.OpenCC(config)


def _is_punct(token: str) -> bool:
    return all(unicodedata.category(ch)[0] in "PZ" or ch.isspace() for ch in token)


def segment(text: str, kind: str) -> list[str]:
    """The units of one text as ``kind`` counts them (see the module docstring)."""
    if kind == "jieba":
        tokens = _jieba().lcut(opencc_converter("t2s").convert(text))
    elif kind == "chars":
        tokens = []
        for token in _PY_CHAR_UNITS.findall(text):
            if tokens and unicodedata.category(token[0])[0] == "M":   # a Thai vowel or tone mark joins
                tokens[-1] += token                                    # the consonant it sits on
            else:
                tokens.append(token)
    else:
        tokens = text.split()
    return [t for t in tokens if t.strip() and not _is_punct(t)]


def units(values: pa.Array) -> tuple[pa.Array, np.ndarray, np.ndarray, np.ndarray]:
    """Counting units of every row: ``(flat_units, parent_row_of_each, units_per_row, kind_per_row)``.
    Whitespace rows take the vectorised split; only spaceless rows go through ``segment``."""
    from curate.ops.text import words

    values = pc.fill_null(values, "")
    kinds = unit_kinds(values)
    flat, parents, _ = words(values)
    special = np.flatnonzero(kinds != "words")
    if len(special):
        keep = ~np.isin(parents, special)
        texts = values.take(pa.array(special)).to_pylist()
        seg = [segment(t, k) for t, k in zip(texts, kinds[special])]
        extra_parents = np.repeat(special, [len(s) for s in seg]).astype(parents.dtype)
        flat = pa.concat_arrays([flat.filter(pa.array(keep)), pa.array([u for s in seg for u in s], pa.string())])
        parents = np.concatenate([parents[keep], extra_parents])
        order = np.argsort(parents, kind="stable")   # n-gram scores need each row's units together, in order
        flat, parents = flat.take(pa.array(order)), parents[order]
    counts = np.bincount(parents, minlength=len(values)).astype(np.int64)
    return flat, parents, counts, kinds
