"""DuckDB's own readers for the columnar and array formats, streamed as Arrow batches of raw JSON.

Each scan runs on a private cursor of the process's in-memory DuckDB (``workspace.scratch``), so it never holds the workspace's lock and its
stream is not disturbed by the inserts that consume it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

import pyarrow as pa

from curate.store.catalog import registered
from curate.store.workspace import scratch

BATCH_ROWS = 50_000


def _stream(sql: str, params: list, batch_rows: int) -> Iterator[pa.RecordBatch]:
    with scratch() as con:
        yield from con.sql(sql, params=params).to_arrow_reader(batch_rows)


def csv_raw(path: Path, columns: list[str], delim: str, *, batch_rows: int = BATCH_ROWS) -> Iterator[pa.RecordBatch]:
    """Rows of a CSV/TSV (header first) as JSON objects of strings; empty cells stay ``""``.

    Strict: a row with too many or too few cells raises DuckDB's error, which names the line.
    """
    quoted = [f"'{c.replace(chr(39), chr(39) * 2)}'" for c in columns]
    spec = "{" + ", ".join(f"{q}: 'VARCHAR'" for q in quoted) + "}"
    # force_not_null: no cell is ever null (an empty cell is ""; no string is taken for a null marker)
    sql = f"""SELECT to_json(t)::VARCHAR AS raw FROM read_csv(?, header = true, columns = {spec},
                  auto_detect = false, delim = ?, quote = '"', escape = '"', strict_mode = true,
                  null_padding = false, force_not_null = [{', '.join(quoted)}], max_line_size = 100000000) t"""
    return _stream(sql, [str(path), delim], batch_rows)


def json_array_raw(path: Path, *, batch_rows: int = BATCH_ROWS) -> Iterator[pa.RecordBatch]:
    """Elements of a JSON array file, each as its own JSON text."""
    sql = "SELECT json::VARCHAR AS raw FROM read_json_objects(?, format = 'array', maximum_object_size = 1000000000)"
    return _stream(sql, [str(path)], batch_rows)


def parquet_raw(path: Path, *, batch_rows: int = BATCH_ROWS) -> Iterator[pa.RecordBatch]:
    """Rows of a Parquet file as JSON objects, columns in file order."""
    sql = "SELECT to_json(t)::VARCHAR AS raw FROM read_parquet(?) t"
    return _stream(sql, [str(path)], batch_rows)


def arrow_raw(batches: Iterator[pa.RecordBatch], *, batch_rows: int = BATCH_ROWS) -> Iterator[pa.RecordBatch]:
    """Rows of in-memory Arrow batches (an HF ``save_to_disk`` file) as JSON objects."""
    with scratch() as con:
        for batch in batches:
            with registered(con, cols=pa.Table.from_batches([batch])):
                yield from con.sql("SELECT to_json(cols)::VARCHAR AS raw FROM cols").to_arrow_reader(batch_rows)
