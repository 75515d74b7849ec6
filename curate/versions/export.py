"""Export a version: JSONL, Parquet, HF DatasetDict, alpaca / sharegpt (LLaMA-Factory), TRL chat
``messages`` and CSV, each loadable unchanged by the tool that reads it.

Every export is recorded with the version it came from (table ``exports``). Columns are the task's
fields plus ``example_id`` and ``split``; ``label`` is the final label as materialised (the class's
display name, see ``curate ingest --labels``).

* ``jsonl``, ``parquet``, ``csv``: one file, every split, a ``split`` column.
* ``hf``: a folder written by ``DatasetDict.save_to_disk`` with one split per non-empty split;
  ``datasets.load_from_disk`` gives the rows back. A classification ``label`` is a
  ``ClassLabel(names=...)`` in the dataset's class order, so ``transformers.Trainer`` trains on it
  as it is and ``features["label"].names`` gives ``id2label``.
* ``alpaca`` / ``sharegpt`` / ``messages``: see ``curate.versions.trainer_formats``.
* Nothing is ever deleted that curate did not write: an export is written into a temporary sibling
  and moved into place. An existing ``out`` is replaced only with ``overwrite=True`` and only when it
  is a file or a folder holding curate's export marker (``.curate-export``); a path inside or
  holding the workspace store is refused.
* ``csv`` keeps every cell exactly as it is (a data file: reading it back gives the same text).
  ``spreadsheet_safe=True`` is for opening it in a spreadsheet: a cell starting with ``= + - @``,
  tab or carriage return gets a leading ``'`` (OWASP's CSV-injection advice), and the result counts
  the cells changed (``cells_changed``).
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from curate.errors import InputError
from curate.store import catalog, versions as store
from curate.store.workspace import Workspace
from curate.versions import shaped_formats, trainer_formats
from curate.versions.core import _as_rows, _version
from curate.versions.model import Export
from curate.versions.refs import parse_ref

FORMATS = ("jsonl", "parquet", "hf", "alpaca", "sharegpt", "messages", "csv")
TASK_COLUMNS = {"classification": ("text", "label"), "sft": ("instruction", "input", "response"),
                "chat": ("messages",), "spans": ("text", "spans"), "preference": ("messages", "chosen", "rejected")}
TURNS = ("messages", "chosen", "rejected")
TURN = pa.struct([("role", pa.string()), ("content", pa.string())])
SPAN = pa.struct([("start", pa.int64()), ("end", pa.int64()), ("label", pa.string())])
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: Any) -> Any:
    """A CSV cell a spreadsheet will not run as a formula: a leading ``'`` before ``= + - @ \\t \\r``."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def records(rows: list[dict[str, Any]], task: str) -> list[dict[str, Any]]:
    """Rows as exported records: ``example_id``, ``split`` and the task's columns."""
    cols = TASK_COLUMNS[task]
    return [{"example_id": r["example_id"], "split": r["split"], **{c: r[c] for c in cols}} for r in rows]


def _schema(task: str) -> pa.Schema:
    fields = [pa.field("example_id", pa.int64()), pa.field("split", pa.string())]
    for c in TASK_COLUMNS[task]:
        if c in TURNS:
            fields.append(pa.field(c, pa.list_(TURN)))
        elif c == "spans":
            fields.append(pa.field(c, pa.list_(SPAN)))
        else:
            fields.append(pa.field(c, pa.string()))
    return pa.schema(fields)


def _jsonl(recs: list[dict], out: Path) -> list[Path]:
    with open(out, "w", encoding="utf-8") as fh:
        for r in recs:
            fh.write(json.dumps(r, ensure_ascii=False) + "\n")
    return [out]


def _parquet(recs: list[dict], out: Path, task: str) -> list[Path]:
    pq.write_table(pa.Table.from_pylist(recs, schema=_schema(task)), out)
    return [out]


