"""Dedup on hand-made rows with known answers: exact, MinHash (verified), semantic, decisions, export, CLI."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from curate import dedup
from curate.cli import app
from curate.dedup import minhash
from curate.dedup.clusters import Decision, components, match_decisions, resolve
from curate.dedup.shingles import jaccard, normalize, shingles
from curate.ingest import ingest
from curate.store import dedup as store

BASE = [
    "the quick brown fox jumps over the lazy dog near the quiet river bank at dawn while the farmer "
    "counts his sheep and the baker opens the shop on the corner of the old market square",
    "a journey of a thousand miles begins with a single step taken with courage and hope by travellers "
    "who carry little more than bread water and a map drawn by hand on thin paper",
    "all happy families are alike but every unhappy family is unhappy in its own way today and tomorrow "
    "as the novel tells us in a long opening line that readers still quote",
    "it was the best of times it was the worst of times it was the age of wisdom indeed and the age "
    "of foolishness as the author wrote about two cities long ago",
    "call me ishmael some years ago never mind how long precisely having little money in my purse and "
    "nothing in particular to interest me on shore I thought I would sail",
]


def _ingest(workspace, tmp_path: Path, name: str, records: list[dict]) -> None:
    path = tmp_path / f"{name}.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    ingest(workspace, [path], name)


def _groups(workspace, dataset: str) -> set[frozenset[str]]:
    """Clusters of the latest run as sets of the records' own ids."""
    out = set()
    for c in dedup.clusters(workspace, dataset, limit=1000):
        detail = dedup.cluster_detail(workspace, dataset, c.cluster_id)
        out.add(frozenset(_pid(workspace, m.example_id) for m in detail.members))
    return out


def _pid(workspace, example_id: int) -> str:
    from curate import browse

    return browse.example(workspace, example_id)["raw"]["id"]


@pytest.fixture
def near_rows(workspace, tmp_path):
    """Five base texts; b0 has two near copies (one word changed / appended), b1 one, b3 an exact
    copy with other case and spacing; the rest are unrelated."""
    rows = [{"id": f"b{i}", "text": t, "label": "x"} for i, t in enumerate(BASE)]
    rows += [
        {"id": "n0a", "text": BASE[0].replace("lazy", "sleepy"), "label": "x"},
        {"id": "n0b", "text": BASE[0] + " again", "label": "x"},
        {"id": "n1", "text": BASE[1].replace("single", "first"), "label": "x"},
        {"id": "x3", "text": "  " + BASE[3].upper().replace(" ", "   ") + " ", "label": "x"},
        {"id": "u1", "text": "completely different words about baking sourdough bread in a cold kitchen", "label": "x"},
        {"id": "u2", "text": "the quick brown fox", "label": "x"},
    ]
    _ingest(workspace, tmp_path, "near", rows)
    return rows


def test_normalize_is_nfkc_case_and_whitespace():
    got = normalize(["  Ｈｅｌｌｏ\t\tWORLD \n", "hello world", "ﬁne"]).to_pylist()
    assert got == ["hello world", "hello world", "fine"]


def test_exact_clusters_on_hand_made_rows(workspace, tmp_path):
    rows = [{"id": "a1", "text": "Hello World", "label": "p"}, {"id": "a2", "text": "  hello   world ", "label": "n"},
            {"id": "a3", "text": "Ｈｅｌｌｏ WORLD", "label": "p"}, {"id": "b1", "text": "goodbye", "label": "p"},
            {"id": "b2", "text": "GOODBYE", "label": "p"}, {"id": "c1", "text": "hello, world", "label": "p"},
            {"id": "e1", "text": "", "label": "p"}, {"id": "e2", "text": "   ", "label": "p"}]
    _ingest(workspace, tmp_path, "ex", rows)
    report = dedup.run_dedup(workspace, "ex", method="exact")
    assert (report.rows, report.clusters, report.in_clusters, report.flagged) == (8, 2, 5, 3)
    assert report.sizes == [3, 2]
    assert _groups(workspace, "ex") == {frozenset({"a1", "a2", "a3"}), frozenset({"b1", "b2"})}
    top = dedup.cluster_detail(workspace, "ex", 1)
    assert [(m.role, m.similarity) for m in top.members] == [("canonical", 1.0), ("dup", 1.0), ("dup", 1.0)]
    assert _pid(workspace, top.canonical_id) == "a1"  # first ingested row is canonical by default


