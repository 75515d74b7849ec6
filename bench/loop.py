"""The data-centric loop: does fixing label errors with curate beat training on the raw labels?

1. ``--rows`` SST-2 sentences (``<data>/sst2/train_sentences.jsonl``, shuffled with seed 0); this script
   flips ``--noise`` of their labels at random (seed 1) and writes both files.
2. One workspace: dataset ``clean`` (true labels), dataset ``noisy`` (flipped); SST-2 dev (872) pinned
   as the eval set ``sst2-dev``.
3. Version A = ``noisy`` as ingested. Version B = ``noisy`` after the labelling stage's label-error
   review: ``curate.label.suspects`` (cleanlab ``find_label_issues`` over out-of-fold probabilities:
   ``--review finetune``, MiniLM fine-tuned per fold, ``--review-folds`` x ``--review-epochs``; or
   ``--review embeddings``, logistic regression on MiniLM embeddings), the suggested label of every
   suspect scoring >= ``--accept-above`` (score = 1 - p(given label)) accepted automatically
   (``suspects.accept_above``), versioned with the majority label rule. No row is dropped in A or B.
   Measured review quality (wrong labels left in B, accepting >= 0.6): 4,000 rows / 30 % noise:
   1,199 -> 750 (finetune, 5 folds x 2 epochs, 546 s); 2,000 / 30 %: 600 -> 364 (finetune 5 x 2),
   420 (finetune 2 x 2), 494 (embeddings); 2,000 / 20 %: 400 -> 276 (finetune 2 x 2, >= 0.7), 310
   (embeddings). A second pass whose fold models leave out the first pass's suspects reaches a higher
   out-of-fold accuracy (0.804 vs 0.785) but leaves as many wrong labels (363-386). Too low a cut adds errors.
4. Every version is trained the same way (curate fine-tune of the bundled MiniLM, ``--epochs``,
   lr ``--lr``, batch 32, batches grouped by length, no early stopping) with ``--seeds``; the quick
   baseline is scored too. Prints dev accuracy per version and seed, mean and spread (max - min), and
   whether B - A > the larger of the two spreads.

Measured (defaults: 4,000 rows, 20 % flipped, 3 epochs, lr 1e-4; ~40 min on 2 CPU cores; the review
leaves 544 of 800 wrong labels): clean 0.8674 (0.8681, 0.8658, 0.8681); A raw 0.8314 (0.8291, 0.8383,
0.8268; spread 0.0115); B reviewed 0.8544 (0.8567, 0.8475, 0.8589; spread 0.0115): B - A = +0.0229,
twice the seed spread; B's worst seed beats A's best. Quick baseline: A 0.7706, B 0.8177, clean 0.8085.
``--noise 0.3`` (1,199 -> 750 wrong): A 0.7829 (spread 0.0172), B 0.8058 (0.0080), B - A +0.0229;
seeds 3 4 5: A 0.7821 (0.0229), B 0.8077 (0.0011), B - A +0.0256. One epoch barely feels the noise
(the issue's plain-loop figures: 0.799 clean vs 0.787 at 20 %); three epochs let the raw version
memorise its flips. With 2,000 rows and a 2-fold review (30 %) A's seeds spread 0.046: missed.

Run:  python bench/loop.py [--rows 4000] [--noise 0.2] [--epochs 3] [--seeds 0 1 2] [--review finetune]
                          [--accept-above 0.6] [--review-only] [--data ../shared/data]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from curate import train, versions  # noqa: E402
from curate.ingest import ingest  # noqa: E402
from curate.label import questions, suspects  # noqa: E402
from curate.store.workspace import Workspace  # noqa: E402
from curate.train.params import TrainParams  # noqa: E402


def make_files(data: Path, out: Path, rows: int, noise: float) -> dict:
    lines = (data / "sst2" / "train_sentences.jsonl").read_text().splitlines()
    random.Random(0).shuffle(lines)
    records = [json.loads(line) for line in lines[:rows]]
    rng = random.Random(1)
    flipped = set(rng.sample(range(len(records)), int(round(noise * len(records)))))
    (out / "clean.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    noisy = [{**r, "label": 1 - r["label"]} if i in flipped else r for i, r in enumerate(records)]
    (out / "noisy.jsonl").write_text("".join(json.dumps(r) + "\n" for r in noisy))
    return {"rows": len(records), "flipped": len(flipped), "truth": {r["text"]: str(r["label"]) for r in records}}


def build(ws: Workspace, data: Path, files: Path, truth: dict[str, str], accept_above: float, review: dict,
          rounds: int = 1) -> dict:
    ingest(ws, [data / "sst2" / "dev.jsonl"], "sst2-dev")
    versions.create_version(ws, "sst2-dev", "v1", split=(0, 0, 1))
    versions.pin_eval_set(ws, "sst2-dev:v1", "all", "sst2-dev")
    ingest(ws, [files / "clean.jsonl"], "clean")
    ingest(ws, [files / "noisy.jsonl"], "noisy")
    versions.create_version(ws, "clean", "ceiling", split=(1, 0, 0), exclude=())
    versions.create_version(ws, "noisy", "A", split=(1, 0, 0), exclude=(), note="raw (noisy) labels")
    started = time.perf_counter()
    question = questions.get_question(ws, "noisy")
    flagged, accepted = [], []
    for _ in range(rounds):  # each round reviews the labels as the previous one left them
        flagged.append(suspects.find_suspects(ws, question, **review).flagged)
        accepted.append(suspects.accept_above(ws, question, accept_above, "bench"))
    review_s = time.perf_counter() - started
    versions.create_version(ws, "noisy", "B", split=(1, 0, 0), exclude=(), label_rule="majority",
                            note="suspects' suggested labels accepted")
    def wrong(ref: str) -> int:
        return sum(truth[r["text"]] != str(r["label"]) for r in versions.load_rows(ws, ref, split="train"))
    return {"suspects": flagged, "accepted": accepted, "review_seconds": round(review_s, 1),
            "wrong_A": wrong("noisy:A"), "wrong_B": wrong("noisy:B"), "wrong_clean": wrong("clean:ceiling"),
            "train_rows": len(versions.load_rows(ws, "noisy:A", split="train"))}


def score(ws: Workspace, ref: str, *, baseline: bool, params: TrainParams) -> float:
    run_id = train.create(ws, ref, baseline=baseline, params=params)
    run = train.execute(ws, run_id)
    if run.status != "done":
        raise SystemExit(f"{ref}: {run.status}: {run.message}")
    return train.scores(ws, run_id)["sst2-dev"]["accuracy"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    ap.add_argument("--rows", type=int, default=4000)
    ap.add_argument("--noise", type=float, default=0.2)
    ap.add_argument("--epochs", type=float, default=3.0)
    ap.add_argument("--lr", type=float, default=1e-4)
    ap.add_argument("--accept-above", type=float, default=0.6)
    ap.add_argument("--max-length", type=int, default=48)
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--review", choices=suspects.METHODS, default="finetune",
                    help="where the suspects' cross-validated probabilities come from")
    ap.add_argument("--review-folds", type=int, default=5, help="cross-validation folds of the review")
    ap.add_argument("--review-epochs", type=float, default=2.0, help="finetune review: epochs per fold")
    ap.add_argument("--review-rounds", type=int, default=1, help="review rounds (each on the labels the last left)")
    ap.add_argument("--review-only", action="store_true", help="stop after the label review (no training)")
    args = ap.parse_args()
    refs = {"clean (ceiling)": "clean:ceiling", "A raw noisy": "noisy:A", "B reviewed": "noisy:B"}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        made = make_files(args.data, tmp, args.rows, args.noise)
        ws = Workspace(tmp / "ws")
        review = {"method": args.review, "folds": args.review_folds, "epochs": args.review_epochs}
        info = build(ws, args.data, tmp, made["truth"], args.accept_above, review, args.review_rounds)
        print(f"{made['rows']} SST-2 sentences, {made['flipped']} labels flipped ({args.noise:.0%}); label review "
              f"({args.review}): {info['suspects']} suspects, {info['accepted']} suggestions accepted "
              f"(score >= {args.accept_above}) in {info['review_seconds']} s; "
              f"wrong labels: A {info['wrong_A']}, B {info['wrong_B']}, clean {info['wrong_clean']}", flush=True)
        if args.review_only:
            print(json.dumps({"args": {k: str(v) for k, v in vars(args).items()}, **info}))
            return
        base = {name: score(ws, ref, baseline=True, params=TrainParams()) for name, ref in refs.items()}
        print("quick baseline dev accuracy: " + ", ".join(f"{k} {v:.4f}" for k, v in base.items()), flush=True)
        acc: dict[str, list[float]] = {name: [] for name in refs}
        for seed in args.seeds:
            for name, ref in refs.items():
                params = TrainParams(epochs=args.epochs, lr=args.lr, batch_size=32, max_length=args.max_length, warmup=0.1,
                                     patience=0, seed=seed, group_by_length=True)
                acc[name].append(score(ws, ref, baseline=False, params=params))
                print(f"seed {seed} {name:16s} dev accuracy {acc[name][-1]:.4f}", flush=True)
    print(f"\nfine-tune (MiniLM, {args.epochs:g} epochs, lr {args.lr:g}, batch 32) SST-2 dev accuracy over seeds "
          f"{args.seeds}:")
    stats = {}
    for name, values in acc.items():
        spread = max(values) - min(values)
        stats[name] = (statistics.mean(values), spread)
        print(f"  {name:16s} mean {stats[name][0]:.4f}  spread {spread:.4f}  ({', '.join(f'{v:.4f}' for v in values)})")
    gain = stats["B reviewed"][0] - stats["A raw noisy"][0]
    spread = max(stats["A raw noisy"][1], stats["B reviewed"][1])
    print(f"B - A = {gain:+.4f}; largest seed spread {spread:.4f}: "
          f"{'B beats A by more than the seed spread' if gain > spread else 'NOT beyond the seed spread'}; "
          f"B's worst seed {min(acc['B reviewed']):.4f} vs A's best {max(acc['A raw noisy']):.4f}")
    print(json.dumps({"args": {k: str(v) for k, v in vars(args).items()}, **info, "baseline": base, "finetune": acc}))


if __name__ == "__main__":
    main()
