"""Ingest of every format and task into a real store, with the raw record kept exactly."""

from __future__ import annotations

import csv
import gzip
import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import zstandard
from hypothesis import HealthCheck, given, settings, strategies as st

from curate import browse
from curate.ingest import ingest, preview
from curate.store import catalog, examples
from curate.store.workspace import Workspace

ROWS = [
    {"id": "a", "text": "Großartiger Film!", "label": "pos", "meta": {"src": "web", "n": [1, 2]}},
    {"id": "b", "text": "dull , lifeless", "label": "neg", "meta": None},
    {"id": "c", "text": "no label yet"},
]


def write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


def stored(ws: Workspace, dataset: str) -> list[dict]:
    with ws.connect() as con:
        ds = catalog.get_dataset(con, dataset)
        return catalog._rows(con.execute("SELECT * FROM examples WHERE dataset_id = ? ORDER BY id", [ds["id"]]))


def test_jsonl_keeps_raw_lines_byte_for_byte(workspace, tmp_path) -> None:
    path = write_jsonl(tmp_path / "r.jsonl", ROWS)
    report = ingest(workspace, [path], "reviews")
    assert (report.task, report.rows) == ("classification", 3)
    rows = stored(workspace, "reviews")
    assert [r["raw"] for r in rows] == path.read_text(encoding="utf-8").splitlines()
    assert [r["text"] for r in rows] == ["Großartiger Film!", "dull , lifeless", "no label yet"]
    assert [r["label"] for r in rows][:2] == ["pos", "neg"] and rows[2]["label"] is None
    assert [r["row_num"] for r in rows] == [1, 2, 3]
    with workspace.connect() as con:
        ds = catalog.list_datasets(con)[0]
        src = catalog.list_sources(con, ds["id"])[0]
    assert (ds["labels"], ds["label_type"], ds["labelled"]) == (["neg", "pos"], "str", 2)
    import hashlib
    assert src["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest() and src["n_rows"] == 3


def test_blank_lines_crlf_and_bom_keep_line_numbers(workspace, tmp_path) -> None:
    path = tmp_path / "w.jsonl"
    path.write_bytes(b'\xef\xbb\xbf{"text": "one"}\r\n\r\n{"text": "two"}\r\n{"text": "three"}')
    ingest(workspace, [path], "w")
    rows = stored(workspace, "w")
    assert [(r["row_num"], r["raw"]) for r in rows] == [(1, '{"text": "one"}'), (3, '{"text": "two"}'),
                                                        (4, '{"text": "three"}')]


def test_short_long_and_unterminated_lines_keep_their_exact_text(workspace, tmp_path) -> None:
    """Lines are Arrow string views: 12 bytes or fewer are stored inline, longer ones point into the
    block; both must come back byte for byte, the last line without a line break too."""
    lines = ['{"text":"1"}', '{"text":"ab"}', '{"text": "é"}', '{"text": "a much longer line with ünïcode"}',
             '{"text":"x"}', '{"text": "last, no newline"}']
    path = tmp_path / "s.jsonl"
    path.write_bytes(("\n".join(lines[:3]) + "\r\n" + "\n".join(lines[3:])).encode("utf-8"))
    ingest(workspace, [path], "s")
    rows = stored(workspace, "s")
    assert [r["raw"] for r in rows] == lines
    assert [r["text"] for r in rows] == ["1", "ab", "é", "a much longer line with ünïcode", "x", "last, no newline"]


def test_json_array(workspace, tmp_path) -> None:
    path = tmp_path / "a.json"
    path.write_text(json.dumps(ROWS, ensure_ascii=False, indent=2), encoding="utf-8")
    ingest(workspace, [path], "arr")
    rows = stored(workspace, "arr")
    assert [json.loads(r["raw"]) for r in rows] == ROWS
    assert [r["row_num"] for r in rows] == [1, 2, 3]


@pytest.mark.parametrize("name,delim", [("q.csv", ","), ("q.tsv", "\t"), ("semi.csv", ";")])
def test_csv_and_tsv(workspace, tmp_path, name, delim) -> None:
    path = tmp_path / name
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh, delimiter=delim)
        w.writerows([["text", "label", "note"], ["hello, world", "1", ""], ['multi\nline "quoted"', "0", "x"]])
    ingest(workspace, [path], "c")
    rows = stored(workspace, "c")
    assert [json.loads(r["raw"]) for r in rows] == [
        {"text": "hello, world", "label": "1", "note": ""}, {"text": 'multi\nline "quoted"', "label": "0", "note": "x"}]
    assert [r["text"] for r in rows] == ["hello, world", 'multi\nline "quoted"']


