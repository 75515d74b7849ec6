"""Dedup with default settings on planted near-duplicates (one character changed) in Chinese, Japanese
and short alphabetic text: the shingles follow the text, the run records and the CLI prints which were
used."""

from __future__ import annotations

import gzip
import itertools
import json
import random
from pathlib import Path

import pyarrow as pa
import pytest
from typer.testing import CliRunner

from curate import dedup
from curate.cli import app
from curate.dedup.params import make_params, resolve_params
from curate.ingest import ingest

ROOT = Path(__file__).resolve().parent.parent
PUD = ROOT / "sample_data" / "pud_sentences.jsonl.gz"  # 20 languages x 1,000 (PROVENANCE.md)


def _sentences(lang: str, n: int) -> list[str]:
    if lang == "zh":   # shipped with the repository
        rows = [json.loads(line) for line in (ROOT / "sample_data" / "zh_pud.jsonl").open(encoding="utf-8")]
        return [r["text"] for r in rows[:n]]
    rows = (json.loads(line) for line in gzip.open(PUD, "rt", encoding="utf-8"))
    return [r["text"] for r in itertools.islice((r for r in rows if r["lang"] == lang), n)]


def _with_copies(texts: list[str], n: int, seed: int) -> tuple[list[dict], set[frozenset[str]]]:
    """Records of ``texts`` plus ``n`` copies with one CJK character (letter, in alphabetic text) swapped
    for another of the text."""
    rng = random.Random(seed)
    records = [{"id": f"s{i}", "text": t} for i, t in enumerate(texts)]
    planted = set()
    for k, src in enumerate(rng.sample(range(len(texts)), n)):
        text = texts[src]
        cjk = any("\u3040" <= ch <= "\u9fff" for ch in text)
        swappable = (lambda ch: "\u3040" <= ch <= "\u9fff") if cjk else str.isalpha
        at = rng.choice([i for i, ch in enumerate(text) if swappable(ch)])
        swap = rng.choice(sorted({ch for ch in text if swappable(ch)} - {text[at]}))
        records.append({"id": f"c{k}", "text": text[:at] + swap + text[at + 1:]})
        planted.add(frozenset({f"s{src}", f"c{k}"}))
    return records, planted


def _found_pairs(workspace, dataset: str) -> set[frozenset[str]]:
    from curate import browse

    pairs = set()
    for c in dedup.clusters(workspace, dataset, limit=10_000):
        ids = [browse.example(workspace, m.example_id)["raw"]["id"]
               for m in dedup.cluster_detail(workspace, dataset, c.cluster_id).members]
        pairs |= {frozenset(p) for p in itertools.combinations(ids, 2)}
    return pairs


@pytest.mark.parametrize("lang, printed, ngram, threshold", [
    ("zh", "shingles: 2-char n-grams, auto: char (480 of 480 rows CJK/Thai)", 2, 0.6),
    ("ja", "shingles: 2-char n-grams, auto: char (480 of 480 rows CJK/Thai)", 2, 0.6),
    # short alphabetic rows: a one-letter edit is invisible to word 5-grams at 0.8 (params' docstring)
    ("de", "shingles: 4-char n-grams, auto: char (0 of 480 rows CJK/Thai, median 17 words < 50)", 4, 0.65),
    ("ar", "shingles: 4-char n-grams, auto: char (0 of 480 rows CJK/Thai, median 15 words < 50)", 4, 0.65),
])
def test_default_dedup_finds_one_character_near_duplicates(workspace, tmp_path, lang, printed, ngram,
                                                           threshold) -> None:
    records, planted = _with_copies(_sentences(lang, 400), 80, seed=1)
    path = tmp_path / f"{lang}.jsonl"
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    ingest(workspace, [path], lang)
    result = CliRunner().invoke(app, ["-w", str(workspace.root), "dedup", lang])
    assert result.exit_code == 0, result.output
    assert printed in " ".join(result.output.split())
    summary = dedup.summary(workspace, lang)
    assert (summary.params.shingle, summary.params.ngram, summary.params.threshold) == \
        ("char", ngram, threshold)
    found = _found_pairs(workspace, lang)
    hits = len(found & planted)
    assert hits / len(planted) >= 0.95 and hits / len(found) >= 0.98, (hits, len(planted), len(found))


