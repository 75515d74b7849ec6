"""Benchmark: curate's MinHash dedup end to end against datasketch and rensa on the same corpus.

Corpus: every SFT record of ../shared/data (gsm8k train, GPTeacher codegen + roleplay: 13,931 docs)
plus planted near-duplicates: 30% of the records get 1-3 copies with 1-6% of their words deleted,
replaced or inserted, some upper-cased or re-spaced. Compared text: instruction + input (curate's
default for sft). Truth: every pair whose exact Jaccard of word 5-gram sets is ≥ the threshold
(sparse matrix product), clustered by connected components; scores are precision / recall / F1
over same-cluster pairs.

Timed, in the same run, same shingles (word 5-grams of the normalised text) and parameters
(128 permutations, threshold 0.8):
- curate: ``run_dedup`` end to end (read from the store → normalise → shingle → sign → LSH →
  verify → components → clusters, members and issues written);
- datasketch: shingle strings in Python → ``MinHash.generator`` → ``MinHashLSH`` insert + query →
  union-find (its own b, r for the threshold — the same as curate's);
- rensa (if installed: ``pip install rensa``): the same shingle strings → ``RMinHash.from_token_sets``
  → ``RMinHashLSH`` (bands must divide num_perm: 16 × 8) → union-find.

    python bench/dedup.py                 # ≈14k+ docs, all three, P/R/F1 and docs/s ratios (best of 3)
    python bench/dedup.py --rows 1000000  # curate only, in a child process: time and peak RSS
"""

from __future__ import annotations

import argparse
import json
import random
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DATA = ROOT.parent / "shared" / "data"
FILES = ["gsm8k/train.jsonl", "gpteacher/codegen_instruct.jsonl", "gpteacher/roleplay_instruct.jsonl"]
THRESHOLD, NUM_PERM, NGRAM = 0.8, 128, 5


def base_records() -> list[dict]:
    rows = []
    for f in FILES:
        with open(DATA / f) as fh:
            rows += [json.loads(line) for line in fh]
    return [{"instruction": r["instruction"], "input": r.get("input") or "", "response": r["response"]} for r in rows]


def perturb(text: str, rng: random.Random, rate: float) -> str:
    words = text.split()
    out = []
    for w in words:
        x = rng.random()
        if x < rate / 3:
            continue
        if x < 2 * rate / 3:
            out.append(rng.choice(words))
        elif x < rate:
            out += [w, rng.choice(words)]
        else:
            out.append(w)
    text = " ".join(out)
    if rng.random() < 0.2:
        text = text.upper()
    if rng.random() < 0.2:
        text = text.replace(" ", "  ")
    return text


def corpus(n_rows: int | None, seed: int = 0) -> list[dict]:
    rng = random.Random(seed)
    base = base_records()
    rows = [dict(r, id=f"b{i}") for i, r in enumerate(base)]
    if n_rows is None:
        for i, r in enumerate(base):
            if rng.random() < 0.3:
                for k in range(rng.randint(1, 3)):
                    rows.append({"id": f"b{i}-{k}", "instruction": perturb(r["instruction"], rng, rng.uniform(0.01, 0.06)),
                                 "input": r["input"], "response": r["response"]})
    else:
        k = 0
        while len(rows) < n_rows:
            i = rng.randrange(len(base))
            r = base[i]
            rows.append({"id": f"b{i}-{k}", "instruction": perturb(r["instruction"], rng, rng.uniform(0.0, 0.1)),
                         "input": r["input"], "response": r["response"]})
            k += 1
    rng.shuffle(rows)
    return rows


def texts_of(rows: list[dict]) -> list[str]:
    return ["\n".join(x for x in (r["instruction"], r["input"]) if x) for r in rows]


# --- the shingles every tool gets: word 5-grams of curate's normalised text ------------------------

def shingle_strings(texts: list[str]) -> list[list[str]]:
    from curate.dedup.shingles import normalize

    out = []
    for t in normalize(texts).to_pylist():
        words = re.sub(r"[^\w]+", " ", t).split()  # Python's \w is Unicode-aware, like \p{L}\p{N}
        if not words:
            out.append([])
        elif len(words) < NGRAM:
            out.append([" ".join(words)])
        else:
            out.append([" ".join(words[i:i + NGRAM]) for i in range(len(words) - NGRAM + 1)])
    return out