def test_parquet_with_nested_columns(workspace, tmp_path) -> None:
    table = pa.table({"instruction": ["Add 2 and 3", "Say hi"], "input": ["", "to Bob"],
                      "output": ["5", "Hi Bob"], "tags": [["math"], []]})
    pq.write_table(table, tmp_path / "s.parquet")
    report = ingest(workspace, [tmp_path / "s.parquet"], "sft")
    assert report.task == "sft" and report.files[0].mapping["response"] == "output"
    rows = stored(workspace, "sft")
    assert [(r["instruction"], r["input"], r["response"]) for r in rows] == [("Add 2 and 3", "", "5"), ("Say hi", "to Bob", "Hi Bob")]
    assert [json.loads(r["raw"]) for r in rows] == table.to_pylist()


@pytest.mark.parametrize("suffix,opener", [(".gz", gzip.open), (".zst", None)])
def test_compressed_text_formats(workspace, tmp_path, suffix, opener) -> None:
    body = "".join(json.dumps(r) + "\n" for r in ROWS).encode()
    path = tmp_path / f"r.jsonl{suffix}"
    if opener:
        with opener(path, "wb") as fh:
            fh.write(body)
    else:
        path.write_bytes(zstandard.ZstdCompressor().compress(body))
    ingest(workspace, [path], "z")
    assert [r["raw"] for r in stored(workspace, "z")] == body.decode().splitlines()
    csv_path = tmp_path / f"t.csv{suffix}"
    data = b"text,label\nfine,1\n"
    csv_path.write_bytes(gzip.compress(data) if opener else zstandard.ZstdCompressor().compress(data))
    ingest(workspace, [csv_path], "zc")
    assert [r["text"] for r in stored(workspace, "zc")] == ["fine"]


def test_hf_dataset_and_datasetdict_keep_splits(workspace, tmp_path) -> None:
    import datasets

    single = datasets.Dataset.from_list([{"text": "a", "label": 0}, {"text": "b", "label": 1}])
    single.save_to_disk(tmp_path / "single")
    ingest(workspace, [tmp_path / "single"], "hf1")
    assert [(r["text"], r["label"], r["split"]) for r in stored(workspace, "hf1")] == [("a", "0", None), ("b", "1", None)]
    dd = datasets.DatasetDict({"train": single, "test": datasets.Dataset.from_list([{"text": "c", "label": 1}])})
    dd.save_to_disk(tmp_path / "dd")
    ingest(workspace, [tmp_path / "dd"], "hf2")
    rows = stored(workspace, "hf2")
    assert [(r["text"], r["split"], r["row_num"]) for r in rows] == [("a", "train", 1), ("b", "train", 2), ("c", "test", 3)]
    assert json.loads(rows[2]["raw"]) == {"text": "c", "label": 1}
    page = browse.page(workspace, "hf2")
    assert page.columns[0] == "split"


def test_int_labels_recorded_in_numeric_order(workspace, tmp_path) -> None:
    ingest(workspace, [write_jsonl(tmp_path / "n.jsonl", [{"text": str(i), "label": i} for i in (10, 2, 1, 2)])], "n")
    with workspace.connect() as con:
        ds = catalog.list_datasets(con)[0]
    assert (ds["label_type"], ds["labels"]) == ("int", ["1", "2", "10"])


def test_chat_messages_and_sharegpt_are_normalised(workspace, tmp_path) -> None:
    msgs = [{"role": "system", "content": "be brief"}, {"role": "user", "content": "hi"},
            {"role": "assistant", "content": "hello"}]
    share = [{"from": "human", "value": "hi"}, {"from": "gpt", "value": "hello"}]
    ingest(workspace, [write_jsonl(tmp_path / "m.jsonl", [{"messages": msgs}])], "chat")
    ingest(workspace, [write_jsonl(tmp_path / "s.jsonl", [{"id": 7, "conversations": share}])], "chat")
    rows = stored(workspace, "chat")
    assert json.loads(rows[0]["messages"]) == msgs
    assert json.loads(rows[1]["messages"]) == [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}]
    assert json.loads(rows[1]["raw"]) == {"id": 7, "conversations": share}


