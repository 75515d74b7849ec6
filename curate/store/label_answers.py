"""Append-only annotations: writes, current answers, import keys and the current labels of a dataset.

The current answer of an annotator to a question on an example is their latest annotation (highest
id); a NULL value withdraws it. Every query here reads only current answers through ``CURRENT``.
"""

from __future__ import annotations

from typing import Any, Sequence

import duckdb
import pyarrow as pa

from curate.store.catalog import _rows, registered, scalar

# Current answers of one question (parameter: question id), withdrawn ones dropped.
CURRENT = """
    SELECT example_id, annotator, value, id, origin, created_at FROM (
        SELECT example_id, annotator, value, id, origin, created_at FROM annotations WHERE question_id = ?
        QUALIFY row_number() OVER (PARTITION BY example_id, annotator ORDER BY id DESC) = 1)
    WHERE value IS NOT NULL"""



def first_row(con: duckdb.DuckDBPyConnection, sql: str, params: list) -> dict[str, Any] | None:
    rows = _rows(con.execute(sql, params))
    return rows[0] if rows else None


# --- annotations -----------------------------------------------------------------------------------

def insert_annotation(con: duckdb.DuckDBPyConnection, *, example_id: int, dataset_id: int, question_id: int,
                      annotator: str, value: str | None, origin: str, run_id: int | None = None) -> int:
    return scalar(con.execute("""
        INSERT INTO annotations (example_id, dataset_id, question_id, annotator, value, origin, run_id)
        VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id""",
                              [example_id, dataset_id, question_id, annotator, value, origin, run_id]))


def insert_annotations(con: duckdb.DuckDBPyConnection, table: pa.Table, *, dataset_id: int, question_id: int,
                       origin: str, run_id: int | None = None) -> int:
    """Bulk-append answers from an Arrow table with ``example_id``, ``annotator``, ``value``."""
    with registered(con, fresh_answers=table):
        con.execute("""
            INSERT INTO annotations (example_id, dataset_id, question_id, annotator, value, origin, run_id)
            SELECT example_id, ?, ?, annotator, value, ?, ? FROM fresh_answers ORDER BY example_id""",
                    [dataset_id, question_id, origin, run_id])
    return table.num_rows


def insert_edit(con: duckdb.DuckDBPyConnection, example_id: int, field: str, value: str, author: str) -> None:
    con.execute("INSERT INTO edits (example_id, field, value, author) VALUES (?, ?, ?, ?)",
                [example_id, field, value, author])


def example_in_dataset(con: duckdb.DuckDBPyConnection, example_id: int, dataset_id: int) -> bool:
    return scalar(con.execute("SELECT count(*) FROM examples WHERE id = ? AND dataset_id = ?",
                              [example_id, dataset_id])) > 0


def current_answers(con: duckdb.DuckDBPyConnection, question_id: int,
                    example_ids: Sequence[int] | None = None) -> list[dict[str, Any]]:
    """Current answers (example_id, annotator, value, id, origin), by example then annotator."""
    where, params = ("WHERE list_contains(?::BIGINT[], example_id)", [list(example_ids)]) if example_ids is not None else ("", [])
    return _rows(con.execute(f"SELECT * FROM ({CURRENT}) {where} ORDER BY example_id, annotator",
                             [question_id, *params]))


def answer_history(con: duckdb.DuckDBPyConnection, question_id: int, example_id: int) -> list[dict[str, Any]]:
    return _rows(con.execute("""SELECT id, annotator, value, origin, created_at FROM annotations
                                WHERE question_id = ? AND example_id = ? ORDER BY id""", [question_id, example_id]))


def count_answers(con: duckdb.DuckDBPyConnection, question_id: int) -> int:
    return scalar(con.execute(f"SELECT count(*) FROM ({CURRENT})", [question_id]))


def resolve_keys(con: duckdb.DuckDBPyConnection, dataset_id: int, keys: list[str]) -> dict[str, int]:
    """Map import keys to example ids: the raw record's ``id`` field, else the (1-based) row number.

    With several sources, a row number names the row of the first source holding it."""
    with registered(con, wanted_keys=pa.table({"key": keys})):
        rows = con.execute("""
            WITH ex AS (SELECT id, row_num, json_extract_string(raw, '$.id') AS rid FROM examples WHERE dataset_id = ?),
            by_id AS (SELECT k.key, min(ex.id) AS id FROM wanted_keys k JOIN ex ON ex.rid = k.key GROUP BY k.key),
            by_row AS (SELECT k.key, min(ex.id) AS id FROM wanted_keys k JOIN ex ON ex.rid IS NULL
                         AND CAST(ex.row_num AS VARCHAR) = k.key GROUP BY k.key)
            SELECT key, id FROM by_id UNION ALL
            SELECT key, id FROM by_row WHERE key NOT IN (SELECT key FROM by_id)""", [dataset_id]).fetchall()
    return dict(rows)


def resolve_texts(con: duckdb.DuckDBPyConnection, dataset_id: int, texts: list[str]) -> dict[str, int]:
    """Map texts to the example whose ``text`` is exactly it (the first, by id)."""
    with registered(con, wanted_texts=pa.table({"t": pa.array(texts, pa.string())})):
        return dict(con.execute("""SELECT w.t, min(e.id) FROM wanted_texts w JOIN examples e ON e.text = w.t
                                   WHERE e.dataset_id = ? GROUP BY w.t""", [dataset_id]).fetchall())


def export_answers(con: duckdb.DuckDBPyConnection, dataset_id: int, question_id: int) -> list[dict[str, Any]]:
    """Current answers with the key ``import`` understands (raw ``id`` else row number)."""
    return _rows(con.execute(f"""
        SELECT coalesce(json_extract_string(e.raw, '$.id'), CAST(e.row_num AS VARCHAR)) AS id, e.id AS example_id,
               c.annotator, c.value, c.origin, c.created_at
        FROM ({CURRENT}) c JOIN examples e ON e.id = c.example_id
        WHERE e.dataset_id = ? ORDER BY e.id, c.annotator""", [question_id, dataset_id]))


def current_labels(con: duckdb.DuckDBPyConnection, dataset_id: int, question_id: int) -> pa.Table:
    """Per example: current text, the ingest label, the human majority (ties: latest answer) and count.

    ``label`` is the human majority when anyone answered, else the ingest label."""
    return con.sql(f"""
        WITH cur AS ({CURRENT}),
        votes AS (SELECT example_id, value, count(*) AS n, max(id) AS last FROM cur GROUP BY ALL),
        major AS (SELECT example_id, value FROM votes
                  QUALIFY row_number() OVER (PARTITION BY example_id ORDER BY n DESC, last DESC) = 1),
        answered AS (SELECT example_id, count(*) AS n_answers FROM cur GROUP BY ALL),
        ed AS (SELECT example_id, value FROM edits WHERE field = 'text'
               AND example_id IN (SELECT id FROM examples WHERE dataset_id = ?)
               QUALIFY row_number() OVER (PARTITION BY example_id ORDER BY id DESC) = 1)
        SELECT e.id AS example_id, coalesce(ed.value, e.text, concat_ws(chr(10), e.instruction, e.input, e.response),
                        e.messages) AS text, e.label AS given,
               coalesce(m.value, e.label) AS label, coalesce(a.n_answers, 0) AS n_answers
        FROM examples e LEFT JOIN major m ON m.example_id = e.id LEFT JOIN answered a ON a.example_id = e.id
        LEFT JOIN ed ON ed.example_id = e.id
        WHERE e.dataset_id = ? ORDER BY e.id""", params=[question_id, dataset_id, dataset_id]).to_arrow_table()


