"""Dedup tables: clusters and members per run, people's decisions, and ``is_dup`` issues.

The current dedup result of a dataset is its latest finished ``dedup`` run. Field names in SQL
come only from ``FIELD_SQL`` below; every value is a bound parameter.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import duckdb
import pyarrow as pa

from curate.store.catalog import _rows, first, registered, scalar
from curate.store.workspace import scratch

if TYPE_CHECKING:
    import numpy as np

# The SQL of each comparable field (``curate.dedup.fields.COMPARABLE_FIELDS``), per task: name → (column read,
# SQL over the current value ``v_<column>`` of that column).
_ALL = "array_to_string(list_transform(json_extract({col}, '$[*]'), lambda x: x->>'content'), chr(10))"
_USER = "list_transform(list_filter(json_extract(v_messages, '$[*]'), lambda x: x->>'role' = '{role}'), lambda x: x->>'content')"
FIELD_SQL: dict[str, dict[str, tuple[str, str]]] = {
    "classification": {"text": ("text", "v_text")},
    "sft": {"instruction": ("instruction", "v_instruction"), "input": ("input", "v_input"),
            "response": ("response", "v_response")},
    "chat": {"user": ("messages", f"array_to_string({_USER.format(role='user')}, chr(10))"),
             "assistant": ("messages", f"array_to_string({_USER.format(role='assistant')}, chr(10))"),
             "messages": ("messages", _ALL.format(col="v_messages"))},
    "spans": {"text": ("text", "v_text")},
    "preference": {"prompt": ("messages", _ALL.format(col="v_messages")),
                   "chosen": ("chosen", _ALL.format(col="v_chosen")),
                   "rejected": ("rejected", _ALL.format(col="v_rejected"))},
}


def revision(con: duckdb.DuckDBPyConnection, dataset_id: int) -> tuple[int, int]:
    """Changes whenever the dataset's rows or edits change (row count, newest edit id)."""
    row = first(con.execute("""
        SELECT (SELECT count(*) FROM examples WHERE dataset_id = ?),
               (SELECT coalesce(max(ed.id), 0) FROM edits ed JOIN examples e ON e.id = ed.example_id
                WHERE e.dataset_id = ?)""", [dataset_id, dataset_id])) or (0, 0)   # one row always
    return int(row[0]), int(row[1])


def doc_texts(con: duckdb.DuckDBPyConnection, dataset_id: int, task: str, fields: list[str],
              ids: list[int] | None = None) -> pa.Table:
    """``(id, text)`` in id order: the chosen fields' current values (latest edit, else the raw
    field) joined by newlines."""
    sql, params = _doc_texts_sql(dataset_id, task, fields, ids is not None)
    wanted = {"wanted_ids": pa.table({"id": pa.array(ids, pa.int64())})} if ids is not None else {}
    with registered(con, **wanted):
        return con.sql(sql, params=params).to_arrow_table()


def doc_text_batches(con: duckdb.DuckDBPyConnection, dataset_id: int, task: str, fields: list[str],
                     batch_rows: int) -> pa.RecordBatchReader:
    """``doc_texts`` of the whole dataset as a stream of batches (read it whole before using ``con`` again)."""
    sql, params = _doc_texts_sql(dataset_id, task, fields, False)
    return con.sql(sql, params=params).to_arrow_reader(batch_rows)


def _doc_texts_sql(dataset_id: int, task: str, fields: list[str], some: bool) -> tuple[str, list]:
    columns = sorted({FIELD_SQL[task][f][0] for f in fields})
    joins, values = [], []
    for i, col in enumerate(columns):
        joins.append(f"LEFT JOIN cur c{i} ON c{i}.example_id = e.id AND c{i}.field = '{col}'")
        values.append(f"coalesce(c{i}.value, e.{col}) AS v_{col}")
    text = "concat_ws(chr(10), " + ", ".join(f"nullif({FIELD_SQL[task][f][1]}, '')" for f in fields) + ")"
    where = "e.dataset_id = ?" + (" AND e.id IN (SELECT id FROM wanted_ids)" if some else "")
    sql = f"""
        WITH cur AS (
            SELECT ed.example_id, ed.field, arg_max(ed.value, ed.id) AS value
            FROM edits ed JOIN examples x ON x.id = ed.example_id
            WHERE x.dataset_id = ? AND ed.field IN ({', '.join('?' for _ in columns)})
            GROUP BY ed.example_id, ed.field),
        v AS (SELECT e.id, {', '.join(values)} FROM examples e {' '.join(joins)} WHERE {where})
        SELECT id, coalesce({text}, '') AS text FROM v ORDER BY id"""
    return sql, [dataset_id, *columns, dataset_id]


def latest_run(con: duckdb.DuckDBPyConnection, dataset_id: int) -> dict[str, Any] | None:
    rows = _rows(con.execute("""SELECT * FROM runs WHERE kind = 'dedup' AND dataset_id = ? AND status = 'done'
                                ORDER BY id DESC LIMIT 1""", [dataset_id]))
    return rows[0] if rows else None


