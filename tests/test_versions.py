"""Versions on a real store: immutability, diff reasons, decontamination, exports, eval sets and the CLI."""

from __future__ import annotations

import csv
import json
import random
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from curate import versions
from curate.cli import app
from curate.dedup import decide, run_dedup
from curate.errors import InputError, NotFound
from curate.ingest import ingest
from curate.label import annotations, questions
from curate.store import catalog
from curate.store import label as label_store
from curate.store import ops as ops_store
from curate.store.workspace import Workspace
from curate.versions.model import DiffCounts
from tests.conftest import SAMPLE

WORDS = ("apple river stone cloud window garden silver engine paper violin harbor candle forest mirror "
         "ticket planet basket thunder pencil meadow rocket saddle lantern marble cactus dragon glacier "
         "puzzle compass falcon orchard velvet canyon anchor").split()


def sentence(rng: random.Random, n: int = 14) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(n))


def write_jsonl(path: Path, records: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


def ids_by_text(ws: Workspace, dataset: str) -> dict[str, int]:
    with ws.connect() as con:
        ds = catalog.get_dataset(con, dataset)
        return {r["text"]: r["id"] for r in catalog._rows(con.execute(
            "SELECT id, text FROM examples WHERE dataset_id = ?", [ds["id"]]))}


def add_issue(ws: Workspace, dataset: str, recipe: str, flagged: dict[int, str]) -> int:
    """A finished recipe run flagging ``flagged`` (example id → kind), as the clean/score stage stores it."""
    with ws.transaction() as con:
        ds = catalog.get_dataset(con, dataset)
        run = catalog.start_run(con, "recipe", ds["id"], {"recipe": recipe}, {})
        ops_store.save_issues(con, run, pa.table({
            "example_id": pa.array(list(flagged), pa.int64()), "kind": list(flagged.values()),
            "reason": [f"{k} (test)" for k in flagged.values()], "score": pa.array([0.1] * len(flagged))}))
        catalog.finish_run(con, run, {"total": 0})
    return run


@pytest.fixture
def small(workspace: Workspace, tmp_path: Path) -> Workspace:
    """12 distinct rows (labels a/b) plus an exact duplicate of row 0 in other case."""
    rng = random.Random(7)
    rows = [{"text": sentence(rng), "label": "ab"[i % 2], "sent_id": f"s{i // 2}"} for i in range(12)]
    rows.append({"text": rows[0]["text"].upper(), "label": rows[0]["label"], "sent_id": "dup"})
    ingest(workspace, [write_jsonl(tmp_path / "small.jsonl", rows)], "small")
    return workspace


def test_parse_ref() -> None:
    assert versions.parse_ref("sst2:v3") == ("sst2", "v3")
    with pytest.raises(InputError, match="DATASET:NAME"):
        versions.parse_ref("sst2")


def test_version_is_immutable(small: Workspace) -> None:
    v1 = versions.create_version(small, "small", "v1")
    before = versions.load_rows(small, "small:v1")
    assert [sorted(r) for r in before[:1]] == [sorted(versions.ROW_KEYS)]
    assert len(before) == v1.n_rows == 13 and v1.counters.leak_pairs == 0
    ids = ids_by_text(small, "small")
    some = before[0]["example_id"]
    with small.transaction() as con:
        label_store.insert_edit(con, some, "text", "completely different words now", "human:alice")
    q = questions.get_question(small, "small")
    annotations.record(small, q, some, "b" if before[0]["label"] == "a" else "a", "alice")
    add_issue(small, "small", "r", {i: "too_short" for i in list(ids.values())[:5]})
    run_dedup(small, "small", method="exact")
    assert versions.load_rows(small, "small:v1") == before
    with pytest.raises(InputError, match="exists already"):
        versions.create_version(small, "small", "v1")
    v2 = versions.create_version(small, "small", "v2")
    assert v2.parent == "small:v1" and v2.n_rows < v1.n_rows
    assert versions.load_rows(small, "small:v1") == before


def test_diff_reasons(small: Workspace, tmp_path: Path) -> None:
    ids = ids_by_text(small, "small")
    texts = sorted(ids, key=ids.get)
    edited, relabelled, short, new_text = ids[texts[1]], ids[texts[2]], ids[texts[3]], "a brand new row " * 3
    versions.create_version(small, "small", "v1")
    with small.transaction() as con:
        label_store.insert_edit(con, edited, "text", texts[1] + " edited", "op:clean.html")
    q = questions.get_question(small, "small")
    old_label = next(r["label"] for r in versions.load_rows(small, "small:v1") if r["example_id"] == relabelled)
    new_label = "b" if old_label == "a" else "a"
    annotations.record(small, q, relabelled, new_label, "alice")
    add_issue(small, "small", "clean", {short: "too_short"})
    report = run_dedup(small, "small", method="exact")
    assert report.flagged == 1
    ingest(small, [write_jsonl(tmp_path / "more.jsonl", [{"text": new_text, "label": "a", "sent_id": "n"}])], "small")
    versions.create_version(small, "small", "v2")
    d = versions.diff(small, "small:v1", "small:v2")
    reasons = {(r.change, r.reason): r.n for r in d.reasons}
    assert reasons == {("changed", "edit:text"): 1, ("changed", "label_change"): 1, ("removed", "issue:too_short"): 1,
                       ("removed", "issue:is_dup"): 1, ("added", "new_example"): 1}
    assert d.counts == DiffCounts(added=1, removed=2, changed=2)
    by_id = {r.example_id: r for r in d.rows}
    assert "by op:clean.html" in by_id[edited].reasons
    assert f"{old_label} → {new_label} (majority)" in by_id[relabelled].reasons

    # A person keeps both rows of the dup cluster, and the recipe re-runs without flagging anything.
    decide(small, "small", 1, "keep_all", author="alice")
    add_issue(small, "small", "clean", {})
    versions.create_version(small, "small", "v3")
    d = versions.diff(small, "small:v2", "small:v3")
    assert {(r.change, r.reason): r.n for r in d.reasons} == {
        ("added", "dup_decision:keep_all"): 1, ("added", "issue_cleared:too_short"): 1}


def test_group_column_and_label_rules(small: Workspace) -> None:
    v = versions.create_version(small, "small", "g", group_column="sent_id", split=(0.5, 0.25, 0.25), seed=3)
    rows = versions.load_rows(small, "small:g")
    with small.connect() as con:
        raw = dict(con.execute("SELECT id, json_extract_string(raw, '$.sent_id') FROM examples").fetchall())
    split_of_group: dict[str, set] = {}
    for r in rows:
        split_of_group.setdefault(raw[r["example_id"]], set()).add(r["split"])
    assert all(len(s) == 1 for s in split_of_group.values())
    assert v.counters.rows_in_groups >= 12
    with pytest.raises(InputError, match="no record"):
        versions.create_version(small, "small", "x", group_column="nope")
    q = questions.get_question(small, "small")
    first = rows[0]
    for who, value in (("alice", "a"), ("bob", "b"), ("carol", "b"), ("alice", "b"), ("alice", "a")):
        annotations.record(small, q, first["example_id"], value, who)
    pick = {rule: next(r["label"] for r in versions.load_rows(small, f"small:{name}") if r["example_id"] == first["example_id"])
            for rule, name in (("majority", "m"), ("annotator:alice", "al"), ("ingested", "i"), ("adjudicated", "adj"))
            if versions.create_version(small, "small", name, label_rule=rule)}
    assert pick == {"majority": "b", "annotator:alice": "a", "ingested": first["label"], "adjudicated": "a"}
    with pytest.raises(InputError, match="unknown label rule"):
        versions.create_version(small, "small", "bad", label_rule="vote")


def test_decontamination_across_datasets_and_files(workspace: Workspace, tmp_path: Path) -> None:
    rng = random.Random(11)
    main = [{"text": sentence(rng, 40), "label": "ab"[i % 2]} for i in range(60)]
    planted = [3, 10, 25, 41, 58]
    dev = [{"text": main[i]["text"] + " extra", "label": main[i]["label"]} for i in planted]   # near-dups
    dev += [{"text": sentence(rng, 40), "label": "a"} for _ in range(20)]
    ingest(workspace, [write_jsonl(tmp_path / "main.jsonl", main)], "main")
    ingest(workspace, [write_jsonl(tmp_path / "dev.jsonl", dev)], "dev")
    versions.create_version(workspace, "dev", "v1", split=(0, 0, 1))
    pinned = versions.pin_eval_set(workspace, "dev:v1", "all", "dev")
    assert (pinned.n_rows, pinned.task, pinned.ref) == (25, "classification", "dev:v1")
    assert len(versions.eval_rows(workspace, "dev")) == 25
    external = write_jsonl(tmp_path / "benchmark.jsonl", [{"text": main[7]["text"].upper()}])
    v = versions.create_version(workspace, "main", "v1", decontaminate=external)
    kept = {r["text"] for r in versions.load_rows(workspace, "main:v1")}
    assert not kept & {main[i]["text"] for i in planted + [7]}
    assert v.counters.decontaminated == 6 and v.counters.decontaminated_by == {"dev": 5, "benchmark.jsonl": 1}
    assert v.dropped_counts == {"decontaminated": 6}
    assert any("of eval set dev" in d["detail"] for d in v.dropped_rows)

    # Pinning main's own test split keeps those examples out of every later version of main.
    versions.pin_eval_set(workspace, "main:v1", "test", "main-test")
    test_ids = {r["example_id"] for r in versions.eval_rows(workspace, "main-test")}
    v2 = versions.create_version(workspace, "main", "v2")
    assert not test_ids & {r["example_id"] for r in versions.load_rows(workspace, "main:v2")}
    assert v2.counters.decontaminated_by["main-test"] == len(test_ids)
    assert [e.name for e in versions.list_eval_sets(workspace, "main")] == ["main-test"]
    with pytest.raises(InputError, match="exists already"):
        versions.pin_eval_set(workspace, "main:v2", "test", "dev")
    with pytest.raises(NotFound, match="no eval set"):
        versions.eval_rows(workspace, "nope")


# --- exports ---------------------------------------------------------------------------------------

def _read_back(fmt: str, result: versions.Export, task: str) -> list[dict]:
    path = Path(result.path)
    if fmt == "jsonl":
        return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    if fmt == "parquet":
        return pq.read_table(path).to_pylist()
    if fmt == "csv":
        with open(path, encoding="utf-8", newline="") as fh:
            out = list(csv.DictReader(fh))
        for r in out:
            r["example_id"] = int(r["example_id"])
            if task == "chat":
                r["messages"] = json.loads(r["messages"])
        return out
    if fmt == "hf":
        from datasets import load_from_disk

        dd = load_from_disk(str(path))
        rows = [row for s in versions.SPLITS if s in dd for row in dd[s].to_list()]
        if task == "classification":  # a ClassLabel: the names come back from the features
            names = dd["train"].features["label"].names
            rows = [{**r, "label": names[r["label"]]} for r in rows]
        return rows
    if fmt == "messages":
        return [{"split": f.stem, **json.loads(line)} for f in sorted(path.glob("*.jsonl"))
                for line in f.read_text(encoding="utf-8").splitlines()]
    info = json.loads((path / "dataset_info.json").read_text())
    out = []
    for name, entry in info.items():
        split = name.rsplit("_", 1)[1]
        for rec in json.loads((path / entry["file_name"]).read_text(encoding="utf-8")):
            out.append({"split": split, **rec})
    return out


def _expected(fmt: str, rows: list[dict], task: str) -> list[dict]:
    cols = versions.export.TASK_COLUMNS[task]
    base = [{"example_id": r["example_id"], "split": r["split"], **{c: r[c] for c in cols}} for r in rows]
    if fmt == "csv":
        return [{k: "" if v is None else v for k, v in r.items()} for r in base]
    if fmt == "alpaca" and task == "sft":
        return [{"split": r["split"], "instruction": r["instruction"], "input": r["input"], "output": r["response"]}
                for r in rows]
    if fmt == "sharegpt" and task == "chat":
        roles = {"user": "human", "assistant": "gpt", "tool": "observation"}
        out = []
        for r in rows:
            rec = {"split": r["split"], "conversations": [{"from": roles[t["role"]], "value": t["content"]}
                                                          for t in r["messages"] if t["role"] != "system"]}
            system = "\n".join(t["content"] for t in r["messages"] if t["role"] == "system")
            out.append({**rec, "system": system} if system else rec)
        with_system = {r["split"] for r in out if "system" in r}  # then every record of that file has one
        return [{**r, "system": r.get("system", "")} if r["split"] in with_system else r for r in out]
    return base


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    root = tmp_path_factory.mktemp("export")
    ws = Workspace(root / "ws")
    ingest(ws, [SAMPLE / "gsm8k_test.jsonl"], "gsm")
    ingest(ws, [SAMPLE / "chat_sample.jsonl"], "chat")
    rows = [{"text": t, "label": l} for t, l in (("=SUM(A1:A3)", "pos"), ("+1 great", "neg"), ("-bad", "neg"),
                                                 ("@cmd", "pos"), ("\tindented", "pos"), ("plain, \"quoted\"\nnew line", "neg"),
                                                 ("ünïcødé ✓", "-1"), ("ok row here", "pos"))]
    ingest(ws, [write_jsonl(root / "cls.jsonl", rows)], "cls")
    for name in ("gsm", "chat", "cls"):
        versions.create_version(ws, name, "v1", split=(0.6, 0.2, 0.2))
    return ws


# Every format for every task, except the lossy pair conversions checked in test_pair_conversions.
ROUND_TRIPS = [(fmt, dataset, task) for fmt in versions.FORMATS
               for dataset, task in (("cls", "classification"), ("gsm", "sft"), ("chat", "chat"))
               if (fmt, task) not in {("alpaca", "chat"), ("alpaca", "classification"),
                                      ("sharegpt", "classification"), ("sharegpt", "sft"), ("messages", "chat"),
                                      ("messages", "classification"), ("messages", "sft")}]


@pytest.mark.parametrize("fmt,dataset,task", ROUND_TRIPS)
def test_export_round_trips(exported: Workspace, tmp_path: Path, fmt: str, dataset: str, task: str) -> None:
    rows = versions.load_rows(exported, f"{dataset}:v1")
    suffix = {"jsonl": ".jsonl", "parquet": ".parquet", "csv": ".csv"}.get(fmt, "")
    result = versions.export_version(exported, f"{dataset}:v1", fmt, tmp_path / f"out{suffix}")
    assert result.n_rows == len(rows) and result.bytes > 0
    assert _read_back(fmt, result, task) == _expected(fmt, rows, task)
    recorded = versions.get_version(exported, f"{dataset}:v1").exports
    assert (recorded[-1]["format"], recorded[-1]["path"], recorded[-1]["n_rows"]) == (fmt, result.path, len(rows))


def test_pair_conversions(exported: Workspace, tmp_path: Path) -> None:
    cls = versions.load_rows(exported, "cls:v1")
    got = _read_back("sharegpt", versions.export_version(exported, "cls:v1", "sharegpt", tmp_path / "sg"), "")
    assert [(g["conversations"][0]["value"], g["conversations"][1]["value"]) for g in got] == \
        [(r["text"], r["label"]) for r in cls]
    got = _read_back("alpaca", versions.export_version(exported, "cls:v1", "alpaca", tmp_path / "cal"), "")
    assert [(g["instruction"], g["output"]) for g in got] == [(r["text"], r["label"]) for r in cls]
    gsm = versions.load_rows(exported, "gsm:v1")
    got = _read_back("sharegpt", versions.export_version(exported, "gsm:v1", "sharegpt", tmp_path / "gsg"), "")
    assert [[t["value"] for t in g["conversations"]] for g in got] == \
        [[r["instruction"] + (f"\n{r['input']}" if r["input"] else ""), r["response"]] for r in gsm]
    chat = versions.load_rows(exported, "chat:v1")
    res = versions.export_version(exported, "chat:v1", "alpaca", tmp_path / "al")
    got = _read_back("alpaca", res, "")
    assert len(got) + res.skipped == len(chat) and got
    for split in {g["split"] for g in got}:  # history is declared per file only when some row has one
        recs = [g for g in got if g["split"] == split]
        assert all({"instruction", "output"} <= set(g) for g in recs)
        assert len({"history" in g for g in recs}) == 1


def test_csv_neutralises_formulas_only_when_asked(exported: Workspace, tmp_path: Path) -> None:
    path = tmp_path / "cls.csv"
    exact = versions.export_version(exported, "cls:v1", "csv", path)
    assert exact.cells_changed == 0 and "'=SUM" not in path.read_text(encoding="utf-8")
    safe = versions.export_version(exported, "cls:v1", "csv", path, overwrite=True, spreadsheet_safe=True)
    text = path.read_text(encoding="utf-8")
    for cell in ("'=SUM(A1:A3)", "'+1 great", "'-bad", "'@cmd", "'\tindented", "'-1"):
        assert cell in text
    assert safe.cells_changed == 6
    assert versions.neutralise("fine =x") == "fine =x" and versions.neutralise("\rx") == "'\rx"


def test_unknown_format_and_version(exported: Workspace) -> None:
    with pytest.raises(InputError, match="unknown export format"):
        versions.export_version(exported, "cls:v1", "xlsx")
    with pytest.raises(NotFound, match="no version 'v9'"):
        versions.load_rows(exported, "cls:v9")


def test_cli_version_commands(small: Workspace, tmp_path: Path) -> None:
    runner = CliRunner()
    ws = ["-w", str(small.root)]
    r = runner.invoke(app, [*ws, "version", "create", "small", "--name", "v1", "--note", "first", "--split", "0.6,0.2,0.2"])
    assert r.exit_code == 0, r.output
    assert "created small:v1: 13 of 13 rows" in r.output
    add_issue(small, "small", "clean", {min(ids_by_text(small, "small").values()): "too_short"})
    r = runner.invoke(app, [*ws, "version", "create", "small", "--name", "v2", "--split", "0.6,0.2,0.2"])
    assert "left out 1: issue:too_short" in r.output
    r = runner.invoke(app, [*ws, "version", "list", "small"])
    assert "small:v1" in r.output and "small:v2" in r.output
    r = runner.invoke(app, [*ws, "version", "diff", "small:v1", "small:v2"])
    assert r.exit_code == 0 and "0 added · 1 removed · 0 changed" in r.output and "issue:too_short" in r.output
    r = runner.invoke(app, [*ws, "version", "pin", "small:v2", "--split", "test", "--as", "small-test"])
    assert r.exit_code == 0 and "pinned small:v2 test as eval set small-test" in r.output
    r = runner.invoke(app, [*ws, "version", "check", "small:v2"])
    assert r.exit_code == 0 and "no near-duplicate pair crosses splits" in r.output
    out = tmp_path / "small-v2.jsonl"  # small.jsonl is the ingested file
    r = runner.invoke(app, [*ws, "export", "small:v2", "--format", "jsonl", "--out", str(out)])
    assert r.exit_code == 0 and len(out.read_text().splitlines()) == 12
    r = runner.invoke(app, [*ws, "version", "create", "small", "--name", "v2"])
    assert r.exit_code == 1 and "exists already" in r.output
    r = runner.invoke(app, [*ws, "version", "diff", "small", "small:v2"])
    assert r.exit_code == 1 and "DATASET:NAME" in r.output


@pytest.mark.parametrize("fmt", ["hf", "alpaca", "jsonl"])
def test_export_never_deletes_what_curate_did_not_write(exported: Workspace, tmp_path: Path, fmt: str) -> None:
    precious = tmp_path / "mine"
    precious.mkdir()
    (precious / "thesis.txt").write_text("years of work", encoding="utf-8")
    with pytest.raises(InputError, match="already exists"):
        versions.export_version(exported, "cls:v1", fmt, precious)
    with pytest.raises(InputError, match="curate did not write"):
        versions.export_version(exported, "cls:v1", fmt, precious, overwrite=True)
    assert [p.name for p in precious.iterdir()] == ["thesis.txt"]
    assert (precious / "thesis.txt").read_text(encoding="utf-8") == "years of work"
    for target in (exported.root, exported.root / "curate.duckdb", exported.root.parent):
        with pytest.raises(InputError, match="holds the workspace store"):
            versions.export_version(exported, "cls:v1", fmt, target, overwrite=True)
    assert versions.load_rows(exported, "cls:v1")


def test_export_overwrite_replaces_an_earlier_export(exported: Workspace, tmp_path: Path) -> None:
    out = tmp_path / "hf"
    first = versions.export_version(exported, "cls:v1", "hf", out)
    with pytest.raises(InputError, match="--overwrite"):
        versions.export_version(exported, "cls:v1", "hf", out)
    again = versions.export_version(exported, "cls:v1", "hf", out, overwrite=True)
    assert again.path == first.path and _read_back("hf", again, "classification")
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temporary left behind
    # the UI's default path is replaced without asking (it is always curate's own export)
    assert versions.export_version(exported, "cls:v1", "jsonl").n_rows == \
        versions.export_version(exported, "cls:v1", "jsonl").n_rows


def test_cli_export_refuses_the_workspace_folder(exported: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(exported.root)
    r = CliRunner().invoke(app, ["export", "cls:v1", "--format", "hf", "--out", ".", "--overwrite"])
    assert r.exit_code == 1 and "holds the workspace store" in r.output
    assert (exported.root / "curate.duckdb").is_file() and (exported.root / "artifacts").is_dir()
