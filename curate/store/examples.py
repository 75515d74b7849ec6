"""The examples table: bulk insert from Arrow batches of raw records, and reads for browsing.

Field extraction and validation run inside DuckDB over the raw JSON text (yyjson), so ingest never
parses records one by one in Python. JSON paths are bound parameters; identifiers come from here.
"""

from __future__ import annotations

from typing import Any

import duckdb
import pyarrow as pa

from curate.store.catalog import _rows, first, registered, scalar

FIELDS = ("text", "label", "instruction", "input", "response", "messages", "spans", "chosen", "rejected")
# The fields the content hash covers: the first six's (unchanged since they shipped) plus the task's own.
HASHED = {"spans": ("spans",), "preference": ("chosen", "rejected")}
# Which fields a task's records must have (``input`` of sft may be absent: it becomes "").
# spans, preference and chat records are normalised in Python and arrive as batch columns.
REQUIRED = {"classification": ("text",), "sft": ("instruction", "response"), "chat": (), "spans": (), "preference": ()}
# Text fields must hold JSON strings: a number or boolean is refused (usually a wrong --map), never
# silently turned into text.
SCALAR_TYPES = ("VARCHAR",)
LABEL_TYPES = {"VARCHAR": "str", "BIGINT": "int", "UBIGINT": "int"}


def json_path(key: str | tuple[str, ...]) -> str:
    """The JSON path of a top-level key (or of a nested one: a tuple of keys), quoted so any name works."""
    keys = (key,) if isinstance(key, str) else key
    return "$" + "".join('."' + k.replace("\\", "\\\\").replace('"', '\\"') + '"' for k in keys)


LABEL_JSON_TYPES = {"int": ("BIGINT", "UBIGINT"), "str": ("VARCHAR",)}


def _types(kinds: tuple[str, ...]) -> str:
    return "(" + ", ".join(f"'{k}'" for k in kinds) + ")"


def first_problem(con: duckdb.DuckDBPyConnection, batch: pa.Table, task: str, paths: dict[str, str],
                  label_type: str | None = None) -> tuple[int, str] | None:
    """The first record of a batch that cannot be ingested: ``(row_num, problem)``, else None.

    Problems: ``invalid_json``, ``not_object``, ``missing`` (a required field), ``type`` (a field
    holding an array or object, or a label that is not a string or an integer) and ``label_mixed``
    (an int label among str labels or the reverse). Slow (it parses each record several times): it
    runs only to explain a failed insert.
    """
    checks = ["WHEN NOT json_valid(raw) THEN 'invalid_json'", "WHEN json_type(raw) <> 'OBJECT' THEN 'not_object'"]
    params: list[Any] = []
    for field in REQUIRED[task]:
        checks.append("WHEN coalesce(json_type(raw, ?), 'NULL') = 'NULL' THEN 'missing'")
        checks.append(f"WHEN json_type(raw, ?) NOT IN {_types(SCALAR_TYPES)} THEN 'type'")
        params += [paths[field], paths[field]]
    if task == "sft" and "input" in paths:
        checks.append(f"WHEN coalesce(json_type(raw, ?), 'NULL') NOT IN {_types(SCALAR_TYPES + ('NULL',))} THEN 'type'")
        params.append(paths["input"])
    if task == "classification" and "label" in paths:
        checks.append("WHEN coalesce(json_type(raw, ?), 'NULL') NOT IN ('VARCHAR', 'BIGINT', 'UBIGINT', 'NULL') "
                      "THEN 'type'")
        params.append(paths["label"])
        if label_type:
            allowed = _types(LABEL_JSON_TYPES[label_type] + ("NULL",))
            checks.append(f"WHEN coalesce(json_type(raw, ?), 'NULL') NOT IN {allowed} THEN 'label_mixed'")
            params.append(paths["label"])
    sql = f"""
        SELECT row_num, problem FROM (
            SELECT row_num, CASE {' '.join(checks)} END AS problem FROM batch)
        WHERE problem IS NOT NULL ORDER BY row_num LIMIT 1"""
    with registered(con, batch=batch):
        return first(con.execute(sql, params))


def keys_differ(con: duckdb.DuckDBPyConnection, table: pa.Table, keys: list[str] | None) -> list[int]:
    """``pos`` of the rows of ``table`` (pos, raw) whose top-level keys are not ``keys`` in order, or
    that are not JSON objects (curate/ingest/strict.py parses those strictly)."""
    with registered(con, t=table):
        try:
            if keys is None:
                raise duckdb.InvalidInputException("the first record is not an object")
            rows = con.execute("SELECT pos FROM t WHERE json_keys(raw) <> ?::VARCHAR[]", [keys]).fetchall()
        except duckdb.Error:  # a malformed record: the slower guarded form
            rows = con.execute("""SELECT pos FROM t WHERE CASE WHEN NOT json_valid(raw) THEN true
                                  WHEN json_type(raw) <> 'OBJECT' THEN true
                                  ELSE json_keys(raw) <> ?::VARCHAR[] END""", [keys or []]).fetchall()
    return [r[0] for r in rows]


