"""Readers turn one source (file or HF folder) into Arrow batches of raw JSON records.

Every reader yields tables with ``row_num`` (1-based: the line of a JSONL file, else the record's
position), ``raw`` (the record as JSON text; a JSONL line may still end in its line break, which the
store strips) and ``split`` (an HF DatasetDict split, else null).
Memory stays bounded: nothing reads a whole file into Python.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import duckdb
import numpy as np
import pyarrow as pa

from curate.errors import InputError
from curate.ingest import strict
from curate.ingest.csvfile import csv_header, prescan
from curate.ingest.jsonl import jsonl_batches, jsonl_head
from curate.ingest.streams import check_encoding_start, open_binary, reading
from curate.store import scan
TEXT_FORMATS = {".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "json", ".csv": "csv", ".tsv": "tsv", ".conll": "conll"}
COMPRESSIONS = {".gz": "gzip", ".zst": "zstd"}
SUPPORTED = "JSONL, JSON, CSV, TSV, CoNLL (optionally .gz/.zst), Parquet, or an HF save_to_disk folder"


@dataclass(frozen=True)
class Source:
    """A file or folder to ingest, with its detected format."""

    path: Path
    format: str            # jsonl | json | csv | tsv | conll | parquet | hf
    compression: str | None = None

    @property
    def line_based(self) -> bool:
        return self.format in ("jsonl", "conll")

    def where(self, row_num: int) -> dict[str, int]:
        """How an error names a record: by line for JSONL, else by row."""
        return {"line": row_num} if self.line_based else {"row": row_num}


def detect(path: str | Path) -> Source:
    """Detect a source's format from its name (and, for folders, the HF files inside)."""
    path = Path(path)
    if not path.exists():
        raise InputError(path, "no such file or folder", fix="check the path")
    if path.is_dir():
        if (path / "dataset_dict.json").exists() or (path / "state.json").exists():
            return Source(path, "hf")
        raise InputError(path, "folder is not a dataset (no dataset_dict.json or state.json inside)",
                         fix="pass a folder written by Dataset.save_to_disk / DatasetDict.save_to_disk, or the files in it")
    suffixes = [s.lower() for s in path.suffixes]
    compression = COMPRESSIONS.get(suffixes[-1]) if suffixes else None
    if compression:
        suffixes = suffixes[:-1]
    ext = suffixes[-1] if suffixes else ""
    if ext == ".parquet" and not compression:
        return Source(path, "parquet")
    if ext in TEXT_FORMATS:
        return Source(path, TEXT_FORMATS[ext], compression)
    raise InputError(path, f"unknown file type {''.join(path.suffixes) or '(no extension)'}",
                     fix=f"use one of {SUPPORTED}")


def sha256(source: Source) -> str:
    """Content hash of the source as stored (every file of an HF folder, in name order)."""
    digest = hashlib.sha256()
    files = sorted(p for p in source.path.rglob("*") if p.is_file()) if source.path.is_dir() else [source.path]
    for file in files:
        if source.path.is_dir():
            digest.update(str(file.relative_to(source.path)).encode())
        with open(file, "rb") as fh:
            while chunk := fh.read(1 << 20):
                digest.update(chunk)
    return digest.hexdigest()


def _numbered(batches: Iterator[pa.RecordBatch], split: str | None = None, start: int = 1) -> Iterator[pa.Table]:
    row = start
    for batch in batches:
        n = batch.num_rows
        yield pa.table({"row_num": np.arange(row, row + n, dtype=np.int64), "raw": batch.column("raw")})
        row += n


def _reader_error(source: Source, exc: Exception) -> InputError:
    """Turn DuckDB's multi-line reader error (or Arrow's wrapping of it) into our one line."""
    import re

    text = str(exc)
    line = re.search(r"[Ll]ine:? (\d+)", text) or re.search(r"record/value (\d+)", text)
    where = {"line": int(line.group(1))} if line and source.line_based else (
        {"row": int(line.group(1))} if line else {})
    cols = re.search(r"Expected Number of Columns: (\d+) Found: (\d+)", text)
    if cols:
        return InputError(source.path, f"row has {cols.group(2)} cells but the header has {cols.group(1)}",
                          line=int(line.group(1)) if line else None,
                          fix="quote cells that contain the delimiter, or fix the row's cell count")
    first = text.replace("Invalid Input Error: ", "").splitlines()[0] if text else type(exc).__name__
    if "JSON" in text:
        detail = re.sub(r' in file "[^"]*",?', "", first.split(": ", 1)[-1])[:160]
        return InputError(source.path, f"malformed JSON ({detail})", **where, fix="fix the JSON or export it again")
    if "unicode" in text.lower() or "utf" in text.lower():
        return InputError(source.path, "not valid UTF-8", **where, fix="re-save the file as UTF-8")
    return InputError(source.path, first[:200], **where, fix=f"check that it is valid {source.format.upper()}")


def _strict_error(source: Source, table: pa.Table, bad: tuple[int, str, str] | None) -> None:
    if bad:
        pos, problem, fix = bad
        raise InputError(source.path, problem, **source.where(table.column("row_num")[pos].as_py()), fix=fix)