def decisions(con: duckdb.DuckDBPyConnection, dataset_id: int) -> list[dict[str, Any]]:
    return _rows(con.execute("SELECT * FROM dup_decisions WHERE dataset_id = ? ORDER BY id", [dataset_id]))


def add_decision(con: duckdb.DuckDBPyConnection, dataset_id: int, run_id: int | None, action: str,
                 members: list[int], canonical_id: int | None, split_out: list[int] | None, author: str) -> int:
    return scalar(con.execute("""
        INSERT INTO dup_decisions (dataset_id, run_id, action, canonical_id, members, split_out, author)
        VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id""",
        [dataset_id, run_id, action, canonical_id, members, split_out or None, author]))


def write_clusters(con: duckdb.DuckDBPyConnection, run_id: int, dataset_id: int, clusters: pa.Table,
                   members: pa.Table, reason: str) -> None:
    """Insert a run's clusters and members (Arrow tables) and an ``is_dup`` issue per ``dup`` member.

    ``clusters``: cluster_id, size, canonical_id, status, decision_id;
    ``members``: cluster_id, example_id, role, similarity.
    """
    with registered(con, new_clusters=clusters, new_members=members):
        con.execute("""INSERT INTO dup_clusters (run_id, cluster_id, dataset_id, size, canonical_id, status, decision_id)
                       SELECT ?, cluster_id, ?, size, canonical_id, status, decision_id FROM new_clusters""",
                    [run_id, dataset_id])
        con.execute("""INSERT INTO dup_members (run_id, cluster_id, example_id, role, similarity)
                       SELECT ?, cluster_id, example_id, role, similarity FROM new_members""", [run_id])
    _write_issues(con, run_id, reason, None)


def _write_issues(con: duckdb.DuckDBPyConnection, run_id: int, reason: str, cluster_id: int | None) -> None:
    extra, params = ("AND m.cluster_id = ?", [cluster_id]) if cluster_id is not None else ("", [])
    con.execute(f"""
        INSERT INTO issues (run_id, example_id, kind, reason, score)
        SELECT m.run_id, m.example_id, 'is_dup',
               printf('%s duplicate of example %d (cluster %d)', ?, c.canonical_id, m.cluster_id), m.similarity
        FROM dup_members m JOIN dup_clusters c USING (run_id, cluster_id)
        WHERE m.run_id = ? AND m.role = 'dup' {extra}""", [reason, run_id, *params])


def update_cluster(con: duckdb.DuckDBPyConnection, run_id: int, cluster_id: int, *, canonical_id: int | None,
                   status: str, decision_id: int, roles: dict[int, str], similarity: dict[int, float],
                   reason: str) -> None:
    """Re-write one cluster of a run after a decision, with its members' roles and ``is_dup`` issues."""
    con.execute("UPDATE dup_clusters SET canonical_id = ?, status = ?, decision_id = ? WHERE run_id = ? AND cluster_id = ?",
                [canonical_id, status, decision_id, run_id, cluster_id])
    table = pa.table({"example_id": pa.array(list(roles), pa.int64()), "role": list(roles.values()),
                      "similarity": pa.array([similarity.get(m) for m in roles], pa.float64())})
    with registered(con, upd=table):
        con.execute("""UPDATE dup_members SET role = upd.role, similarity = upd.similarity FROM upd
                       WHERE dup_members.run_id = ? AND dup_members.example_id = upd.example_id""", [run_id])
    con.execute("""DELETE FROM issues WHERE run_id = ? AND kind = 'is_dup'
                   AND example_id IN (SELECT example_id FROM dup_members WHERE run_id = ? AND cluster_id = ?)""",
                [run_id, run_id, cluster_id])
    _write_issues(con, run_id, reason, cluster_id)


def list_clusters(con: duckdb.DuckDBPyConnection, run_id: int, *, limit: int = 100, offset: int = 0,
                  status: str | None = None) -> list[dict[str, Any]]:
    """A run's clusters, largest first, with the decision (action, author) applied to each."""
    where, params = ("AND c.status = ?", [status]) if status else ("", [])
    return _rows(con.execute(f"""
        SELECT c.cluster_id, c.size, c.canonical_id, c.status, c.decision_id, d.action, d.author
        FROM dup_clusters c LEFT JOIN dup_decisions d ON d.id = c.decision_id
        WHERE c.run_id = ? {where} ORDER BY c.size DESC, c.cluster_id LIMIT ? OFFSET ?""",
                             [run_id, *params, int(limit), int(offset)]))


def cluster(con: duckdb.DuckDBPyConnection, run_id: int, cluster_id: int) -> dict[str, Any] | None:
    rows = _rows(con.execute("""
        SELECT c.cluster_id, c.size, c.canonical_id, c.status, c.decision_id, d.action, d.author
        FROM dup_clusters c LEFT JOIN dup_decisions d ON d.id = c.decision_id
        WHERE c.run_id = ? AND c.cluster_id = ?""", [run_id, cluster_id]))
    return rows[0] if rows else None


