"""Labelling on a real store: questions, annotators, append-only answers, queues, import/export, CLI."""

from __future__ import annotations

import json
import threading

import pytest
from typer.testing import CliRunner

from curate.cli import app
from curate.errors import InputError, NotFound
from curate.ingest import ingest
from curate.label import annotations, annotators, queues, questions
from curate.label.annotators import SignInError
from curate.store.workspace import Workspace
from tests.conftest import SAMPLE


@pytest.fixture
def sst2(workspace: Workspace) -> Workspace:
    ingest(workspace, [SAMPLE / "sst2_sentences.jsonl"], "sst2")
    return workspace


def test_default_question_and_kinds(sst2: Workspace) -> None:
    q = questions.get_question(sst2, "sst2")
    assert (q.name, q.kind, q.options, q.overlap) == ("label", "label", ["0", "1"], 1)
    r = questions.add_question(sst2, "sst2", "quality", "rating", overlap=2)
    assert r.choices == ["1", "2", "3", "4", "5"]
    assert r.to_json() == {"id": r.id, "dataset_id": q.dataset_id, "name": "quality", "kind": "rating", "options": [],
                           "overlap": 2, "created_at": r.created_at}   # the questions row, in column order
    assert list(r.to_json()) == ["id", "dataset_id", "name", "kind", "options", "overlap", "created_at"]
    with pytest.raises(InputError, match="did you mean 'labels'"):
        questions.add_question(sst2, "sst2", "x", "labls")
    with pytest.raises(InputError, match="need an sft or chat dataset"):
        questions.add_question(sst2, "sst2", "y", "response")
    with pytest.raises(NotFound, match="no question 'nope'"):
        questions.get_question(sst2, "sst2", "nope")


def test_tokens_are_hashed_and_checked(sst2: Workspace) -> None:
    assert not annotators.needs_sign_in(sst2)
    token = annotators.add_annotator(sst2, "ann")
    assert annotators.needs_sign_in(sst2)
    assert annotators.sign_in(sst2, token) == "ann"
    with pytest.raises(SignInError):
        annotators.sign_in(sst2, token + "x")
    with sst2.connect() as con:
        stored = con.execute("SELECT token_hash FROM annotators").fetchall()[0][0]
    assert token not in stored and len(stored) == 64
    new = annotators.new_token(sst2, "ann")
    with pytest.raises(SignInError):
        annotators.sign_in(sst2, token)
    assert annotators.sign_in(sst2, new) == "ann"


def test_answers_are_append_only_and_latest_is_current(sst2: Workspace) -> None:
    q = questions.get_question(sst2, "sst2")
    annotations.record(sst2, q, 3, "0", "a")
    annotations.record(sst2, q, 3, "1", "a")
    annotations.record(sst2, q, 3, "0", "b")
    assert [h["value"] for h in annotations.history(sst2, q, 3)] == ["0", "1", "0"]
    item = queues.item(sst2, q, 3, "a")
    assert item["mine"] == "1" and {a["annotator"]: a["value"] for a in item["answers"]} == {"a": "1", "b": "0"}
    assert queues.fetch(sst2, q, "a", "disagreements") == [3]
    annotations.record(sst2, q, 3, "0", "a")  # a changes their mind: agreement, queue empties
    assert queues.fetch(sst2, q, "a", "disagreements") == []
    with pytest.raises(InputError, match="'2' is not an answer"):
        annotations.record(sst2, q, 3, "2", "a")
    with pytest.raises(NotFound):
        annotations.record(sst2, q, 10_000, "0", "a")


def test_queues_respect_overlap(sst2: Workspace) -> None:
    q = questions.add_question(sst2, "sst2", "pair", "label", overlap=2)
    assert queues.fetch(sst2, q, "a", limit=3) == [1, 2, 3]
    annotations.record(sst2, q, 1, "1", "a")
    assert queues.fetch(sst2, q, "a", limit=2) == [2, 3]        # a answered 1
    assert queues.fetch(sst2, q, "b", limit=2) == [1, 2]        # 1 still needs a second answer
    annotations.record(sst2, q, 1, "1", "b")
    assert queues.fetch(sst2, q, "c", limit=1) == [2]           # 1 has its two answers
    assert queues.fetch(sst2, q, "a", "mine") == [1]
    assert queues.fetch(sst2, q, "a", limit=2, exclude=[2]) == [3, 4]
    assert queues.next_after(sst2, q, "a", "unlabelled", [5, 6]) == 5


