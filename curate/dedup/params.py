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

    method: Literal["exact", "minhash", "semantic"] = Field("minhash", description="exact hash, MinHash LSH or MiniLM cosine")
    threshold: float | None = Field(None, ge=0.0, le=1.0, description="Jaccard (minhash) or cosine (semantic) to "
                                    "join a cluster; default 0.8 words, 0.6 CJK/Thai characters, 0.65 other characters, 0.9 cosine")
    ngram: int | None = Field(None, ge=1, le=50, description="shingle length in words (default 5), or in "
                              "characters with shingle=char (default 2 CJK/Thai, 4 otherwise) (minhash)")
    shingle: Literal["auto", "word", "char"] = Field(
        "auto", description="word or character n-gram shingles; auto: characters for CJK/Thai datasets and "
        "short rows (median under 50 words), words otherwise (minhash)")
    num_perm: int = Field(128, ge=16, le=1024, description="MinHash permutations (minhash)")
    fields: tuple[str, ...] = Field(..., min_length=1, description="which fields of each example are compared")
    neighbors: int = Field(20, ge=1, le=200, description="nearest neighbours looked at per row (semantic)")
    chosen: str = Field("", description="how auto settings were resolved, e.g. 'char: 1,000 of 1,000 rows CJK/Thai'")

    def key(self) -> str:
        """The parameters that change which rows are compared and how (for caches)."""
        return self.model_dump_json()


def make_params(task: str, *, method: str = "minhash", threshold: float | None = None, ngram: int | None = None,
                shingle: str = "auto", num_perm: int = 128, fields: list[str] | str | None = None,
                neighbors: int = 20, dataset: str = "") -> DedupParams:
    """Validated parameters for a dataset of ``task``; an unknown method or field raises ``DedupError``."""
    where = f"dedup {dataset}: " if dataset else "dedup: "
    if method not in METHODS:
        raise DedupError(f"{where}unknown method {method!r}; fix: use one of {', '.join(METHODS)}")
    if isinstance(fields, str):
        fields = [f.strip() for f in fields.split(",") if f.strip()]
    fields = list(fields or DEFAULT_FIELDS[task])
    known = list(COMPARABLE_FIELDS[task])
    bad = [f for f in fields if f not in known]
    if bad:
        raise DedupError(f"{where}{task} datasets have no field {bad[0]!r} to compare; fix: --fields with "
                         f"{', '.join(known)}")
    try:
        return DedupParams(method=method, threshold=threshold, ngram=ngram, shingle=shingle, num_perm=num_perm,
                           fields=tuple(fields), neighbors=neighbors)
    except ValidationError as exc:
        e = exc.errors()[0]
        raise DedupError(f"{where}--{e['loc'][0]}: {e['msg']}; fix: pass a value in range") from None


def resolve_params(params: DedupParams, texts) -> DedupParams:
    """``params`` with shingle kind, n-gram length and threshold made concrete for ``texts`` (an Arrow
    string array): see the module docstring. Already concrete params come back unchanged."""
    if params.method != "minhash":
        threshold = DEFAULT_THRESHOLD[params.method] if params.threshold is None else params.threshold
        return params.model_copy(update={"threshold": threshold})
    kind, ngram, threshold, chosen = resolve_shingles(texts, params.shingle, params.ngram, params.threshold)
    return params.model_copy(update={"shingle": kind, "ngram": ngram, "threshold": threshold,
                                     "chosen": chosen or params.chosen})


def resolve_shingles(texts, shingle: str, ngram: int | None,
                     threshold: float | None) -> tuple[str, int, float, str]:
    """``(kind, ngram, threshold, chosen)`` for MinHash on ``texts`` (an Arrow string array), as the
    module docstring says: ``auto`` picks character bigrams when at least half the non-empty rows are
    CJK/Thai, character 4-grams when the median row has under 50 words (unless ``ngram`` is given:
    then words), word 5-grams otherwise; unset values take the kind's defaults."""
    import pyarrow.compute as pc

    from curate.scripts import char_script_rows

    if shingle == "word":
        return "word", DEFAULT_NGRAM["word"] if ngram is None else ngram, \
            DEFAULT_THRESHOLD["minhash"] if threshold is None else threshold, ""
    texts = pc.fill_null(texts, "")
    nonempty = pc.greater(pc.utf8_length(texts), 0).to_numpy(zero_copy_only=False)
    total = int(nonempty.sum())
    cjk = int((char_script_rows(texts) & nonempty).sum())
    script_char = bool(total) and cjk >= CHAR_DATASET_SHARE * total
    char_ngram, char_threshold = (DEFAULT_NGRAM["char"], CHAR_THRESHOLD) if script_char else ALPHA_CHAR
    if shingle == "char":
        return "char", char_ngram if ngram is None else ngram, char_threshold if threshold is None else threshold, ""
    chosen = f"{cjk:,} of {total:,} rows CJK/Thai"
    if script_char:
        return "char", char_ngram, char_threshold if threshold is None else threshold, f"auto: char ({chosen})"
    words = pc.list_value_length(pc.utf8_split_whitespace(texts)).to_numpy(zero_copy_only=False)[nonempty]
    median = float(np.median(words)) if total else 0.0
    chosen += f", median {median:,.0f} words"
    if ngram is None and median < SHORT_WORDS:
        return "char", char_ngram, char_threshold if threshold is None else threshold, \
            f"auto: char ({chosen} < {SHORT_WORDS})"
    return "word", DEFAULT_NGRAM["word"] if ngram is None else ngram, \
        DEFAULT_THRESHOLD["minhash"] if threshold is None else threshold, f"auto: word ({chosen})"
