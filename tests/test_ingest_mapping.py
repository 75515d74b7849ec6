"""Ingest that forgives a wrong first try: dotted --map paths, --labels names, --replace keeping example
ids (and so annotations and edits), and label imports from Label Studio and Argilla exports."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from curate import browse
from curate.cli import app
from curate.errors import InputError
from curate.ingest import ingest
from curate.label import annotations, annotators, questions
from curate.store import catalog
from curate.store.label import insert_edit
from curate.store.workspace import Workspace
from tests.test_versions import write_jsonl

TEXTS = ["a calm and lovely film", "dull, slow and far too long", "the cast is superb", "i want my money back",
         "a quiet triumph", "badly written and worse acted"]


def _examples(ws: Workspace, dataset: str) -> list[dict]:
    with ws.connect() as con:
        ds = catalog.get_dataset(con, dataset)
        return catalog._rows(con.execute("SELECT id, text, label, instruction, response FROM examples "
                                         "WHERE dataset_id = ? ORDER BY id", [ds["id"]]))


def test_dotted_map_reaches_nested_fields(workspace: Workspace, tmp_path: Path) -> None:
    rows = [{"id": i, "data": {"text": t, "meta": {"stars": "pos" if i % 2 == 0 else "neg"}}} for i, t in enumerate(TEXTS)]
    path = write_jsonl(tmp_path / "ls.jsonl", rows)
    ingest(workspace, [path], "nested", mapping={"text": "data.text", "label": "data.meta.stars"})
    got = _examples(workspace, "nested")
    assert [(r["text"], r["label"]) for r in got] == [(t, "pos" if i % 2 == 0 else "neg") for i, t in enumerate(TEXTS)]
    with pytest.raises(InputError, match=r"--map text=data\.body: no column 'data\.body'.*dotted path"):
        ingest(workspace, [path], "other", mapping={"text": "data.body"})


def test_labels_option_names_classes_and_refuses_an_unnamed_one(workspace: Workspace, tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "ints.jsonl", [{"text": t, "label": i % 2} for i, t in enumerate(TEXTS)])
    ingest(workspace, [path], "named", labels={"1": "positive", "0": "negative"})
    assert {r["label"] for r in _examples(workspace, "named")} == {"negative", "positive"}
    assert next(d for d in browse.datasets(workspace) if d.name == "named").labels == ["positive", "negative"]
    bad = write_jsonl(tmp_path / "three.jsonl", [{"text": "x y z", "label": 0}, {"text": "p q r", "label": 2}])
    with pytest.raises(InputError, match=r"three\.jsonl:2: label '2' has no name"):
        ingest(workspace, [bad], "three", labels={"0": "negative", "1": "positive"})
    assert "three" not in {d.name for d in browse.datasets(workspace)}  # nothing half-written


def test_replace_rereads_a_file_keeping_ids_annotations_and_edits(workspace: Workspace, tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "reviews.jsonl", [{"review": t, "stars": "pos" if i % 2 == 0 else "neg"}
                                                    for i, t in enumerate(TEXTS)])
    ingest(workspace, [path], "rev", mapping={"text": "review"})  # the label column left unmapped
    before = _examples(workspace, "rev")
    assert all(r["label"] is None for r in before)
    annotators.add_annotator(workspace, "ann")
    q = questions.add_question(workspace, "rev", "sentiment", "label", options=["pos", "neg"])
    annotations.record(workspace, q, before[1]["id"], "pos", "ann")
    with workspace.transaction() as con:
        insert_edit(con, before[2]["id"], "text", "the cast is superb!", "human:ann")
    with pytest.raises(InputError, match="already ingested into rev.*--replace"):
        ingest(workspace, [path], "rev", mapping={"text": "review", "label": "stars"})
    r = CliRunner().invoke(app, ["-w", str(workspace.root), "ingest", str(path), "--dataset", "rev",
                                 "--map", "text=review,label=stars", "--replace", "--json"])
    assert r.exit_code == 0, r.output
    assert json.loads(r.output)["files"][0]["replaced"] is True
    after = _examples(workspace, "rev")
    assert [r["id"] for r in after] == [r["id"] for r in before]
    assert [r["label"] for r in after] == ["pos", "neg"] * 3
    assert annotations.export_labels(workspace, "rev")[0]["example_id"] == before[1]["id"]
    from curate import versions

    versions.create_version(workspace, "rev", "v1", exclude=())  # the edit made before --replace is in force
    edited = {r["example_id"]: r["text"] for r in versions.load_rows(workspace, "rev:v1")}
    assert edited[before[2]["id"]] == "the cast is superb!"
    with workspace.connect() as con:
        assert len(catalog.list_sources(con, catalog.get_dataset(con, "rev")["id"])) == 1
    # named again: the classes are the new names, in the order given; the old ones are gone
    ingest(workspace, [path], "rev", mapping={"text": "review", "label": "stars"}, labels={"pos": "good", "neg": "bad"},
           replace=True)
    assert next(d for d in browse.datasets(workspace) if d.name == "rev").labels == ["good", "bad"]
    assert [r["id"] for r in _examples(workspace, "rev")] == [r["id"] for r in before]


def test_replace_can_change_the_task(workspace: Workspace, tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "qa.jsonl", [{"instruction": f"say {t}", "output": t} for t in TEXTS])
    ingest(workspace, [path], "qa", task="classification", mapping={"text": "instruction"})
    ingest(workspace, [path], "qa", task="sft", replace=True)
    with workspace.connect() as con:
        assert catalog.get_dataset(con, "qa")["task"] == "sft"
    assert [(r["instruction"], r["response"]) for r in _examples(workspace, "qa")] == [(f"say {t}", t) for t in TEXTS]


@pytest.fixture
def labelled(workspace: Workspace, tmp_path: Path) -> Workspace:
    ingest(workspace, [write_jsonl(tmp_path / "rows.jsonl", [{"id": f"r{i}", "text": t} for i, t in enumerate(TEXTS)])],
           "rows", task="classification")
    annotators.add_annotator(workspace, "ext", token="ext-token")
    questions.add_question(workspace, "rows", "sentiment", "label", options=["Positive", "Negative"])
    return workspace


def _imported(ws: Workspace) -> dict[str, str]:
    return {r["id"]: r["value"] for r in annotations.export_labels(ws, "rows")}


def test_label_studio_export_imports(labelled: Workspace, tmp_path: Path) -> None:
    def task(i: int, data: dict, choice: str, cancelled: bool = False) -> dict:
        result = [{"from_name": "sentiment", "to_name": "text", "type": "choices", "value": {"choices": [choice]}}]
        return {"id": 100 + i, "data": data, "annotations": [
            {"id": 1, "result": result, "was_cancelled": cancelled, "updated_at": "2024-05-01T10:00:00Z"},
            {"id": 2, "result": [], "was_cancelled": True, "updated_at": "2024-05-02T10:00:00Z"}], "predictions": []}
    tasks = [task(0, {"id": "r0", "text": TEXTS[0]}, "Positive"), task(1, {"text": TEXTS[1]}, "Negative"),
             {"id": 102, "data": {"id": "r2", "text": TEXTS[2]}, "annotations": [], "predictions": []}]
    path = tmp_path / "ls.json"
    path.write_text(json.dumps(tasks))
    r = CliRunner().invoke(app, ["-w", str(labelled.root), "labels", "import", str(path), "-d", "rows", "-a", "ext",
                                 "--token", "ext-token"])
    assert r.exit_code == 0 and "imported 2 answers" in r.output, r.output
    assert _imported(labelled) == {"r0": "Positive", "r1": "Negative"}
    tasks[0]["annotations"][0]["result"][0]["value"]["choices"] = ["Maybe"]
    path.write_text(json.dumps(tasks))
    with pytest.raises(InputError, match=r"ls\.json: row 1: 'Maybe' is not an answer"):
        annotations.import_labels(labelled, path, "rows", "ext")


def test_argilla_exports_import_nested_and_flat(labelled: Workspace, tmp_path: Path) -> None:
    nested = [{"id": "r3", "fields": {"text": TEXTS[3]}, "metadata": {}, "suggestions": {},
               "responses": {"sentiment": [{"value": "Negative", "user_id": "u1"}]}, "vectors": {}, "_server_id": "x"},
              {"id": None, "fields": {"text": TEXTS[4]}, "responses": {"sentiment": [{"value": "Positive", "user_id": "u1"}]}}]
    flat = [{"id": "r5", "_server_id": "y", "text": TEXTS[5], "sentiment.responses": ["Negative", "Positive"],
             "sentiment.responses.users": ["u1", "u2"], "sentiment.responses.status": ["discarded", "submitted"]}]
    (tmp_path / "nested.json").write_text(json.dumps(nested))
    (tmp_path / "flat.json").write_text(json.dumps(flat))
    assert annotations.import_labels(labelled, tmp_path / "nested.json", "rows", "ext").recorded == 2
    assert annotations.import_labels(labelled, tmp_path / "flat.json", "rows", "ext").recorded == 1
    assert _imported(labelled) == {"r3": "Negative", "r4": "Positive", "r5": "Positive"}
    (tmp_path / "odd.json").write_text(json.dumps([{"foo": 1}]))
    with pytest.raises(InputError, match=r"odd\.json: row 1: is not a curate, Label Studio or Argilla answer"):
        annotations.import_labels(labelled, tmp_path / "odd.json", "rows", "ext")