def test_minhash_near_clusters_known_answer(workspace, near_rows):
    report = dedup.run_dedup(workspace, "near", method="minhash", threshold=0.7, ngram=2)
    assert _groups(workspace, "near") == {frozenset({"b0", "n0a", "n0b"}), frozenset({"b1", "n1"}),
                                          frozenset({"b3", "x3"})}
    assert (report.clusters, report.flagged, report.rows) == (3, 4, 11)
    with workspace.connect() as con:
        flagged = store.is_dup_ids(con, report.run_id)
        reasons = con.execute("SELECT DISTINCT reason LIKE 'minhash duplicate of example %' FROM issues "
                              "WHERE run_id = ?", [report.run_id]).fetchall()
    assert sorted(_pid(workspace, i) for i in flagged) == ["n0a", "n0b", "n1", "x3"]
    assert reasons == [(True,)]
    b0 = next(dedup.cluster_detail(workspace, "near", c.cluster_id) for c in dedup.clusters(workspace, "near")
              if c.size == 3)
    sims = {_pid(workspace, m.example_id): m.similarity for m in b0.members}
    sets = shingles(normalize([BASE[0], BASE[0].replace("lazy", "sleepy")]), ngram=2)
    assert sims["b0"] == 1.0 and sims["n0a"] == pytest.approx(jaccard(sets.doc_set(0), sets.doc_set(1)))


def test_verification_removes_planted_false_positive_candidates():
    # a/b share about half their shingles (Jaccard ~0.3): with 64 bands of 2 rows LSH proposes them
    # as a candidate; verification at 0.8 must drop them and keep the true near-duplicate pair a/c.
    a = " ".join(f"w{i}" for i in range(40))
    b = " ".join(f"w{i}" for i in range(20)) + " " + " ".join(f"z{i}" for i in range(20))
    c = a.replace("w39", "v39")
    sh = shingles(normalize([a, b, c]), ngram=2)
    sig = minhash.signatures(sh, 128)
    cand = minhash.candidates(sig, 64, 2)
    assert {tuple(p) for p in cand.tolist()} >= {(0, 1), (0, 2)}
    pairs, sims = minhash.verify(sh, cand, 0.8)
    assert [tuple(p) for p in pairs.tolist()] == [(0, 2)]
    assert sims[0] == pytest.approx(38 / 40)
    true_ab = jaccard(sh.doc_set(0), sh.doc_set(1))
    assert true_ab < 0.5


def test_signatures_estimate_jaccard_and_lsh_params():
    rng = np.random.default_rng(0)
    a = rng.integers(0, 2 ** 63, 400).astype(np.uint64)
    b = np.concatenate([a[:300], rng.integers(0, 2 ** 63, 100).astype(np.uint64)])
    from curate.dedup.shingles import Shingles

    sh = Shingles(np.concatenate([a, b]), np.array([0, 400, 800]))
    sig = minhash.signatures(sh, 256)
    estimate = float((sig[0] == sig[1]).mean())
    assert abs(estimate - 300 / 500) < 0.08
    bands, rows = minhash.lsh_params(0.8, 128)
    assert bands * rows <= 128 and (bands, rows) == (9, 13)  # same choice as datasketch.MinHashLSH


def test_idempotent_same_input_same_clusters(workspace, near_rows):
    first = dedup.run_dedup(workspace, "near", method="minhash", threshold=0.7, ngram=2)
    groups = _groups(workspace, "near")
    second = dedup.run_dedup(workspace, "near", method="minhash", threshold=0.7, ngram=2)
    assert second.run_id != first.run_id
    assert _groups(workspace, "near") == groups
    with workspace.connect() as con:
        assert store.is_dup_ids(con, first.run_id) == store.is_dup_ids(con, second.run_id)


