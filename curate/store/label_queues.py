"""Queues of examples to label and the current view of the examples they hold."""

from __future__ import annotations

from typing import Any, Sequence

import duckdb

from curate.store.catalog import _rows
from curate.store.label_answers import CURRENT


# What two answers must share to agree: the whole value, but a preference answer's choice alone.
DECIDED = """CASE WHEN starts_with(value, '{"choice"') AND json_valid(value)
                   THEN json_extract_string(value, '$.choice') ELSE value END"""


# --- queues ----------------------------------------------------------------------------------------

def queue(con: duckdb.DuckDBPyConnection, name: str, *, dataset_id: int, question_id: int, annotator: str,
          overlap: int, limit: int, exclude: Sequence[int] = ()) -> list[int]:
    """Example ids of one queue, in the order an annotator should see them (see ``curate.label.queues``)."""
    excl = [int(i) for i in exclude]
    common = [question_id]
    if name == "unlabelled":
        sql = f"""
            WITH c AS (SELECT example_id, count(*) AS n, bool_or(annotator = ?) AS mine FROM ({CURRENT}) GROUP BY ALL)
            SELECT e.id FROM examples e LEFT JOIN c ON c.example_id = e.id
            WHERE e.dataset_id = ? AND coalesce(c.n, 0) < ? AND NOT coalesce(c.mine, false)
              AND NOT list_contains(?::BIGINT[], e.id)
            ORDER BY e.id LIMIT ?"""
        params = [annotator, *common, dataset_id, overlap, excl, limit]
    elif name == "mine":
        sql = f"""SELECT example_id FROM ({CURRENT}) WHERE annotator = ? AND NOT list_contains(?::BIGINT[], example_id)
                  ORDER BY id DESC LIMIT ?"""
        params = [*common, annotator, excl, limit]
    elif name == "disagreements":  # a preference answer by its choice (not its reason nor the side shown)
        sql = f"""SELECT example_id FROM ({CURRENT}) GROUP BY example_id
                  HAVING count(DISTINCT {DECIDED}) > 1 AND NOT list_contains(?::BIGINT[], example_id)
                  ORDER BY example_id LIMIT ?"""
        params = [*common, excl, limit]
    elif name == "suspects":
        sql = f"""
            WITH run AS (SELECT id, started_at FROM runs WHERE kind = 'suspects' AND dataset_id = ? AND status = 'done'
                         AND json_extract(params, '$.question_id')::INTEGER = ? ORDER BY id DESC LIMIT 1),
            reviewed AS (SELECT c.example_id FROM ({CURRENT}) c, run WHERE c.annotator = ? AND c.created_at > run.started_at)
            SELECT i.example_id FROM issues i JOIN run ON i.run_id = run.id
            WHERE i.kind = 'label_suspect' AND i.example_id NOT IN (SELECT example_id FROM reviewed)
              AND NOT list_contains(?::BIGINT[], i.example_id)
            ORDER BY i.score DESC, i.example_id LIMIT ?"""
        params = [dataset_id, question_id, *common, annotator, excl, limit]
    elif name in ("uncertain", "prelabel_low"):
        order = "p.margin" if name == "uncertain" else "p.confidence"
        sql = f"""
            WITH run AS (SELECT max(run_id) AS id FROM prelabels WHERE question_id = ?)
            SELECT p.example_id FROM prelabels p JOIN run ON p.run_id = run.id
            WHERE p.question_id = ? AND p.example_id NOT IN (SELECT example_id FROM ({CURRENT}))
              AND NOT list_contains(?::BIGINT[], p.example_id)
            ORDER BY {order}, p.example_id LIMIT ?"""
        params = [question_id, question_id, *common, excl, limit]
    elif name == "selected":
        sql = f"""
            WITH sel AS (SELECT max(id) AS id FROM selections WHERE dataset_id = ? AND purpose = 'label')
            SELECT r.example_id FROM selection_rows r JOIN sel ON r.selection_id = sel.id
            WHERE r.example_id NOT IN (SELECT example_id FROM ({CURRENT}) WHERE annotator = ?)
              AND NOT list_contains(?::BIGINT[], r.example_id)
            ORDER BY r.rank LIMIT ?"""
        params = [dataset_id, *common, annotator, excl, limit]
    else:
        raise ValueError(name)
    return [r[0] for r in con.execute(sql, params).fetchall()]


def example_views(con: duckdb.DuckDBPyConnection, ids: Sequence[int]) -> list[dict[str, Any]]:
    """Examples with the current value of each field (latest edit, else the raw field), the ingested
    ``raw_text`` (span offsets count its characters); spans, chosen and rejected (spans and preference
    tasks) as stored JSON text."""
    return _rows(con.execute("""
        WITH ed AS (SELECT example_id, field, value FROM edits WHERE list_contains(?::BIGINT[], example_id)
                    QUALIFY row_number() OVER (PARTITION BY example_id, field ORDER BY id DESC) = 1),
        cur AS (SELECT example_id, max(value) FILTER (WHERE field = 'text') AS text,
                       max(value) FILTER (WHERE field = 'instruction') AS instruction,
                       max(value) FILTER (WHERE field = 'input') AS input,
                       max(value) FILTER (WHERE field = 'response') AS response,
                       max(value) FILTER (WHERE field = 'messages') AS messages,
                       count(*) FILTER (WHERE field = 'response' OR field = 'messages') AS response_edits
                FROM ed GROUP BY example_id)
        SELECT e.id, e.row_num, e.label, coalesce(c.text, e.text) AS text,
               coalesce(c.instruction, e.instruction) AS instruction, coalesce(c.input, e.input) AS input,
               coalesce(c.response, e.response) AS response, coalesce(c.messages, e.messages) AS messages,
               e.text AS raw_text, e.response AS raw_response, e.messages AS raw_messages, e.spans, e.chosen,
               e.rejected
        FROM examples e LEFT JOIN cur c ON c.example_id = e.id
        WHERE list_contains(?::BIGINT[], e.id) ORDER BY e.id""", [list(ids), list(ids)]))


