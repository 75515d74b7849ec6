"""Exports of the ``spans`` and ``preference`` tasks in the shapes their trainers read.

* spans, ``hf``: HF token classification, ``tokens`` (the text split on whitespace) and ``ner_tags``
  a ``Sequence(ClassLabel(names=[O, B-X, I-X, ...]))`` in BIO, types in sorted order, so
  ``AutoModelForTokenClassification`` trains on it and ``features["ner_tags"].feature.names`` gives
  ``id2label``. (``jsonl``/``parquet``/``csv`` keep ``text`` and the character-offset ``spans``.)
* preference, ``alpaca`` / ``sharegpt``: LLaMA-Factory's ranking format (``"ranking": true`` in
  ``dataset_info.json``): alpaca ``instruction``/``input``/``chosen``/``rejected`` (+ ``system``,
  ``history``), sharegpt ``conversations`` ending on the human turn with ``chosen``/``rejected`` as
  one ``{from, value}`` turn each. A pair whose responses are not one assistant turn each, or whose
  prompt is not user/assistant pairs ending on a user turn, is skipped and counted.
* preference, ``messages``: TRL's conversational preference format, ``<split>.jsonl`` of
  ``{"prompt": [turns], "chosen": [turns], "rejected": [turns]}`` (``DPOTrainer`` reads it as is).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from curate.errors import InputError
from curate.ingest.shapes import spans_to_bio
from curate.versions.refs import SPLITS
from curate.versions.trainer_formats import SHAREGPT_ROLES, SHAREGPT_TAGS, _by_split, _fill_optional

FORMATS = {"spans": ("jsonl", "parquet", "csv", "hf"),
           "preference": ("jsonl", "parquet", "csv", "hf", "alpaca", "sharegpt", "messages")}


def bio_names(types: list[str]) -> list[str]:
    """``O`` then ``B-X``, ``I-X`` per entity type in sorted order."""
    return ["O"] + [f"{p}-{t}" for t in sorted(set(types)) for p in ("B", "I")]


def token_records(recs: list[dict]) -> tuple[list[dict], list[str]]:
    """Rows as ``{example_id, split, tokens, ner_tags}`` (tag ids) and the tag names."""
    types = [s["label"] for r in recs for s in (r["spans"] or [])]
    names = bio_names(types)
    index = {n: i for i, n in enumerate(names)}
    out = []
    for r in recs:
        tokens, tags = spans_to_bio(r["text"] or "", r["spans"] or [])
        out.append({"example_id": r["example_id"], "split": r["split"], "tokens": tokens,
                    "ner_tags": [index[t] for t in tags]})
    return out, names


def write_token_classification(recs: list[dict], out: Path) -> tuple[list[Path], list[str]]:
    from datasets import ClassLabel, Features, Sequence, Value

    rows, names = token_records(recs)
    features = Features({"example_id": Value("int64"), "split": Value("string"), "tokens": Sequence(Value("string")),
                         "ner_tags": Sequence(ClassLabel(names=names))})
    save_splits(rows, features, out)
    return [out], names


def save_splits(rows: list[dict], features, out: Path) -> None:
    """``rows`` as a ``DatasetDict`` of their non-empty splits, saved to ``out`` without progress bars."""
    from datasets import Dataset, DatasetDict
    from datasets.utils import are_progress_bars_disabled, disable_progress_bars, enable_progress_bars

    parts = {s: Dataset.from_list([r for r in rows if r["split"] == s], features=features)
             for s in SPLITS if any(r["split"] == s for r in rows)}
    quiet = are_progress_bars_disabled()
    disable_progress_bars()
    try:
        DatasetDict(parts.items()).save_to_disk(str(out))
    finally:
        if not quiet:
            enable_progress_bars()


def _prompt_parts(turns: list[dict]) -> tuple[str, list[dict]] | None:
    """``(system, turns)`` when the prompt is user/assistant pairs ending on a user turn."""
    system = "\n".join(t["content"] for t in turns if t["role"] == "system")
    convo = [t for t in turns if t["role"] != "system"]
    if not convo or len(convo) % 2 == 0 or any(t["role"] != ("user" if i % 2 == 0 else "assistant")
                                               for i, t in enumerate(convo)):
        return None
    return system, convo


def _one_answer(turns: list[dict]) -> str | None:
    return turns[0]["content"] if len(turns) == 1 and turns[0]["role"] == "assistant" else None


def ranking(r: dict[str, Any], fmt: str) -> dict[str, Any] | None:
    """One LLaMA-Factory ranking record (alpaca or sharegpt), or None when the pair cannot be one."""
    found = _prompt_parts(list(r["messages"] or []))
    chosen, rejected = _one_answer(r["chosen"] or []), _one_answer(r["rejected"] or [])
    if found is None or chosen is None or rejected is None:
        return None
    system, convo = found
    if fmt == "alpaca":
        rec: dict[str, Any] = {"instruction": convo[-1]["content"], "input": "", "chosen": chosen, "rejected": rejected}
        history = [[convo[i]["content"], convo[i + 1]["content"]] for i in range(0, len(convo) - 1, 2)]
        if history:
            rec["history"] = history
    else:
        rec = {"conversations": [{"from": SHAREGPT_ROLES[t["role"]], "value": t["content"]} for t in convo],
               "chosen": {"from": "gpt", "value": chosen}, "rejected": {"from": "gpt", "value": rejected}}
    if system:
        rec["system"] = system
    return rec


def _ranking_info(fmt: str, file_name: str, present: list[str]) -> dict[str, Any]:
    if fmt == "alpaca":
        columns = {"prompt": "instruction", "query": "input", "chosen": "chosen", "rejected": "rejected",
                   **{c: c for c in present}}
        return {"file_name": file_name, "ranking": True, "columns": columns}
    columns = {"messages": "conversations", "chosen": "chosen", "rejected": "rejected",
               **({"system": "system"} if "system" in present else {})}
    return {"file_name": file_name, "formatting": "sharegpt", "ranking": True, "columns": columns, "tags": SHAREGPT_TAGS}


def write_ranking(recs: list[dict], out: Path, fmt: str, stem: str) -> tuple[list[Path], int]:
    """One JSON file per split plus ``dataset_info.json``; returns the files and the pairs skipped."""
    out.mkdir(parents=True, exist_ok=True)
    info, files, skipped = {}, [], 0
    for s, converted, n_skipped in _by_split(recs, lambda r: ranking(r, fmt)):
        skipped += n_skipped
        present = _fill_optional(converted)
        path = out / f"{stem}_{s}.json"
        path.write_text(json.dumps(converted, ensure_ascii=False, indent=1), encoding="utf-8")
        files.append(path)
        info[f"{stem}_{s}"] = _ranking_info(fmt, path.name, present)
    (out / "dataset_info.json").write_text(json.dumps(info, indent=2), encoding="utf-8")
    return [*files, out / "dataset_info.json"], skipped


def write_trl(recs: list[dict], out: Path) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    files = []
    for s in SPLITS:
        rows = [{"prompt": r["messages"], "chosen": r["chosen"], "rejected": r["rejected"]} for r in recs if r["split"] == s]
        if rows:
            path = out / f"{s}.jsonl"
            path.write_text("".join(json.dumps(x, ensure_ascii=False) + "\n" for x in rows), encoding="utf-8")
            files.append(path)
    return files


def write(recs: list[dict], out: Path, fmt: str, task: str, stem: str) -> tuple[list[Path], int, list[str]]:
    """Write a spans/preference export in ``fmt`` (hf, alpaca, sharegpt, messages): files, skipped, classes."""
    if fmt not in FORMATS[task]:
        raise InputError("--format", f"a {task} version has no {fmt} export",
                         fix=f"use one of {', '.join(FORMATS[task])}")
    if task == "spans":
        files, names = write_token_classification(recs, out)
        return files, 0, names
    if fmt == "messages":
        return write_trl(recs, out), 0, []
    files, skipped = write_ranking(recs, out, fmt, stem)
    return files, skipped, []
