"""Ingest throughput: curate vs raw DuckDB vs pandas -> DuckDB on a 300k-row JSONL file.

Builds a JSONL file by repeating SST-2 train (``<data>/sst2/train.jsonl``) to ``--rows`` lines, then
times, best of ``--repeats``, each method in its own child process (so peak RSS is per method) and
into a fresh temp folder / on-disk DuckDB file:

  curate  ``ingest(Workspace(tmp), [file], "bench")``: validates, extracts fields, keeps every raw record
  duckdb  ``CREATE TABLE t AS SELECT * FROM read_json(file, format='newline_delimited')`` (upper bound)
  pandas  ``pd.read_json(file, lines=True)`` then ``CREATE TABLE t AS SELECT * FROM df``

The curate run is checked: the store holds one row per line and sampled ``examples.raw`` values
equal their file lines byte for byte; the script exits 1 if not. Goals: curate >= 0.5x duckdb and
curate > pandas. Library imports happen before the timer in every child (including pyarrow.compute,
which pulls in pandas and which curate would otherwise pay for lazily: ~0.2 s once per process).

Run:  python bench/ingest.py [--rows 300000] [--repeats 3] [--data ../shared/data] [--json]
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
METHODS = ("curate", "duckdb", "pandas")


def build_file(src: Path, rows: int, out: Path) -> None:
    lines = src.read_bytes().splitlines(keepends=True)
    lines = [ln if ln.endswith(b"\n") else ln + b"\n" for ln in lines if ln.strip()]
    reps, rest = divmod(rows, len(lines))
    with open(out, "wb") as fh:
        block = b"".join(lines)
        for _ in range(reps):
            fh.write(block)
        fh.write(b"".join(lines[:rest]))


def verify(workspace, file: Path, rows: int, samples: int = 20) -> list[str]:
    """Problems with the curate store: row count and byte-exact raw records of sampled lines."""
    lines = file.read_bytes().split(b"\n")
    picks = sorted({1, rows, *random.Random(0).sample(range(1, rows + 1), min(samples, rows))})
    with workspace.connect() as con:
        count = con.execute("SELECT count(*) FROM examples").fetchone()[0]
        raw = dict(con.execute("SELECT row_num, raw FROM examples WHERE row_num IN "
                               f"({', '.join(map(str, picks))})").fetchall())
    problems = [f"store holds {count} rows, file has {rows} lines"] if count != rows else []
    for n in picks:
        if raw.get(n, "").encode("utf-8") != lines[n - 1]:
            problems.append(f"line {n}: raw record {raw.get(n)!r} != file line {lines[n - 1]!r}")
    return problems


def run_one(method: str, file: Path, out: Path, rows: int) -> dict:
    """Time one method in this process; the parent runs it as a child for per-method peak RSS."""
    import duckdb
    import pandas as pd
    import pyarrow.compute  # noqa: F401  imports made outside the timer for every method alike
    if method == "curate":
        from curate.ingest import ingest
        from curate.store.workspace import Workspace
        ws = Workspace(out)
        start = time.perf_counter()
        ingest(ws, [file], "bench")
        seconds = time.perf_counter() - start
        result = {"problems": verify(ws, file, rows)}
    else:
        start = time.perf_counter()
        con = duckdb.connect(str(out / "bench.duckdb"))
        if method == "duckdb":
            con.execute("CREATE TABLE t AS SELECT * FROM read_json(?, format='newline_delimited')", [str(file)])
        else:
            df = pd.read_json(file, lines=True)
            con.execute("CREATE TABLE t AS SELECT * FROM df")
        con.close()
        seconds = time.perf_counter() - start
        result = {"problems": []}
    return {"method": method, "seconds": seconds,
            "max_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, **result}


def child(method: str, file: Path, rows: int) -> dict:
    with tempfile.TemporaryDirectory(prefix=f"bench-{method}-") as tmp:
        proc = subprocess.run([sys.executable, __file__, "--one", method, "--file", str(file),
                               "--out", tmp, "--rows", str(rows)], capture_output=True, text=True)
    if proc.returncode:
        sys.exit(f"{method} run failed:\n{proc.stderr}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data", help="shared data folder")
    ap.add_argument("--rows", type=int, default=300_000)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--json", action="store_true", help="print a JSON summary line at the end")
    ap.add_argument("--one", choices=METHODS, help=argparse.SUPPRESS)
    ap.add_argument("--file", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.one:
        print(json.dumps(run_one(args.one, args.file, args.out, args.rows)))
        return 0

    src = args.data / "sst2" / "train.jsonl"
    if not src.exists():
        sys.exit(f"{src}: not found; pass --data FOLDER holding sst2/train.jsonl")
    with tempfile.TemporaryDirectory(prefix="bench-ingest-") as tmp:
        file = Path(tmp) / "bench.jsonl"
        build_file(src, args.rows, file)
        print(f"{args.rows:,} rows, {file.stat().st_size / 1e6:.1f} MB, best of {args.repeats}")
        best: dict[str, dict] = {}
        problems: list[str] = []
        for _ in range(args.repeats):
            for method in METHODS:  # interleaved so drift hits every method alike
                r = child(method, file, args.rows)
                problems += r["problems"]
                peak = max(r["max_rss_mb"], best.get(method, r)["max_rss_mb"])
                if method not in best or r["seconds"] < best[method]["seconds"]:
                    best[method] = r
                best[method]["max_rss_mb"] = peak  # peak over all repeats

    rate = {m: args.rows / best[m]["seconds"] for m in METHODS}
    for m in METHODS:
        print(f"  {m:<7} {best[m]['seconds']:7.3f} s  {rate[m]:>11,.0f} rows/s  peak RSS {best[m]['max_rss_mb']:6.0f} MB")
    vs_duckdb, vs_pandas = rate["curate"] / rate["duckdb"], rate["curate"] / rate["pandas"]
    ok_duckdb, ok_pandas = vs_duckdb >= 0.5, vs_pandas > 1
    print(f"  curate/duckdb {vs_duckdb:.2f}x (goal >= 0.5x: {'met' if ok_duckdb else 'MISSED'})")
    print(f"  curate/pandas {vs_pandas:.2f}x (goal > 1x: {'met' if ok_pandas else 'MISSED'})")
    print(f"  correctness: {'ok' if not problems else 'FAILED'}")
    for p in problems[:10]:
        print(f"    {p}")
    if args.json:
        print(json.dumps({"rows": args.rows, "repeats": args.repeats,
                          "seconds": {m: round(best[m]["seconds"], 4) for m in METHODS},
                          "rows_per_s": {m: round(rate[m]) for m in METHODS},
                          "peak_rss_mb": {m: round(best[m]["max_rss_mb"]) for m in METHODS},
                          "curate_vs_duckdb": round(vs_duckdb, 3), "curate_vs_pandas": round(vs_pandas, 3),
                          "goals_met": ok_duckdb and ok_pandas, "correct": not problems}))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
