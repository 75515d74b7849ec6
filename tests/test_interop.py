"""Exports load unchanged where users take them: LLaMA-Factory (its own converter), HF Trainer, TRL's
messages format; ClassLabel names survive ingest → export → saved model; text round-trips byte for byte."""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

import pytest

from curate import versions
from curate.ingest import ingest
from curate.store.workspace import Workspace
from tests.conftest import SAMPLE
from tests.test_versions import write_jsonl

NAMES = ["negative", "positive"]
TRICKY = ["=SUM(A1:A3) looks like a formula", "  leading and trailing spaces  ", "tab\tinside, \"quoted\"",
          "line one\nline two\r\nline three", "ünïcødé ✓ 漢字 🙂", "-starts with a minus", "@mention first",
          "+plus first", "trailing newline\n"]


def _sst2_dict(folder: Path, names: list[str] = NAMES) -> Path:
    """A DatasetDict saved to disk whose label is a ClassLabel(names=names), [negative, positive] by default."""
    from datasets import ClassLabel, Dataset, DatasetDict, Features, Value

    rows = [json.loads(line) for line in (SAMPLE / "sst2_dev.jsonl").read_text(encoding="utf-8").splitlines()][:60]
    rows = [{"sentence": r["text"], "label": int(r["label"])} for r in rows]
    rows += [{"sentence": t, "label": i % 2} for i, t in enumerate(TRICKY)]
    feats = Features({"sentence": Value("string"), "label": ClassLabel(names=names)})
    DatasetDict({"train": Dataset.from_list(rows[:50], features=feats),
                 "test": Dataset.from_list(rows[50:], features=feats)}).save_to_disk(str(folder))
    return folder


def _chats(path: Path, system: bool) -> Path:
    rows = []
    for i in range(12):
        turns = [{"role": "system", "content": f"Be brief {i}."}] if system else []
        turns += [{"role": "user", "content": f"question {i}"}, {"role": "assistant", "content": f"answer {i}"}]
        if i % 3 == 0:  # a multi-turn conversation: alpaca keeps the earlier turns in history
            turns += [{"role": "user", "content": f"and then {i}?"}, {"role": "assistant", "content": f"then {i}."}]
        rows.append({"messages": turns})
    return write_jsonl(path, rows)


