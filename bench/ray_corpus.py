"""Corpus mode's memory at scale: peak RSS of every Ray worker and of the driver while a recipe and an
exact dedup stream generated Parquet corpora of growing size, and the wall time of each.

    python bench/ray_corpus.py [--rows 1000000 5000000] [--file-rows 250000] [--batch-rows 10000]

Corpus: ``--rows`` SFT records built from bench/dedup.py's generator (GSM8K + GPTeacher, repeated with
perturbations), written as Parquet files of ``--file-rows`` rows (row groups of 50k rows). Recipe: a
streaming one (``clean.whitespace``, ``clean.pii`` of emails, heuristics and ``filter.too_short``) so the figure is the
engine's, not a slow operator's. Each size runs in a fresh Ray instance (2 CPUs); a sampler thread
reads the RSS of every ``ray::`` worker process and of this process every 0.2 s, and each worker's
USS (its private memory: RSS also counts the pages of Ray's shared object store a worker has read). Goal (issue 18): the
peak worker RSS flat (within 20 %) from 1M to 5M rows — memory bounded by the batch, not the corpus.

Measured 2026-12-02 (2 cores shared with other jobs, load 8-12), ``--rows 200000 1000000``:
recipe 86 s / 297 s, worker RSS 1,173 / 1,285 MiB (1.10x), USS 1,063 / 1,175 MiB, driver 369 / 431 MiB;
exact dedup 31 s / 133 s, worker RSS 566 / 786 MiB (1.39x: object-store pages of the materialised corpus),
USS 431 / 496 MiB (1.15x), driver 282 / 309 MiB. The 5M-row run did not fit this session.
Session 2 (``--rows 1000000 5000000``, load 10-20 for the recipe, ~2 for the dedup): recipe 403 s / 1,320 s,
worker RSS 1,354 / 1,564 MiB (1.15x), USS 1,219 / 1,305 MiB (1.07x), driver 392 / 440 MiB (1.12x); exact
dedup on the task-based stages (``ray_pairs``) 20 s / 79 s, worker RSS 788 / 880 MiB (1.12x), USS 518 / 502
MiB (0.97x), driver 609 / 549 MiB (0.90x). Both within the 20 % goal.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import tempfile
import threading
import time
from pathlib import Path

import psutil
import pyarrow as pa
import pyarrow.parquet as pq

ROOT = Path(__file__).resolve().parent.parent
RECIPE = """name: corpus-bench
task: sft
steps:
  - op: clean.whitespace
  - op: clean.pii
    kinds: [email]
  - op: score.heuristics
    field: response
    min_words: 2
  - op: filter.too_short
    min_score: 1.0
"""


def _generator():
    spec = importlib.util.spec_from_file_location("bench_dedup", ROOT / "bench" / "dedup.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    if not module.DATA.is_dir():
        module.DATA = Path("/work/shared/data")
    return module


def write_corpus(folder: Path, rows: int, file_rows: int) -> None:
    """``rows`` records in files of ``file_rows`` (the generator's records cycled with a row number)."""
    base = _generator().corpus(min(rows, 200_000), seed=0)
    folder.mkdir(parents=True)
    for f, start in enumerate(range(0, rows, file_rows)):
        part = [base[(start + i) % len(base)] for i in range(min(file_rows, rows - start))]
        table = pa.table({k: [f"{r[k]} #{start + i}" if k == "instruction" else r[k] for i, r in enumerate(part)]
                          for k in ("instruction", "input", "response")})
        pq.write_table(table, folder / f"part-{f:04d}.parquet", row_group_size=50_000)


class Peak(threading.Thread):
    """Peak RSS of this process and of every ``ray::`` process, sampled until stopped."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.stop, self.driver, self.worker, self.private = threading.Event(), 0, 0, 0

    def run(self) -> None:
        me = psutil.Process()
        while not self.stop.is_set():
            self.driver = max(self.driver, me.memory_info().rss)
            for proc in psutil.process_iter(["cmdline"]):
                cmd = proc.info["cmdline"] or []
                if cmd and cmd[0].startswith("ray::"):
                    try:
                        full = proc.memory_full_info()
                    except psutil.Error:
                        continue
                    self.worker, self.private = max(self.worker, full.rss), max(self.private, full.uss)
            self.stop.wait(0.2)


def measure(what: str, fn) -> dict:
    import ray

    # Ray runs its workers at nice 15; on a machine shared with other jobs that starves them (see
    # bench/ray_engine.py). Same priority as this process:
    os.environ.setdefault("RAY_worker_niceness", "0")

    ray.init(num_cpus=2, include_dashboard=False, object_store_memory=500_000_000, log_to_driver=False)
    peak = Peak()
    peak.start()
    started = time.perf_counter()
    try:
        fn()
    finally:
        seconds = time.perf_counter() - started
        peak.stop.set()
        peak.join()
        ray.shutdown()
    return {"what": what, "seconds": seconds, "worker": peak.worker / 2**20, "private": peak.private / 2**20,
            "driver": peak.driver / 2**20}


def main() -> None:
    from curate.engine.corpus import run_corpus
    from curate.engine.corpus_dedup import dedup_corpus

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, nargs="+", default=[1_000_000, 5_000_000])
    ap.add_argument("--file-rows", type=int, default=250_000)
    ap.add_argument("--batch-rows", type=int, default=10_000)
    ap.add_argument("--stages", default="run,dedup")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="curate-corpus-"))
    (tmp / "recipe.yaml").write_text(RECIPE, encoding="utf-8")
    results = []
    for rows in args.rows:
        corpus = tmp / f"in-{rows}"
        write_corpus(corpus, rows, args.file_rows)
        if "run" in args.stages:
            results.append({"rows": rows, **measure("run", lambda: run_corpus(
                tmp / "recipe.yaml", str(corpus), tmp / f"run-{rows}", batch_rows=args.batch_rows))})
            print(results[-1], flush=True)
        if "dedup" in args.stages:
            results.append({"rows": rows, **measure("dedup exact", lambda: dedup_corpus(
                str(corpus), tmp / f"dedup-{rows}", method="exact", batch_rows=args.batch_rows))})
            print(results[-1], flush=True)
    print(f"{'rows':>10} {'stage':<12} {'seconds':>9} {'rows/s':>9} {'worker RSS MiB':>15} {'worker USS MiB':>15} "
          f"{'driver RSS MiB':>15}")
    for r in results:
        print(f"{r['rows']:>10,} {r['what']:<12} {r['seconds']:>9.0f} {r['rows'] / r['seconds']:>9,.0f} "
              f"{r['worker']:>15,.0f} {r['private']:>15,.0f} {r['driver']:>15,.0f}")
    for what in ("run", "dedup exact"):
        by = [r for r in results if r["what"] == what]
        if len(by) >= 2:
            print(f"{what}: peak worker RSS {by[-1]['rows']:,} / {by[0]['rows']:,} rows = "
                  f"{by[-1]['worker'] / by[0]['worker']:.2f}x (goal <= 1.2x), private (USS) "
                  f"{by[-1]['private'] / by[0]['private']:.2f}x; driver {by[-1]['driver'] / by[0]['driver']:.2f}x")


if __name__ == "__main__":
    main()