def _csv(recs: list[dict], out: Path, task: str, spreadsheet_safe: bool) -> tuple[list[Path], int]:
    """Write the CSV; returns the file and how many cells ``spreadsheet_safe`` changed."""
    header = ["example_id", "split", *TASK_COLUMNS[task]]
    changed = 0
    with open(out, "w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        for r in recs:
            cells = ["" if r[c] is None else json.dumps(r[c], ensure_ascii=False) if isinstance(r[c], list) else r[c]
                     for c in header]
            if spreadsheet_safe:
                safe = [neutralise(v) for v in cells]
                changed += sum(a is not b for a, b in zip(safe, cells))
                cells = safe
            writer.writerow(cells)
    return [out], changed


def _hf(recs: list[dict], out: Path, task: str, classes: list[str]) -> list[Path]:
    from datasets import ClassLabel, Features, Value

    feats: dict[str, Any] = {"example_id": Value("int64"), "split": Value("string")}
    for c in TASK_COLUMNS[task]:
        feats[c] = [{"role": Value("string"), "content": Value("string")}] if c in TURNS else Value("string")
    if task == "classification":
        feats["label"] = ClassLabel(names=classes)
        index = {c: i for i, c in enumerate(classes)}
        recs = [{**r, "label": -1 if r["label"] is None else index[r["label"]]} for r in recs]
    shaped_formats.save_splits(recs, Features(feats), out)
    return [out]


def default_path(workspace: Workspace, ref: str, fmt: str) -> Path:
    """Where the UI writes an export: ``artifacts/exports/<dataset>-<version>/<dataset>-<version>.<ext>``."""
    dataset, name = parse_ref(ref)
    stem = f"{dataset}-{name}"
    ext = {"jsonl": ".jsonl", "parquet": ".parquet", "csv": ".csv"}.get(fmt, f"-{fmt}")
    return workspace.artifacts / "exports" / stem / f"{stem}{ext}"


def _size(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


MARKER = ".curate-export"


def _check_target(workspace: Workspace, path: Path, overwrite: bool) -> None:
    """Refuse an ``out`` whose replacement could lose data: the workspace itself, a folder holding it,
    an existing path without ``overwrite``, or a folder curate did not write."""
    target, root = path.resolve(), workspace.root.resolve()
    if target == root or root.is_relative_to(target) or target == (root / "curate.duckdb").resolve():
        raise InputError(path, "this path holds the workspace store", fix="choose an --out path outside it")
    if not path.exists() and not path.is_symlink():
        return
    if not overwrite:
        raise InputError(path, "already exists; nothing was written",
                         fix="choose a new --out path, or pass --overwrite to replace an earlier export")
    if path.is_dir() and not (path / MARKER).is_file():
        raise InputError(path, "is a folder curate did not write; it is left as it is",
                         fix="choose a new or empty --out path")


def _swap_in(tmp: Path, path: Path) -> None:
    """Move the finished export ``tmp`` to ``path``, replacing an earlier export only after it is complete."""
    if not path.exists() and not path.is_symlink():
        os.replace(tmp, path)
        return
    old = path.with_name(f".{path.name}.old-{os.getpid()}")
    os.replace(path, old)
    os.replace(tmp, path)
    if old.is_dir() and not old.is_symlink():
        shutil.rmtree(old)
    else:
        old.unlink()


def _write(recs: list[dict], tmp: Path, fmt: str, task: str, stem: str, classes: list[str],
           spreadsheet_safe: bool) -> tuple[list[Path], int, int]:
    """Write one format into ``tmp``: ``(files, rows skipped, cells changed)``; ``classes`` gets the
    tag names of a token-classification export."""
    if task in shaped_formats.FORMATS and fmt not in ("jsonl", "parquet", "csv") and (task, fmt) != ("preference", "hf"):
        files, skipped, names = shaped_formats.write(recs, tmp, fmt, task, stem)
        classes[:] = names
        return files, skipped, 0
    if fmt == "jsonl":
        return _jsonl(recs, tmp), 0, 0
    if fmt == "parquet":
        return _parquet(recs, tmp, task), 0, 0
    if fmt == "csv":
        files, changed = _csv(recs, tmp, task, spreadsheet_safe)
        return files, 0, changed
    if fmt == "hf":
        return _hf(recs, tmp, task, classes), 0, 0
    if fmt == "messages":
        return *trainer_formats.write_messages(recs, tmp, task), 0
    return *trainer_formats.write_llama_factory(recs, tmp, task, fmt, stem), 0


def _classes(con, version: dict[str, Any], rows: list[dict[str, Any]]) -> list[str]:
    """The dataset's classes in its order, then any label of the version outside them."""
    if version["task"] != "classification":
        return []
    ds = catalog.get_dataset(con, version["dataset"])
    known = catalog.label_set(con, ds["id"], ds["label_type"])
    extra = sorted({r["label"] for r in rows if r["label"] is not None} - set(known))
    return known + extra


def export_version(workspace: Workspace, ref: str, fmt: str, out: str | Path | None = None, *,
                   overwrite: bool = False, spreadsheet_safe: bool = False) -> Export:
    """Write version ``ref`` as ``fmt`` to ``out`` (a file for jsonl/parquet/csv, a folder otherwise;
    default under ``artifacts/exports/``, where an earlier export of the same version is replaced) and
    record it. An existing ``out`` is refused unless ``overwrite`` and it is an earlier export (see the
    module docstring). Returns the ``Export``: its path, rows, bytes, files, rows ``skipped`` (chat rows
    alpaca / messages cannot hold), ``classes`` and ``cells_changed`` (``spreadsheet_safe``)."""
    if fmt not in FORMATS:
        raise InputError("--format", f"unknown export format {fmt!r}", fix=f"use one of {', '.join(FORMATS)}")
    with workspace.connect() as con:
        version = _version(con, ref)
        rows = _as_rows(store.version_rows(con, version["id"]))
        classes = _classes(con, version, rows)
    task = version["task"]
    path = Path(out) if out else default_path(workspace, ref, fmt)
    _check_target(workspace, path, overwrite or out is None)
    recs = records(rows, task)
    stem = f"{version['dataset']}_{version['name']}".replace("-", "_").replace(".", "_")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", dir=path.parent))
        try:
            if fmt in ("jsonl", "parquet", "csv"):
                tmp.rmdir()
            files, skipped, changed = _write(recs, tmp, fmt, task, stem, classes, spreadsheet_safe)
            if tmp.is_dir():
                (tmp / MARKER).write_text(json.dumps({"ref": ref, "format": fmt}), encoding="utf-8")
            _swap_in(tmp, path)
        finally:
            if tmp.is_dir():
                shutil.rmtree(tmp)
            elif tmp.exists():
                tmp.unlink()
    except OSError as exc:
        raise InputError(path, f"cannot write the export ({exc.strerror})", fix="choose a writable --out path") from None
    files = [path / f.relative_to(tmp) if f != tmp else path for f in files]
    size = _size(path)
    with workspace.transaction() as con:
        store.insert_export(con, version["id"], fmt, str(path.resolve()), len(recs) - skipped, size)
    return Export(ref=ref, path=str(path.resolve()), format=fmt, n_rows=len(recs) - skipped, bytes=size,
                  files=[str(f) for f in files], skipped=skipped, classes=classes, cells_changed=changed)


def download(result: Export) -> tuple[str, bytes, str]:
    """``(file name, bytes, mime type)`` of an export for a download button; folders are zipped."""
    path = Path(result.path)
    mime = {"jsonl": "application/jsonl", "parquet": "application/vnd.apache.parquet", "csv": "text/csv"}
    if path.is_file():
        return path.name, path.read_bytes(), mime.get(result.format, "application/octet-stream")
    archive = shutil.make_archive(str(path), "zip", root_dir=path)
    return Path(archive).name, Path(archive).read_bytes(), "application/zip"