@pytest.fixture(scope="module")
def ws(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    root = tmp_path_factory.mktemp("interop")
    w = Workspace(root / "ws")
    ingest(w, [_sst2_dict(root / "sst2_hf")], "cls", mapping={"text": "sentence"})
    ingest(w, [_sst2_dict(root / "sst2_rev", NAMES[::-1])], "cls_rev", mapping={"text": "sentence"})
    ingest(w, [SAMPLE / "gsm8k_test.jsonl"], "sft")
    ingest(w, [_chats(root / "sys.jsonl", True)], "chat_sys")
    ingest(w, [_chats(root / "nosys.jsonl", False)], "chat")
    for name in ("cls", "cls_rev", "sft", "chat_sys", "chat"):
        versions.create_version(w, name, "v1", split=(0.6, 0.2, 0.2))
    return w


SHAPES = [(ds, fmt) for ds in ("cls", "sft", "chat_sys", "chat") for fmt in ("alpaca", "sharegpt")]


@pytest.mark.parametrize("dataset,fmt", SHAPES)
def test_llama_factory_contract(ws: Workspace, tmp_path: Path, dataset: str, fmt: str) -> None:
    """What LLaMA-Factory's converters read: every declared column in every record; sharegpt turns
    alternate human/gpt starting with the human, in pairs."""
    res = versions.export_version(ws, f"{dataset}:v1", fmt, tmp_path / "lf")
    info = json.loads((tmp_path / "lf" / "dataset_info.json").read_text())
    n = 0
    for entry in info.values():
        recs = json.loads((tmp_path / "lf" / entry["file_name"]).read_text(encoding="utf-8"))
        n += len(recs)
        for rec in recs:
            assert set(entry["columns"].values()) <= set(rec)
            if fmt == "sharegpt":
                roles = [t["from"] for t in rec["conversations"]]
                assert roles == ["human", "gpt"] * (len(roles) // 2) and roles
        if dataset != "chat_sys":
            assert "system" not in entry["columns"]
    assert n == res.n_rows > 0


@pytest.mark.parametrize("dataset,fmt", SHAPES)
def test_llama_factory_converter_reads_every_shape(ws: Workspace, tmp_path: Path, dataset: str, fmt: str) -> None:
    """LLaMA-Factory 0.9.5's own get_dataset_list + align_dataset (installed by scripts/setup.sh --dev)."""
    pytest.importorskip("llamafactory")
    from bench.interop import llamafactory_align

    rows = versions.load_rows(ws, f"{dataset}:v1")
    versions.export_version(ws, f"{dataset}:v1", fmt, tmp_path / "lf")
    aligned = [r for recs in llamafactory_align(tmp_path / "lf").values() for r in recs]
    assert len(aligned) == len(rows)
    for got, row in zip(aligned, rows):
        assert got["_response"][0]["role"] == "assistant" and got["_prompt"][-1]["role"] == "user"
        if dataset == "cls":
            assert (got["_prompt"][0]["content"], got["_response"][0]["content"]) == (row["text"], row["label"])
        if dataset.startswith("chat"):
            turns = [t for t in row["messages"] if t["role"] != "system"]
            assert [t["content"] for t in got["_prompt"] + got["_response"]] == [t["content"] for t in turns]
            assert got["_system"] == "".join(t["content"] for t in row["messages"] if t["role"] == "system")


def test_messages_format_for_trl(ws: Workspace, tmp_path: Path) -> None:
    from datasets import load_dataset

    for dataset in ("cls", "sft", "chat_sys"):
        res = versions.export_version(ws, f"{dataset}:v1", "messages", tmp_path / dataset)
        dd = load_dataset("json", data_files={Path(f).stem: f for f in res.files})
        assert sum(len(d) for d in dd.values()) == res.n_rows and res.skipped == 0
        for d in dd.values():
            for rec in d:
                roles = [m["role"] for m in rec["messages"] if m["role"] != "system"]
                assert roles == ["user", "assistant"] * (len(roles) // 2) and roles


def test_classlabel_names_reach_export_and_saved_model(ws: Workspace, tmp_path: Path) -> None:
    """A DatasetDict with a ClassLabel: names (not 0/1) in the dataset, every export, and id2label."""
    from curate import browse
    from datasets import load_from_disk

    assert next(d for d in browse.datasets(ws) if d.name == "cls").labels == NAMES
    assert {r["label"] for r in versions.load_rows(ws, "cls:v1")} == set(NAMES)
    res = versions.export_version(ws, "cls:v1", "hf", tmp_path / "hf")
    dd = load_from_disk(res.path)
    assert dd["train"].features["label"].names == NAMES
    jsonl = versions.export_version(ws, "cls:v1", "jsonl", tmp_path / "cls.jsonl")
    assert {json.loads(line)["label"] for line in Path(jsonl.path).read_text().splitlines()} == set(NAMES)
    from curate.train import runner
    from curate.train.params import TrainParams

    run_id = runner.create(ws, "cls:v1", params=TrainParams(epochs=1, batch_size=8, max_length=16, max_steps=2))
    run = runner.execute(ws, run_id)
    assert run.status == "done", run.message
    config = json.loads((ws.root / run.artifact / "config.json").read_text())
    assert sorted(config["id2label"].values()) == NAMES and set(config["label2id"]) == set(NAMES)


def test_saved_model_ids_follow_classlabel_order(ws: Workspace, tmp_path: Path) -> None:
    """ClassLabel(names=[positive, negative]) (not alphabetical): the fine-tune's id2label and the
    quick baseline's classes give each id the HF export's name for it."""
    import pickle

    from datasets import load_from_disk

    from curate.train import runner
    from curate.train.params import TrainParams

    names = load_from_disk(versions.export_version(ws, "cls_rev:v1", "hf", tmp_path / "hf").path)[
        "train"].features["label"].names
    assert names == ["positive", "negative"]
    run = runner.execute(ws, runner.create(ws, "cls_rev:v1", params=TrainParams(
        epochs=1, batch_size=8, max_length=16, max_steps=1)))
    assert run.status == "done", run.message
    config = json.loads((ws.root / run.artifact / "config.json").read_text())
    assert [config["id2label"][str(i)] for i in range(len(names))] == names
    base = runner.execute(ws, runner.create(ws, "cls_rev:v1", baseline=True))
    assert base.status == "done", base.message
    assert pickle.loads((ws.root / base.artifact / "baseline.pkl").read_bytes()).classes == names


def test_trainer_trains_on_hf_export_without_glue(ws: Workspace, tmp_path: Path) -> None:
    """load_from_disk → tokenize → Trainer: one step, no label conversion."""
    from datasets import load_from_disk
    from transformers import (AutoModelForSequenceClassification, AutoTokenizer, BertConfig,
                              DataCollatorWithPadding, Trainer, TrainingArguments)

    from curate.embed import default_model_dir

    res = versions.export_version(ws, "cls:v1", "hf", tmp_path / "hf")
    dd = load_from_disk(res.path)
    tok = AutoTokenizer.from_pretrained(default_model_dir())
    train = dd["train"].map(lambda b: tok(b["text"], truncation=True, max_length=32), batched=True)
    names = train.features["label"].names
    config = BertConfig(vocab_size=tok.vocab_size, hidden_size=32, num_hidden_layers=1, num_attention_heads=2,
                        intermediate_size=64, num_labels=len(names), id2label=dict(enumerate(names)),
                        label2id={n: i for i, n in enumerate(names)})
    model = AutoModelForSequenceClassification.from_config(config)
    args = TrainingArguments(output_dir=str(tmp_path / "out"), max_steps=1, per_device_train_batch_size=8,
                             report_to=[], use_cpu=True, save_strategy="no", logging_steps=1)
    trainer = Trainer(model=model, args=args, train_dataset=train, data_collator=DataCollatorWithPadding(tok))
    out = trainer.train()
    assert out.global_step == 1 and math.isfinite(out.training_loss)


def _texts(ws: Workspace, dataset: str) -> list[tuple]:
    from curate.store import catalog

    with ws.connect() as con:
        ds = catalog.get_dataset(con, dataset)
        return sorted(con.execute("SELECT coalesce(text, ''), coalesce(instruction, ''), coalesce(input, ''), "
                                  "coalesce(response, ''), coalesce(label, ''), coalesce(messages, '') "
                                  "FROM examples WHERE dataset_id = ?", [ds["id"]]).fetchall())


ROUND_TRIPS = [(d, f) for d in ("cls", "sft", "chat_sys") for f in ("jsonl", "parquet", "hf", "csv")
               if (d, f) != ("chat_sys", "csv")]  # CSV holds a conversation as JSON text, not turns


@pytest.mark.parametrize("dataset,fmt", ROUND_TRIPS)
def test_export_ingest_round_trip_is_byte_identical(ws: Workspace, tmp_path: Path, fmt: str, dataset: str) -> None:
    suffix = {"jsonl": ".jsonl", "parquet": ".parquet", "csv": ".csv"}.get(fmt, "")
    res = versions.export_version(ws, f"{dataset}:v1", fmt, tmp_path / f"out{suffix}")
    again = f"{dataset}_{fmt}"
    ingest(ws, [res.path], again, task={"cls": "classification", "sft": "sft", "chat_sys": "chat"}[dataset])
    assert _texts(ws, again) == _texts(ws, dataset)
    if fmt == "csv" and dataset == "cls":  # formula-like, spaced, multi-line cells are kept exactly
        with open(res.path, encoding="utf-8", newline="") as fh:
            assert set(TRICKY) <= {r["text"] for r in csv.DictReader(fh)}