def first_label_type(con: duckdb.DuckDBPyConnection, batch: pa.Table, path: str) -> str | None:
    """``int`` or ``str``: the JSON type of the first label in a batch (None if it has no labels)."""
    with registered(con, batch=batch):
        found = first(con.execute("""
            SELECT json_type(raw, ?) FROM batch WHERE json_valid(raw)
              AND coalesce(json_type(raw, ?), 'NULL') IN ('VARCHAR', 'BIGINT', 'UBIGINT')
            ORDER BY row_num LIMIT 1""", [path, path]))
    return LABEL_TYPES[found[0]] if found else None


def insert_batch(con: duckdb.DuckDBPyConnection, batch: pa.Table, *, dataset_id: int, source_id: int,
                 task: str, paths: dict[str, str], label_type: str | None = None) -> int:
    """Insert one batch of records, parsing each raw record once; returns the rows inserted.

    ``batch`` has ``id``, ``row_num``, ``raw`` (without its line ending), ``split`` and the fields
    normalised in Python (chat's ``messages``; see ``curate.ingest.shapes`` for spans and preference).
    Records that break the task's rules (see ``first_problem``) make DuckDB raise inside the insert,
    so a bad batch is never half-inserted; the caller rolls back and explains with ``first_problem``.
    """
    fields = [f for f in FIELDS if f in paths and f not in batch.column_names and f != "messages"]
    exprs: dict[str, str] = {}
    for i, field in enumerate(fields, 1):
        value, kind = f"v[{i}]", f"coalesce(json_type(v[{i}]), 'NULL')"
        if field in REQUIRED[task]:
            allowed = SCALAR_TYPES
        elif field == "label":
            allowed = LABEL_JSON_TYPES[label_type] + ("NULL",) if label_type else ("VARCHAR", "BIGINT", "UBIGINT", "NULL")
        else:
            allowed = SCALAR_TYPES + ("NULL",)
        text = f"({value} ->> '$')"
        if field == "label":  # an empty label (a CSV's empty cell) is no label, not the class ""
            text = f"nullif({text}, '')"
        if field == "input":
            text = f"coalesce({text}, '')"
        exprs[field] = f"CASE WHEN {kind} NOT IN {_types(allowed)} THEN error('bad {field} in row ' || row_num) ELSE {text} END"
    for field in FIELDS:
        exprs.setdefault(field, field if field in batch.column_names else "NULL")
    extract = f"json_extract(raw, [{', '.join('?' for _ in fields)}])" if fields else "NULL::JSON[]"
    hashed = ", ".join(f"coalesce({f}, '')" for f in (*FIELDS[:6], *HASHED.get(task, ())) if f != "label")
    sql = f"""
        INSERT INTO examples (id, dataset_id, source_id, row_num, split, raw, content_hash, {', '.join(FIELDS)})
        SELECT id, {int(dataset_id)}, {int(source_id)}, row_num, split, raw,
               md5(concat_ws(chr(31), {hashed})),
               {', '.join(FIELDS)}
        FROM (SELECT id, row_num, split, raw, {', '.join(f'{exprs[f]} AS {f}' for f in FIELDS)}
              FROM (SELECT *, {extract} AS v FROM batch))"""
    with registered(con, batch=batch):
        con.execute(sql, [paths[f] for f in fields])
    return batch.num_rows


def name_labels(con: duckdb.DuckDBPyConnection, source_id: int, names: dict[str, str | None]) -> tuple[int, str] | None:
    """Store the display name of each label of a source being ingested (its raw value stays in ``raw``;
    a name of None leaves the row unlabelled). Returns ``(row_num, value)`` of the first label without
    a name, changing nothing then; runs inside the ingest transaction, before anything reads the rows."""
    table = pa.table({"value": pa.array(list(names), pa.string()), "name": pa.array(list(names.values()), pa.string())})
    with registered(con, label_names=table):
        bad = first(con.execute("""
            SELECT row_num, label FROM examples WHERE source_id = ? AND label IS NOT NULL
              AND label NOT IN (SELECT value FROM label_names) ORDER BY row_num LIMIT 1""", [source_id]))
        if bad is None:
            con.execute("""UPDATE examples SET label = n.name FROM label_names n
                           WHERE examples.source_id = ? AND examples.label = n.value""", [source_id])
    return bad


def source_ids(con: duckdb.DuckDBPyConnection, source_id: int) -> list[int]:
    """The example ids of one source in the order its records were read."""
    return [r[0] for r in con.execute("SELECT id FROM examples WHERE source_id = ? ORDER BY id", [source_id]).fetchall()]


