"""HF ``save_to_disk`` folders (a Dataset or a DatasetDict): their Arrow files, split by split.

A corrupt folder (unreadable ``dataset_dict.json``/``state.json``, a missing or damaged ``.arrow``
file) is refused in one line naming the file.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Callable, Iterator

import pyarrow as pa

from curate.errors import InputError
from curate.store import scan

_FIX = "save it again with Dataset.save_to_disk / DatasetDict.save_to_disk"


def _json(path: Path, key: str) -> object:
    """``key`` of the JSON object in ``path``, or a one-line error naming the file."""
    try:
        value = json.loads(path.read_text(encoding="utf-8"))[key]
    except FileNotFoundError:
        raise InputError(path, "file is missing", fix=_FIX) from None
    except (ValueError, TypeError, KeyError, OSError) as exc:
        problem = f"has no {key!r}" if isinstance(exc, (KeyError, TypeError)) else f"is not valid JSON ({exc})"
        raise InputError(path, problem[:200], fix=_FIX) from None
    return value


def files(source) -> list[tuple[str | None, Path]]:
    """(split, arrow file) pairs of an HF Dataset or DatasetDict folder."""
    root = source.path
    if (root / "dataset_dict.json").exists():
        splits = _json(root / "dataset_dict.json", "splits")
        if not isinstance(splits, list) or not all(isinstance(s, str) and s and "/" not in s and s != ".."
                                                   for s in splits):
            raise InputError(root / "dataset_dict.json", "'splits' is not a list of split names", fix=_FIX)
        folders = [(s, root / s) for s in splits]
    else:
        folders = [(None, root)]
    out = []
    for split, folder in folders:
        entries = _json(folder / "state.json", "_data_files")
        if not isinstance(entries, list) or not all(isinstance(e, dict) and isinstance(e.get("filename"), str)
                                                    for e in entries):
            raise InputError(folder / "state.json", "'_data_files' is not a list of files", fix=_FIX)
        for entry in entries:
            file = folder / entry["filename"]
            if not file.is_file() or folder.resolve() not in file.resolve().parents:
                raise InputError(file, "data file named in state.json is missing", fix=_FIX)
            out.append((split, file))
    return out


def _stream(file: Path) -> Iterator[pa.RecordBatch]:
    try:
        with pa.memory_map(str(file)) as mm:
            yield from pa.ipc.open_stream(mm)
    except (pa.ArrowException, OSError) as exc:
        raise InputError(file, f"not a readable Arrow file ({str(exc).splitlines()[0][:160]})", fix=_FIX) from None


def batches(source, numbered: Callable) -> Iterator[pa.Table]:
    """Every record of the folder as (row_num, raw, split) tables; rows numbered across files."""
    row = 1
    for split, file in files(source):
        for table in numbered(scan.arrow_raw(_stream(file)), start=row):
            row += table.num_rows
            yield table.append_column("split", pa.array([split] * table.num_rows, pa.string()))
