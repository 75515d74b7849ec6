"""Selection strategies: pure functions over a pool's stored signals and embeddings.

A strategy either scores rows (``random``, ``quality``, ``uncertainty``: a value in [0, 1] per row,
1 = pick first), spreads the picks over the embedding space (``diversity``: facility location, each
pick the row that brings the most pool rows near a pick; ``mix``: deita's score-first selection, rows
in order of quality, each kept at full worth only if no earlier pick is a near-duplicate of it;
``kcenter``: each pick the row farthest from those already picked; see ``curate.select.greedy``), or
removes rows (``clean``: rows the suspects run flagged as likely label errors). Strategies combine with
weights (``mix,clean`` or ``quality=2,diversity=1``): scores are averaged by weight, then the greedy pass
spreads the picks. With class balance on, each class gets a share of the budget equal to its share of
the pool and is selected on its own.

Why ``mix`` is deita's gate and not facility location (measured with ``bench/selection.py``, fine-tuned
MiniLM on SST-2 dev, 1,000 of the 6,816 rows the recipe kept): facility location picks each region's most typical rows,
which a linear probe on frozen embeddings likes (quick baseline +0.011 over random) but a fine-tune does
not (``mix,clean`` with facility location 0.831 against ``random,clean`` 0.845 and random 0.833-0.843): a
fine-tuned model learns more from rows spread like the pool than from its prototypes. The gate keeps the
pool's spread and only stops near-duplicates from filling the budget.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from curate.errors import InputError
from curate.select.greedy import facility, gated, kcenter
from curate.select.params import STRATEGIES, SelectParams
from curate.settings import bound, default

NEAR = 0.15  # mix: a row within this distance (1 - cosine) / 2 of a pick is worth d / NEAR of its score (cosine > 0.7)
QUALITY_PASS = 0.5  # quality: a recipe signal at or above this is a pass; only values below it lower a row
MODEL_SIGNALS = ("quality_score",)  # quality: signals that are quality estimates themselves, counted whole
SCORING = ("random", "quality", "uncertainty")         # strategies that score rows (mix brings quality)
SPREADING = {"diversity", "mix", "kcenter"}              # strategies that spread picks over the embeddings


@dataclass
class Pool:
    """The candidates of a selection: one entry per row, aligned."""
    example_ids: np.ndarray
    labels: list[str | None]
    embeddings: np.ndarray | None = None          # (n, d), L2-normalised
    signals: dict[str, np.ndarray] = field(default_factory=dict)  # name -> values in [0, 1], NaN where absent
    margin: np.ndarray | None = None              # pre-label margin, NaN where absent
    suspect: np.ndarray | None = None             # bool: flagged as a likely label error


@dataclass
class Picked:
    """The outcome: pool indices in pick order, each with its combined score and per-strategy scores."""
    order: np.ndarray
    score: np.ndarray
    scores: dict[str, np.ndarray]
    excluded: np.ndarray                           # bool over the pool: left out by ``clean``
    quotas: dict[str, int]
    base: np.ndarray                               # combined score of every pool row (before diversity)


def parse_strategy(spec: str) -> dict[str, float]:
    """``"mix,clean"`` or ``"quality=2,diversity"`` → ``{name: weight}``; unknown names and bad weights raise."""
    weights: dict[str, float] = {}
    for part in [p.strip() for p in str(spec or "").split(",") if p.strip()]:
        name, _, w = part.partition("=")
        name = name.strip()
        if name not in STRATEGIES:
            raise InputError("--strategy", f"unknown strategy {name!r}", fix=f"use one of {', '.join(STRATEGIES)}")
        try:
            weight = float(w) if w.strip() else default(SelectParams, "weight")
        except ValueError:
            raise InputError("--strategy", f"weight of {name!r} is not a number: {w!r}",
                             fix="write e.g. quality=2") from None
        low, high = bound(SelectParams, "weight", "low"), bound(SelectParams, "weight", "high")
        if not low <= weight <= high:
            raise InputError("--strategy", f"weight of {name!r} must be between {low} and {high}",
                             fix="write e.g. quality=2")
        weights[name] = weight
    if not weights:
        raise InputError("--strategy", "no strategy given", fix=f"use one or more of {', '.join(STRATEGIES)}")
    return weights


def row_scores(pool: Pool, weights: dict[str, float], seed: int) -> dict[str, np.ndarray]:
    """The per-row score of each scoring strategy asked for (``mix`` brings ``quality``)."""
    n = len(pool.example_ids)
    out: dict[str, np.ndarray] = {}
    if "random" in weights:
        out["random"] = np.random.default_rng(seed).random(n)
    if "quality" in weights or "mix" in weights:
        out["quality"] = quality(pool.signals, n)
    if "uncertainty" in weights:
        margin = pool.margin if pool.margin is not None else np.full(n, np.nan)
        out["uncertainty"] = np.where(np.isnan(margin), 0.5, 1.0 - np.clip(margin, 0, 1))
    return out


def quality(signals: dict[str, np.ndarray], n: int) -> np.ndarray:
    """Mean over the stored signals of each row, in [0, 1] (0.5 where a row has none).

    Recipe signals are filter inputs: the pool's rows have passed the recipe's filters, and above the
    pass point their values track length (language-ID confidence and stop-word counts grow with it), not
    quality. Ranking by them picked long rows (TREC, whose test questions are shorter than its train
    ones: 0.736 vs random 0.811). So a recipe signal counts as ``min(1, value / QUALITY_PASS)``: only a
    row near failing loses; ``quality_score`` (the quality classifier's probability of good) counts whole.
    """
    if not signals:
        return np.full(n, 0.5)
    stacked = np.vstack([np.clip(v, 0, 1) if name in MODEL_SIGNALS else np.minimum(np.clip(v, 0, 1) / QUALITY_PASS, 1)
                         for name, v in signals.items()])
    counted = (~np.isnan(stacked)).sum(0)
    return np.where(counted > 0, np.nansum(stacked, 0) / np.maximum(counted, 1), 0.5)


def quotas(labels: list[str | None], budget: int, balance: bool) -> dict[str, int]:
    """Budget per class in proportion to the pool (largest remainder); one group ``*`` without balance."""
    if not balance or all(lab is None for lab in labels):
        return {"*": min(budget, len(labels))}
    keys, counts = np.unique(np.array([str(lab) for lab in labels]), return_counts=True)
    budget = min(budget, int(counts.sum()))
    exact = budget * counts / counts.sum()
    share = np.minimum(np.floor(exact).astype(int), counts)
    for i in np.argsort(-(exact - share), kind="stable"):
        if share.sum() >= budget:
            break
        if share[i] < counts[i]:
            share[i] += 1
    return {str(k): int(s) for k, s in zip(keys, share)}


def spread_picks(X: np.ndarray | None, base: np.ndarray, k: int, weights: dict[str, float], *,
                 seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Pick ``k`` rows of one group; return their positions and each pick's diversity figure.

    ``mix``: deita's gate (``base`` order, a near-duplicate of a pick worth less; ``greedy.gated``);
    ``diversity``: facility location weighted by ``base`` blended with 1 in the proportion of
    diversity's weight to the scoring strategies'; ``kcenter``: k-center greedy plus ``base``. Without
    any of them, top-k of ``base``.
    """
    k = min(k, len(base))
    if X is None:
        order = np.argsort(-base, kind="stable")[:k]
        return order, np.full(len(order), np.nan)
    if "kcenter" in weights:
        return kcenter(X, base, k, weights["kcenter"])
    if "mix" in weights:
        return gated(X, base, k, NEAR)
    scoring = sum(w for s, w in weights.items() if s in SCORING)
    share = scoring / (scoring + weights["diversity"]) if scoring + weights["diversity"] > 0 else 0.0
    w = (1.0 - share) + share * base
    return facility(X, np.maximum(w, 1e-3), k, seed=seed)


def select(pool: Pool, budget: int, weights: dict[str, float], *, seed: int = 0, balance: bool = True) -> Picked:
    """Choose up to ``budget`` rows of ``pool`` by the weighted strategies (see the module docstring)."""
    n = len(pool.example_ids)
    scores = row_scores(pool, weights, seed)
    scored = {s: weights.get(s, 0.0) + (weights.get("mix", 0.0) if s == "quality" else 0.0) for s in scores}
    total = sum(scored.values())
    jitter = np.random.default_rng(seed + 7919).random(n) * 1e-6  # seeded tie-break
    base = sum(scored[s] * scores[s] for s in scores) / total if total > 0 else np.full(n, 0.5)
    base = base + jitter
    excluded = np.zeros(n, bool)
    if "clean" in weights and pool.suspect is not None:
        excluded = pool.suspect.astype(bool)
    wanted_div = bool(SPREADING & set(weights))
    if wanted_div and pool.embeddings is None:
        raise InputError("--strategy", "diversity and mix need embeddings of the pool",
                         fix="pass the pool's embeddings")
    labels = [str(lab) if balance and lab is not None else "*" for lab in pool.labels]
    keep = np.flatnonzero(~excluded)
    q = quotas([labels[i] for i in keep] if balance else [None] * len(keep), budget, balance)
    order_parts, dist_parts = [], []
    for group, k in q.items():
        idx = keep[[labels[i] == group for i in keep]] if group != "*" else keep
        X = pool.embeddings[idx] if wanted_div and pool.embeddings is not None else None
        o, d = spread_picks(X, base[idx], k, weights, seed=seed)
        order_parts.append(idx[o])
        dist_parts.append(d)
    order = np.concatenate(order_parts) if order_parts else np.zeros(0, np.int64)
    dist = np.concatenate(dist_parts) if dist_parts else np.zeros(0)
    rank = np.argsort(-base[order], kind="stable") if not wanted_div else _interleave(order_parts)
    out_scores = {s: v[order][rank] for s, v in scores.items()}
    if wanted_div:
        out_scores["diversity"] = dist[rank]
    return Picked(order[rank], base[order][rank], out_scores, excluded, q, base)


def _interleave(parts: list[np.ndarray]) -> np.ndarray:
    """Positions into the concatenated groups that take each group's picks in turn (round robin)."""
    starts = np.cumsum([0] + [len(p) for p in parts[:-1]])
    keyed = [(i, g, starts[g] + i) for g, p in enumerate(parts) for i in range(len(p))]
    return np.array([pos for _, _, pos in sorted(keyed)], np.int64)
