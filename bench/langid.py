"""Accuracy and speed of curate's language scorer (lingua, default candidate set) on the PUD sentences.

    python bench/langid.py [--data ../shared/data/langid_pud/pud_sentences.jsonl] [--limit N]

Prints per-language and overall accuracy (top language == gold ``lang``) and rows/s of
``curate.ops.lang.detect`` (the function ``score.lang`` calls), all 20 languages, 1,000 sentences each.
Measured on 2 shared cores: 0.9974 overall, no language under 0.99 (langdetect, the detector curate
used before: 0.93 with Icelandic at 0, which it has no profile for). The peer, if installed
(``pip install langdetect``), runs on the same sentences in the same run for the speed ratio.
"""

from __future__ import annotations

import argparse
import json
import time
from collections import Counter
from pathlib import Path

from curate.ops.lang import DEFAULT_CANDIDATES, detect, top_language

DEFAULT = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "langid_pud" / "pud_sentences.jsonl"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT)
    parser.add_argument("--limit", type=int, default=0, help="Sentences per language (0: all).")
    args = parser.parse_args()
    rows = [json.loads(line) for line in args.data.open(encoding="utf-8")]
    if args.limit:
        seen: Counter = Counter()
        rows = [r for r in rows if (seen.update([r["lang"]]) or seen[r["lang"]] <= args.limit)]
    texts = [r["text"] for r in rows]
    detect(["warm up the detector models"] + [r["text"] for r in rows[::1000]])
    started = time.perf_counter()
    probs = detect(texts)
    seconds = time.perf_counter() - started
    predicted = [top_language(p)[0] for p in probs]
    known = set(DEFAULT_CANDIDATES)
    total, correct = Counter(), Counter()
    confusions: dict[str, Counter] = {}
    for row, pred in zip(rows, predicted):
        gold = row["lang"]
        total[gold] += 1
        correct[gold] += pred == gold
        if pred != gold:
            confusions.setdefault(gold, Counter())[pred] += 1
    print(f"{'lang':<6}{'n':>6}{'accuracy':>10}  most common error")
    for lang in sorted(total):
        note = "" if lang in known else "  (not among the default candidates)"
        err = confusions.get(lang, Counter()).most_common(1)
        print(f"{lang:<6}{total[lang]:>6}{correct[lang] / total[lang]:>10.3f}  "
              f"{(f'{err[0][0]} ×{err[0][1]}' if err else '')}{note}")
    n, ok = sum(total.values()), sum(correct.values())
    supported = [lang for lang in total if lang in known]
    n_sup, ok_sup = sum(total[lang] for lang in supported), sum(correct[lang] for lang in supported)
    worst = min(total, key=lambda lang: correct[lang] / total[lang])
    print(f"overall accuracy: {ok / n:.4f} ({ok:,}/{n:,}); on the {len(supported)} of these among the default candidates: "
          f"{ok_sup / n_sup:.4f}; lowest: {worst} {correct[worst] / total[worst]:.3f}")
    print(f"speed: {n / seconds:,.0f} rows/s ({seconds:.1f}s for {n:,} sentences, one process)")
    peer = langdetect_peer(rows)
    if peer:
        acc, peer_seconds = peer
        print(f"langdetect (seeded) on the same rows: accuracy {acc:.4f}, {n / peer_seconds:,.0f} rows/s; "
              f"curate / langdetect throughput: {peer_seconds / seconds:.2f}x")


def langdetect_peer(rows: list[dict]) -> tuple[float, float] | None:
    """Accuracy and seconds of langdetect (zh-cn/zh-tw as zh) on ``rows``, or None if not installed."""
    try:
        from langdetect import DetectorFactory, detect as ld_detect
        from langdetect.lang_detect_exception import LangDetectException
    except ImportError:
        return None
    DetectorFactory.seed = 0
    ld_detect("warm up")
    started = time.perf_counter()
    right = 0
    for row in rows:
        try:
            right += ld_detect(row["text"]).split("-")[0] == row["lang"]
        except LangDetectException:
            pass
    return right / len(rows), time.perf_counter() - started


if __name__ == "__main__":
    main()