@pytest.mark.parametrize("texts, shingle, ngram, threshold", [
    ([" ".join(["word"] * 60), " ".join(["other"] * 55), "我们在北京见面"], "word", 5, 0.8),  # long, spaced
    (["the quick brown fox", "jumps over the lazy dog", "我们在北京见面"], "char", 4, 0.65),  # short, spaced
    (["我们在北京见面", "東京で会議", "그들은 누구인가?", "hello there"], "char", 2, 0.6),
    (["ฉันรักภาษาไทย", ""], "char", 2, 0.6),                                     # empty rows do not count
])
def test_auto_shingles_follow_the_dataset_script(texts, shingle, ngram, threshold) -> None:
    p = resolve_params(make_params("classification"), pa.array(texts, pa.string()))
    assert (p.shingle, p.ngram, p.threshold) == (shingle, ngram, threshold) and p.chosen.startswith("auto: ")


def test_explicit_settings_are_kept() -> None:
    texts = pa.array(["我们在北京见面"], pa.string())
    p = resolve_params(make_params("classification", shingle="word", ngram=3, threshold=0.7), texts)
    assert (p.shingle, p.ngram, p.threshold, p.chosen) == ("word", 3, 0.7, "")
    p = resolve_params(make_params("classification", ngram=4), texts)   # with auto, ngram counts words
    assert (p.shingle, p.ngram) == ("char", 2)
    short = pa.array(["the quick brown fox", "jumps over the lazy dog"], pa.string())
    p = resolve_params(make_params("classification", ngram=4), short)   # ... so it keeps words on short rows
    assert (p.shingle, p.ngram, p.threshold) == ("word", 4, 0.8)
    p = resolve_params(make_params("classification", shingle="char"), short)   # char defaults follow the script
    assert (p.shingle, p.ngram, p.threshold) == ("char", 4, 0.65)


def test_split_leak_check_sees_chinese_near_duplicates() -> None:
    """Splits and leak checks share dedup's definition: a one-character Chinese variant is a near-dup."""
    from curate.versions.neardup import near_pairs

    records, planted = _with_copies(_sentences("zh", 300), 60, seed=2)
    pairs, sims = near_pairs([r["text"] for r in records])
    found = {frozenset({records[i]["id"], records[j]["id"]}) for i, j in pairs}
    assert len(found & planted) >= 0.95 * len(planted) and len(found - planted) <= 0.02 * len(found)
    assert (sims >= 0.6).all()


def test_dedup_page_threshold_follows_the_script(workspace, monkeypatch) -> None:
    """On a Chinese dataset the Dedup page's slider starts at the character-shingle default (0.6), a run
    from the page with the slider untouched records the resolved defaults (0.6, char 2-grams), and a
    moved slider's value is the run's threshold."""
    from streamlit.testing.v1 import AppTest

    ingest(workspace, [ROOT / "sample_data" / "zh_pud.jsonl"], "zh")
    monkeypatch.setenv("CURATE_WORKSPACE", str(workspace.root))
    at = AppTest.from_string("from curate.ui.pages import dedup\ndedup.render()", default_timeout=120)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    slider = next(s for s in at.slider if s.key.startswith("dedup_threshold_minhash"))
    assert slider.value == pytest.approx(0.6)
    at.button(key="dedup_run").click().run()
    assert not at.exception, [e.value for e in at.exception]
    params = dedup.summary(workspace, "zh").params
    assert (params.threshold, params.shingle, params.ngram) == (pytest.approx(0.6), "char", 2)
    next(s for s in at.slider if s.key == slider.key).set_value(0.75).run()
    at.button(key="dedup_run").click().run()
    assert dedup.summary(workspace, "zh").params.threshold == pytest.approx(0.75)   # a moved slider is kept


def test_auto_shingles_from_batch_counts_match_the_whole_array() -> None:
    """Ray shards and corpus blocks are resolved from summed per-batch ``TextStats``: the same choice,
    counts and median as one array of every row."""
    import numpy as np

    from curate.dedup.params import TextStats, resolve_shingles, text_stats

    texts = _sentences("de", 301) + ["", None] + _sentences("zh", 40) + [" ".join(["lang"] * 2_000)]
    whole = text_stats(pa.array(texts, pa.string()))
    parts = sum((text_stats(pa.array(texts[i:i + 37], pa.string())) for i in range(0, len(texts), 37)), TextStats())
    assert (parts.total, parts.cjk) == (whole.total, whole.cjk) == (342, 40)
    assert parts.median_words() == whole.median_words() == np.median([len(t.split()) for t in texts if t])
    for shingle, ngram in (("auto", None), ("auto", 3), ("char", None), ("word", None)):
        assert resolve_shingles(parts, shingle, ngram, None) == resolve_shingles(pa.array(texts), shingle, ngram, None)
    assert TextStats(4, 0, np.bincount([1, 2, 60, 70], minlength=1_001)).median_words() == 31.0
