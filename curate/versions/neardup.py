"""Near-duplicate pairs for splits, leak checks and decontamination, on the dedup stage's shingles.

The text compared per row is the dedup stage's (``curate.store.dedup.FIELD_SQL`` with the task's
default fields), normalised and shingled by ``curate.dedup.shingles`` and signed by
``curate.dedup.minhash`` — one definition of "near-duplicate" across the workbench.

Recall: dedup's LSH bands are tuned to its threshold, so a pair exactly at the threshold is proposed
with probability ~0.4. Leak-freedom needs more, so here the bands are tuned to ``band_threshold``
(0.5: 25 bands of 5 rows over 128 permutations, which proposes a pair of Jaccard 0.8 with
probability 1 - (1 - 0.8**5)**25 > 0.9999) and every candidate is verified by its true Jaccard.
Signatures are deterministic, so the same pair is found whatever other rows surround it.
Shingles follow the script as dedup's do (``curate.dedup.params.resolve_shingles``): Chinese, Japanese,
Korean and Thai rows are compared by character bigrams at Jaccard 0.6, with bands tuned to 0.25 (42
bands of 3 rows) so a pair at 0.6 is proposed with probability > 0.9999 too.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import pyarrow as pa

from curate.dedup import minhash
from curate.dedup.params import DEFAULT_FIELDS, DedupParams, resolve_shingles
from curate.dedup.shingles import normalize, shingles
from curate.settings import default
from curate.store import versions as store


@dataclass(frozen=True)
class NearDup:
    """What counts as a near-duplicate: true Jaccard of word/char n-gram shingles at least ``threshold``
    (unset: dedup's defaults for the texts' script, ``shingle="auto"``)."""

    threshold: float | None = None
    ngram: int | None = None
    shingle: str = default(DedupParams, "shingle")
    num_perm: int = default(DedupParams, "num_perm")
    band_threshold: float = 0.5

    def as_dict(self) -> dict:
        return asdict(self)


def texts_of(fields: pa.Table, task: str) -> list[str]:
    """The compared text of each row of ``fields`` (the six field columns), as dedup compares it."""
    return store.compare_texts(fields, task, DEFAULT_FIELDS[task])


def near_pairs(texts: list[str], cfg: NearDup = NearDup()) -> tuple[np.ndarray, np.ndarray]:
    """Verified near-duplicate pairs ``(m, 2)`` (indices into ``texts``, ``i < j``) and their Jaccard."""
    if len(texts) < 2:
        return np.zeros((0, 2), np.int64), np.zeros(0)
    arr = pa.array(texts, pa.string())
    kind, ngram, threshold, _ = resolve_shingles(arr, cfg.shingle, cfg.ngram, cfg.threshold)
    sh = shingles(normalize(arr), ngram=ngram, kind=kind)
    sig = minhash.signatures(sh, cfg.num_perm)
    # a lower threshold needs lower bands for the same recall (0.6 -> 0.25: 42 x 3, p(0.6) > 0.9999)
    band = cfg.band_threshold if threshold >= 0.8 else min(cfg.band_threshold, max(0.1, threshold - 0.35))
    bands, rows = minhash.lsh_params(band, cfg.num_perm)
    cand = minhash.candidates(sig, bands, rows, valid=sh.counts() > 0)
    return minhash.verify(sh, cand, threshold)


def cross_pairs(left: list[str], right: list[str], cfg: NearDup = NearDup()) -> tuple[np.ndarray, np.ndarray]:
    """Near-duplicate pairs between two lists: ``(i in left, j in right)`` and their Jaccard."""
    if not left or not right:
        return np.zeros((0, 2), np.int64), np.zeros(0)
    pairs, sims = near_pairs(list(left) + list(right), cfg)
    n = len(left)
    keep = (pairs[:, 0] < n) & (pairs[:, 1] >= n)
    out = pairs[keep].copy()
    out[:, 1] -= n
    return out, sims[keep]
