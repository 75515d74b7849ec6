"""The shipped multilingual recipe, dedup and language ID on the PUD sentences, per language.

    python bench/multilingual.py [--data ../shared/data/langid_pud/pud_sentences.jsonl] [--limit N]
                                 [--recipe pipelines/multilingual.yaml] [--langs zh,ja]

For each of the 20 languages (1,000 correct sentences each):

- ``changed``: rows any mapper of the recipe rewrites (goal 0: the text is correct as it is);
- ``kept``: share of rows no filter drops, with the recipe's ``score.lang`` expecting that language
  (goal >= 95 %);
- ``recall`` / ``precision``: MinHash dedup with default settings (``find_pairs`` with
  ``make_params``' defaults) on the sentences plus 200 planted near-duplicates, each a copy of a
  sentence with one character replaced by another letter of the same sentence (words for
  whitespace languages); a found pair is right when it joins a copy to its source (goals 0.95 / 0.98);
- ``langid``: top language of ``curate.ops.lang.detect`` == gold (goal >= 0.97 overall, >= 0.9 each);
- ``rows/s``: the whole recipe (mappers, scorers, filters) over the language's rows, one process.
"""

from __future__ import annotations

import argparse
import json
import random
import tempfile
import time
from pathlib import Path

import pandas as pd
import yaml

from curate.dedup.params import make_params
from curate.dedup.pairs import find_pairs
from curate.ops import recipe as recipes
from curate.ops.lang import detect, top_language
from curate.ops.runner import execute
from curate.store.workspace import Workspace

ROOT = Path(__file__).resolve().parent.parent
DEFAULT = ROOT.parent.parent / "shared" / "data" / "langid_pud" / "pud_sentences.jsonl"
if not DEFAULT.exists():
    DEFAULT = Path("/work/shared/data/langid_pud/pud_sentences.jsonl")


def recipe_for(path: Path, lang: str) -> recipes.Recipe:
    """The recipe with its ``score.lang`` step expecting ``lang``."""
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    for step in raw["steps"]:
        if step["op"] == "score.lang":
            step["expected"] = [lang]
    return recipes.parse(yaml.safe_dump(raw, allow_unicode=True), str(path), task="classification")


def plant(texts: list[str], n: int, seed: int = 0) -> tuple[list[str], list[tuple[int, int]]]:
    """``texts`` plus ``n`` near-duplicates: a copy with one character changed. Returns all texts and the
    planted (source, copy) index pairs."""
    rng = random.Random(seed)
    out, pairs = list(texts), []
    for src in rng.sample(range(len(texts)), n):
        text = texts[src]
        letters = [i for i, ch in enumerate(text) if ch.isalpha()]
        i = rng.choice(letters)
        others = sorted({ch for ch in text if ch.isalpha() and ch != text[i]}) or ["x"]
        pairs.append((src, len(out)))
        out.append(text[:i] + rng.choice(others) + text[i + 1:])
    return out, pairs


def dedup_scores(workspace: Workspace, texts: list[str], n_planted: int) -> tuple[float, float, str]:
    """Recall and precision of default MinHash dedup on planted one-character near-duplicates."""
    all_texts, planted = plant(texts, n_planted)
    graph = find_pairs(workspace, all_texts, make_params("classification"))
    found = {tuple(sorted(map(int, p))) for p in graph.pairs}
    truth = {tuple(sorted(p)) for p in planted}
    hits = len(found & truth)
    return hits / len(truth), hits / max(len(found), 1), f"{graph.params.ngram}-{graph.params.shingle}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT)
    parser.add_argument("--recipe", type=Path, default=ROOT / "pipelines" / "multilingual.yaml",
                        help="Recipe whose score.lang step is set to expect each language in turn.")
    parser.add_argument("--limit", type=int, default=0, help="Sentences per language (0: all).")
    parser.add_argument("--planted", type=int, default=200, help="Near-duplicates planted per language.")
    parser.add_argument("--langs", default="", help="Comma-separated languages (default: all).")
    args = parser.parse_args()
    rows = pd.read_json(args.data, lines=True)
    langs = [x for x in args.langs.split(",") if x] or sorted(rows["lang"].unique())
    workspace = Workspace(Path(tempfile.mkdtemp(prefix="curate-bench-")))
    print(f"{'lang':<5}{'rows':>6}{'changed':>9}{'kept':>8}{'recall':>8}{'prec':>7}{'shingle':>8}{'langid':>8}{'rows/s':>9}")
    totals = {"n": 0, "changed": 0, "kept": 0, "lid": 0}
    for lang in langs:
        sub = rows[rows["lang"] == lang]
        if args.limit:
            sub = sub.head(args.limit)
        texts = sub["text"].tolist()
        frame = pd.DataFrame({"id": range(len(texts)), "text": texts})
        started = time.perf_counter()
        outcome = execute(recipe_for(args.recipe, lang), frame)
        speed = len(texts) / (time.perf_counter() - started)
        changed = len({int(i) for t in outcome.edits for i in t.column("example_id").to_pylist()})
        kept = int(sum(r is None for r in outcome.dropped_by))
        recall, precision, kind = dedup_scores(workspace, texts, min(args.planted, len(texts) // 2))
        lid = sum(top_language(p)[0] == lang for p in detect(texts))
        for key, value in (("n", len(texts)), ("changed", changed), ("kept", kept), ("lid", lid)):
            totals[key] += value
        print(f"{lang:<5}{len(texts):>6}{changed:>9}{kept / len(texts):>8.1%}{recall:>8.3f}{precision:>7.3f}"
              f"{kind:>8}{lid / len(texts):>8.3f}{speed:>9,.0f}")
    n = totals["n"]
    print(f"{'all':<5}{n:>6}{totals['changed']:>9}{totals['kept'] / n:>8.1%}{'':>23}{totals['lid'] / n:>8.3f}")


if __name__ == "__main__":
    main()
