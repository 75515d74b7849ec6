"""SQL of the clean-and-score stage: current field values, edits, signals, issues, marks, run skipping.

A recipe run reads each field's current value *as it was before this recipe*: the raw field, else the
latest edit not written by an earlier run of the same recipe on the dataset. So re-running a recipe
with other thresholds starts from the same input, and an identical re-run can be recognised and skipped.
"""

from __future__ import annotations

from typing import Any

import duckdb
import pyarrow as pa

from curate.store.catalog import _rows, registered, scalar

FIELDS = ("text", "label", "instruction", "input", "response", "messages")
KIND = "recipe"


def _own_runs_sql() -> str:
    return ("SELECT id FROM runs WHERE kind = 'recipe' AND dataset_id = $ds "
            "AND json_extract_string(params, '$.recipe') = $recipe")


def current_values(con: duckdb.DuckDBPyConnection, dataset_id: int, recipe: str) -> pa.Table:
    """``id`` and every field of a dataset, each the latest edit not from ``recipe``'s runs, else raw."""
    return con.sql(_current_values_sql(), params={"ds": dataset_id, "recipe": recipe}).to_arrow_table()


def current_value_batches(con: duckdb.DuckDBPyConnection, dataset_id: int, recipe: str,
                          batch_rows: int) -> pa.RecordBatchReader:
    """``current_values`` as a stream of record batches (read it whole before using ``con`` again)."""
    return con.sql(_current_values_sql(), params={"ds": dataset_id, "recipe": recipe}).to_arrow_reader(batch_rows)


def _current_values_sql() -> str:
    cur = ",\n".join(f"max(value) FILTER (WHERE field = '{f}') AS {f}, bool_or(field = '{f}') AS has_{f}"
                     for f in FIELDS)
    pick = ", ".join(f"CASE WHEN c.has_{f} THEN c.{f} ELSE x.{f} END AS {f}" for f in FIELDS)
    sql = f"""
        WITH latest AS (
            SELECT e.example_id, e.field, arg_max_null(e.value, e.id) AS value
            FROM edits e JOIN examples x ON x.id = e.example_id AND x.dataset_id = $ds
            WHERE e.run_id IS NULL OR e.run_id NOT IN ({_own_runs_sql()})
            GROUP BY e.example_id, e.field),
        cur AS (SELECT example_id, {cur} FROM latest GROUP BY example_id)
        SELECT x.id, {pick}
        FROM examples x LEFT JOIN cur c ON c.example_id = x.id
        WHERE x.dataset_id = $ds ORDER BY x.id"""
    return sql


def input_fingerprint(con: duckdb.DuckDBPyConnection, dataset_id: int, recipe: str,
                      with_marks: bool = False) -> str:
    """A hash of what a run of ``recipe`` reads: the examples, other authors' edits and (optionally) marks."""
    sql = f"""
        SELECT md5(concat_ws('|',
            (SELECT coalesce(string_agg(concat(id, ':', content_hash), ',' ORDER BY id), '')
             FROM examples WHERE dataset_id = $ds),
            (SELECT coalesce(string_agg(concat(e.example_id, ':', e.field, ':', md5(coalesce(e.value, ''))),
                                        ',' ORDER BY e.id), '')
             FROM edits e JOIN examples x ON x.id = e.example_id AND x.dataset_id = $ds
             WHERE e.run_id IS NULL OR e.run_id NOT IN ({_own_runs_sql()})),
            CASE WHEN $marks THEN (SELECT coalesce(string_agg(concat(example_id, ':', coalesce(mark, '-')),
                                                              ',' ORDER BY id), '')
                                   FROM quality_marks WHERE dataset_id = $ds) ELSE '' END))"""
    return scalar(con.execute(sql, {"ds": dataset_id, "recipe": recipe, "marks": with_marks}))


def find_identical_run(con: duckdb.DuckDBPyConnection, dataset_id: int, key: str) -> dict[str, Any] | None:
    """The latest finished recipe run on the dataset with the same run key (params + input), if any."""
    rows = _rows(con.execute("""
        SELECT * FROM runs WHERE kind = 'recipe' AND dataset_id = ? AND status = 'done'
          AND json_extract_string(params, '$.key') = ? ORDER BY id DESC LIMIT 1""", [dataset_id, key]))
    return rows[0] if rows else None


def save_edits(con: duckdb.DuckDBPyConnection, run_id: int, edits: pa.Table) -> None:
    """Insert edits (``example_id, field, value, author``); call once per step so later steps get higher ids."""
    if edits.num_rows == 0:
        return
    with registered(con, new_edits=edits):
        con.execute("""INSERT INTO edits (example_id, field, value, author, run_id)
                       SELECT example_id, field, value, author, ? FROM new_edits ORDER BY example_id""", [run_id])


def save_signals(con: duckdb.DuckDBPyConnection, run_id: int, signals: pa.Table) -> None:
    """Insert signals in long form (``example_id, name, value``)."""
    if signals.num_rows == 0:
        return
    with registered(con, new_signals=signals):
        con.execute("INSERT INTO signals (run_id, example_id, name, value) "
                    "SELECT ?, example_id, name, value FROM new_signals", [run_id])