def test_multilabel_and_response_edits(workspace: Workspace) -> None:
    ingest(workspace, [SAMPLE / "gsm8k_train.jsonl"], "gsm")
    ingest(workspace, [SAMPLE / "chat_sample.jsonl"], "chat")
    q = questions.add_question(workspace, "gsm", "fix", "response")
    tags = questions.add_question(workspace, "gsm", "tags", "labels", options=["math", "long", "wrong"])
    annotations.record(workspace, tags, 1, ["wrong", "math"], "a")
    assert queues.item(workspace, tags, 1, "a")["mine"] == '["math", "wrong"]'
    before = queues.item(workspace, q, 1, "a")["example"]
    annotations.record(workspace, q, 1, "The answer is 42.", "a")
    after = queues.item(workspace, q, 1, "a")["example"]
    assert after["response"] == "The answer is 42." and after["raw_response"] == before["response"]
    with workspace.connect() as con:
        assert con.execute("SELECT field, author FROM edits").fetchall() == [("response", "human:a")]
    cq = questions.add_question(workspace, "chat", "fix", "response")
    first = queues.fetch(workspace, cq, "a", limit=1)[0]
    annotations.record(workspace, cq, first, "Shorter answer.", "a")
    turns = queues.item(workspace, cq, first, "a")["example"]["messages"]
    assert [t for t in turns if t["role"] == "assistant"][-1]["content"] == "Shorter answer."


def test_import_export_round_trip(sst2: Workspace, tmp_path) -> None:
    annotators.add_annotator(sst2, "tool")
    src = tmp_path / "in.jsonl"
    src.write_text('{"id": 1, "value": 0}\n{"id": "2", "value": "1"}\n\n{"id": 400, "value": 1}\n')
    report = annotations.import_labels(sst2, src, "sst2", "tool")
    assert (report.recorded, report.question) == (3, "label")
    rows = annotations.export_labels(sst2, "sst2")
    assert [(r["id"], r["value"], r["annotator"], r["origin"]) for r in rows] == [
        ("1", "0", "tool", "import"), ("2", "1", "tool", "import"), ("400", "1", "tool", "import")]
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": 1, "value": 0}\n{"id": 999, "value": 1}\n')
    with pytest.raises(InputError, match=r"bad.jsonl:2: id '999' matches no example"):
        annotations.import_labels(sst2, bad, "sst2", "tool")
    bad.write_text('{"id": 1, "value": "maybe"}\n')
    with pytest.raises(InputError, match=r"bad.jsonl:1: 'maybe' is not an answer"):
        annotations.import_labels(sst2, bad, "sst2", "tool")
    assert len(annotations.export_labels(sst2, "sst2")) == 3  # all or none


def test_cli_commands(sst2: Workspace, tmp_path) -> None:
    runner = CliRunner()
    ws = ["--workspace", str(sst2.root)]
    res = runner.invoke(app, [*ws, "annotators", "add", "ann"])
    assert res.exit_code == 0, res.output
    token = res.output.strip().splitlines()[-1]
    assert annotators.sign_in(sst2, token) == "ann"
    src = tmp_path / "in.jsonl"
    src.write_text("".join(json.dumps({"id": i, "value": str(i % 2)}) + "\n" for i in range(1, 21)))
    res = runner.invoke(app, [*ws, "labels", "import", str(src), "--dataset", "sst2", "--annotator", "ann",
                              "--token", token])
    assert res.exit_code == 0 and "imported 20 answers" in res.output, res.output
    res = runner.invoke(app, [*ws, "labels", "import", str(src), "--dataset", "sst2", "--annotator", "nobody"])
    assert res.exit_code == 1 and "no annotator named 'nobody'" in res.output
    res = runner.invoke(app, [*ws, "questions", "add", "sst2", "stars", "--kind", "rating", "--overlap", "2"])
    assert res.exit_code == 0 and "stars (rating, overlap 2)" in res.output
    res = runner.invoke(app, [*ws, "questions", "list", "sst2"])
    assert "stars" in res.output and "label" in res.output
    out = tmp_path / "out.jsonl"
    res = runner.invoke(app, [*ws, "labels", "export", "--dataset", "sst2", "--out", str(out)])
    assert res.exit_code == 0 and len(out.read_text().splitlines()) == 20
    res = runner.invoke(app, [*ws, "agreement", "sst2", "--json"])
    assert res.exit_code == 0 and json.loads(res.output)[0]["answers"] == 20