def _checked(source: Source, batches: Iterator[pa.Table]) -> Iterator[pa.Table]:
    """Batches with reader errors as one line, and every record of a JSON source held to ``strict``.

    A batch is screened on a second thread while the caller inserts it (both release the GIL); a
    violation raises when the caller asks for the next batch, so its transaction rolls back.
    """
    from concurrent.futures import ThreadPoolExecutor

    screen = source.format not in ("csv", "tsv")
    try:
        with ThreadPoolExecutor(1, thread_name_prefix="curate-strict") as pool:
            pending = None
            for table in batches:
                if pending:
                    _strict_error(source, *pending[0], pending[1].result())
                pending = ((table,), pool.submit(strict.first_violation, table.column("raw"))) if screen else None
                yield table
            if pending:
                _strict_error(source, *pending[0], pending[1].result())
    except UnicodeDecodeError:  # DuckDB quoting the file's bad bytes in its own message
        raise InputError(source.path, "not valid UTF-8", fix="re-save the file as UTF-8") from None
    except (duckdb.Error, pa.ArrowException, OSError) as exc:
        if isinstance(exc, OSError) and not str(exc).startswith(("Invalid Input", "IO Error", "Conversion")):
            raise
        raise _reader_error(source, exc) from None


def _json_array_closed(source: Source) -> None:
    """A JSON array file must end in ``]``: DuckDB reads ``[{...}, {...},`` (cut off) as two records."""
    tail = b""
    with reading(source), open_binary(source) as fh:
        head = fh.read(1 << 16)
        check_encoding_start(source, head[:4])
        start = head[3:] if head.startswith(b"\xef\xbb\xbf") else head
        if start.strip(b" \t\r\n") and not start.lstrip(b" \t\r\n").startswith(b"["):
            raise InputError(source.path, "not a JSON array (a .json file must be one array [...])",
                             fix="wrap the records in [...], or name a file of one object per line .jsonl")
        tail = head[-4096:]
        if source.compression is None:
            fh.seek(max(0, source.path.stat().st_size - 4096))
        while chunk := fh.read(1 << 20):
            tail = (tail + chunk)[-4096:]
    body = tail.rstrip(b" \t\r\n")
    if body and not body.endswith(b"]"):
        raise InputError(source.path, "JSON array is not closed (the file looks cut off)",
                         fix="export or copy the file again; a JSON file must be one array [...]")
    if body and body[:-1].rstrip(b" \t\r\n").endswith(b","):
        raise InputError(source.path, "JSON array ends with a trailing comma (not JSON)",
                         fix="remove the comma before the closing ]")


def _conll_batches(source: Source) -> Iterator[pa.Table]:
    from curate.ingest import conll

    with open_binary(source) as fh:
        yield from conll.batches(fh, str(source.path))


def batches(source: Source) -> Iterator[pa.Table]:
    """All records of a source as Arrow tables of (row_num, raw, split)."""
    from curate.ingest import hf

    if source.format == "jsonl":
        stream = jsonl_batches(source)
    elif source.format in ("csv", "tsv"):
        header, delim = csv_header(source)
        prescan(source, len(header), delim)
        stream = _numbered(scan.csv_raw(source.path, header, delim))
    elif source.format == "json":
        _json_array_closed(source)
        stream = _numbered(scan.json_array_raw(source.path))
    elif source.format == "parquet":
        stream = _numbered(scan.parquet_raw(source.path))
    elif source.format == "conll":
        stream = _conll_batches(source)
    else:
        stream = hf.batches(source, _numbered)
    with reading(source):
        for table in _checked(source, stream):
            if "split" not in table.column_names:
                table = table.append_column("split", pa.nulls(table.num_rows, pa.string()))
            yield table


def _head(source: Source, n: int) -> Iterator[tuple[int, str]]:
    if source.format == "jsonl":
        yield from jsonl_head(source, n)
        return
    for table in batches(source):
        head = table.slice(0, n)
        yield from zip(head.column("row_num").to_pylist(), head.column("raw").to_pylist())
        n -= head.num_rows
        if n <= 0:
            return


def peek(source: Source, n: int = 200) -> list[dict]:
    """The first ``n`` records, parsed by the same strict rule as every record, for task detection
    and the upload preview."""
    out: list[dict] = []
    for row_num, raw in _head(source, n):
        try:
            record = strict.loads(raw)
        except strict.NotStrict as exc:
            raise InputError(source.path, exc.problem, **source.where(row_num), fix=exc.fix) from None
        except json.JSONDecodeError as exc:
            raise InputError(source.path, f"malformed JSON ({exc.msg} at column {exc.colno})",
                             **source.where(row_num), fix="fix or remove this line") from None
        if not isinstance(record, dict):
            raise InputError(source.path, f"record is a JSON {type(record).__name__}, not an object",
                             **source.where(row_num), fix="each record must be an object like {\"text\": ...}")
        out.append(record)
    return out