def truth_pairs(texts: list[str]) -> set[tuple[int, int]]:
    """Every pair with exact Jaccard ≥ THRESHOLD over curate's shingle sets (sparse X @ X.T)."""
    from scipy.sparse import csr_matrix

    from curate.dedup.shingles import normalize, shingles

    sh = shingles(normalize(texts), ngram=NGRAM)
    rows, cols = [], []
    for d in range(sh.n_docs):
        s = sh.doc_set(d)
        rows.append(np.full(len(s), d))
        cols.append(s)
    rows, cols = np.concatenate(rows), np.concatenate(cols)
    _, col_ids = np.unique(cols, return_inverse=True)
    x = csr_matrix((np.ones(len(rows), np.float32), (rows, col_ids)), shape=(sh.n_docs, col_ids.max() + 1))
    inter = (x @ x.T).tocoo()
    size = np.asarray(x.sum(axis=1)).ravel()
    keep = inter.row < inter.col
    i, j, v = inter.row[keep], inter.col[keep], inter.data[keep]
    jac = v / (size[i] + size[j] - v)
    ok = jac >= THRESHOLD
    return set(zip(i[ok].tolist(), j[ok].tolist()))


def cluster_pairs(n: int, pairs) -> set[tuple[int, int]]:
    from curate.dedup.clusters import components

    arr = np.array(sorted(pairs), dtype=np.int64).reshape(-1, 2)
    out = set()
    for g in components(n, arr):
        g = g.tolist()
        out.update((a, b) for k, a in enumerate(g) for b in g[k + 1:])
    return out


def prf(pred: set, truth: set) -> tuple[float, float, float]:
    tp = len(pred & truth)
    p = tp / len(pred) if pred else 1.0
    r = tp / len(truth) if truth else 1.0
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)


# --- the contenders ---------------------------------------------------------------------------------

def run_curate(rows: list[dict], tmp: Path, repeat: int = 1) -> tuple[float, set[tuple[int, int]]]:
    from curate.dedup import run_dedup
    from curate.ingest import ingest
    from curate.store import dedup as store
    from curate.store.workspace import Workspace

    path = tmp / "corpus.jsonl"
    with open(path, "w") as fh:
        for r in rows:
            fh.write(json.dumps(r) + "\n")
    ws = Workspace(tmp / "ws")
    ingest(ws, [path], "bench", task="sft")
    seconds = float("inf")
    for _ in range(repeat):  # each repeat is a full new run (same work: no decisions recorded)
        t = time.perf_counter()
        report = run_dedup(ws, "bench", method="minhash", threshold=THRESHOLD, ngram=NGRAM, shingle="word",
                            num_perm=NUM_PERM)
        seconds = min(seconds, time.perf_counter() - t)
    with ws.connect() as con:
        pos = {x[0]: x[1] for x in con.execute("SELECT id, row_num - min(row_num) OVER () FROM examples").fetchall()}
        members = con.execute("SELECT cluster_id, example_id FROM dup_members WHERE run_id = ?",
                              [report.run_id]).fetchall()
    by = {}
    for c, e in members:
        by.setdefault(c, []).append(pos[e])
    pairs = set()
    for g in by.values():
        g.sort()
        pairs.update((a, b) for k, a in enumerate(g) for b in g[k + 1:])
    del store
    return seconds, pairs


def run_datasketch(texts: list[str]) -> tuple[float, float, set[tuple[int, int]]]:
    from datasketch import MinHash, MinHashLSH

    t = time.perf_counter()
    sets = shingle_strings(texts)
    encoded = [[s.encode("utf-8") for s in x] for x in sets]
    t_sh = time.perf_counter() - t
    lsh = MinHashLSH(threshold=THRESHOLD, num_perm=NUM_PERM)
    hashes = list(MinHash.generator(encoded, num_perm=NUM_PERM))
    with lsh.insertion_session() as session:
        for i, (m, s) in enumerate(zip(hashes, sets)):
            if s:
                session.insert(i, m)
    pairs = set()
    for i, (m, s) in enumerate(zip(hashes, sets)):
        if s:
            pairs.update((min(i, j), max(i, j)) for j in lsh.query(m) if j != i)
    return time.perf_counter() - t, t_sh, pairs


