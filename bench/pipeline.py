"""Rows/s of the default SFT recipe (pipelines/sft.yaml) on ≥ 50k rows: curate's batch engine against the
same operator functions applied row by row with pandas ``apply``, in the same run; peak RSS of each.

    python bench/pipeline.py [--rows 50000] [--apply-rows N]

Rows: GSM8K train+test and GPTeacher codegen+roleplay from ../shared/data (15,250 rows), repeated to
``--rows``. Every repeat gets a distinct instruction suffix so no text is detected twice by the language
scorer's per-batch cache. No store is involved: both engines run in memory over the same DataFrame.
"""

from __future__ import annotations

import argparse
import json
import resource
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from curate.ops import RECIPES_DIR, execute, load
from curate.ops.filters import passes

DATA = Path(__file__).resolve().parent.parent.parent / "shared" / "data"
FILES = ["gsm8k/train.jsonl", "gsm8k/test.jsonl", "gpteacher/codegen_instruct.jsonl", "gpteacher/roleplay_instruct.jsonl"]


def rows(n: int) -> pd.DataFrame:
    base = [json.loads(line) for f in FILES for line in (DATA / f).open(encoding="utf-8")]
    out = []
    for i in range(n):
        r = base[i % len(base)]
        k = i // len(base)
        instruction = r["instruction"] + (f"\n\n(Variant {k} of this task.)" if k else "")
        out.append({"id": i, "text": None, "label": None, "instruction": instruction, "input": r.get("input") or "",
                    "response": r["response"], "messages": None})
    return pd.DataFrame(out)


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def row_by_row(recipe, frame: pd.DataFrame) -> dict[str, int]:
    """The same operators, one row at a time through ``DataFrame.apply``; returns dropped counts."""
    def one(row: pd.Series) -> str | None:
        single = row.to_frame().T.reset_index(drop=True)
        signals: dict[str, float] = {}
        for step in recipe.steps:
            if step.op.kind == "mapper":
                for field in step.params.fields or []:
                    single.loc[0, field] = step.op.fn(pa.array([single.loc[0, field]], pa.string()), step.params)[0].as_py()
            elif step.op.kind == "scorer":
                signals.update({k: float(v[0]) for k, v in step.op.fn(single, step.params, {}).items()})
            else:
                signal, reason = step.reads
                if not passes(np.array([signals.get(signal, np.nan)]), step.params.min_score)[0]:
                    return reason
        return None

    reasons = frame.apply(one, axis=1)
    return reasons.value_counts().to_dict()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=50_000)
    parser.add_argument("--apply-rows", type=int, default=0, help="Rows for the pandas apply run (0: all).")
    args = parser.parse_args()
    recipe = load(RECIPES_DIR / "sft.yaml", task="sft")
    frame = rows(args.rows)
    print(f"recipe: {recipe.path} ({len(recipe.steps)} steps) on {len(frame):,} sft rows; "
          f"rss before: {peak_rss_mb():.0f} MB")

    started = time.perf_counter()
    outcome = execute(recipe, frame)
    batch_s = time.perf_counter() - started
    batch_rss = peak_rss_mb()
    counters = outcome.counters()
    print(f"curate batch engine: {len(frame) / batch_s:,.0f} rows/s ({batch_s:.1f}s), peak RSS {batch_rss:.0f} MB; "
          f"kept {counters.kept:,}, dropped " + ", ".join(f"{reason} {n}" for reason, n in counters.dropped.items()))
    for step in counters.steps:
        print(f"  step {step.step:>2} {step.op:<26} {step.seconds:7.2f}s")

    sub = frame if not args.apply_rows else frame.iloc[: args.apply_rows]
    started = time.perf_counter()
    dropped = row_by_row(recipe, sub)
    apply_s = time.perf_counter() - started
    print(f"pandas apply, row by row: {len(sub) / apply_s:,.0f} rows/s ({apply_s:.1f}s on {len(sub):,} rows), "
          f"peak RSS {peak_rss_mb():.0f} MB (process peak so far); dropped {dropped}")
    print(f"ratio: curate batch engine is {(len(frame) / batch_s) / (len(sub) / apply_s):.1f}x the row-by-row rows/s")


if __name__ == "__main__":
    main()
