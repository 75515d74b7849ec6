"""What models say about labels: pre-label suggestions and label-error suspects."""

from __future__ import annotations

from typing import Any, Sequence

import duckdb
import pyarrow as pa

from curate.store.catalog import _rows, registered
from curate.store.label_answers import CURRENT, first_row


# --- pre-labels and suspects -----------------------------------------------------------------------

def save_prelabels(con: duckdb.DuckDBPyConnection, run_id: int, question_id: int, table: pa.Table) -> None:
    """``table``: example_id, label, confidence, margin."""
    with registered(con, fresh_pre=table):
        con.execute("""INSERT INTO prelabels SELECT ?, ?, example_id, label, confidence, margin FROM fresh_pre""",
                    [run_id, question_id])


def prelabels(con: duckdb.DuckDBPyConnection, question_id: int, example_ids: Sequence[int] | None = None,
              *, unanswered_only: bool = False, min_confidence: float | None = None) -> list[dict[str, Any]]:
    """Suggestions of the latest pre-label run of a question."""
    where, params = [], []
    if example_ids is not None:
        where.append("list_contains(?::BIGINT[], p.example_id)")
        params.append(list(example_ids))
    if unanswered_only:
        where.append(f"p.example_id NOT IN (SELECT example_id FROM ({CURRENT}))")
        params.append(question_id)
    if min_confidence is not None:
        where.append("p.confidence >= ?")
        params.append(min_confidence)
    extra = "".join(f" AND {w}" for w in where)
    return _rows(con.execute(f"""
        SELECT p.example_id, p.label, p.confidence, p.margin, p.run_id FROM prelabels p
        WHERE p.question_id = ? AND p.run_id = (SELECT max(run_id) FROM prelabels WHERE question_id = ?){extra}
        ORDER BY p.example_id""", [question_id, question_id, *params]))


def last_prelabel_run(con: duckdb.DuckDBPyConnection, question_id: int) -> dict[str, Any] | None:
    return first_row(con, """SELECT r.* FROM runs r WHERE r.kind = 'prelabel' AND r.status = 'done'
                             AND json_extract(r.params, '$.question_id')::INTEGER = ? ORDER BY r.id DESC LIMIT 1""",
                     [question_id])


def save_suspects(con: duckdb.DuckDBPyConnection, run_id: int, table: pa.Table) -> None:
    """``table``: example_id, score (1 = surely wrong), given, suggested; written as label_suspect issues."""
    with registered(con, fresh_sus=table):
        con.execute("""INSERT INTO issues (run_id, example_id, kind, reason, score)
                       SELECT ?, example_id, 'label_suspect', 'given ' || coalesce(given, '∅') || ', model says ' || suggested,
                              score FROM fresh_sus""", [run_id])
        con.execute("INSERT INTO suspect_labels SELECT ?, example_id, given, suggested FROM fresh_sus", [run_id])


def suspects(con: duckdb.DuckDBPyConnection, dataset_id: int, question_id: int,
             example_ids: Sequence[int] | None = None) -> list[dict[str, Any]]:
    """The latest suspects run's issues of a question, most suspicious first."""
    where, params = ("AND list_contains(?::BIGINT[], i.example_id)", [list(example_ids)]) if example_ids is not None else ("", [])
    return _rows(con.execute(f"""
        WITH run AS (SELECT id FROM runs WHERE kind = 'suspects' AND dataset_id = ? AND status = 'done'
                     AND json_extract(params, '$.question_id')::INTEGER = ? ORDER BY id DESC LIMIT 1)
        SELECT coalesce(json_extract_string(e.raw, '$.id'), CAST(e.row_num AS VARCHAR)) AS id, i.example_id,
               i.score, s.given, s.suggested, i.run_id
        FROM issues i JOIN run ON i.run_id = run.id
        JOIN suspect_labels s ON s.run_id = i.run_id AND s.example_id = i.example_id
        JOIN examples e ON e.id = i.example_id
        WHERE i.kind = 'label_suspect' {where}
        ORDER BY i.score DESC, i.example_id""", [dataset_id, question_id, *params]))