def run_rensa(texts: list[str]) -> tuple[float, float, set[tuple[int, int]]] | None:
    try:
        from rensa import RMinHash, RMinHashLSH
    except ImportError:
        return None
    t = time.perf_counter()
    sets = shingle_strings(texts)
    t_sh = time.perf_counter() - t
    mhs = RMinHash.from_token_sets(sets, NUM_PERM, 42)
    lsh = RMinHashLSH(THRESHOLD, NUM_PERM, 16)
    for i, (m, s) in enumerate(zip(mhs, sets)):
        if s:
            lsh.insert(i, m)
    pairs = set()
    for i, (m, s) in enumerate(zip(mhs, sets)):
        if s:
            pairs.update((min(i, j), max(i, j)) for j in lsh.query(m) if j != i)
    return time.perf_counter() - t, t_sh, pairs


def best_of(repeat: int, run):
    """The fastest of ``repeat`` calls of ``run`` (results are tuples starting with seconds)."""
    out = [run() for _ in range(repeat)]
    return None if out[0] is None else min(out, key=lambda r: r[0])


def bench(seed: int, repeat: int = 3) -> None:
    rows = corpus(None, seed)
    texts = texts_of(rows)
    n = len(rows)
    print(f"corpus: {n:,} docs ({len(base_records()):,} SFT records + planted near-dups), threshold {THRESHOLD}, "
          f"{NUM_PERM} perms, word {NGRAM}-grams")
    t = time.perf_counter()
    truth = cluster_pairs(n, truth_pairs(texts))
    print(f"truth: {len(truth):,} same-cluster pairs by exact Jaccard ({time.perf_counter() - t:.1f}s)")
    with tempfile.TemporaryDirectory() as tmp:
        c_s, c_pairs = run_curate(rows, Path(tmp), repeat)
    results = {"curate": (c_s, None, c_pairs)}
    d_s, d_sh, d_pairs = best_of(repeat, lambda: run_datasketch(texts))
    results["datasketch"] = (d_s, d_sh, cluster_pairs(n, d_pairs))
    r = best_of(repeat, lambda: run_rensa(texts))
    if r is None:
        print("rensa: not installed (pip install rensa); skipped")
    else:
        results["rensa"] = (r[0], r[1], cluster_pairs(n, r[2]))
    print(f"best of {repeat} runs each (2 cores, other load possible)")
    print(f"{'tool':<11} {'seconds':>8} {'docs/s':>9} {'shingling s':>11} {'precision':>9} {'recall':>7} {'F1':>6}")
    for name, (s, sh, pairs) in results.items():
        p, rc, f1 = prf(pairs, truth)
        shs = f"{sh:.2f}" if sh is not None else "incl."
        print(f"{name:<11} {s:>8.2f} {n / s:>9,.0f} {shs:>11} {p:>9.4f} {rc:>7.4f} {f1:>6.4f}")
    for name in results:
        if name != "curate":
            print(f"curate / {name} throughput: {results[name][0] / c_s:.2f}x")


def big(n_rows: int, seed: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        t = time.perf_counter()
        rows = corpus(n_rows, seed)
        path = tmp / "corpus.jsonl"
        with open(path, "w") as fh:
            for r in rows:
                fh.write(json.dumps(r) + "\n")
        del rows
        print(f"corpus: {n_rows:,} rows written in {time.perf_counter() - t:.1f}s")
        ws = tmp / "ws"
        cli = [sys.executable, "-c", "from curate.cli import main; main()", "-w", str(ws)]
        t = time.perf_counter()
        subprocess.run([*cli, "ingest", str(path), "--dataset", "big", "--task", "sft"], check=True,
                       stdout=subprocess.DEVNULL)
        print(f"ingest: {time.perf_counter() - t:.1f}s")
        before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        t = time.perf_counter()
        done = subprocess.run([*cli, "dedup", "big", "--threshold", str(THRESHOLD)], check=True,
                              capture_output=True, text=True)
        seconds = time.perf_counter() - t
        peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        print(done.stdout.splitlines()[0])
        print(f"curate dedup {n_rows:,} rows: {seconds:.1f}s ({n_rows / seconds:,.0f} docs/s), peak RSS "
              f"{peak / 1024:,.0f} MB" + ("" if peak > before else " (ingest's peak was higher)"))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=None, help="curate only on this many rows: time and peak RSS")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--repeat", type=int, default=3, help="best of this many timed runs per tool")
    args = ap.parse_args()
    if args.rows:
        big(args.rows, args.seed)
    else:
        bench(args.seed, args.repeat)


if __name__ == "__main__":
    main()
