"""The Ray engine's pair stages (``curate.engine.ray_pairs``) as plain functions, without Ray: the signed
blocks' bucket shuffle, star edges, routing by id range and verification give the local engine's
candidates and verified pairs, also when blocks hold overlapping id ranges and ids are not in row order."""

from __future__ import annotations

import json
import random

import numpy as np
import pyarrow as pa
import pytest

from curate.dedup import minhash
from curate.dedup.pairs import find_pairs
from curate.dedup.params import DedupParams, resolve_params
from curate.engine import ray_dedup, ray_pairs

from conftest import SAMPLE


def _texts() -> list[str]:
    """GSM8K questions (real) and near copies: a word dropped or repeated, some upper-cased; exact copies."""
    rng = random.Random(3)
    rows = [json.loads(line)["instruction"] for line in (SAMPLE / "gsm8k_train.jsonl").open(encoding="utf-8")]
    out = list(rows)
    for text in rows[:80]:
        words = text.split()
        i = rng.randrange(len(words))
        near = " ".join(words[:i] + words[i + 1:] if rng.random() < 0.5 else words[:i] + [words[i]] + words[i:])
        out += [near.upper() if rng.random() < 0.3 else near, text]
    return out + ["", "   "]


def _run(blocks: list[pa.Table], params: DedupParams, parts: int) -> tuple[set, int]:
    """Verified pairs and the candidate count, the stages called as ``ray_pairs.edges`` calls them."""
    exact = params.method == "exact"
    pieces = [ray_pairs._split(b, parts, exact) for b in blocks]
    bounds, reads = ray_pairs._bounds([p[-1] for p in pieces], 1 if exact else parts)
    groups = len(bounds)
    stars = [ray_pairs._star(*[p[k] for p in pieces], bounds=bounds) for k in range(parts)]
    if exact:
        edges = pa.concat_tables([s[0] for s in stars])
        return set(zip(edges.column("a").to_pylist(), edges.column("b").to_pylist())), edges.num_rows
    attached = [ray_pairs._attach(*[s[g] for s in stars], *[blocks[j] for j in reads[g]], pieces=parts, bounds=bounds)
                for g in range(groups)]
    attached = [a if isinstance(a, list) else [a] for a in attached]
    out = [ray_pairs._verify(*[a[g] for a in attached], *[blocks[j] for j in reads[g]], pieces=groups,
                             threshold=params.cut) for g in range(groups)]
    edges = pa.concat_tables([o[0] for o in out])
    return set(zip(edges.column("a").to_pylist(), edges.column("b").to_pylist())), sum(o[1][0] for o in out)


@pytest.mark.parametrize("method, parts", [("minhash", 1), ("minhash", 3), ("exact", 2)])
def test_pair_stages_find_the_local_pairs(method, parts) -> None:
    texts = _texts()
    params = resolve_params(DedupParams(method=method, fields=("text",), shingle="word", ngram=5),
                            pa.array(texts))
    local = find_pairs(None, texts, params)   # type: ignore[arg-type]  (no workspace: no embeddings)
    bands, rows = minhash.lsh_params(params.cut, params.num_perm, *minhash.RECALL_WEIGHTS)
    # ids = row numbers, but the blocks hold rows in a shuffled order: their id ranges overlap
    order = np.random.default_rng(0).permutation(len(texts))
    blocks = [ray_dedup._sign(pa.table({"id": pa.array(chunk, pa.int64()), "text": [texts[i] for i in chunk]}),
                              params=params.model_dump(mode="json"), bands=bands, rows=rows)
              for chunk in np.array_split(order, 7)]
    found, candidates = _run(blocks, params, parts)
    truth = {(int(a), int(b)) for a, b in local.pairs}
    assert len(truth) >= 80 and found == truth
    assert candidates == local.candidates
