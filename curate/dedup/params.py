"""The parameters of one dedup run, validated once at the public boundary."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from curate.errors import CurateError
from curate.store.dedup import FIELD_SQL

METHODS = ("exact", "minhash", "semantic")
DEFAULT_THRESHOLD = {"exact": 1.0, "minhash": 0.8, "semantic": 0.9}
DEFAULT_FIELDS = {"classification": ["text"], "sft": ["instruction", "input"], "chat": ["user"]}


class DedupError(CurateError):
    """Bad dedup parameters, or nothing to show yet."""


class DedupParams(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    method: Literal["exact", "minhash", "semantic"] = Field("minhash", description="exact hash, MinHash LSH or MiniLM cosine")
    threshold: float = Field(0.8, ge=0.0, le=1.0, description="Jaccard (minhash) or cosine (semantic) to join a cluster")
    ngram: int = Field(5, ge=1, le=50, description="shingle length in words or characters (minhash)")
    shingle: Literal["word", "char"] = Field("word", description="word or character n-gram shingles (minhash)")
    num_perm: int = Field(128, ge=16, le=1024, description="MinHash permutations (minhash)")
    fields: tuple[str, ...] = Field(..., min_length=1, description="which fields of each example are compared")
    neighbors: int = Field(20, ge=1, le=200, description="nearest neighbours looked at per row (semantic)")

    def key(self) -> str:
        """The parameters that change which rows are compared and how (for caches)."""
        return self.model_dump_json()


def make_params(task: str, *, method: str = "minhash", threshold: float | None = None, ngram: int = 5,
                shingle: str = "word", num_perm: int = 128, fields: list[str] | str | None = None,
                neighbors: int = 20, dataset: str = "") -> DedupParams:
    """Validated parameters for a dataset of ``task``; an unknown method or field raises ``DedupError``."""
    where = f"dedup {dataset}: " if dataset else "dedup: "
    if method not in METHODS:
        raise DedupError(f"{where}unknown method {method!r}; fix: use one of {', '.join(METHODS)}")
    if isinstance(fields, str):
        fields = [f.strip() for f in fields.split(",") if f.strip()]
    fields = list(fields or DEFAULT_FIELDS[task])
    known = list(FIELD_SQL[task])
    bad = [f for f in fields if f not in known]
    if bad:
        raise DedupError(f"{where}{task} datasets have no field {bad[0]!r} to compare; fix: --fields with "
                         f"{', '.join(known)}")
    try:
        return DedupParams(method=method, threshold=DEFAULT_THRESHOLD[method] if threshold is None else threshold,
                           ngram=ngram, shingle=shingle, num_perm=num_perm, fields=tuple(fields), neighbors=neighbors)
    except ValidationError as exc:
        e = exc.errors()[0]
        raise DedupError(f"{where}--{e['loc'][0]}: {e['msg']}; fix: pass a value in range") from None
