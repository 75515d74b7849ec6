"""Labelling tables: questions, annotators, append-only annotations, pre-labels and suspects.

The current answer of an annotator to a question on an example is their latest annotation (highest
id); a NULL value withdraws it. Every query here reads only current answers through ``_CURRENT``.
"""

from __future__ import annotations

import json
from typing import Any, Sequence

import duckdb
import pyarrow as pa

from curate.store.catalog import _rows, first, registered, scalar

# Current answers of one question (parameter: question id), withdrawn ones dropped.
_CURRENT = """
    SELECT example_id, annotator, value, id, origin, created_at FROM (
        SELECT example_id, annotator, value, id, origin, created_at FROM annotations WHERE question_id = ?
        QUALIFY row_number() OVER (PARTITION BY example_id, annotator ORDER BY id DESC) = 1)
    WHERE value IS NOT NULL"""


# --- questions -------------------------------------------------------------------------------------

def _question(row: dict[str, Any]) -> dict[str, Any]:
    row["options"] = json.loads(row["options"]) if row["options"] else []
    return row


def span_types(con: duckdb.DuckDBPyConnection, dataset_id: int) -> list[str]:
    """The entity types of a spans dataset's ingested spans, sorted."""
    return [r[0] for r in con.execute("""
        SELECT DISTINCT unnest(json_extract_string(spans, '$[*].label')) AS t FROM examples
        WHERE dataset_id = ? AND spans IS NOT NULL ORDER BY t""", [dataset_id]).fetchall()]


def example_text(con: duckdb.DuckDBPyConnection, example_id: int) -> str | None:
    """The ingested text of one example (span answers are checked against it)."""
    rows = con.execute("SELECT text FROM examples WHERE id = ?", [int(example_id)]).fetchall()
    return rows[0][0] if rows else None


def add_question(con: duckdb.DuckDBPyConnection, dataset_id: int, name: str, kind: str,
                 options: Sequence[str], overlap: int) -> dict[str, Any]:
    con.execute("INSERT INTO questions (dataset_id, name, kind, options, overlap) VALUES (?, ?, ?, ?, ?)",
                [dataset_id, name, kind, json.dumps(list(options)) if options else None, overlap])
    return _question(_rows(con.execute("SELECT * FROM questions WHERE dataset_id = ? AND name = ?",
                                       [dataset_id, name]))[0])


def find_question(con: duckdb.DuckDBPyConnection, dataset_id: int, name: str) -> dict[str, Any] | None:
    row = first_row(con, "SELECT * FROM questions WHERE dataset_id = ? AND name = ?", [dataset_id, name])
    return _question(row) if row is not None else None


def list_questions(con: duckdb.DuckDBPyConnection, dataset_id: int) -> list[dict[str, Any]]:
    return [_question(r) for r in _rows(con.execute(
        "SELECT * FROM questions WHERE dataset_id = ? ORDER BY id", [dataset_id]))]


def set_overlap(con: duckdb.DuckDBPyConnection, question_id: int, overlap: int) -> None:
    con.execute("UPDATE questions SET overlap = ? WHERE id = ?", [overlap, question_id])


def first_row(con: duckdb.DuckDBPyConnection, sql: str, params: list) -> dict[str, Any] | None:
    rows = _rows(con.execute(sql, params))
    return rows[0] if rows else None


# --- annotators ------------------------------------------------------------------------------------

def add_annotator(con: duckdb.DuckDBPyConnection, name: str, token_hash: str) -> None:
    con.execute("INSERT INTO annotators (name, token_hash) VALUES (?, ?)", [name, token_hash])


def annotator_by_hash(con: duckdb.DuckDBPyConnection, token_hash: str) -> str | None:
    row = first(con.execute("SELECT name FROM annotators WHERE token_hash = ?", [token_hash]))
    return row[0] if row else None


