"""Version rows in the shapes fine-tuning tools read: LLaMA-Factory's alpaca and sharegpt (with their
``dataset_info.json``) and the chat ``messages`` format of TRL's ``SFTTrainer``.

LLaMA-Factory's converters read ``example[column]`` for every column ``dataset_info.json`` names, so
a column is declared only when some record of that file has it, and then every record of the file
carries it (``""`` / ``[]`` where a row has none). Classification rows become text → label pairs; sft
rows instruction/input → response; chat rows keep their turns (alpaca puts earlier turns in
``history``; a conversation that is not user/assistant pairs is skipped and counted). The
``messages`` format writes ``<split>.jsonl`` files of ``{"messages": [{role, content}, ...]}`` (system
turns first, then alternating user/assistant), which ``datasets.load_dataset("json", ...)`` reads and
``SFTTrainer`` trains on as conversational data.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Callable

from curate.versions.refs import SPLITS

SHAREGPT_ROLES = {"user": "human", "assistant": "gpt", "tool": "observation", "system": "system"}
SHAREGPT_TAGS = {"role_tag": "from", "content_tag": "value", "user_tag": "human", "assistant_tag": "gpt",
                 "observation_tag": "observation", "function_tag": "function_call", "system_tag": "system"}
# Optional columns and what a record without one carries.
OPTIONAL = {"system": "", "history": []}


def _label(r: dict[str, Any]) -> str:
    return "" if r["label"] is None else str(r["label"])


def _sft_prompt(r: dict[str, Any]) -> str:
    prompt = r["instruction"] or ""
    return prompt + "\n" + r["input"] if r["input"] else prompt


def _pairs(turns: list[dict[str, str]]) -> tuple[str, list[dict[str, str]]] | None:
    """``(system, turns)`` of a conversation of user/assistant pairs, else None."""
    system = "\n".join(t["content"] for t in turns if t["role"] == "system")
    convo = [t for t in turns if t["role"] != "system"]
    if not convo or len(convo) % 2 or any(t["role"] != ("user" if i % 2 == 0 else "assistant")
                                          for i, t in enumerate(convo)):
        return None
    return system, convo


def alpaca(r: dict[str, Any], task: str) -> dict[str, Any] | None:
    if task == "classification":
        return {"instruction": r["text"] or "", "input": "", "output": _label(r)}
    if task == "sft":
        return {"instruction": r["instruction"] or "", "input": r["input"] or "", "output": r["response"] or ""}
    found = _pairs(list(r["messages"] or []))
    if found is None:
        return None
    system, convo = found
    pairs = [[convo[i]["content"], convo[i + 1]["content"]] for i in range(0, len(convo), 2)]
    rec: dict[str, Any] = {"instruction": pairs[-1][0], "input": "", "output": pairs[-1][1]}
    if pairs[:-1]:
        rec["history"] = pairs[:-1]
    if system:
        rec["system"] = system
    return rec


def sharegpt(r: dict[str, Any], task: str) -> dict[str, Any]:
    if task == "classification":
        return {"conversations": [{"from": "human", "value": r["text"] or ""}, {"from": "gpt", "value": _label(r)}]}
    if task == "sft":
        return {"conversations": [{"from": "human", "value": _sft_prompt(r)},
                                  {"from": "gpt", "value": r["response"] or ""}]}
    turns = list(r["messages"] or [])
    rec: dict[str, Any] = {"conversations": [{"from": SHAREGPT_ROLES[t["role"]], "value": t["content"]}
                                             for t in turns if t["role"] != "system"]}
    system = "\n".join(t["content"] for t in turns if t["role"] == "system")
    if system:
        rec["system"] = system
    return rec


def messages(r: dict[str, Any], task: str) -> dict[str, Any] | None:
    """One ``{"messages": [...]}`` record for TRL; a chat that is not user/assistant pairs is None."""
    if task == "classification":
        return {"messages": [{"role": "user", "content": r["text"] or ""}, {"role": "assistant", "content": _label(r)}]}
    if task == "sft":
        return {"messages": [{"role": "user", "content": _sft_prompt(r)},
                             {"role": "assistant", "content": r["response"] or ""}]}
    found = _pairs(list(r["messages"] or []))
    if found is None:
        return None
    system, convo = found
    head = [{"role": "system", "content": system}] if system else []
    return {"messages": head + [{"role": t["role"], "content": t["content"]} for t in convo]}


def _fill_optional(recs: list[dict[str, Any]]) -> list[str]:
    """The optional columns some record has; every record gets them (empty where it had none)."""
    present = [c for c in OPTIONAL if any(c in r for r in recs)]
    for r in recs:
        for c in present:
            r.setdefault(c, OPTIONAL[c])
    return present


def _info_entry(fmt: str, file_name: str, present: list[str]) -> dict[str, Any]:
    if fmt == "alpaca":
        columns = {"prompt": "instruction", "query": "input", "response": "output"}
        columns.update({c: c for c in present})
        return {"file_name": file_name, "columns": columns}
    columns = {"messages": "conversations", **({"system": "system"} if "system" in present else {})}
    return {"file_name": file_name, "formatting": "sharegpt", "columns": columns, "tags": SHAREGPT_TAGS}


def _by_split(recs: list[dict], convert: Callable) -> list[tuple[str, list[dict], int]]:
    out = []
    for s in SPLITS:
        chosen = [convert(r) for r in recs if r["split"] == s]
        if chosen:
            kept = [c for c in chosen if c is not None]
            out.append((s, kept, len(chosen) - len(kept)))
    return out


def write_llama_factory(recs: list[dict], out: Path, task: str, fmt: str, stem: str) -> tuple[list[Path], int]:
    """One JSON file per split plus ``dataset_info.json``; returns the files and the rows skipped."""
    out.mkdir(parents=True, exist_ok=True)
    convert = alpaca if fmt == "alpaca" else sharegpt
    info, files, skipped = {}, [], 0
    for s, converted, n_skipped in _by_split(recs, lambda r: convert(r, task)):
        skipped += n_skipped
        present = _fill_optional(converted)
        name = f"{stem}_{s}"
        path = out / f"{name}.json"
        path.write_text(json.dumps(converted, ensure_ascii=False, indent=1), encoding="utf-8")
        files.append(path)
        info[name] = _info_entry(fmt, path.name, present)
    (out / "dataset_info.json").write_text(json.dumps(info, indent=2), encoding="utf-8")
    return [*files, out / "dataset_info.json"], skipped


def write_messages(recs: list[dict], out: Path, task: str) -> tuple[list[Path], int]:
    """``<split>.jsonl`` files of ``{"messages": [...]}``; returns the files and the chats skipped."""
    out.mkdir(parents=True, exist_ok=True)
    files, skipped = [], 0
    for s, converted, n_skipped in _by_split(recs, lambda r: messages(r, task)):
        skipped += n_skipped
        path = out / f"{s}.jsonl"
        path.write_text("".join(json.dumps(c, ensure_ascii=False) + "\n" for c in converted), encoding="utf-8")
        files.append(path)
    return files, skipped
