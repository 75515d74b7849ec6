"""Model runs, their progress, eval scores per metric and predictions per eval item.

A model run is a row of ``runs`` (kind ``train``: params, status, timing) plus a row of ``model_runs``
(version, kind baseline|finetune, live progress). The worker writes progress in short transactions
and reads the cancel flag in the same one.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any, Sequence

import duckdb
import pyarrow as pa

from curate.errors import NotFound
from curate.store.catalog import _rows, first, registered, scalar, start_run

RUN_KIND = "train"


def create_model_run(con: duckdb.DuckDBPyConnection, *, dataset_id: int, version: str, kind: str, task: str,
                     model: str | None, params: dict[str, Any], libraries: dict[str, str]) -> int:
    run_id = start_run(con, RUN_KIND, dataset_id, {**params, "version": version, "kind": kind}, libraries)
    con.execute("UPDATE runs SET status = 'queued' WHERE id = ?", [run_id])
    con.execute("""INSERT INTO model_runs (run_id, dataset_id, version, kind, task, model, phase, updated_at)
                   VALUES (?, ?, ?, ?, ?, ?, 'queued', ?)""",
                [run_id, dataset_id, version, kind, task, model, datetime.now()])
    return run_id


_SELECT = """
    SELECT m.run_id AS id, d.name AS dataset, m.dataset_id, m.version, m.kind, m.task, m.model, m.device,
           m.pid, m.cancel_requested, m.step, m.total_steps, m.epoch, m.loss, m.eta_seconds, m.phase,
           m.artifact, r.status, r.message, r.params, r.counters, r.started_at, r.finished_at, m.updated_at
    FROM model_runs m JOIN runs r ON r.id = m.run_id JOIN datasets d ON d.id = m.dataset_id"""


def _decode(row: dict[str, Any]) -> dict[str, Any]:
    for key in ("params", "counters"):
        row[key] = json.loads(row[key]) if row.get(key) else {}
    return row


def get_model_run(con: duckdb.DuckDBPyConnection, run_id: int) -> dict[str, Any]:
    rows = _rows(con.execute(_SELECT + " WHERE m.run_id = ?", [run_id]))
    if not rows:
        raise NotFound(f"no model run {run_id} in this workspace; fix: list them with `curate runs DATASET`")
    return _decode(rows[0])


def list_model_runs(con: duckdb.DuckDBPyConnection, dataset_id: int | None = None) -> list[dict[str, Any]]:
    where, params = ("WHERE m.dataset_id = ?", [dataset_id]) if dataset_id is not None else ("", [])
    return [_decode(r) for r in _rows(con.execute(f"{_SELECT} {where} ORDER BY m.run_id", params))]


def mark_started(con: duckdb.DuckDBPyConnection, run_id: int, pid: int, device: str) -> bool:
    """Record the worker; False when the run was cancelled before it started."""
    row = first(con.execute("SELECT cancel_requested FROM model_runs WHERE run_id = ?", [run_id]))
    con.execute("UPDATE runs SET status = 'running', started_at = ? WHERE id = ?", [datetime.now(), run_id])
    con.execute("UPDATE model_runs SET pid = ?, device = ?, phase = 'loading', updated_at = ? WHERE run_id = ?",
                [pid, device, datetime.now(), run_id])
    return not (row and row[0])


def set_pid(con: duckdb.DuckDBPyConnection, run_id: int, pid: int) -> None:
    """The worker's process id, recorded as soon as it is launched (a queued run whose worker died is
    then seen as failed)."""
    con.execute("UPDATE model_runs SET pid = coalesce(pid, ?) WHERE run_id = ?", [pid, run_id])


def set_phase(con: duckdb.DuckDBPyConnection, run_id: int, phase: str) -> None:
    con.execute("UPDATE model_runs SET phase = ?, updated_at = ? WHERE run_id = ?", [phase, datetime.now(), run_id])


def write_progress(con: duckdb.DuckDBPyConnection, run_id: int, points: Sequence[dict[str, Any]]) -> bool:
    """Append loss-curve points, set the live columns from the last one; return the cancel flag."""
    if points:
        last = points[-1]
        table = pa.Table.from_pylist([{"run_id": run_id, **{k: p.get(k) for k in
                                       ("step", "epoch", "loss", "lr", "val_loss", "val_score")}} for p in points],
                                     schema=pa.schema([("run_id", pa.int32()), ("step", pa.int32()),
                                                       ("epoch", pa.float64()), ("loss", pa.float64()),
                                                       ("lr", pa.float64()), ("val_loss", pa.float64()),
                                                       ("val_score", pa.float64())]))
        with registered(con, points=table):
            con.execute("INSERT INTO train_progress SELECT * FROM points")
        con.execute("""UPDATE model_runs SET step = ?, total_steps = ?, epoch = ?, loss = ?, eta_seconds = ?,
                       phase = 'training', updated_at = ? WHERE run_id = ?""",
                    [last["step"], last["total_steps"], last["epoch"], last["loss"], last["eta"],
                     datetime.now(), run_id])
    return bool(scalar(con.execute("SELECT cancel_requested FROM model_runs WHERE run_id = ?", [run_id])))


def cancel_requested(con: duckdb.DuckDBPyConnection, run_id: int) -> bool:
    row = first(con.execute("SELECT cancel_requested FROM model_runs WHERE run_id = ?", [run_id]))
    return bool(row and row[0])


def request_cancel(con: duckdb.DuckDBPyConnection, run_id: int) -> None:
    con.execute("UPDATE model_runs SET cancel_requested = true, updated_at = ? WHERE run_id = ?",
                [datetime.now(), run_id])
    con.execute("UPDATE runs SET status = 'cancelled', finished_at = ? WHERE id = ? AND status = 'queued'",
                [datetime.now(), run_id])


def finish(con: duckdb.DuckDBPyConnection, run_id: int, status: str, *, counters: dict[str, Any] | None = None,
           message: str | None = None, artifact: str | None = None) -> None:
    con.execute("""UPDATE runs SET status = ?, message = ?, counters = ?, finished_at = ? WHERE id = ?""",
                [status, message, json.dumps(counters or {}), datetime.now(), run_id])
    con.execute("""UPDATE model_runs SET phase = ?, artifact = coalesce(?, artifact), pid = NULL, eta_seconds = 0,
                   updated_at = ? WHERE run_id = ?""", [status, artifact, datetime.now(), run_id])


def progress(con: duckdb.DuckDBPyConnection, run_id: int) -> list[dict[str, Any]]:
    return _rows(con.execute("SELECT step, epoch, loss, lr, val_loss, val_score FROM train_progress "
                             "WHERE run_id = ? ORDER BY step", [run_id]))


def save_eval(con: duckdb.DuckDBPyConnection, run_id: int, eval_set: str, metrics: dict[str, float | None],
              detail: dict[str, Any] | None, predictions: pa.Table) -> None:
    """Scores (one row per metric) and per-item predictions of one run on one eval set."""
    con.execute("DELETE FROM eval_results WHERE run_id = ? AND eval_set = ?", [run_id, eval_set])
    con.execute("DELETE FROM eval_predictions WHERE run_id = ? AND eval_set = ?", [run_id, eval_set])
    for metric, value in metrics.items():
        con.execute("INSERT INTO eval_results VALUES (?, ?, ?, ?, NULL)", [run_id, eval_set, metric, value])
    if detail:  # the confusion matrix (and anything else that is not one number)
        con.execute("INSERT INTO eval_results VALUES (?, ?, 'detail', NULL, ?)", [run_id, eval_set, json.dumps(detail)])
    with registered(con, preds=predictions):
        con.execute("""INSERT INTO eval_predictions
                       SELECT ?, ?, example_id, reference, prediction, correct, score FROM preds""", [run_id, eval_set])


def eval_results(con: duckdb.DuckDBPyConnection, run_ids: Sequence[int] | None = None, *,
                 dataset_id: int | None = None) -> list[dict[str, Any]]:
    """Every score of the given runs (or of a dataset's runs), with the run's version and kind."""
    where, params = [], []
    if run_ids is not None:
        where.append("e.run_id IN (SELECT unnest(?::INTEGER[]))")
        params.append(list(run_ids))
    if dataset_id is not None:
        where.append("m.dataset_id = ?")
        params.append(dataset_id)
    clause = ("WHERE " + " AND ".join(where)) if where else ""
    return _rows(con.execute(f"""
        SELECT e.run_id, m.version, m.kind, m.model, r.status, r.started_at, e.eval_set, e.metric, e.value, e.detail
        FROM eval_results e JOIN model_runs m USING (run_id) JOIN runs r ON r.id = e.run_id
        {clause} ORDER BY e.run_id, e.eval_set, e.metric""", params))


def prediction_pairs(con: duckdb.DuckDBPyConnection, run_a: int, run_b: int, eval_set: str) -> list[dict[str, Any]]:
    """Eval items predicted by both runs on one eval set, with the item's text and both predictions."""
    return _rows(con.execute("""
        SELECT a.example_id, coalesce(x.text, x.instruction) AS text, a.reference,
               a.prediction AS prediction_a, a.correct AS correct_a, a.score AS score_a,
               b.prediction AS prediction_b, b.correct AS correct_b, b.score AS score_b
        FROM eval_predictions a
        JOIN eval_predictions b ON b.example_id = a.example_id AND b.eval_set = a.eval_set AND b.run_id = ?
        LEFT JOIN examples x ON x.id = a.example_id
        WHERE a.run_id = ? AND a.eval_set = ?
        ORDER BY a.example_id""", [run_b, run_a, eval_set]))


def predictions(con: duckdb.DuckDBPyConnection, run_id: int, eval_set: str, *, wrong_only: bool = False) -> list[dict[str, Any]]:
    extra = "AND NOT p.correct" if wrong_only else ""
    return _rows(con.execute(f"""
        SELECT p.example_id, coalesce(x.text, x.instruction) AS text, p.reference, p.prediction, p.correct, p.score
        FROM eval_predictions p LEFT JOIN examples x ON x.id = p.example_id
        WHERE p.run_id = ? AND p.eval_set = ? {extra} ORDER BY p.example_id""", [run_id, eval_set]))


def provenance(con: duckdb.DuckDBPyConnection, example_ids: Sequence[int]) -> dict[int, dict[str, Any]]:
    """Where examples came from: source file and row, edits, annotations and issues."""
    ids = [int(i) for i in example_ids]
    if not ids:
        return {}
    found = {r["example_id"]: {**r, "edits": [], "annotations": [], "issues": []} for r in _rows(con.execute("""
        SELECT x.id AS example_id, s.uri AS source, x.row_num, x.label AS raw_label
        FROM examples x LEFT JOIN sources s ON s.id = x.source_id
        WHERE x.id IN (SELECT unnest(?::BIGINT[]))""", [ids]))}
    for r in _rows(con.execute("""SELECT example_id, field, value, author FROM edits
                                  WHERE example_id IN (SELECT unnest(?::BIGINT[])) ORDER BY id""", [ids])):
        found[r["example_id"]]["edits"].append(f"{r['field']} by {r['author']}")
    for r in _rows(con.execute("""SELECT a.example_id, q.name AS question, a.annotator, a.value FROM annotations a
                                  LEFT JOIN questions q ON q.id = a.question_id
                                  WHERE a.example_id IN (SELECT unnest(?::BIGINT[])) ORDER BY a.id""", [ids])):
        found[r["example_id"]]["annotations"].append(f"{r['question']}={r['value']} ({r['annotator']})")
    for r in _rows(con.execute("""SELECT DISTINCT example_id, kind, reason FROM issues
                                  WHERE example_id IN (SELECT unnest(?::BIGINT[])) ORDER BY kind""", [ids])):
        found[r["example_id"]]["issues"].append(r["kind"] + (f" ({r['reason']})" if r["reason"] else ""))
    return found


def reopen(con: duckdb.DuckDBPyConnection, run_id: int, from_step: int) -> None:
    """Queue a stopped run again to resume from the checkpoint at ``from_step``: its loss curve past
    that step is dropped (the resumed run writes it again)."""
    con.execute("DELETE FROM train_progress WHERE run_id = ? AND step > ?", [run_id, from_step])
    con.execute("UPDATE runs SET status = 'queued', message = NULL, finished_at = NULL WHERE id = ?", [run_id])
    con.execute("""UPDATE model_runs SET cancel_requested = false, pid = NULL, phase = 'queued', step = ?,
                   eta_seconds = NULL, updated_at = ? WHERE run_id = ?""", [from_step, datetime.now(), run_id])


SEARCH_KIND = "search"


def create_search(con: duckdb.DuckDBPyConnection, dataset_id: int, record: dict[str, Any],
                  libraries: dict[str, str]) -> int:
    """A hyperparameter search: a ``runs`` row of kind 'search'; its trials are model runs whose params
    carry ``{"search": {"id": <this id>, "trial": n}}``; ``counters`` get the trials and the best run."""
    return start_run(con, SEARCH_KIND, dataset_id, record, libraries)


def list_searches(con: duckdb.DuckDBPyConnection, dataset_id: int) -> list[dict[str, Any]]:
    rows = _rows(con.execute("SELECT id, status, message, params, counters, started_at, finished_at FROM runs "
                             "WHERE kind = ? AND dataset_id = ? ORDER BY id", [SEARCH_KIND, dataset_id]))
    return [_decode(r) for r in rows]
