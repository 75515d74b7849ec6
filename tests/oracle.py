"""What ingest must do with a file, decided with Python's own readers (not curate's code).

``expect(case)`` raises ``Refuse`` when the file must be refused, else returns the records ingest
must store in order, as ``(record, text, label)``: the parsed JSON record, its ``text`` field and its
``label`` field as curate stores it (a string; ``""`` and null are no label).
The JSON rule is RFC 8259 with no duplicate keys and at most ``MAX_DEPTH`` levels of nesting;
classification records need a string ``text`` and a string or 64-bit integer ``label``, one type per
dataset; a CSV cell is always a string.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import math
import zlib

import pyarrow as pa
import pyarrow.parquet as pq
import zstandard

from hostile import MAX_DEPTH, Case, Refuse


class Either(Refuse):
    """Python's reader fails where another may rightly succeed: refusing or accepting are both right."""


def _pairs(pairs):
    if len({k for k, _ in pairs}) != len(pairs):
        raise Refuse("duplicate key")
    return dict(pairs)


def _constant(name):
    raise Refuse(f"{name} is not JSON")


def _depth(value, level: int = 1) -> int:
    if isinstance(value, dict):
        return max([_depth(v, level + 1) for v in value.values()], default=level)
    if isinstance(value, list):
        return max([_depth(v, level + 1) for v in value], default=level)
    return level - 1


def _check_strings(value) -> None:
    """DuckDB refuses lone surrogate escapes (which Python accepts); so must curate."""
    if isinstance(value, str):
        value.encode("utf-8")
    elif isinstance(value, dict):
        for k, v in value.items():
            _check_strings(k)
            _check_strings(v)
    elif isinstance(value, list):
        for v in value:
            _check_strings(v)


def strict_json(text: str, *, array_of_records: bool = False):
    """One record (or, ``array_of_records``, a JSON file's array whose elements are the records)."""
    try:
        value = json.loads(text, object_pairs_hook=_pairs, parse_constant=_constant)
        _check_strings(value)
    except (ValueError, RecursionError, UnicodeEncodeError) as exc:
        raise Refuse(str(exc)) from None
    records = value if array_of_records and isinstance(value, list) else [value]
    if any(_depth(r) > MAX_DEPTH for r in records):
        raise Refuse("too deep")
    return value


def _decompressed(case: Case) -> bytes:
    data = case.path.read_bytes()
    try:
        if case.compression == ".gz":
            return gzip.decompress(data)
        if case.compression == ".zst":
            out = b""
            while data:
                frame = zstandard.ZstdDecompressor().decompressobj()
                out += frame.decompress(data)
                if not frame.eof:
                    raise Refuse("zstd frame cut off")
                data = frame.unused_data
            return out
    except (OSError, EOFError, zlib.error, zstandard.ZstdError) as exc:
        raise Refuse(f"bad archive: {exc}") from None
    return data


def _text(data: bytes) -> str:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")) or (len(data) > 3 and b"\x00" in data[:2]):
        raise Refuse("utf-16")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise Refuse("not utf-8") from None


def _jsonl(text: str) -> list:
    lines = [ln[:-1] if ln.endswith("\r") else ln for ln in text.split("\n")]
    return [strict_json(ln) for ln in lines if ln]


def _csv(text: str, delim: str) -> list:
    if text.startswith("\ufeff"):
        raise Refuse("double BOM")
    try:
        rows = [r for r in csv.reader(io.StringIO(text, newline=""), delimiter=delim, strict=True) if r]
    except csv.Error as exc:
        raise Refuse(f"not CSV: {exc}") from None
    if not rows:
        raise Refuse("empty")
    header, body = rows[0], rows[1:]
    if len(set(header)) != len(header) or "" in header:
        raise Refuse("bad header")
    if any(len(r) != len(header) for r in body):
        raise Refuse("ragged")
    return [dict(zip(header, r)) for r in body]


def _classification(records: list) -> list[tuple]:
    if not records:
        raise Refuse("empty")
    for rec in records:
        if not isinstance(rec, dict):
            raise Refuse("not an object")
    sample_keys = {k for rec in records[:200] for k in rec}
    if "text" not in sample_keys:
        raise Refuse("no text column")
    labelled = "label" in sample_keys
    out, kind = [], None
    for rec in records:
        text, label = rec.get("text"), rec.get("label") if labelled else None
        if not isinstance(text, str):
            raise Refuse("text is not a string")
        if isinstance(label, bool) or (label is not None and not isinstance(label, (str, int))):
            raise Refuse("bad label type")
        if isinstance(label, int) and not -2**63 <= label < 2**64:
            raise Refuse("label out of range")
        if label is not None:
            this = type(label).__name__
            if kind and this != kind:
                raise Refuse("mixed label types")
            kind = kind or this
        out.append((rec, text, None if label in (None, "") else str(label)))
    return out


def _table_records(table: pa.Table) -> list:
    try:
        table.validate(full=True)
        rows = table.to_pylist()
    except (pa.ArrowException, UnicodeDecodeError) as exc:
        raise Refuse(f"invalid Arrow data: {exc}") from None
    for row in rows:
        for value in row.values():
            if isinstance(value, float) and not math.isfinite(value):
                raise Refuse("NaN in a column")
    return rows


def _hf_records(root) -> list:
    """Rows of an HF save_to_disk folder read with json and pyarrow (splits in dataset_dict order)."""
    try:
        if (root / "dataset_dict.json").exists():
            folders = [root / s for s in json.loads((root / "dataset_dict.json").read_text())["splits"]]
        else:
            folders = [root]
        rows = []
        for folder in folders:
            if root.resolve() not in folder.resolve().parents and folder.resolve() != root.resolve():
                raise Refuse("split outside the folder")
            for entry in json.loads((folder / "state.json").read_text())["_data_files"]:
                with pa.memory_map(str(folder / entry["filename"])) as mm:
                    rows += _table_records(pa.ipc.open_stream(mm).read_all())
        return rows
    except (pa.ArrowException, OSError, ValueError, KeyError, TypeError) as exc:
        raise Refuse(f"corrupt HF folder: {exc}") from None


def expect(case: Case, csv_delim: str | None = None) -> list[tuple]:
    """The records ingest must store for ``case``, or ``Refuse``."""
    if case.format == "parquet":
        try:
            table = pq.read_table(case.path)
        except (pa.ArrowException, OSError, UnicodeDecodeError) as exc:
            raise Either(str(exc)) from None  # e.g. a damaged pandas/arrow schema note that DuckDB ignores
        return _classification(_table_records(table))
    if case.format == "hf":
        return _classification(_hf_records(case.path))
    text = _text(_decompressed(case))
    if case.format == "jsonl":
        return _classification(_jsonl(text))
    if case.format == "json":
        if not text.strip():
            raise Refuse("empty")
        value = strict_json(text, array_of_records=True)
        if not isinstance(value, list):
            raise Refuse("not an array")
        return _classification(value)
    return _classification(_csv(text, csv_delim or ("\t" if case.format == "tsv" else ",")))
