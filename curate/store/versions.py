"""SQL of the versions stage: a dataset's rows as they stand, versions, their rows, eval sets, exports.

A dataset "as it stands" is, per example: the current value of each field (its latest edit by id,
else the examples column), the final label by a label rule over the current annotations, the
current issues (those of the latest finished run of each producer: the dedup run, each recipe, each
suspects question) and its cluster in the latest dedup run. Versions copy that into ``version_rows``
once and never change it. Identifiers in SQL come only from this module; values are bound.
"""

from __future__ import annotations

import json
from typing import Any

import duckdb
import pyarrow as pa

from curate.store.catalog import _rows, first, registered, scalar
from curate.store.workspace import scratch
from curate.store.dedup import FIELD_SQL

FIELDS = ("text", "label", "instruction", "input", "response", "messages", "spans", "chosen", "rejected")
ROW_COLUMNS = ("example_id", "split", "grp", *FIELDS, "label_source", "edits", "dup")
SPLIT_ORDER = "CASE split WHEN 'train' THEN 0 WHEN 'validation' THEN 1 ELSE 2 END"
# Which current answers decide the label, per label rule (see current_rows).
_RULE_CTE = {"majority": "major", "adjudicated": "latest_answer", "annotator": "mine"}


def has_table(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    return scalar(con.execute("SELECT count(*) FROM information_schema.tables WHERE table_name = ? AND table_catalog = current_database()", [name])) > 0


# --- the dataset as it stands ----------------------------------------------------------------------

def label_question(con: duckdb.DuckDBPyConnection, dataset_id: int, kind: str = "label") -> int | None:
    """The dataset's question of ``kind`` whose answers a version takes (``label``: the single-label
    question named ``label`` first; ``spans``, ``preference``: the first one), if labelling made one."""
    if not has_table(con, "questions"):
        return None
    row = first(con.execute("""SELECT id FROM questions WHERE dataset_id = ? AND kind = ?
                               ORDER BY name <> 'label', id LIMIT 1""", [dataset_id, kind]))
    return row[0] if row else None


def current_rows(con: duckdb.DuckDBPyConnection, dataset_id: int, *, rule: str = "ingested",
                 annotator: str | None = None, question_id: int | None = None,
                 group_path: str | None = None, choices: bool = False) -> pa.Table:
    """Every example of a dataset with its current fields, final label and where it came from.

    Columns: ``example_id``, the fields (``label`` final), ``label_source`` (``majority``,
    ``adjudicated``, ``annotator:<name>``, ``edit:<author>`` or ``ingested``), ``edits`` (JSON
    field → author of the edit in force, NULL when none) and ``grp_value`` (the raw record's
    ``group_path`` value, NULL without one). ``rule`` is ``ingested``, ``majority``, ``adjudicated``
    or ``annotator`` (with ``annotator``); without a question every rule gives the current label field.
    ``choices``: the answers are preference answers, counted by their choice alone (reasons dropped).
    """
    pick = ",\n".join(f"CASE WHEN c.has_{f} THEN c.{f} ELSE x.{f} END AS {f}" for f in FIELDS)
    cur = ",\n".join(f"max(value) FILTER (WHERE field = '{f}') AS {f}, bool_or(field = '{f}') AS has_{f}"
                     for f in FIELDS)
    params: dict[str, Any] = {"ds": dataset_id, "gpath": group_path or "$.__none__"}
    answers = ""
    label_expr, source_expr = "b.label", ("CASE WHEN b.has_label THEN 'edit:' || json_extract_string(b.edits, '$.label') "
                                          "ELSE 'ingested' END")
    if rule != "ingested" and question_id is not None:
        answers = """,
        ans AS (SELECT example_id, annotator, value, id FROM annotations WHERE question_id = $q
                QUALIFY row_number() OVER (PARTITION BY example_id, annotator ORDER BY id DESC) = 1),
        given AS (SELECT example_id, annotator, {vote} AS value, id FROM ans WHERE value IS NOT NULL),
        votes AS (SELECT example_id, value, count(*) AS n, max(id) AS last FROM given GROUP BY ALL),
        major AS (SELECT example_id, value FROM votes
                  QUALIFY row_number() OVER (PARTITION BY example_id ORDER BY n DESC, last DESC) = 1),
        latest_answer AS (SELECT example_id, arg_max(value, id) AS value FROM given GROUP BY example_id),
        mine AS (SELECT example_id, value FROM given WHERE annotator = $who)""".replace(
            "{vote}", "json_object('choice', json_extract_string(value, '$.choice'))::VARCHAR" if choices else "value")
        params.update(q=question_id, who=annotator or "")
        name = f"annotator:{annotator}" if rule == "annotator" else rule
        label_expr = "coalesce(r.value, b.label)"
        source_expr = f"CASE WHEN r.value IS NOT NULL THEN '{name.replace(chr(39), chr(39) * 2)}' ELSE {source_expr} END"
    join_rule = f"LEFT JOIN {_RULE_CTE[rule]} r ON r.example_id = b.example_id" if answers else ""
    sql = f"""
        WITH ed AS (
            SELECT e.example_id, e.field, arg_max_null(e.value, e.id) AS value, arg_max(e.author, e.id) AS author
            FROM edits e JOIN examples x ON x.id = e.example_id AND x.dataset_id = $ds
            GROUP BY e.example_id, e.field),
        cur AS (SELECT example_id, {cur}, json_group_object(field, author)::VARCHAR AS edits
                FROM ed GROUP BY example_id),
        base AS (
            SELECT x.id AS example_id, {pick}, c.edits, c.has_label,
                   json_extract_string(x.raw, $gpath) AS grp_value
            FROM examples x LEFT JOIN cur c ON c.example_id = x.id WHERE x.dataset_id = $ds){answers}
        SELECT b.example_id, b.text, {label_expr} AS label, b.instruction, b.input, b.response, b.messages,
               b.spans, b.chosen, b.rejected,
               {source_expr} AS label_source, b.edits, b.grp_value
        FROM base b {join_rule}
        ORDER BY b.example_id"""
    return con.sql(sql, params=params).to_arrow_table()


def current_issues(con: duckdb.DuckDBPyConnection, dataset_id: int) -> list[dict[str, Any]]:
    """Current issues of a dataset: those of the latest finished run of each producer (the dedup
    run, each recipe, each question's suspects run), by example."""
    return _rows(con.execute("""
        WITH latest AS (
            SELECT max(id) AS run_id FROM runs WHERE dataset_id = ? AND status = 'done'
            GROUP BY kind, json_extract_string(params, '$.recipe'), json_extract_string(params, '$.question_id'))
        SELECT i.example_id, i.kind, i.reason, i.run_id FROM issues i JOIN latest USING (run_id)
        JOIN examples x ON x.id = i.example_id AND x.dataset_id = ?
        ORDER BY i.example_id, i.run_id, i.kind""", [dataset_id, dataset_id]))


def latest_dedup_run(con: duckdb.DuckDBPyConnection, dataset_id: int) -> int | None:
    if not has_table(con, "dup_members"):
        return None
    row = first(con.execute("""SELECT id FROM runs WHERE kind = 'dedup' AND dataset_id = ? AND status = 'done'
                               ORDER BY id DESC LIMIT 1""", [dataset_id]))
    return row[0] if row else None


def dup_membership(con: duckdb.DuckDBPyConnection, run_id: int) -> list[dict[str, Any]]:
    """Members of a dedup run's clusters: cluster, role, cluster status and the decision applied."""
    return _rows(con.execute("""
        SELECT m.example_id, m.cluster_id, m.role, c.status, d.action AS decision
        FROM dup_members m JOIN dup_clusters c USING (run_id, cluster_id)
        LEFT JOIN dup_decisions d ON d.id = c.decision_id
        WHERE m.run_id = ? ORDER BY m.example_id""", [run_id]))


def runs_named(con: duckdb.DuckDBPyConnection, run_ids: list[int]) -> list[dict[str, Any]]:
    """``id``, ``kind`` and recipe name of some runs (a version's provenance)."""
    if not run_ids:
        return []
    return _rows(con.execute("""SELECT id, kind, json_extract_string(params, '$.recipe') AS recipe,
                                       json_extract_string(params, '$.method') AS method, finished_at
                                FROM runs WHERE list_contains(?::INTEGER[], id) ORDER BY id""", [run_ids]))


def compare_texts(fields: pa.Table, task: str, names: list[str]) -> list[str]:
    """The text dedup compares for each row of ``fields`` (columns: the six fields), built by the
    dedup stage's own ``FIELD_SQL`` so versions and dedup shingle the same thing."""
    text = "concat_ws(chr(10), " + ", ".join(f"nullif({FIELD_SQL[task][f][1]}, '')" for f in names) + ")"
    cols = ", ".join(f"{f} AS v_{f}" for f in FIELDS)
    table = fields.select(list(FIELDS)).append_column("n", pa.array(range(fields.num_rows), pa.int64()))
    with scratch() as con, registered(con, rows_in=table):
        out = con.sql(f"SELECT coalesce({text}, '') AS t FROM (SELECT n, {cols} FROM rows_in) ORDER BY n").to_arrow_table()
    return out.column("t").to_pylist()


# --- versions --------------------------------------------------------------------------------------

def find_version(con: duckdb.DuckDBPyConnection, dataset_id: int, name: str) -> dict[str, Any] | None:
    rows = _rows(con.execute("""
        SELECT v.*, d.name AS dataset FROM versions v JOIN datasets d ON d.id = v.dataset_id
        WHERE v.dataset_id = ? AND v.name = ?""", [dataset_id, name]))
    return rows[0] if rows else None


def get_version_by_id(con: duckdb.DuckDBPyConnection, version_id: int) -> dict[str, Any] | None:
    rows = _rows(con.execute("""
        SELECT v.*, d.name AS dataset FROM versions v JOIN datasets d ON d.id = v.dataset_id
        WHERE v.id = ?""", [version_id]))
    return rows[0] if rows else None


def list_versions(con: duckdb.DuckDBPyConnection, dataset_id: int) -> list[dict[str, Any]]:
    return _rows(con.execute("""
        SELECT v.*, d.name AS dataset, p.name AS parent FROM versions v JOIN datasets d ON d.id = v.dataset_id
        LEFT JOIN versions p ON p.id = v.parent_id
        WHERE v.dataset_id = ? ORDER BY v.id""", [dataset_id]))


def latest_version_id(con: duckdb.DuckDBPyConnection, dataset_id: int) -> int | None:
    row = first(con.execute("SELECT max(id) FROM versions WHERE dataset_id = ?", [dataset_id]))
    return row[0] if row else None


def insert_version(con: duckdb.DuckDBPyConnection, *, dataset_id: int, name: str, parent_id: int | None,
                   note: str | None, task: str, params: dict, source_runs: list, counters: dict,
                   rows: pa.Table, dropped: pa.Table) -> int:
    """Insert a version with its rows (``ROW_COLUMNS``) and dropped examples (example_id, reason, detail)."""
    version_id = scalar(con.execute("""
        INSERT INTO versions (dataset_id, name, parent_id, note, task, params, source_runs, counters, n_rows)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id""",
        [dataset_id, name, parent_id, note, task, json.dumps(params), json.dumps(source_runs),
         json.dumps(counters), rows.num_rows]))
    with registered(con, new_rows=rows, new_dropped=dropped):
        con.execute(f"""INSERT INTO version_rows (version_id, {', '.join(ROW_COLUMNS)})
                        SELECT ?, {', '.join(ROW_COLUMNS)} FROM new_rows ORDER BY example_id""", [version_id])
        con.execute("""INSERT INTO version_dropped (version_id, example_id, reason, detail)
                       SELECT ?, example_id, reason, detail FROM new_dropped ORDER BY example_id""", [version_id])
    return version_id


def version_rows(con: duckdb.DuckDBPyConnection, version_id: int, split: str | None = None,
                 columns: tuple[str, ...] = ("example_id", "split", *FIELDS)) -> pa.Table:
    """A version's rows in a stable order: train, validation, test, then example id."""
    cols = ", ".join(c for c in columns if c in ROW_COLUMNS)
    where, params = ("AND split = ?", [split]) if split else ("", [])
    return con.sql(f"SELECT {cols} FROM version_rows WHERE version_id = ? {where} ORDER BY {SPLIT_ORDER}, example_id",
                   params=[version_id, *params]).to_arrow_table()


def dropped(con: duckdb.DuckDBPyConnection, version_id: int) -> list[dict[str, Any]]:
    return _rows(con.execute("SELECT example_id, reason, detail FROM version_dropped WHERE version_id = ? "
                             "ORDER BY example_id", [version_id]))


def split_counts(con: duckdb.DuckDBPyConnection, version_id: int) -> list[dict[str, Any]]:
    """Rows per split and label."""
    return _rows(con.execute(f"""SELECT split, label, count(*) AS n FROM version_rows WHERE version_id = ?
                                 GROUP BY split, label ORDER BY min({SPLIT_ORDER}), label NULLS FIRST""",
                             [version_id]))


def diff_rows(con: duckdb.DuckDBPyConnection, a: int, b: int) -> list[dict[str, Any]]:
    """Rows in either version that were added, removed or differ, with both sides' values and the
    other side's drop reason."""
    fields = ", ".join(f"ra.{f} AS a_{f}, rb.{f} AS b_{f}" for f in FIELDS)
    differ = " OR ".join(f"ra.{f} IS DISTINCT FROM rb.{f}" for f in (*FIELDS, "split"))
    return _rows(con.execute(f"""
        WITH ra AS (SELECT * FROM version_rows WHERE version_id = $a),
             rb AS (SELECT * FROM version_rows WHERE version_id = $b)
        SELECT coalesce(ra.example_id, rb.example_id) AS example_id, ra.example_id IS NOT NULL AS in_a,
               rb.example_id IS NOT NULL AS in_b, ra.split AS a_split, rb.split AS b_split, {fields},
               ra.label_source AS a_label_source, rb.label_source AS b_label_source,
               ra.edits AS a_edits, rb.edits AS b_edits, ra.dup AS a_dup, rb.dup AS b_dup,
               da.reason AS a_dropped, da.detail AS a_dropped_detail,
               db.reason AS b_dropped, db.detail AS b_dropped_detail
        FROM ra FULL OUTER JOIN rb ON ra.example_id = rb.example_id
        LEFT JOIN version_dropped da ON da.version_id = $a AND da.example_id = coalesce(ra.example_id, rb.example_id)
        LEFT JOIN version_dropped db ON db.version_id = $b AND db.example_id = coalesce(ra.example_id, rb.example_id)
        WHERE ra.example_id IS NULL OR rb.example_id IS NULL OR {differ}
        ORDER BY example_id""", {"a": a, "b": b}))


# --- eval sets -------------------------------------------------------------------------------------

def insert_eval_set(con: duckdb.DuckDBPyConnection, name: str, version_id: int, split: str, n_rows: int) -> None:
    con.execute("INSERT INTO eval_sets (name, version_id, split, n_rows) VALUES (?, ?, ?, ?)",
                [name, version_id, split, n_rows])


_EVAL = """
    SELECT s.id, s.name, d.name || ':' || v.name AS ref, s.split, d.name AS dataset, v.task, s.n_rows,
           s.version_id, v.dataset_id, s.created_at
    FROM eval_sets s JOIN versions v ON v.id = s.version_id JOIN datasets d ON d.id = v.dataset_id"""


def find_eval_set(con: duckdb.DuckDBPyConnection, name: str) -> dict[str, Any] | None:
    rows = _rows(con.execute(f"{_EVAL} WHERE s.name = ?", [name]))
    return rows[0] if rows else None


def list_eval_sets(con: duckdb.DuckDBPyConnection, dataset_id: int | None = None,
                   task: str | None = None) -> list[dict[str, Any]]:
    where, params = [], []
    if dataset_id is not None:
        where.append("v.dataset_id = ?")
        params.append(dataset_id)
    if task is not None:
        where.append("v.task = ?")
        params.append(task)
    clause = ("WHERE " + " AND ".join(where)) if where else ""
    return _rows(con.execute(f"{_EVAL} {clause} ORDER BY s.id", params))


def eval_set_rows(con: duckdb.DuckDBPyConnection, eval_set: dict[str, Any]) -> pa.Table:
    split = None if eval_set["split"] == "all" else eval_set["split"]
    return version_rows(con, eval_set["version_id"], split)


# --- exports ---------------------------------------------------------------------------------------

def insert_export(con: duckdb.DuckDBPyConnection, version_id: int, fmt: str, path: str, n_rows: int,
                  size: int | None) -> int:
    return scalar(con.execute("""INSERT INTO exports (version_id, format, path, n_rows, bytes)
                                 VALUES (?, ?, ?, ?, ?) RETURNING id""", [version_id, fmt, path, n_rows, size]))


def list_exports(con: duckdb.DuckDBPyConnection, version_id: int) -> list[dict[str, Any]]:
    return _rows(con.execute("SELECT * FROM exports WHERE version_id = ? ORDER BY id", [version_id]))