def save_issues(con: duckdb.DuckDBPyConnection, run_id: int, issues: pa.Table) -> None:
    """Insert issues (``example_id, kind, reason, score``)."""
    if issues.num_rows == 0:
        return
    with registered(con, new_issues=issues):
        con.execute("INSERT INTO issues (run_id, example_id, kind, reason, score) "
                    "SELECT ?, example_id, kind, reason, score FROM new_issues", [run_id])


def recipe_runs(con: duckdb.DuckDBPyConnection, dataset_id: int) -> list[dict[str, Any]]:
    """The dataset's recipe runs, newest first."""
    return _rows(con.execute("SELECT * FROM runs WHERE kind = 'recipe' AND dataset_id = ? ORDER BY id DESC",
                             [dataset_id]))


def run_signals(con: duckdb.DuckDBPyConnection, run_id: int) -> pa.Table:
    """A run's signals in long form: ``example_id, name, value``."""
    return con.sql("SELECT example_id, name, value FROM signals WHERE run_id = ? ORDER BY example_id, name",
                   params=[run_id]).to_arrow_table()


def run_issues(con: duckdb.DuckDBPyConnection, run_id: int) -> pa.Table:
    return con.sql("SELECT example_id, kind, reason, score FROM issues WHERE run_id = ? ORDER BY example_id",
                   params=[run_id]).to_arrow_table()


def values_after_run(con: duckdb.DuckDBPyConnection, run_id: int, ids: list[int]) -> list[dict[str, Any]]:
    """Fields of some examples as a run left them: the run's latest edit of each field, else the raw value."""
    if not ids:
        return []
    pick = ", ".join(f"coalesce(max(e.value) FILTER (WHERE e.field = '{f}'), any_value(x.{f})) AS {f}" for f in FIELDS)
    with registered(con, wanted_ids=pa.table({"id": pa.array(ids, pa.int64())})):
        return _rows(con.execute(f"""
            WITH last AS (
                SELECT example_id, field, arg_max(value, id) AS value FROM edits
                WHERE run_id = ? AND example_id IN (SELECT id FROM wanted_ids) GROUP BY example_id, field)
            SELECT x.id, {pick}
            FROM examples x JOIN wanted_ids w USING (id) LEFT JOIN last e ON e.example_id = x.id
            GROUP BY x.id ORDER BY x.id""", [run_id]))


def run_edits(con: duckdb.DuckDBPyConnection, run_id: int, limit_per_author: int = 5) -> list[dict[str, Any]]:
    """Before/after pairs of a run's edits: ``before`` is the previous edit of the run, else the raw field."""
    return _rows(con.execute("""
        WITH e AS (
            SELECT id, example_id, field, value, author,
                   lag(value) OVER (PARTITION BY example_id, field ORDER BY id) AS prev,
                   row_number() OVER (PARTITION BY author ORDER BY example_id) AS n
            FROM edits WHERE run_id = ?)
        SELECT e.author, e.example_id, e.field,
               coalesce(e.prev, CASE e.field WHEN 'text' THEN x.text WHEN 'instruction' THEN x.instruction
                                WHEN 'input' THEN x.input WHEN 'response' THEN x.response
                                WHEN 'messages' THEN x.messages END) AS before,
               e.value AS after
        FROM e JOIN examples x ON x.id = e.example_id
        WHERE e.n <= ? ORDER BY e.author, e.example_id""", [run_id, limit_per_author]))


def edit_counts(con: duckdb.DuckDBPyConnection, run_id: int) -> dict[str, int]:
    """Edits per author (``op:<name>``) of a run."""
    return dict(con.execute("SELECT author, count(*) FROM edits WHERE run_id = ? GROUP BY author ORDER BY author",
                            [run_id]).fetchall())


def current_issues(con: duckdb.DuckDBPyConnection, dataset_id: int) -> pa.Table:
    """Issues of the latest finished run of each recipe on the dataset (what a version should exclude)."""
    return con.sql("""
        WITH latest AS (
            SELECT max(id) AS run_id FROM runs
            WHERE kind = 'recipe' AND dataset_id = ? AND status = 'done'
            GROUP BY json_extract_string(params, '$.recipe'))
        SELECT i.example_id, i.kind, i.reason, i.run_id FROM issues i JOIN latest USING (run_id)
        ORDER BY i.example_id""", params=[dataset_id]).to_arrow_table()


def add_marks(con: duckdb.DuckDBPyConnection, dataset_id: int, example_ids: list[int], mark: str | None,
              author: str) -> int:
    """Mark examples of the dataset good or bad (``None`` clears); returns how many were found."""
    with registered(con, marked=pa.table({"id": pa.array(example_ids, pa.int64())})):
        rows = con.execute("""
            INSERT INTO quality_marks (dataset_id, example_id, mark, author)
            SELECT ?, x.id, ?, ? FROM examples x JOIN marked USING (id) WHERE x.dataset_id = ?
            RETURNING example_id""", [dataset_id, mark, author, dataset_id]).fetchall()
    return len(rows)


def marks(con: duckdb.DuckDBPyConnection, dataset_id: int) -> dict[int, str]:
    """Current marks of a dataset: example id → 'good' | 'bad'."""
    return dict(con.execute("""
        SELECT example_id, mark FROM (
            SELECT example_id, arg_max_null(mark, id) AS mark FROM quality_marks WHERE dataset_id = ?
            GROUP BY example_id) WHERE mark IS NOT NULL""", [dataset_id]).fetchall())
