"""The parameters of one dedup run, validated once at the public boundary.

MinHash shingles follow the script unless asked (``shingle="auto"``, the default): a dataset whose
rows are mostly CJK (Han, kana, Hangul) or Thai-family script is shingled by character bigrams and
compared at Jaccard 0.6, any other by word 5-grams at 0.8. Chinese and Japanese near-duplicates differ
by a character, and a whitespace "word" there is a whole clause: word 5-grams found 18 of 200 planted
one-character Chinese near-duplicates. Character bigrams at 0.6 find 197 of them (PUD, mean 36
characters; 0.8 finds 169: one changed character of a 15-character sentence leaves a Jaccard of 0.75),
with no false pair among 1,000 distinct sentences (``bench/multilingual.py``). An explicit
``threshold`` is kept; with ``auto`` an explicit ``ngram`` is the word length (the character length
with ``shingle="char"``). The choice and its reason are stored with the run's parameters (``chosen``).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from curate.errors import CurateError
from curate.store.dedup import FIELD_SQL

METHODS = ("exact", "minhash", "semantic")
DEFAULT_THRESHOLD = {"exact": 1.0, "minhash": 0.8, "semantic": 0.9}
DEFAULT_NGRAM = {"word": 5, "char": 2}
CHAR_THRESHOLD = 0.6    # minhash default for character shingles (see the module docstring)
CHAR_DATASET_SHARE = 0.5  # of the non-empty rows: CJK/Thai rows at which a dataset is shingled by characters
DEFAULT_FIELDS = {"classification": ["text"], "sft": ["instruction", "input"], "chat": ["user"], "spans": ["text"],
                  "preference": ["prompt"]}


class DedupError(CurateError):
    """Bad dedup parameters, or nothing to show yet."""


class DedupParams(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    method: Literal["exact", "minhash", "semantic"] = Field(
        "minhash", description="exact: normalised text hash; minhash: n-gram Jaccard (LSH, verified); "
                               "semantic: MiniLM cosine.")
    threshold: float | None = Field(
        None, ge=0.0, le=1.0, description=f"Jaccard (minhash) or cosine (semantic) to join a cluster; unset: "
                                          f"{DEFAULT_THRESHOLD['minhash']} for word shingles, {CHAR_THRESHOLD} for "
                                          f"characters, {DEFAULT_THRESHOLD['semantic']} cosine.")
    ngram: int | None = Field(None, ge=1, le=50, description=f"Shingle length in words, or in characters with "
                              f"shingle char; unset: {DEFAULT_NGRAM['word']} words, {DEFAULT_NGRAM['char']} "
                              f"characters (minhash).")
    shingle: Literal["auto", "word", "char"] = Field(
        "auto", description="Word or character n-gram shingles; auto: characters when most rows are CJK/Thai, "
                            "else words (minhash).")
    num_perm: int = Field(128, ge=16, le=1024, description="MinHash permutations (minhash).")
    fields: tuple[str, ...] = Field(..., min_length=1, description="Which fields of each example are compared.")
    neighbors: int = Field(20, ge=1, le=200, description="Nearest neighbours looked at per row (semantic).")
    chosen: str = Field("", description="how auto settings were resolved, e.g. 'char: 1,000 of 1,000 rows CJK/Thai'")

    def key(self) -> str:
        """The parameters that change which rows are compared and how (for caches)."""
        return self.model_dump_json()


def make_params(task: str, *, method: str | None = None, threshold: float | None = None, ngram: int | None = None,
                shingle: str | None = None, num_perm: int | None = None, fields: list[str] | str | None = None,
                neighbors: int | None = None, dataset: str = "") -> DedupParams:
    """Validated parameters for a dataset of ``task`` (unset ones take ``DedupParams``' defaults); an
    unknown method or field raises ``DedupError``."""
    where = f"dedup {dataset}: " if dataset else "dedup: "
    if method is not None and method not in METHODS:
        raise DedupError(f"{where}unknown method {method!r}; fix: use one of {', '.join(METHODS)}")
    if isinstance(fields, str):
        fields = [f.strip() for f in fields.split(",") if f.strip()]
    fields = list(fields or DEFAULT_FIELDS[task])
    known = list(FIELD_SQL[task])
    bad = [f for f in fields if f not in known]
    if bad:
        raise DedupError(f"{where}{task} datasets have no field {bad[0]!r} to compare; fix: --fields with "
                         f"{', '.join(known)}")
    given = {"method": method, "threshold": threshold, "ngram": ngram, "shingle": shingle, "num_perm": num_perm,
             "neighbors": neighbors}
    try:
        return DedupParams(fields=tuple(fields), **{k: v for k, v in given.items() if v is not None})
    except ValidationError as exc:
        e = exc.errors()[0]
        flag = "--" + str(e["loc"][0]).replace("_", "-")
        raise DedupError(f"{where}{flag}: {e['msg']}; fix: pass a value in range") from None


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
    """``(kind, ngram, threshold, chosen)`` for MinHash on ``texts`` (an Arrow string array): ``auto``
    picks characters when at least half the non-empty rows are CJK/Thai; unset values take the kind's
    defaults; with ``auto``, an explicit ``ngram`` is the word length."""
    kind, chosen = shingle, ""
    if kind == "auto":
        import pyarrow.compute as pc

        from curate.scripts import char_script_rows

        nonempty = pc.greater(pc.utf8_length(pc.fill_null(texts, "")), 0).to_numpy(zero_copy_only=False)
        cjk = int((char_script_rows(texts) & nonempty).sum())
        total = int(nonempty.sum())
        kind = "char" if total and cjk >= CHAR_DATASET_SHARE * total else "word"
        chosen = f"auto: {kind} ({cjk:,} of {total:,} rows CJK/Thai)"
    if threshold is None:
        threshold = CHAR_THRESHOLD if kind == "char" else DEFAULT_THRESHOLD["minhash"]
    auto_char = shingle == "auto" and kind == "char"
    return kind, DEFAULT_NGRAM[kind] if ngram is None or auto_char else ngram, threshold, chosen
