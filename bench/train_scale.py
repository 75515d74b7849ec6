"""Training beyond one uninterrupted process: resume after a kill, and 2 data-parallel processes vs 1.

Data as ``bench/train.py``: ``--train-rows`` SST-2 sentences as ``sst2:v2`` (90 % train, 10 %
validation) and SST-2 dev (872) pinned as ``sst2-dev``; the bundled MiniLM; real worker processes.

  resume     one run uninterrupted (in this process), one started as a worker, killed (SIGKILL) once a
             checkpoint at >= 50 % of the steps is on disk, then ``curate train --resume``; prints
             both runs' dev accuracy, best validation accuracy and the largest loss-curve difference.
  processes  the same fit with ``--processes 1`` (batch B) and ``--processes 2`` (batch B/2 each:
             the same examples per optimiser step), gloo on CPU; prints examples/s of each, the
             ratio, and both dev accuracies.

Run:  python bench/train_scale.py [resume|processes|both] [--train-rows 512] [--epochs 2]
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.train import build_workspace  # noqa: E402
from curate import train, versions  # noqa: E402
from curate.train.params import TrainParams  # noqa: E402


def _finished(ws, run_id: int) -> dict:
    run = train.wait(ws, run_id, timeout=7200)
    if run.status != "done":
        raise SystemExit(f"run {run_id} {run.status}: {run.message}")
    c = run.counters
    curve = {p.step: p.loss for p in train.progress(ws, run_id)}
    return {"accuracy": train.scores(ws, run_id)["sst2-dev"]["accuracy"], "best_val": c.best_val_accuracy,
            "seconds": c.train_seconds - c.val_eval_seconds - c.checkpoint_seconds, "curve": curve,
            "steps": c.steps, "resumed_from": c.resumed_from_step}


def resume(ws, params: TrainParams) -> None:
    whole = train.create(ws, "sst2:v2", params=params)
    train.execute(ws, whole)
    a = _finished(ws, whole)
    run_id = train.start(ws, "sst2:v2", params=params)
    folder, half = train.run_folder(ws, run_id), a["steps"] // 2
    while not any(int(p.name.split("-")[1]) >= half for p in folder.glob("checkpoint-*")
                  if (p / "trainer_state.json").exists()):
        time.sleep(0.2)
    os.killpg(train.get(ws, run_id).pid, signal.SIGKILL)
    train.wait(ws, run_id, timeout=60)
    step = train.resume(ws, run_id)
    b = _finished(ws, run_id)
    gap = max(abs(a["curve"][s] - b["curve"].get(s, float("inf"))) for s in a["curve"])
    print(f"resume: killed after the checkpoint at step {step} of {a['steps']}")
    print(f"  uninterrupted: dev accuracy {a['accuracy']:.4f}, best validation accuracy {a['best_val']:.4f}")
    print(f"  killed+resumed: dev accuracy {b['accuracy']:.4f}, best validation accuracy {b['best_val']:.4f}")
    print(f"  |difference|: dev accuracy {abs(a['accuracy'] - b['accuracy']):.4f} (goal <= 0.005); "
          f"largest training-loss difference over the {len(a['curve'])} steps {gap:.2e}")


def processes(ws, params: TrainParams, n_rows: int) -> None:
    results = {}
    for n in (1, 2):
        p = params.model_copy(update={"processes": n, "batch_size": params.batch_size // n})
        results[n] = _finished(ws, train.start(ws, "sst2:v2", params=p))
        r = results[n]
        print(f"{n} process(es), batch {p.batch_size} each: {n_rows * params.epochs / r['seconds']:.1f} examples/s, "
              f"dev accuracy {r['accuracy']:.4f}", flush=True)
    print(f"examples/s ratio 2 processes / 1: {results[1]['seconds'] / results[2]['seconds']:.2f} "
          f"(CPU threads: {os.cpu_count()} cores shared by the processes)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("what", nargs="?", default="both", choices=["resume", "processes", "both"])
    ap.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    ap.add_argument("--train-rows", type=int, default=512)
    ap.add_argument("--epochs", type=float, default=2.0)
    ap.add_argument("--batch-size", type=int, default=32)
    args = ap.parse_args()
    params = TrainParams(epochs=args.epochs, lr=1e-4, batch_size=args.batch_size, max_length=64, patience=0,
                         evals_per_epoch=2, seed=0)
    with tempfile.TemporaryDirectory() as tmp:
        ws = build_workspace(Path(tmp) / "ws", args.data, args.train_rows)
        versions.create_version(ws, "sst2", "v2", split=(0.9, 0.1, 0))
        n = len(versions.load_rows(ws, "sst2:v2", split="train"))
        if args.what in ("resume", "both"):
            resume(ws, params)
        if args.what in ("processes", "both"):
            processes(ws, params, n)


if __name__ == "__main__":
    main()