def test_eight_annotators_at_once_lose_nothing(sst2: Workspace) -> None:
    """8 threads, each its own connections, each storing 1,000 answers: 0 lost, 0 misattributed."""
    q = questions.get_question(sst2, "sst2")
    n_threads, per_thread = 8, 1000
    errors: list[BaseException] = []

    def annotate(t: int) -> None:
        ws = Workspace(sst2.root)
        try:
            for i in range(per_thread):
                example = 1 + (t * 37 + i) % 400
                annotations.record(ws, q, example, str((t + i) % 2), f"ann{t}", origin=f"t{t}:{i}")
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=annotate, args=(t,)) for t in range(n_threads)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert not errors, errors[0]
    with sst2.connect() as con:
        rows = con.execute("SELECT annotator, origin, value, example_id FROM annotations").fetchall()
    assert len(rows) == n_threads * per_thread
    seen = set()
    for annotator, origin, value, example in rows:
        t, i = map(int, origin[1:].split(":"))
        assert annotator == f"ann{t}" and value == str((t + i) % 2) and example == 1 + (t * 37 + i) % 400
        seen.add((t, i))
    assert len(seen) == n_threads * per_thread


def test_submit_stores_and_returns_the_next_item(sst2: Workspace) -> None:
    q = questions.get_question(sst2, "sst2")
    done, nxt = queues.submit(sst2, q, 1, "0", "a", following=[2, 3])
    assert (done.example_id, done.value, nxt) == (1, "0", 2)
    _, nxt = queues.submit(sst2, q, 2, "1", "a", queue="mine", following=[])
    assert nxt == 2  # the mine queue's head: the latest answer


def test_an_answer_moves_past_examples_another_annotator_completed_meanwhile(sst2: Workspace) -> None:
    """The Label page keeps the queue's next ids between answers; on each answer the store says which
    are still queued, so an example another annotator completed meanwhile is skipped, and both answers
    are kept."""
    q = questions.get_question(sst2, "sst2")                  # overlap 1
    ahead = queues.fetch(sst2, q, "a", limit=4)
    assert ahead == [1, 2, 3, 4]
    annotations.record(sst2, q, 2, "1", "b")                  # b answers the example after a's
    step = queues.answer(sst2, q, 1, "0", "a", following=ahead[1:])
    assert (step.recorded.example_id, step.next) == (1, 3)
    assert step.ids[:2] == [3, 4] and 2 not in step.ids
    assert step.item["example"]["id"] == 3 and step.item["mine"] is None
    current = {(a["example_id"], a["annotator"]): a["value"] for a in annotations.export_labels(sst2, "sst2")}
    assert current == {(1, "a"): "0", (2, "b"): "1"}
    step = queues.answer(sst2, q, 2, "0", "a", following=[3])  # an example someone completed still takes an answer
    assert step.next == 3 and len([a for a in annotations.export_labels(sst2, "sst2") if a["example_id"] == 2]) == 2


def test_writing_as_an_annotator_needs_their_token_or_admin(sst2: Workspace, tmp_path, monkeypatch) -> None:
    """Once a workspace has annotators, `labels import` (and every --accept-above) writes as --annotator
    only with that annotator's token (--token or CURATE_TOKEN), or as a recorded admin action."""
    runner = CliRunner()
    ws = ["--workspace", str(sst2.root)]
    ann = annotators.add_annotator(sst2, "ann")
    other = annotators.add_annotator(sst2, "bob")
    src = tmp_path / "in.jsonl"
    src.write_text("".join(json.dumps({"id": i, "value": str(i % 2)}) + "\n" for i in range(1, 6)))
    cmd = [*ws, "labels", "import", str(src), "--dataset", "sst2", "--annotator", "ann"]
    res = runner.invoke(app, cmd)
    assert res.exit_code == 1 and "needs ann's sign-in token" in res.stderr and len(res.stderr.splitlines()) == 1
    res = runner.invoke(app, [*cmd, "--token", other])
    assert res.exit_code == 1 and "that token is not ann's" in res.stderr
    assert annotations.export_labels(sst2, "sst2") == []
    monkeypatch.setenv("CURATE_TOKEN", ann)
    assert runner.invoke(app, cmd).exit_code == 0
    monkeypatch.delenv("CURATE_TOKEN")
    res = runner.invoke(app, [*cmd, "--admin"])
    assert res.exit_code == 0, res.output
    origins = sorted({r["origin"] for r in store_rows(sst2)})
    assert origins == ["import", "import:admin"]
    res = runner.invoke(app, [*ws, "labels", "prelabel", "sst2", "--accept-above", "0.9", "--annotator", "ann"])
    assert res.exit_code == 1 and "needs ann's sign-in token" in res.stderr


def store_rows(ws: Workspace) -> list[dict]:
    with ws.connect() as con:
        return [{"origin": o} for (o,) in con.execute("SELECT origin FROM annotations").fetchall()]
