"""Spans and preference data through ingest, versions and exports: offsets checked at ingest, HF token
classification round trip, LLaMA-Factory ranking read by its own converter, TRL's preference format.

The records here are test fixtures written for these tests (no real NER or preference sample is
available offline); the shapes are those of the public formats (HF ``tokens``/``ner_tags``, TRL,
LLaMA-Factory's alpaca/sharegpt ranking)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from curate import versions
from curate.errors import InputError
from curate.ingest import ingest
from curate.ingest.shapes import bio_to_spans, spans_to_bio
from curate.store import catalog
from curate.store.workspace import Workspace
from tests.test_versions import write_jsonl

TAGS = ["O", "B-PER", "I-PER", "B-ORG", "I-ORG", "B-LOC", "I-LOC"]
SENTENCES = [
    (["Ada", "Lovelace", "worked", "with", "Charles", "Babbage", "in", "London", "."], [1, 2, 0, 0, 1, 2, 0, 5, 0]),
    (["The", "Royal", "Society", "met", "in", "Paris", "."], [0, 3, 4, 0, 0, 5, 0]),
    (["Nothing", "to", "tag", "here", "."], [0, 0, 0, 0, 0]),
    (["Grace", "Hopper", "joined", "the", "US", "Navy", "Reserve", "."], [1, 2, 0, 0, 3, 4, 4, 0]),
]


def _hf_ner(folder: Path, copies: int = 3) -> Path:
    from datasets import ClassLabel, Dataset, Features, Sequence, Value

    rows = [{"tokens": [t if k == 0 else f"{t}{k}" if t[0].isupper() else t for t in toks], "ner_tags": tags}
            for k in range(copies) for toks, tags in SENTENCES]
    feats = Features({"tokens": Sequence(Value("string")), "ner_tags": Sequence(ClassLabel(names=TAGS))})
    Dataset.from_list(rows, features=feats).save_to_disk(str(folder))
    return folder


def test_bio_and_offsets_convert_both_ways() -> None:
    text, spans = bio_to_spans(["Ada", "Lovelace", "in", "London"], ["B-PER", "I-PER", "O", "B-LOC"])
    assert text == "Ada Lovelace in London"
    assert spans == [{"start": 0, "end": 12, "label": "PER"}, {"start": 16, "end": 22, "label": "LOC"}]
    assert spans_to_bio(text, spans) == (["Ada", "Lovelace", "in", "London"], ["B-PER", "I-PER", "O", "B-LOC"])
    # two adjacent entities of one type stay two entities
    _, two = bio_to_spans(["A", "B"], ["B-PER", "B-PER"])
    assert len(two) == 2 and spans_to_bio("A B", two)[1] == ["B-PER", "B-PER"]


@pytest.mark.parametrize("spans,why", [
    ([{"start": 0, "end": 99, "label": "PER"}], "outside the text"),
    ([{"start": 3, "end": 3, "label": "PER"}], "outside the text (length 22) or empty"),
    ([{"start": 0, "end": 8, "label": "PER"}, {"start": 4, "end": 12, "label": "ORG"}], "overlap"),
    ([{"start": "0", "end": 3, "label": "PER"}], "integer start/end"),
])
def test_bad_offsets_are_refused_with_the_line_and_nothing_is_written(workspace: Workspace, tmp_path: Path,
                                                                    spans: list, why: str) -> None:
    good = {"text": "Ada Lovelace in London", "spans": [{"start": 0, "end": 12, "label": "PER"}]}
    path = write_jsonl(tmp_path / "s.jsonl", [good, {"text": "Ada Lovelace in London", "spans": spans}])
    with pytest.raises(InputError) as err:
        ingest(workspace, [path], "ner")
    message = str(err.value)
    assert "s.jsonl:2:" in message and why in message and "\n" not in message
    with workspace.connect() as con:
        assert catalog.find_dataset(con, "ner") is None


def test_jsonl_offsets_ingest_losslessly(workspace: Workspace, tmp_path: Path) -> None:
    recs = [{"text": "Grace Hopper 🙂 led the team.", "spans": [{"start": 15, "end": 28, "label": "X"},
                                                               {"start": 0, "end": 12, "label": "PER"}], "id": 7}]
    path = write_jsonl(tmp_path / "s.jsonl", recs)
    assert ingest(workspace, [path], "ner").task == "spans"
    with workspace.connect() as con:
        raw, text, spans = con.execute("SELECT raw, text, spans FROM examples").fetchall()[0]
    assert json.loads(raw) == recs[0] and text == recs[0]["text"]
    assert json.loads(spans) == sorted(recs[0]["spans"], key=lambda s: s["start"])


def test_hf_token_classification_round_trip(workspace: Workspace, tmp_path: Path) -> None:
    """HF tokens + ner_tags (ClassLabel) → ingest → version → hf export → load_from_disk: same tokens,
    same tag names, for every example, and the export's tag ids decode with its own ClassLabel."""
    from datasets import load_from_disk

    source = load_from_disk(str(_hf_ner(tmp_path / "ner_hf")))
    assert ingest(workspace, [tmp_path / "ner_hf"], "ner").task == "spans"
    with workspace.connect() as con:
        raw = json.loads(con.execute("SELECT raw FROM examples ORDER BY id LIMIT 1").fetchall()[0][0])
    assert raw["tokens"] == source[0]["tokens"]  # the tokens are kept in the raw record
    v = versions.create_version(workspace, "ner", "v1", split=(0.5, 0.25, 0.25))
    assert v.counters.labels["train"]  # stratified by the set of entity types
    res = versions.export_version(workspace, "ner:v1", "hf", tmp_path / "out")
    out = load_from_disk(res.path)
    names = out["train"].features["ner_tags"].feature.names
    assert names[0] == "O" and set(names) == set(TAGS)
    expected = {tuple(r["tokens"]): [TAGS[t] for t in r["ner_tags"]] for r in source}
    got = {tuple(r["tokens"]): [names[t] for t in r["ner_tags"]] for split in out.values() for r in split}
    assert got == expected