def members(con: duckdb.DuckDBPyConnection, run_id: int, cluster_id: int) -> list[dict[str, Any]]:
    """A cluster's members: canonical first, then by similarity to it."""
    return _rows(con.execute("""
        SELECT example_id, role, similarity FROM dup_members WHERE run_id = ? AND cluster_id = ?
        ORDER BY role <> 'canonical', similarity DESC NULLS LAST, example_id""", [run_id, cluster_id]))


def sizes(con: duckdb.DuckDBPyConnection, run_id: int) -> list[int]:
    return [r[0] for r in con.execute("SELECT size FROM dup_clusters WHERE run_id = ? ORDER BY size DESC",
                                      [run_id]).fetchall()]


def is_dup_ids(con: duckdb.DuckDBPyConnection, run_id: int) -> list[int]:
    """Example ids flagged ``is_dup`` by a run."""
    return [r[0] for r in con.execute("SELECT example_id FROM issues WHERE run_id = ? AND kind = 'is_dup' "
                                      "ORDER BY example_id", [run_id]).fetchall()]


def export_rows(con: duckdb.DuckDBPyConnection, dataset_id: int, run_id: int) -> pa.Table:
    """One row per example: its public id (the raw record's ``id``, else its source row number), its
    cluster (NULL when none) and the public id of the row it is kept in favour of (itself if kept)."""
    return con.sql("""
        WITH pub AS (
            SELECT e.id, coalesce(json_extract(e.raw, '$.id'), to_json(e.row_num)) AS pid
            FROM examples e WHERE e.dataset_id = ?)
        SELECT p.pid::VARCHAR AS id,
               CASE WHEN c.status = 'split' OR m.role = 'split' THEN NULL ELSE m.cluster_id END AS cluster,
               CASE WHEN m.role = 'dup' THEN cp.pid ELSE p.pid END::VARCHAR AS canonical
        FROM pub p
        LEFT JOIN dup_members m ON m.example_id = p.id AND m.run_id = ?
        LEFT JOIN dup_clusters c ON c.run_id = m.run_id AND c.cluster_id = m.cluster_id
        LEFT JOIN pub cp ON cp.id = c.canonical_id
        ORDER BY p.id""", params=[dataset_id, run_id]).to_arrow_table()


def latest_by_method(con: duckdb.DuckDBPyConnection, dataset_id: int) -> list[dict[str, Any]]:
    """The latest finished dedup run of each method on a dataset (for the report)."""
    return _rows(con.execute("""
        SELECT id, params->>'method' AS method, params, counters, finished_at FROM runs
        WHERE kind = 'dedup' AND dataset_id = ? AND status = 'done'
        QUALIFY row_number() OVER (PARTITION BY params->>'method' ORDER BY id DESC) = 1
        ORDER BY id""", [dataset_id]))


# --- vectorised hashing for shingles, on a scratch cursor (never the workspace's store) -----------

def hash_strings(values: pa.Array) -> np.ndarray:
    """DuckDB's 64-bit ``hash`` of each string, as a uint64 numpy array."""
    import numpy as np

    with scratch() as con, registered(con, v=pa.table({"s": values})):
        out = con.sql("SELECT hash(s) AS h FROM v").to_arrow_table().column("h")
    return out.to_numpy().astype(np.uint64, copy=False)


def char_ngram_hashes(norm: pa.Array, n: int) -> pa.Table:
    """Per text (in order), the hashes of its ``n``-character substrings (the whole text if shorter,
    none if empty), as a table with one list column ``h``."""
    import numpy as np

    with scratch() as con, registered(con, v=pa.table({"s": norm, "d": pa.array(np.arange(len(norm)))})):
        return con.sql(f"""
            SELECT d, CASE WHEN length(s) = 0 THEN []::UBIGINT[]
                           WHEN length(s) < {int(n)} THEN [hash(s)]
                           ELSE list_transform(range(1, length(s) - {int(n)} + 2),
                                               lambda i: hash(substr(s, i, {int(n)}))) END AS h
            FROM v ORDER BY d""").to_arrow_table()


def text_digests(values: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """The 128-bit MD5 of each string as two uint64 numpy arrays (lower, upper 64 bits): a key for exact
    dedup that a shuffle can move instead of the text (two different texts share it with probability ~2^-128)."""
    import numpy as np

    with scratch() as con, registered(con, v=pa.table({"s": values})):
        out = con.sql("SELECT md5_number_lower(s) AS lo, md5_number_upper(s) AS hi FROM v").to_arrow_table()
    return (out.column("lo").to_numpy().astype(np.uint64, copy=False),
            out.column("hi").to_numpy().astype(np.uint64, copy=False))
