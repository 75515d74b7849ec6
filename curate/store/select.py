"""SQL of the selection stage: the signals a selection reads, and the selections it records.

A selection is stored with the rows it picked (rank, combined score, each strategy's score), so a
version made from it, or a labelling queue, can show why each row is there.
"""

from __future__ import annotations

import json
from typing import Any, Sequence

import duckdb
import pyarrow as pa

from curate.store.catalog import _rows, registered, scalar


def current_signals(con: duckdb.DuckDBPyConnection, dataset_id: int, example_ids: Sequence[int]) -> pa.Table:
    """``example_id, name, value`` of the latest finished recipe run of each recipe (long form)."""
    return con.sql("""
        WITH latest AS (SELECT max(id) AS run_id FROM runs WHERE kind = 'recipe' AND dataset_id = ? AND status = 'done'
                        GROUP BY json_extract_string(params, '$.recipe'))
        SELECT s.example_id, s.name, avg(s.value) AS value FROM signals s JOIN latest USING (run_id)
        WHERE list_contains(?::BIGINT[], s.example_id) AND s.value IS NOT NULL
        GROUP BY s.example_id, s.name ORDER BY s.example_id, s.name""",
                   params=[dataset_id, [int(i) for i in example_ids]]).to_arrow_table()


def latest_margins(con: duckdb.DuckDBPyConnection, question_id: int) -> dict[int, float]:
    """Margin (top-1 minus top-2 probability) of the latest pre-label run of a question, per example."""
    rows = con.execute("""
        SELECT example_id, margin FROM prelabels
        WHERE question_id = ? AND run_id = (SELECT max(run_id) FROM prelabels WHERE question_id = ?)""",
                       [question_id, question_id]).fetchall()
    return {int(e): float(m) for e, m in rows}


def suspect_scores(con: duckdb.DuckDBPyConnection, dataset_id: int) -> dict[int, float]:
    """Examples flagged ``label_suspect`` by the latest finished suspects run of the dataset, with the score."""
    rows = con.execute("""
        WITH run AS (SELECT max(id) AS id FROM runs WHERE kind = 'suspects' AND dataset_id = ? AND status = 'done')
        SELECT i.example_id, max(i.score) FROM issues i JOIN run ON i.run_id = run.id
        WHERE i.kind = 'label_suspect' GROUP BY i.example_id""", [dataset_id]).fetchall()
    return {int(e): float(s if s is not None else 1.0) for e, s in rows}


def insert_selection(con: duckdb.DuckDBPyConnection, *, dataset_id: int, name: str, source: str, purpose: str,
                     version_id: int | None, params: dict, counters: dict, rows: pa.Table) -> int:
    """Record a selection; ``rows``: example_id, rank, score, scores (JSON text)."""
    sel_id = scalar(con.execute("""
        INSERT INTO selections (dataset_id, name, source, purpose, version_id, params, counters)
        VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id""",
        [dataset_id, name, source, purpose, version_id, json.dumps(params), json.dumps(counters)]))
    with registered(con, sel_rows=rows):
        con.execute("""INSERT INTO selection_rows SELECT ?, example_id, rank, score, scores FROM sel_rows
                       ORDER BY rank""", [sel_id])
    return sel_id


def find_selection(con: duckdb.DuckDBPyConnection, dataset_id: int, *, version_id: int | None = None,
                   name: str | None = None, purpose: str | None = None) -> dict[str, Any] | None:
    """The latest selection of a dataset matching the given version, name and purpose."""
    rows = _rows(con.execute("""
        SELECT * FROM selections WHERE dataset_id = ? AND (? IS NULL OR version_id = ?)
          AND (? IS NULL OR name = ?) AND (? IS NULL OR purpose = ?) ORDER BY id DESC LIMIT 1""",
        [dataset_id, version_id, version_id, name, name, purpose, purpose]))
    return rows[0] if rows else None


def selection_rows(con: duckdb.DuckDBPyConnection, selection_id: int,
                   example_ids: Sequence[int] | None = None) -> list[dict[str, Any]]:
    """Rows of a selection (example_id, rank, score, scores) by rank; optionally only some examples."""
    where, params = ("", [])
    if example_ids is not None:
        where, params = "AND list_contains(?::BIGINT[], example_id)", [list(example_ids)]
    return _rows(con.execute(f"""SELECT example_id, rank, score, scores FROM selection_rows
                                 WHERE selection_id = ? {where} ORDER BY rank""", [selection_id, *params]))


def save_compare(con: duckdb.DuckDBPyConnection, selection_id: int, results: Sequence[dict[str, Any]]) -> None:
    """Record a random-subset comparison: one row per model run (role, version, eval set, metric, value)."""
    for r in results:
        con.execute("""INSERT OR REPLACE INTO selection_compares VALUES (?, ?, ?, ?, ?, ?, ?)""",
                    [selection_id, r["run"], r["role"], r["version"], r["eval_set"], r["metric"], r["value"]])


def compares(con: duckdb.DuckDBPyConnection, dataset_id: int) -> list[dict[str, Any]]:
    """Every random-subset comparison of a dataset's selections, newest selection first."""
    return _rows(con.execute("""
        SELECT s.name AS selection, s.id AS selection_id, c.role, c.version, c.model_run_id AS run,
               c.eval_set, c.metric, c.value
        FROM selection_compares c JOIN selections s ON s.id = c.selection_id
        WHERE s.dataset_id = ? ORDER BY s.id DESC, c.role DESC, c.version""", [dataset_id]))
