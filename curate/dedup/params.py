"""The parameters of one dedup run, validated once at the public boundary.

MinHash shingles follow the text unless asked (``shingle="auto"``, the default):

- a dataset whose rows are mostly CJK (Han, kana, Hangul) or Thai-family script is shingled by
  character bigrams and compared at Jaccard 0.6. A whitespace "word" there is a whole clause: word
  5-grams found 18 of 200 planted one-character Chinese near-duplicates; character bigrams at 0.6 find
  197 (PUD, mean 36 characters; 0.8 finds 169: one changed character of a 15-character sentence leaves
  a Jaccard of 0.75), with no false pair among 1,000 distinct sentences (``bench/multilingual.py``);
- any other dataset of short rows (median under 50 words) by character 4-grams at 0.65. A one-word
  edit removes five word 5-grams, so two texts of ``W`` words that differ by one word have a word
  5-gram Jaccard of (W-9)/(W+1), under 0.8 for any text shorter than 49 words: word 5-grams found
  8-40 % of the planted one-character near-duplicates among the PUD sentences of the 16 alphabetic
  languages (median 13-21 words). Character 4-grams at 0.65 find 97-100 % of them, with no false pair
  among 1,000 distinct sentences per language. 3-grams find as many but their sets saturate on text
  drawn from a small vocabulary (two random 40-word strings over 34 words reach a 3-gram Jaccard of
  0.66, a 4-gram one of 0.49);
- longer rows (documents: web pages, instructions with context) by word 5-grams at 0.8, the usual
  setting for web-scale near-duplicate removal.

An explicit ``threshold`` is kept. With ``auto`` an explicit ``ngram`` is a word length for alphabetic
text (``--ngram 5`` keeps word 5-grams on short rows) and ignored for CJK/Thai; with ``shingle="char"``
it is the character length, by default 2 for CJK/Thai datasets and 4 otherwise. The choice and its
reason are stored with the run's parameters (``chosen``).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from curate.errors import CurateError
from curate.dedup.fields import COMPARABLE_FIELDS

METHODS = ("exact", "minhash", "semantic")
DEFAULT_THRESHOLD = {"exact": 1.0, "minhash": 0.8, "semantic": 0.9}
DEFAULT_NGRAM = {"word": 5, "char": 2}   # char: CJK/Thai bigrams; alphabetic text: ALPHA_CHAR
CHAR_THRESHOLD = 0.6    # minhash default for CJK/Thai character bigrams (see the module docstring)
ALPHA_CHAR = (4, 0.65)  # (ngram, threshold) of character shingles for alphabetic text
CHAR_DATASET_SHARE = 0.5  # of the non-empty rows: CJK/Thai rows at which a dataset is shingled by characters
SHORT_WORDS = 50        # median words per non-empty row under which alphabetic text is shingled by characters
DEFAULT_FIELDS = {"classification": ["text"], "sft": ["instruction", "input"], "chat": ["user"], "spans": ["text"],
                  "preference": ["prompt"]}


class DedupError(CurateError):
    """Bad dedup parameters, or nothing to show yet."""


class DedupParams(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    method: Literal["exact", "minhash", "semantic"] = Field(
        default="minhash", description="exact: normalised text hash; minhash: n-gram Jaccard (LSH, verified); "
                               "semantic: MiniLM cosine.")
    threshold: float | None = Field(
        default=None, ge=0.0, le=1.0, description=f"Jaccard (minhash) or cosine (semantic) to join a cluster; unset: "
                                          f"{DEFAULT_THRESHOLD['minhash']} for word shingles, {CHAR_THRESHOLD} for "
                                          f"CJK/Thai characters, {ALPHA_CHAR[1]} for other characters, "
                                          f"{DEFAULT_THRESHOLD['semantic']} cosine.")
    ngram: int | None = Field(default=None, ge=1, le=50, description=f"Shingle length in words, or in characters with "
                              f"shingle char; unset: {DEFAULT_NGRAM['word']} words, {DEFAULT_NGRAM['char']} "
                              f"CJK/Thai characters, {ALPHA_CHAR[0]} other characters (minhash).")
    shingle: Literal["auto", "word", "char"] = Field(
        default="auto", description=f"Word or character n-gram shingles; auto: characters for CJK/Thai datasets and "
                            f"short rows (median under {SHORT_WORDS} words), words otherwise (minhash).")
    num_perm: int = Field(default=128, ge=16, le=1024, description="MinHash permutations (minhash).")
    fields: tuple[str, ...] = Field(..., min_length=1, description="Which fields of each example are compared.")
    neighbors: int = Field(default=20, ge=1, le=200, description="Nearest neighbours looked at per row (semantic).")
    threads: int = Field(default=2, ge=1, le=64, description="Threads the local engine normalises, shingles and "
                         "signs with (the Ray engine: one per worker); results do not depend on it.")
    chosen: str = Field(default="", description="how auto settings were resolved, e.g. 'char: 1,000 of 1,000 rows CJK/Thai'")

    def key(self) -> str:
        """The parameters that change which rows are compared and how (for caches)."""
        return self.model_dump_json()

    @property
    def cut(self) -> float:
        """The threshold, once ``resolve_params`` has made it concrete."""
        if self.threshold is None:
            raise ValueError("threshold unset: pass the params through resolve_params first")
        return self.threshold

    @property
    def n(self) -> int:
        """The shingle length, once ``resolve_params`` has made it concrete (minhash)."""
        if self.ngram is None:
            raise ValueError("ngram unset: pass the params through resolve_params first")
        return self.ngram


def make_params(task: str, *, method: str | None = None, threshold: float | None = None, ngram: int | None = None,
                shingle: str | None = None, num_perm: int | None = None, fields: list[str] | str | None = None,
                neighbors: int | None = None, threads: int | None = None, dataset: str = "") -> DedupParams:
    """Validated parameters for a dataset of ``task`` (unset ones take ``DedupParams``' defaults); an
    unknown method or field raises ``DedupError``."""
    where = f"dedup {dataset}: " if dataset else "dedup: "
    if method is not None and method not in METHODS:
        raise DedupError(f"{where}unknown method {method!r}; fix: use one of {', '.join(METHODS)}")
    if isinstance(fields, str):
        fields = [f.strip() for f in fields.split(",") if f.strip()]
    fields = list(fields or DEFAULT_FIELDS[task])
    known = list(COMPARABLE_FIELDS[task])
    bad = [f for f in fields if f not in known]
    if bad:
        raise DedupError(f"{where}{task} datasets have no field {bad[0]!r} to compare; fix: --fields with "
                         f"{', '.join(known)}")
    given = {"method": method, "threshold": threshold, "ngram": ngram, "shingle": shingle, "num_perm": num_perm,
             "neighbors": neighbors, "threads": threads}
    try:
        return DedupParams(fields=tuple(fields), **{k: v for k, v in given.items() if v is not None})
    except ValidationError as exc:
        e = exc.errors()[0]
        flag = "--" + str(e["loc"][0]).replace("_", "-")
        raise DedupError(f"{where}{flag}: {e['msg']}; fix: pass a value in range") from None


def resolve_params(params: DedupParams, texts) -> DedupParams:
    """``params`` with shingle kind, n-gram length and threshold made concrete for ``texts`` (an Arrow
    string array or its ``TextStats``): see the module docstring. Already concrete params come back unchanged."""
    if params.method != "minhash":
        threshold = DEFAULT_THRESHOLD[params.method] if params.threshold is None else params.threshold
        return params.model_copy(update={"threshold": threshold})
    kind, ngram, threshold, chosen = resolve_shingles(texts, params.shingle, params.ngram, params.threshold)
    return params.model_copy(update={"shingle": kind, "ngram": ngram, "threshold": threshold,
                                     "chosen": chosen or params.chosen})


def reads_texts(params: DedupParams) -> bool:
    """Whether ``resolve_params`` looks at the texts for ``params`` (auto shingles, or character shingles
    without a length or threshold); when not, callers may skip measuring them."""
    return params.method == "minhash" and (params.shingle == "auto" or params.shingle == "char" and (
        params.ngram is None or params.threshold is None))


WORDS_CAP = 1_000   # word counts at or above this share one histogram bin (only "under SHORT_WORDS" matters)


@dataclass(frozen=True)
class TextStats:
    """What ``auto`` shingles look at, summed over batches (``a + b``), so a dataset that no process
    holds whole (Ray shards, a corpus) is resolved exactly as one array would be."""

    total: int = 0     # non-empty rows
    cjk: int = 0       # of which mostly CJK/Thai script
    words: np.ndarray = field(default_factory=lambda: np.zeros(WORDS_CAP + 1, np.int64))  # rows per word count

    def __add__(self, other: "TextStats") -> "TextStats":
        return TextStats(self.total + other.total, self.cjk + other.cjk, self.words + other.words)

    def median_words(self) -> float:
        """``np.median`` of the non-empty rows' word counts (counts over ``WORDS_CAP`` as ``WORDS_CAP``)."""
        if not self.total:
            return 0.0
        cum = np.cumsum(self.words)
        at = lambda k: int(np.searchsorted(cum, k, side="right"))  # noqa: E731 - the k-th smallest (0-based)
        n = self.total
        return float(at(n // 2)) if n % 2 else (at(n // 2 - 1) + at(n // 2)) / 2


def text_stats(texts) -> TextStats:
    """``TextStats`` of an Arrow string array."""
    import pyarrow.compute as pc

    from curate.scripts import char_script_rows

    texts = pc.fill_null(texts, "")
    nonempty = pc.greater(pc.utf8_length(texts), 0).to_numpy(zero_copy_only=False)
    words = pc.list_value_length(pc.utf8_split_whitespace(texts)).to_numpy(zero_copy_only=False)[nonempty]
    return TextStats(int(nonempty.sum()), int((char_script_rows(texts) & nonempty).sum()),
                     np.bincount(np.minimum(words, WORDS_CAP), minlength=WORDS_CAP + 1).astype(np.int64))


def resolve_shingles(texts, shingle: str, ngram: int | None,
                     threshold: float | None) -> tuple[str, int, float, str]:
    """``(kind, ngram, threshold, chosen)`` for MinHash on ``texts`` (an Arrow string array, or their
    ``TextStats``), as the module docstring says: ``auto`` picks character bigrams when at least half
    the non-empty rows are CJK/Thai, character 4-grams when the median row has under 50 words (unless
    ``ngram`` is given: then words), word 5-grams otherwise; unset values take the kind's defaults.
    The texts are read only when the answer depends on them (resolved params pass through unread)."""
    kind, chosen, script_char = shingle, "", False
    if shingle == "auto" or (shingle == "char" and (ngram is None or threshold is None)):
        stats = texts if isinstance(texts, TextStats) else text_stats(texts)
        script_char = bool(stats.total) and stats.cjk >= CHAR_DATASET_SHARE * stats.total
        if shingle == "auto":
            kind, chosen = _auto_kind(stats, script_char, ngram)
            ngram = None if script_char else ngram   # CJK/Thai: an explicit ngram counts words, so it is ignored
    if kind == "word":
        default_ngram, default_threshold = DEFAULT_NGRAM["word"], DEFAULT_THRESHOLD["minhash"]
    else:
        default_ngram, default_threshold = (DEFAULT_NGRAM["char"], CHAR_THRESHOLD) if script_char else ALPHA_CHAR
    return (kind, default_ngram if ngram is None else ngram,
            default_threshold if threshold is None else threshold, chosen)


def _auto_kind(stats: TextStats, script_char: bool, ngram: int | None) -> tuple[str, str]:
    """The shingle kind ``auto`` picks for ``stats``, and why (stored as the run's ``chosen``)."""
    chosen = f"{stats.cjk:,} of {stats.total:,} rows CJK/Thai"
    if script_char:
        return "char", f"auto: char ({chosen})"
    median = stats.median_words()
    chosen += f", median {median:,.0f} words"
    if ngram is None and median < SHORT_WORDS:
        return "char", f"auto: char ({chosen} < {SHORT_WORDS})"
    return "word", f"auto: word ({chosen})"