def find_annotator(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    return scalar(con.execute("SELECT count(*) FROM annotators WHERE name = ?", [name])) > 0


def set_token_hash(con: duckdb.DuckDBPyConnection, name: str, token_hash: str) -> None:
    con.execute("UPDATE annotators SET token_hash = ? WHERE name = ?", [token_hash, name])


def annotator_names(con: duckdb.DuckDBPyConnection, dataset_id: int) -> list[str]:
    """Registered annotators and everyone who answered a question of the dataset, sorted."""
    return [r[0] for r in con.execute("""
        SELECT name FROM annotators UNION SELECT annotator FROM annotations WHERE dataset_id = ?
        ORDER BY 1""", [dataset_id]).fetchall()]


def list_annotators(con: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    return _rows(con.execute("""
        SELECT a.name, a.created_at, count(n.id) AS annotations
        FROM annotators a LEFT JOIN annotations n ON n.annotator = a.name
        GROUP BY a.name, a.created_at, a.id ORDER BY a.id"""))


def count_annotators(con: duckdb.DuckDBPyConnection) -> int:
    return scalar(con.execute("SELECT count(*) FROM annotators"))


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
    return _rows(con.execute(f"SELECT * FROM ({_CURRENT}) {where} ORDER BY example_id, annotator",
                             [question_id, *params]))


def answer_history(con: duckdb.DuckDBPyConnection, question_id: int, example_id: int) -> list[dict[str, Any]]:
    return _rows(con.execute("""SELECT id, annotator, value, origin, created_at FROM annotations
                                WHERE question_id = ? AND example_id = ? ORDER BY id""", [question_id, example_id]))


def count_answers(con: duckdb.DuckDBPyConnection, question_id: int) -> int:
    return scalar(con.execute(f"SELECT count(*) FROM ({_CURRENT})", [question_id]))


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
        FROM ({_CURRENT}) c JOIN examples e ON e.id = c.example_id
        WHERE e.dataset_id = ? ORDER BY e.id, c.annotator""", [question_id, dataset_id]))


def current_labels(con: duckdb.DuckDBPyConnection, dataset_id: int, question_id: int) -> pa.Table:
    """Per example: current text, the ingest label, the human majority (ties: latest answer) and count.

    ``label`` is the human majority when anyone answered, else the ingest label."""
    return con.sql(f"""
        WITH cur AS ({_CURRENT}),
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


# --- queues ----------------------------------------------------------------------------------------

def queue(con: duckdb.DuckDBPyConnection, name: str, *, dataset_id: int, question_id: int, annotator: str,
          overlap: int, limit: int, exclude: Sequence[int] = ()) -> list[int]:
    """Example ids of one queue, in the order an annotator should see them (see ``curate.label.queues``)."""
    excl = [int(i) for i in exclude]
    common = [question_id]
    if name == "unlabelled":
        sql = f"""
            WITH c AS (SELECT example_id, count(*) AS n, bool_or(annotator = ?) AS mine FROM ({_CURRENT}) GROUP BY ALL)
            SELECT e.id FROM examples e LEFT JOIN c ON c.example_id = e.id
            WHERE e.dataset_id = ? AND coalesce(c.n, 0) < ? AND NOT coalesce(c.mine, false)
              AND NOT list_contains(?::BIGINT[], e.id)
            ORDER BY e.id LIMIT ?"""
        params = [annotator, *common, dataset_id, overlap, excl, limit]
    elif name == "mine":
        sql = f"""SELECT example_id FROM ({_CURRENT}) WHERE annotator = ? AND NOT list_contains(?::BIGINT[], example_id)
                  ORDER BY id DESC LIMIT ?"""
        params = [*common, annotator, excl, limit]
    elif name == "disagreements":
        sql = f"""SELECT example_id FROM ({_CURRENT}) GROUP BY example_id
                  HAVING count(DISTINCT value) > 1 AND NOT list_contains(?::BIGINT[], example_id)
                  ORDER BY example_id LIMIT ?"""
        params = [*common, excl, limit]
    elif name == "suspects":
        sql = f"""
            WITH run AS (SELECT id, started_at FROM runs WHERE kind = 'suspects' AND dataset_id = ? AND status = 'done'
                         AND json_extract(params, '$.question_id')::INTEGER = ? ORDER BY id DESC LIMIT 1),
            reviewed AS (SELECT c.example_id FROM ({_CURRENT}) c, run WHERE c.annotator = ? AND c.created_at > run.started_at)
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
            WHERE p.question_id = ? AND p.example_id NOT IN (SELECT example_id FROM ({_CURRENT}))
              AND NOT list_contains(?::BIGINT[], p.example_id)
            ORDER BY {order}, p.example_id LIMIT ?"""
        params = [question_id, question_id, *common, excl, limit]
    elif name == "selected":
        sql = f"""
            WITH sel AS (SELECT max(id) AS id FROM selections WHERE dataset_id = ? AND purpose = 'label')
            SELECT r.example_id FROM selection_rows r JOIN sel ON r.selection_id = sel.id
            WHERE r.example_id NOT IN (SELECT example_id FROM ({_CURRENT}) WHERE annotator = ?)
              AND NOT list_contains(?::BIGINT[], r.example_id)
            ORDER BY r.rank LIMIT ?"""
        params = [dataset_id, *common, annotator, excl, limit]
    else:
        raise ValueError(name)
    return [r[0] for r in con.execute(sql, params).fetchall()]


def example_views(con: duckdb.DuckDBPyConnection, ids: Sequence[int]) -> list[dict[str, Any]]:
    """Examples with the current value of each field (latest edit, else the raw field)."""
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
               e.response AS raw_response, e.messages AS raw_messages
        FROM examples e LEFT JOIN cur c ON c.example_id = e.id
        WHERE list_contains(?::BIGINT[], e.id) ORDER BY e.id""", [list(ids), list(ids)]))


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
        where.append(f"p.example_id NOT IN (SELECT example_id FROM ({_CURRENT}))")
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


def question_counts(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """Dataset name → number of questions."""
    return dict(con.execute("""SELECT d.name, count(q.id) FROM datasets d LEFT JOIN questions q ON q.dataset_id = d.id
                               GROUP BY d.name""").fetchall())


def first_examples(con: duckdb.DuckDBPyConnection, dataset_id: int, n: int) -> list[dict[str, Any]]:
    """The first ``n`` examples of a dataset (id, label, response), for the demo."""
    return _rows(con.execute("SELECT id, label, response FROM examples WHERE dataset_id = ? ORDER BY id LIMIT ?",
                             [dataset_id, n]))