def delete_source_rows(con: duckdb.DuckDBPyConnection, source_id: int) -> None:
    """Remove one source's example rows before it is read again under the same ids (``ingest --replace``);
    side tables keyed by example id (edits, annotations, signals, issues) are kept."""
    con.execute("DELETE FROM examples WHERE source_id = ?", [source_id])


def next_id(con: duckdb.DuckDBPyConnection) -> int:
    return scalar(con.execute("SELECT coalesce(max(id), 0) + 1 FROM examples"))


# The dataset's examples as they stand: each field's latest edit (by id, NULL edits included), else the
# ingested column; ``edited`` lists the fields an edit changed. Bound: the dataset id.
_CURRENT = """
    WITH ed AS (
        SELECT e.example_id, e.field, arg_max_null(e.value, e.id) AS value
        FROM edits e JOIN examples x ON x.id = e.example_id AND x.dataset_id = $ds
        GROUP BY e.example_id, e.field),
    cur AS (
        SELECT example_id, {pivot}, list(field ORDER BY field) AS edited FROM ed GROUP BY example_id)
    SELECT x.id, x.split, {pick}, coalesce(c.edited, []) AS edited
    FROM examples x LEFT JOIN cur c ON c.example_id = x.id WHERE x.dataset_id = $ds"""
CURRENT_SQL = _CURRENT.format(
    pivot=", ".join(f"max(value) FILTER (WHERE field = '{f}') AS {f}, bool_or(field = '{f}') AS has_{f}" for f in FIELDS),
    pick=", ".join(f"CASE WHEN c.has_{f} THEN c.{f} ELSE x.{f} END AS {f}" for f in FIELDS))


def _filter_sql(query: str | None) -> tuple[str, dict[str, Any]]:
    """A substring filter over the current value of every field."""
    if not query:
        return "", {}
    literal = query.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")  # % and _ match themselves
    return (" WHERE " + " OR ".join(f"{f} ILIKE $q ESCAPE '\\'" for f in FIELDS), {"q": f"%{literal}%"})


def count_examples(con: duckdb.DuckDBPyConnection, dataset_id: int, query: str | None = None) -> int:
    """How many examples of a dataset (whose current values contain ``query``)."""
    if not query:
        return scalar(con.execute("SELECT count(*) FROM examples WHERE dataset_id = ?", [dataset_id]))
    where, params = _filter_sql(query)
    return scalar(con.execute(f"SELECT count(*) FROM ({CURRENT_SQL}){where}", {"ds": dataset_id, **params}))


def page_examples(con: duckdb.DuckDBPyConnection, dataset_id: int, *, offset: int = 0, limit: int = 50,
                  query: str | None = None, columns: tuple[str, ...] = FIELDS) -> list[dict[str, Any]]:
    """One page of a dataset's examples in id order with their current values (``edited``: the fields
    an edit changed), optionally filtered by a substring of any current field."""
    where, params = _filter_sql(query)
    cols = ", ".join(c for c in ("id", "split", *columns, "edited") if c in ("id", "split", "edited") + FIELDS)
    return _rows(con.execute(f"SELECT {cols} FROM ({CURRENT_SQL}){where} ORDER BY id LIMIT $limit OFFSET $offset",
                             {"ds": dataset_id, **params, "limit": int(limit), "offset": int(offset)}))


def get_example(con: duckdb.DuckDBPyConnection, example_id: int) -> dict[str, Any] | None:
    """One example with its raw record and provenance (dataset, source file, row, sha256)."""
    rows = _rows(con.execute("""
        SELECT e.*, d.name AS dataset, d.task, s.uri AS source_uri, s.format AS source_format,
               s.sha256 AS source_sha256, s.ingested_at
        FROM examples e JOIN datasets d ON d.id = e.dataset_id JOIN sources s ON s.id = e.source_id
        WHERE e.id = ?""", [int(example_id)]))
    return rows[0] if rows else None


def example_edits(con: duckdb.DuckDBPyConnection, example_id: int) -> list[dict[str, Any]]:
    """The edit in force for each edited field of one example: field, value, author, time."""
    return _rows(con.execute("""
        SELECT field, arg_max_null(value, id) AS value, arg_max(author, id) AS author, max(created_at) AS edited_at
        FROM edits WHERE example_id = ? GROUP BY field ORDER BY field""", [int(example_id)]))


def raw_records(con: duckdb.DuckDBPyConnection, source_id: int) -> list[str]:
    """The raw records of one source in row order (for round-trip checks and export)."""
    return [r[0] for r in con.execute("SELECT raw FROM examples WHERE source_id = ? ORDER BY row_num",
                                      [source_id]).fetchall()]