def test_decisions_survive_rerun_with_other_params(workspace, near_rows):
    dedup.run_dedup(workspace, "near", method="minhash", threshold=0.7, ngram=2)
    by_size = {c.size: c for c in dedup.clusters(workspace, "near")}
    big = dedup.cluster_detail(workspace, "near", by_size[3].cluster_id)
    ids = {_pid(workspace, m.example_id): m.example_id for m in big.members}
    # choose n0b as canonical; keep both of the b3/x3 pair; split n1 off b1.
    dedup.decide(workspace, "near", big.cluster_id, "canonical", canonical_id=ids["n0b"], author="ana")
    pairs = [c for c in dedup.clusters(workspace, "near") if c.size == 2]
    details = [dedup.cluster_detail(workspace, "near", c.cluster_id) for c in pairs]
    b3 = next(d for d in details if {_pid(workspace, m.example_id) for m in d.members} == {"b3", "x3"})
    b1 = next(d for d in details if {_pid(workspace, m.example_id) for m in d.members} == {"b1", "n1"})
    dedup.decide(workspace, "near", b3.cluster_id, "keep_all", author="ben")
    n1 = next(m.example_id for m in b1.members if _pid(workspace, m.example_id) == "n1")
    dedup.decide(workspace, "near", b1.cluster_id, "split", split_out=[n1])

    def state() -> dict[frozenset, tuple]:
        out = {}
        for c in dedup.clusters(workspace, "near"):
            d = dedup.cluster_detail(workspace, "near", c.cluster_id)
            key = frozenset(_pid(workspace, m.example_id) for m in d.members)
            canon = _pid(workspace, c.canonical_id) if c.canonical_id else None
            out[key] = (c.status, canon, c.action, c.author)
        return out

    expected = {frozenset({"b0", "n0a", "n0b"}): ("dup", "n0b", "canonical", "ana"),
                frozenset({"b3", "x3"}): ("keep_all", None, "keep_all", "ben"),
                frozenset({"b1", "n1"}): ("split", None, "split", "ui")}
    assert state() == expected
    report = dedup.run_dedup(workspace, "near", method="minhash", threshold=0.65, ngram=3, num_perm=64)
    assert report.decisions_applied == 3
    assert state() == expected
    with workspace.connect() as con:
        flagged = sorted(_pid(workspace, i) for i in store.is_dup_ids(con, report.run_id))
    assert flagged == ["b0", "n0a"]
    lines = [json.loads(x) for x in dedup_export(workspace, "near")]
    by_id = {r["id"]: r for r in lines}
    assert by_id["b0"]["canonical"] == "n0b" and by_id["n0b"]["canonical"] == "n0b"
    assert by_id["x3"]["canonical"] == "x3" and by_id["b1"]["cluster"] is None


def dedup_export(workspace, dataset: str) -> list[str]:
    out = workspace.root / "export.jsonl"
    dedup.export(workspace, dataset, out)
    return out.read_text().splitlines()


def test_export_lines_use_record_ids_else_row_numbers(workspace, tmp_path):
    _ingest(workspace, tmp_path, "ids", [{"id": 7, "text": "same text here", "label": "a"},
                                         {"id": 9, "text": "Same  text here", "label": "a"},
                                         {"id": 11, "text": "other", "label": "a"}])
    _ingest(workspace, tmp_path, "noid", [{"text": "one two"}, {"text": "three"}, {"text": "ONE two"}])
    dedup.run_dedup(workspace, "ids", method="exact")
    dedup.run_dedup(workspace, "noid", method="exact")
    assert [json.loads(x) for x in dedup_export(workspace, "ids")] == [
        {"id": 7, "cluster": 1, "canonical": 7}, {"id": 9, "cluster": 1, "canonical": 7},
        {"id": 11, "cluster": None, "canonical": 11}]
    rows = [json.loads(x) for x in dedup_export(workspace, "noid")]
    assert rows[1] == {"id": rows[1]["id"], "cluster": None, "canonical": rows[1]["id"]}
    assert rows[2]["canonical"] == rows[0]["id"] and rows[0]["cluster"] == rows[2]["cluster"] == 1
    assert len({r["id"] for r in rows}) == 3 and all(isinstance(r["id"], int) for r in rows)


def test_sft_and_chat_fields(workspace, tmp_path):
    sft = [{"instruction": "Add two numbers", "input": "2 and 3", "response": "5"},
           {"instruction": "add two numbers", "input": "2 and 3", "response": "five"},
           {"instruction": "Add two numbers", "input": "4 and 4", "response": "8"}]
    _ingest(workspace, tmp_path, "sft", sft)
    assert dedup.run_dedup(workspace, "sft", method="exact").sizes == [2]
    assert dedup.run_dedup(workspace, "sft", method="exact", fields="instruction,input,response").sizes == []
    assert dedup.run_dedup(workspace, "sft", method="exact", fields=["instruction"]).sizes == [3]
    chat = [{"messages": [{"role": "user", "content": "Hi there"}, {"role": "assistant", "content": "Hello!"}]},
            {"messages": [{"role": "user", "content": "hi  there"}, {"role": "assistant", "content": "Hey."}]},
            {"messages": [{"role": "user", "content": "Bye"}, {"role": "assistant", "content": "Hello!"}]}]
    _ingest(workspace, tmp_path, "chat", chat)
    assert dedup.run_dedup(workspace, "chat", method="exact").sizes == [2]
    assert dedup.run_dedup(workspace, "chat", method="exact", fields="assistant").in_clusters == 2
    with pytest.raises(dedup.DedupError, match="chat datasets have no field 'text'.*fix: --fields"):
        dedup.run_dedup(workspace, "chat", fields="text")