PREFS = [
    {"prompt": "Capital of France?", "chosen": "Paris.", "rejected": "Lyon."},
    {"prompt": [{"role": "user", "content": "2+2?"}], "chosen": [{"role": "assistant", "content": "4"}],
     "rejected": [{"role": "assistant", "content": "5"}]},
    {"chosen": [{"role": "user", "content": "Say hi"}, {"role": "assistant", "content": "Hi!"}],
     "rejected": [{"role": "user", "content": "Say hi"}, {"role": "assistant", "content": "Go away."}]},
]
LF_ALPACA = [{"instruction": "Translate", "input": "chat", "chosen": "cat", "rejected": "dog", "system": "Be exact."}]
LF_SHAREGPT = [{"conversations": [{"from": "human", "value": "Hello"}, {"from": "gpt", "value": "Hi"},
                                  {"from": "human", "value": "Name a colour"}],
                "chosen": {"from": "gpt", "value": "Blue"}, "rejected": {"from": "gpt", "value": "Seven"}}]


@pytest.fixture(scope="module")
def prefs(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    tmp_path = tmp_path_factory.mktemp("prefs")
    workspace = Workspace(tmp_path / "ws")
    ingest(workspace, [write_jsonl(tmp_path / "trl.jsonl", PREFS)], "trl")
    ingest(workspace, [write_jsonl(tmp_path / "lfa.jsonl", LF_ALPACA)], "lfa")
    ingest(workspace, [write_jsonl(tmp_path / "lfs.jsonl", LF_SHAREGPT)], "lfs")
    for name in ("trl", "lfa", "lfs"):
        versions.create_version(workspace, name, "v1", split=(1, 0, 0))
    return workspace


def _turns(*pairs: tuple[str, str]) -> list[dict]:
    return [{"role": r, "content": c} for r, c in pairs]


def test_preference_shapes_normalise_to_prompt_chosen_rejected(prefs: Workspace) -> None:
    rows = {r["example_id"]: r for name in ("trl", "lfa", "lfs") for r in versions.load_rows(prefs, f"{name}:v1")}
    got = [(r["messages"], r["chosen"], r["rejected"]) for _, r in sorted(rows.items())]
    assert got == [
        (_turns(("user", "Capital of France?")), _turns(("assistant", "Paris.")), _turns(("assistant", "Lyon."))),
        (_turns(("user", "2+2?")), _turns(("assistant", "4")), _turns(("assistant", "5"))),
        (_turns(("user", "Say hi")), _turns(("assistant", "Hi!")), _turns(("assistant", "Go away."))),
        (_turns(("system", "Be exact."), ("user", "Translate\nchat")), _turns(("assistant", "cat")),
         _turns(("assistant", "dog"))),
        (_turns(("user", "Hello"), ("assistant", "Hi"), ("user", "Name a colour")), _turns(("assistant", "Blue")),
         _turns(("assistant", "Seven"))),
    ]


def test_preference_without_rejected_is_refused(workspace: Workspace, tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "p.jsonl", [PREFS[0], {"prompt": "x", "chosen": "y", "rejected": None}])
    with pytest.raises(InputError, match="p.jsonl:2:.*no chosen or no rejected"):
        ingest(workspace, [path], "p")


@pytest.mark.parametrize("fmt", ["alpaca", "sharegpt"])
def test_llama_factory_ranking_read_by_its_converter(prefs: Workspace, tmp_path: Path, fmt: str) -> None:
    pytest.importorskip("llamafactory")
    from bench.interop import llamafactory_align

    for name in ("trl", "lfa", "lfs"):
        rows = versions.load_rows(prefs, f"{name}:v1")
        res = versions.export_version(prefs, f"{name}:v1", fmt, tmp_path / name / fmt)
        assert res.skipped == 0 and json.loads((tmp_path / name / fmt / "dataset_info.json").read_text())
        aligned = [r for recs in llamafactory_align(tmp_path / name / fmt).values() for r in recs]
        assert len(aligned) == len(rows)
        for got, row in zip(aligned, rows):
            assert [t["content"] for t in got["_response"]] == [row["chosen"][0]["content"], row["rejected"][0]["content"]]
            prompt = [t for t in row["messages"] if t["role"] != "system"]
            assert [t["content"] for t in got["_prompt"]] == [t["content"] for t in prompt]
            assert got["_system"] == "".join(t["content"] for t in row["messages"] if t["role"] == "system")


def test_trl_preference_format_loads(prefs: Workspace, tmp_path: Path) -> None:
    from datasets import load_dataset

    res = versions.export_version(prefs, "trl:v1", "messages", tmp_path / "trl")
    data = load_dataset("json", data_files={Path(f).stem: f for f in res.files})["train"]
    assert data.column_names == ["prompt", "chosen", "rejected"] and len(data) == 3
    assert data[2]["prompt"] == _turns(("user", "Say hi")) and data[2]["rejected"] == _turns(("assistant", "Go away."))


def test_decontamination_drops_pairs_near_an_external_eval_file(workspace: Workspace, tmp_path: Path) -> None:
    # distinct prompts: templated ones differing in a number or two ("... in town 3" / "... in town 5")
    # are near-duplicates under the default character shingles of short rows, and all would be dropped
    prompts = ["What is the weather like in Oslo today?", "Name three prime numbers above fifty.",
               "Summarise the plot of Hamlet in one line.", "How do I boil an egg so the yolk stays soft?",
               "Translate 'good morning' into Spanish.", "Why is the sky blue during the day?",
               "Write a haiku about autumn leaves.", "Which planet has the most moons?"]
    pairs = [{"prompt": p, "chosen": "a", "rejected": "b"} for p in prompts]
    ingest(workspace, [write_jsonl(tmp_path / "p.jsonl", pairs)], "p")
    ev = write_jsonl(tmp_path / "eval.jsonl", [pairs[3]])
    v = versions.create_version(workspace, "p", "v1", decontaminate=ev)
    assert v.counters.decontaminated == 1 and v.n_rows == 7


def test_span_f1_and_preference_kappa_from_the_store(workspace: Workspace, tmp_path: Path) -> None:
    """Two annotators' span answers: exact F1 = 2·1/(2+2) = 0.5 (one identical span of two each);
    overlap F1 = 2·2/4 = 1 (the other pair overlaps with the same type). Preference choices
    1,1,2,= vs 1,2,2,= : po = 3/4, pe = (2·1 + 1·2 + 1·1)/16 = 5/16, κ = (3/4 − 5/16)/(11/16) = 7/11."""
    from curate.label import agreement, annotations, questions

    text = "Ada Lovelace met Charles Babbage"
    ingest(workspace, [write_jsonl(tmp_path / "s.jsonl", [{"text": text, "spans": []}] * 1)], "ner")
    q = questions.add_question(workspace, "ner", "ents", "spans", options=["PER"], overlap=2)
    annotations.record(workspace, q, 1, [{"start": 0, "end": 12, "label": "PER"},
                                         {"start": 17, "end": 32, "label": "PER"}], "r1")
    annotations.record(workspace, q, 1, [{"start": 0, "end": 12, "label": "PER"},
                                         {"start": 25, "end": 32, "label": "PER"}], "r2")
    with pytest.raises(InputError, match="ends after the text"):
        annotations.record(workspace, q, 1, [{"start": 0, "end": 99, "label": "PER"}], "r3")
    with pytest.raises(InputError, match="not an entity type"):
        annotations.record(workspace, q, 1, [{"start": 0, "end": 3, "label": "ORG"}], "r3")
    from curate.label.annotators import add_annotator

    add_annotator(workspace, "r3")
    bad = write_jsonl(tmp_path / "answers.jsonl", [{"id": 1, "value": [{"start": 20, "end": 40, "label": "PER"}]}])
    with pytest.raises(InputError, match="answers.jsonl:1: span \\[20, 40\\) ends after the text"):
        annotations.import_labels(workspace, bad, "ner", "r3", question="ents")
    [spans] = agreement.agreement(workspace, "ner", "ents")
    [pair] = spans["span_f1"]
    assert (pair["n"], pair["exact_f1"], pair["overlap_f1"]) == (1, 0.5, 1.0)

    ingest(workspace, [write_jsonl(tmp_path / "p.jsonl", [{"prompt": f"q{i}", "chosen": "a", "rejected": "b"}
                                                          for i in range(4)])], "pref")
    p = questions.add_question(workspace, "pref", "better", "preference", overlap=2)
    with workspace.connect() as con:
        ids = [r[0] for r in con.execute("SELECT e.id FROM examples e JOIN datasets d ON d.id = e.dataset_id "
                                         "WHERE d.name = 'pref' ORDER BY e.id").fetchall()]
    for eid, a, b in zip(ids, "112=", "122="):
        annotations.record(workspace, p, eid, a, "r1")
        annotations.record(workspace, p, eid, {"choice": b, "reason": "clearer"}, "r2")
    [pref] = agreement.agreement(workspace, "pref", "better")
    assert pref["cohen"][0]["kappa"] == pytest.approx(7 / 11)
    with pytest.raises(InputError, match="not a preference"):
        annotations.record(workspace, p, ids[0], "3", "r1")


CONLL = """-DOCSTART- -X- -X- O

EU NNP B-NP B-ORG
rejects VBZ B-VP O
German JJ B-NP B-MISC
call NN I-NP O
. . O O

Peter NNP B-NP B-PER
Blackburn NNP I-NP I-PER

-DOCSTART- -X- -X- O

BRUSSELS NNP B-NP B-LOC
"""


def test_conll_file_ingests_sentences_with_their_lines(workspace: Workspace, tmp_path: Path) -> None:
    path = tmp_path / "train.conll"
    path.write_text(CONLL, encoding="utf-8")
    assert ingest(workspace, [path], "conll").task == "spans"
    with workspace.connect() as con:
        rows = con.execute("SELECT row_num, raw, text, spans FROM examples ORDER BY id").fetchall()
    assert [(r[0], r[2]) for r in rows] == [(3, "EU rejects German call ."), (9, "Peter Blackburn"), (14, "BRUSSELS")]
    first = json.loads(rows[0][1])
    assert first["lines"][0] == "EU NNP B-NP B-ORG" and first["document"] == 1 and json.loads(rows[2][1])["document"] == 2
    assert json.loads(rows[0][3]) == [{"start": 0, "end": 2, "label": "ORG"}, {"start": 11, "end": 17, "label": "MISC"}]
    bad = tmp_path / "bad.conll"
    bad.write_text("EU B-ORG\nrejects\n", encoding="utf-8")
    with pytest.raises(InputError, match="bad.conll:2: line has one column"):
        ingest(workspace, [bad], "bad")


def test_migration_keeps_datasets_and_questions_with_their_ids() -> None:
    """0016 rebuilds the two tables whose CHECK lists tasks/kinds: rows, ids and sequences survive."""
    import duckdb

    from curate.store.migrations import MIGRATIONS, migrate

    con = duckdb.connect()
    migrate(con, [m for m in MIGRATIONS if m.name != "0016_spans_preference"])
    con.execute("INSERT INTO datasets (name, task) VALUES ('a', 'sft'), ('b', 'chat')")
    con.execute("""INSERT INTO questions (dataset_id, name, kind, options) VALUES (2, 'q', 'label', '["x", "y"]')""")
    assert migrate(con) == ["0016_spans_preference"]
    con.execute("INSERT INTO datasets (name, task) VALUES ('c', 'spans'), ('d', 'preference')")
    con.execute("INSERT INTO questions (dataset_id, name, kind) VALUES (3, 's', 'spans')")
    assert con.execute("SELECT id, name, task FROM datasets ORDER BY id").fetchall() == [
        (1, "a", "sft"), (2, "b", "chat"), (3, "c", "spans"), (4, "d", "preference")]
    assert con.execute("SELECT id, dataset_id, kind, options FROM questions ORDER BY id").fetchall() == [
        (1, 2, "label", '["x", "y"]'), (2, 3, "spans", None)]