def test_column_map_and_task_override(workspace, tmp_path) -> None:
    path = write_jsonl(tmp_path / "r.jsonl", [{"review": "great", "stars": 5}, {"review": "bad", "stars": 1}])
    report = ingest(workspace, [path], "r", mapping={"text": "review", "label": "stars"})
    assert report.files[0].mapping == {"text": "review", "label": "stars"}
    assert [(r["text"], r["label"]) for r in stored(workspace, "r")] == [("great", "5"), ("bad", "1")]
    sft = write_jsonl(tmp_path / "q.jsonl", [{"text": "q?", "instruction": "answer", "response": "a"}])
    assert ingest(workspace, [sft], "forced", task="classification").task == "classification"


def test_reingest_adds_nothing_and_says_so(workspace, tmp_path) -> None:
    path = write_jsonl(tmp_path / "r.jsonl", ROWS)
    ingest(workspace, [path], "r")
    again = ingest(workspace, [path], "r")
    assert again.rows == 0 and again.files[0].skipped
    with workspace.connect() as con:
        assert con.execute("SELECT count(*) FROM examples").fetchall()[0][0] == 3
        assert len(catalog.list_runs(con, "ingest")) == 1


def test_ingest_run_is_recorded(workspace, tmp_path) -> None:
    ingest(workspace, [write_jsonl(tmp_path / "r.jsonl", ROWS)], "r")
    with workspace.connect() as con:
        run = catalog.list_runs(con, "ingest")[0]
    assert run["status"] == "done" and json.loads(run["counters"])["rows"] == 3
    assert set(json.loads(run["libraries"])) >= {"curate", "duckdb", "pyarrow"}


def test_preview_suggests_a_mapping(tmp_path) -> None:
    path = write_jsonl(tmp_path / "r.jsonl", [{"review": "great", "stars": 5}])
    view = preview(path)
    assert view.columns == ["review", "stars"] and view.task is None
    assert view.suggested["classification"] == {"text": "review", "label": "stars"}


def test_browse_pages_and_filters(workspace, tmp_path) -> None:
    rows = [{"text": f"row {i} {'apple' if i % 10 == 0 else 'pear'}", "label": i % 2} for i in range(120)]
    ingest(workspace, [write_jsonl(tmp_path / "b.jsonl", rows)], "b")
    page = browse.page(workspace, "b", offset=50, limit=50)
    assert page.total == 120 and [r["text"] for r in page.rows][:1] == ["row 50 apple"] and len(page.rows) == 50
    found = browse.page(workspace, "b", query="APPLE")
    assert found.total == 12 and all("apple" in r["text"] for r in found.rows)
    one = browse.example(workspace, page.rows[0]["id"])
    assert one["raw"] == rows[50] and one["provenance"]["row"] == 51 and one["provenance"]["source"].endswith("b.jsonl")


record = st.fixed_dictionaries(
    {"text": st.text(min_size=0, max_size=40)},
    optional={"label": st.one_of(st.text(min_size=1, max_size=8)), "extra": st.recursive(
        st.none() | st.booleans() | st.integers(-10**12, 10**12) | st.text(max_size=10),
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
        max_leaves=6)})


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(record, min_size=1, max_size=20), ascii_only=st.booleans())
def test_roundtrip_reproduces_every_raw_record(tmp_path_factory, rows, ascii_only) -> None:
    folder = tmp_path_factory.mktemp("rt")
    path = folder / "rt.jsonl"
    lines = [json.dumps(r, ensure_ascii=ascii_only) for r in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    ws = Workspace(folder / "ws")
    ingest(ws, [path], "rt")
    with ws.connect() as con:
        raws = examples.raw_records(con, catalog.list_sources(con, 1)[0]["id"])
    assert raws == lines
    assert [json.loads(r) for r in raws] == rows