def test_every_comparable_field_has_store_sql():
    """The fields a dedup offers per task (domain) are exactly those the store can read (SQL)."""
    from curate.dedup.fields import COMPARABLE_FIELDS
    from curate.dedup.params import DEFAULT_FIELDS

    assert {t: tuple(f) for t, f in store.FIELD_SQL.items()} == COMPARABLE_FIELDS
    assert all(set(DEFAULT_FIELDS[t]) <= set(COMPARABLE_FIELDS[t]) for t in COMPARABLE_FIELDS)


def test_semantic_finds_paraphrases(workspace, tmp_path):
    texts = ["How do I reset my password?", "What is the way to reset my password?",
             "I forgot my password, how can I change it?", "The cat sat on the mat.", "A cat was sitting on the mat.",
             "What is the capital of France?", "Recommend a good pasta recipe."]
    _ingest(workspace, tmp_path, "para", [{"id": f"p{i}", "text": t} for i, t in enumerate(texts)])
    assert dedup.run_dedup(workspace, "para", method="minhash").clusters == 0  # no shared 5-word shingles
    report = dedup.run_dedup(workspace, "para", method="semantic", threshold=0.85)
    assert _groups(workspace, "para") == {frozenset({"p0", "p1", "p2"}), frozenset({"p3", "p4"})}
    assert report.flagged == 3
    top = dedup.cluster_detail(workspace, "para", 1)
    assert all(0.85 <= m.similarity <= 1.0 for m in top.members)


def test_pure_clusters_and_decision_matching():
    pairs = np.array([[0, 1], [1, 2], [4, 5]])
    assert [g.tolist() for g in components(7, pairs)] == [[0, 1, 2], [4, 5]]
    d_old = Decision(1, "canonical", frozenset({10, 11, 12}), canonical_id=12)
    d_new = Decision(2, "keep_all", frozenset({20, 21}))
    d_lonely = Decision(3, "canonical", frozenset({10, 99}), canonical_id=99)  # shares one row only
    matched = match_decisions([[10, 11, 12, 13], [20, 21], [30, 31]], [d_new, d_old, d_lonely])
    assert [[d.id for d in m] for m in matched] == [[1], [2], []]
    r = resolve([10, 11, 12, 13], matched[0])
    assert r.canonical_id == 12 and r.roles == {10: "dup", 11: "dup", 12: "canonical", 13: "dup"}
    split = resolve([1, 2, 3], [Decision(4, "split", frozenset({1, 2, 3}), split_out=frozenset({1}))])
    assert (split.status, split.canonical_id, split.roles) == ("dup", 2, {1: "split", 2: "canonical", 3: "dup"})


def test_cli_dedup_and_export(workspace, near_rows, tmp_path):
    runner = CliRunner()
    ws = str(workspace.root)
    result = runner.invoke(app, ["-w", ws, "dedup", "near", "--threshold", "0.7", "--ngram", "2"])
    assert result.exit_code == 0, result.output
    assert "dedup report: near" in result.output and "minhash" in result.output
    assert "│ 11 " in result.output and "│ 3 " in result.output  # rows in, clusters
    out = tmp_path / "dups.jsonl"
    result = runner.invoke(app, ["-w", ws, "dedup", "export", "near", "--out", str(out)])
    assert result.exit_code == 0, result.output
    lines = [json.loads(x) for x in out.read_text().splitlines()]
    assert len(lines) == 11 and {r["id"]: r["canonical"] for r in lines}["n1"] == "b1"
    assert {r["id"]: r["cluster"] for r in lines}["u1"] is None
    result = runner.invoke(app, ["-w", ws, "dedup", "export", "near"])
    assert result.exit_code == 1 and "fix: add --out FILE.jsonl" in result.output
    result = runner.invoke(app, ["-w", ws, "dedup", "near", "--method", "fuzzy"])
    assert result.exit_code == 1 and "unknown method 'fuzzy'" in result.output


def test_demo_has_dedup_clusters(demo_workspace):
    s = dedup.summary(demo_workspace, "messy")
    assert s is not None and s.params.method == "minhash" and s.counters.clusters >= 10
