"""Interop check: every curate export shape through the tools users take it to, run for real.

* LLaMA-Factory 0.9.5 (``pip install --no-deps llamafactory==0.9.5``; ``scripts/setup.sh --dev`` does
  it): each alpaca / sharegpt export's ``dataset_info.json`` is parsed by LLaMA-Factory's own
  ``get_dataset_list``, each file loaded with ``datasets.load_dataset("json")`` as its loader does, and
  every record aligned by its own ``align_dataset`` (the converter ``get_dataset(stage="sft")`` runs).
  Its ``llamafactory.data`` package imports ``torchaudio`` at import time (for multimodal templates),
  and no torchaudio build matches curate's pinned torch 2.13, so the converter modules are loaded
  without that ``__init__``: the code that reads the records is LLaMA-Factory's, unchanged.
* ``datasets.load_from_disk`` for the HF export (a ``ClassLabel`` label for classification), and
  ``load_dataset("json")`` for the TRL ``messages`` export.

Run:  python bench/interop.py [--data sample_data]      prints one line per (dataset, format); exit 1 on a failure
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import tempfile
import types
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def _llamafactory_modules() -> tuple[Any, Any, Any]:
    """LLaMA-Factory's ``data.parser``, ``data.converter`` and ``hparams.data_args`` modules."""
    os.environ.setdefault("DISABLE_VERSION_CHECK", "1")
    import llamafactory

    root = Path(llamafactory.__file__).parent
    for pkg in ("data", "hparams"):  # their __init__ pulls torchaudio / the whole trainer stack
        name = f"llamafactory.{pkg}"
        if name not in sys.modules:
            module = types.ModuleType(name)
            module.__path__ = [str(root / pkg)]
            sys.modules[name] = module
    return (importlib.import_module("llamafactory.data.parser"), importlib.import_module("llamafactory.data.converter"),
            importlib.import_module("llamafactory.hparams.data_args"))


def llamafactory_align(folder: Path) -> dict[str, list[dict[str, Any]]]:
    """Every dataset of an alpaca/sharegpt export folder as LLaMA-Factory aligns it for SFT:
    name → records with ``_prompt``, ``_response``, ``_system`` (raises what LLaMA-Factory raises)."""
    import json

    from datasets import load_dataset
    from datasets.utils.logging import disable_progress_bar
    from transformers import Seq2SeqTrainingArguments

    disable_progress_bar()
    parser, converter, data_args_mod = _llamafactory_modules()
    names = list(json.loads((folder / "dataset_info.json").read_text(encoding="utf-8")))
    data_args = data_args_mod.DataArguments(dataset_dir=str(folder), dataset=",".join(names))
    training_args = Seq2SeqTrainingArguments(output_dir=str(folder / ".lf-out"), report_to=[])
    out = {}
    for attr in parser.get_dataset_list(names, str(folder)):
        raw = load_dataset("json", data_files=[str(folder / attr.dataset_name)], split="train",
                           cache_dir=str(folder / ".lf-cache"))
        aligned = converter.align_dataset(raw, attr, data_args, training_args)
        out[attr.dataset_name] = aligned.to_list()
    return out


def _check(workspace, ref: str, fmt: str, out: Path) -> str:
    from curate import versions

    result = versions.export_version(workspace, ref, fmt, out)
    n = result.n_rows
    if fmt in ("alpaca", "sharegpt"):
        aligned = llamafactory_align(out)
        got = sum(len(v) for v in aligned.values())
        empty = sum(not r["_prompt"] or not r["_response"] for v in aligned.values() for r in v)
        ok = got == n and not empty
        return f"{'ok ' if ok else 'BAD'} {ref:<16} {fmt:<9} LLaMA-Factory aligned {got}/{n} rows, {empty} empty"
    if fmt == "hf":
        from datasets import load_from_disk

        dd = load_from_disk(str(out))
        label = dd["train"].features.get("label")
        return f"ok  {ref:<16} {fmt:<9} load_from_disk: {sum(len(d) for d in dd.values())} rows, label {label}"
    from datasets import load_dataset

    dd = load_dataset("json", data_files={p.stem: str(p) for p in out.glob("*.jsonl")})
    return f"ok  {ref:<16} {fmt:<9} load_dataset json: {sum(len(d) for d in dd.values())} rows"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=ROOT / "sample_data")
    args = ap.parse_args()
    sys.path.insert(0, str(ROOT))
    from curate import versions
    from curate.ingest import ingest
    from curate.store.workspace import Workspace

    failed = 0
    with tempfile.TemporaryDirectory() as tmp:
        ws = Workspace(Path(tmp) / "ws")
        for name, file in (("sst2", "sst2_dev.jsonl"), ("gsm", "gsm8k_test.jsonl"), ("chat", "chat_sample.jsonl")):
            ingest(ws, [args.data / file], name)
            versions.create_version(ws, name, "v1")
        for ref in ("sst2:v1", "gsm:v1", "chat:v1"):
            for fmt in ("alpaca", "sharegpt", "hf", "messages"):
                line = _check(ws, ref, fmt, Path(tmp) / f"{ref.replace(':', '-')}-{fmt}")
                failed += line.startswith("BAD")
                print(line)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
