"""Datasets, sources, label sets and runs: the small tables that describe what a workspace holds."""

from __future__ import annotations

import json
from datetime import datetime
from contextlib import contextmanager
from typing import Any, Iterator

import duckdb

from curate.errors import NotFound
from curate.store import liveness


@contextmanager
def registered(con: duckdb.DuckDBPyConnection, **tables: Any) -> Iterator[duckdb.DuckDBPyConnection]:
    """Arrow tables visible to SQL under the given names for one block, then unregistered."""
    for name, table in tables.items():
        con.register(name, table)
    try:
        yield con
    finally:
        for name in tables:
            con.unregister(name)


def first(cur: duckdb.DuckDBPyConnection) -> tuple | None:
    """The first row of a result, reading it to the end (DuckDB refuses new work on an unfinished one)."""
    rows = cur.fetchall()
    return rows[0] if rows else None


def scalar(cur: duckdb.DuckDBPyConnection) -> Any:
    """The single value of a one-row, one-column result."""
    return cur.fetchall()[0][0]


def _rows(cur: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    names = [d[0] for d in cur.description]
    return [dict(zip(names, row)) for row in cur.fetchall()]


def find_dataset(con: duckdb.DuckDBPyConnection, name: str) -> dict[str, Any] | None:
    rows = _rows(con.execute("SELECT * FROM datasets WHERE name = ?", [name]))
    return rows[0] if rows else None


def get_dataset(con: duckdb.DuckDBPyConnection, name: str) -> dict[str, Any]:
    found = find_dataset(con, name)
    if found is None:
        names = [r[0] for r in con.execute("SELECT name FROM datasets ORDER BY name").fetchall()]
        known = ", ".join(names) if names else "none yet; create one with `curate ingest FILE --dataset NAME`"
        raise NotFound(f"no dataset named {name!r} in this workspace (datasets: {known})")
    return found


def create_dataset(con: duckdb.DuckDBPyConnection, name: str, task: str) -> dict[str, Any]:
    con.execute("INSERT INTO datasets (name, task) VALUES (?, ?)", [name, task])
    return get_dataset(con, name)


def set_label_type(con: duckdb.DuckDBPyConnection, dataset_id: int, label_type: str) -> None:
    con.execute("UPDATE datasets SET label_type = ? WHERE id = ?", [label_type, dataset_id])


def set_task(con: duckdb.DuckDBPyConnection, dataset_id: int, task: str) -> None:
    """A dataset's task, changed only when every source of it is re-ingested (``ingest --replace``)."""
    con.execute("UPDATE datasets SET task = ? WHERE id = ?", [task, dataset_id])


def reset_labels(con: duckdb.DuckDBPyConnection, dataset_id: int) -> None:
    """Before sources are read again (``ingest --replace``): drop the classes no remaining example has
    and forget the class order, which the re-read sources give again."""
    con.execute("""DELETE FROM labels WHERE dataset_id = ? AND label NOT IN (
                       SELECT label FROM examples WHERE dataset_id = ? AND label IS NOT NULL)""",
                [dataset_id, dataset_id])
    con.execute("UPDATE labels SET position = NULL WHERE dataset_id = ?", [dataset_id])


def list_datasets(con: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    """Every dataset with its task, example/source/labelled counts and label set."""
    rows = _rows(con.execute("""
        SELECT d.id, d.name, d.task, d.label_type, d.created_at,
               coalesce(e.n, 0) AS examples, coalesce(e.labelled, 0) AS labelled,
               (SELECT count(*) FROM sources s WHERE s.dataset_id = d.id) AS sources
        FROM datasets d
        LEFT JOIN (SELECT dataset_id, count(*) AS n, count(label) AS labelled
                   FROM examples GROUP BY dataset_id) e ON e.dataset_id = d.id
        ORDER BY d.name"""))
    for row in rows:
        row["labels"] = label_set(con, row["id"], row["label_type"])
    return rows


def label_set(con: duckdb.DuckDBPyConnection, dataset_id: int, label_type: str | None) -> list[str]:
    """The dataset's classes: in their given order (``position``), then integers in numeric order,
    strings alphabetically."""
    order = "position NULLS LAST, " + ("TRY_CAST(label AS BIGINT), label" if label_type == "int" else "label")
    return [r[0] for r in con.execute(
        f"SELECT label FROM labels WHERE dataset_id = ? ORDER BY {order}", [dataset_id]).fetchall()]


def given_class_order(con: duckdb.DuckDBPyConnection, dataset_id: int, label_type: str | None) -> list[str]:
    """``label_set`` when the dataset's classes were given an order (HF ClassLabel, ``--labels``), else []."""
    given = con.execute("SELECT count(*) FROM labels WHERE dataset_id = ? AND position IS NOT NULL",
                        [dataset_id]).fetchall()[0][0]
    return label_set(con, dataset_id, label_type) if given else []


def record_labels(con: duckdb.DuckDBPyConnection, dataset_id: int, source_id: int,
                  order: list[str] | None = None) -> None:
    """Add the labels seen in one source to its dataset's label set; ``order`` names classes (seen or
    not) in their given order, which sets the position of those without one."""
    for position, label in enumerate(order or []):
        con.execute("""INSERT INTO labels (dataset_id, label, position) VALUES (?, ?, ?)
                       ON CONFLICT DO UPDATE SET position = coalesce(labels.position, excluded.position)""",
                    [dataset_id, label, position])
    con.execute("""
        INSERT INTO labels (dataset_id, label)
        SELECT DISTINCT dataset_id, label FROM examples
        WHERE source_id = ? AND label IS NOT NULL
        ON CONFLICT DO NOTHING""", [source_id])


def find_source(con: duckdb.DuckDBPyConnection, dataset_id: int, sha256: str) -> dict[str, Any] | None:
    rows = _rows(con.execute("SELECT * FROM sources WHERE dataset_id = ? AND sha256 = ?", [dataset_id, sha256]))
    return rows[0] if rows else None


def add_source(con: duckdb.DuckDBPyConnection, dataset_id: int, uri: str, fmt: str, sha256: str,
               mapping: dict[str, str], run_id: int | None) -> int:
    """Insert a source with zero rows; ``finish_source`` sets its row count."""
    return scalar(con.execute("""
        INSERT INTO sources (dataset_id, uri, format, sha256, n_rows, mapping, run_id)
        VALUES (?, ?, ?, ?, 0, ?, ?) RETURNING id""",
                       [dataset_id, uri, fmt, sha256, json.dumps(mapping), run_id]))


def source_mapping(source: dict[str, Any]) -> dict[str, str]:
    """The field → column mapping a source was ingested with."""
    value = source["mapping"]
    return json.loads(value) if isinstance(value, str) else dict(value or {})


def reset_source(con: duckdb.DuckDBPyConnection, source_id: int, mapping: dict[str, str], run_id: int) -> None:
    """A source about to be read again (``ingest --replace``): its new mapping and run, zero rows."""
    con.execute("UPDATE sources SET mapping = ?, run_id = ?, n_rows = 0 WHERE id = ?",
                [json.dumps(mapping), run_id, source_id])


def finish_source(con: duckdb.DuckDBPyConnection, source_id: int, n_rows: int) -> None:
    con.execute("UPDATE sources SET n_rows = ? WHERE id = ?", [n_rows, source_id])


def list_sources(con: duckdb.DuckDBPyConnection, dataset_id: int) -> list[dict[str, Any]]:
    return _rows(con.execute("SELECT * FROM sources WHERE dataset_id = ? ORDER BY id", [dataset_id]))


def start_run(con: duckdb.DuckDBPyConnection, kind: str, dataset_id: int | None, params: dict[str, Any],
              libraries: dict[str, str]) -> int:
    """Record a run as running, owned by this process; first mark runs whose process died as interrupted."""
    mark_interrupted(con)
    return scalar(con.execute("""
        INSERT INTO runs (kind, dataset_id, params, libraries, status, started_at, owner)
        VALUES (?, ?, ?, ?, 'running', ?, ?) RETURNING id""",
                       [kind, dataset_id, json.dumps(params), json.dumps(libraries), datetime.now(),
                        liveness.owner_token()]))


def stale_runs(con: duckdb.DuckDBPyConnection) -> list[int]:
    """Runs still 'running' whose owning process on this host is gone (killed, crashed).

    Training runs are left out: their worker process is recorded on ``model_runs`` and judged there."""
    rows = con.execute("SELECT id, owner FROM runs WHERE status = 'running' AND owner IS NOT NULL "
                       "AND kind <> 'train'").fetchall()
    return [run_id for run_id, owner in rows if liveness.alive(owner) is False]


def mark_interrupted(con: duckdb.DuckDBPyConnection) -> list[int]:
    """Mark stale runs (see ``stale_runs``) ``interrupted``; their ids."""
    stale = stale_runs(con)
    if stale:
        con.execute("""UPDATE runs SET status = 'interrupted', finished_at = ?,
                           message = 'its process ended before the run finished (killed or crashed); run it again'
                       WHERE id IN (SELECT unnest(?::INTEGER[])) AND status = 'running'""", [datetime.now(), stale])
    return stale


def finish_run(con: duckdb.DuckDBPyConnection, run_id: int, counters: dict[str, Any], *,
               status: str = "done", message: str | None = None, dataset_id: int | None = None) -> None:
    con.execute("""
        UPDATE runs SET counters = ?, status = ?, message = ?, finished_at = ?,
                        dataset_id = coalesce(?, dataset_id)
        WHERE id = ?""", [json.dumps(counters), status, message, datetime.now(), dataset_id, run_id])


def list_runs(con: duckdb.DuckDBPyConnection, kind: str | None = None) -> list[dict[str, Any]]:
    where, params = ("WHERE kind = ?", [kind]) if kind else ("", [])
    return _rows(con.execute(f"SELECT * FROM runs {where} ORDER BY id", params))
