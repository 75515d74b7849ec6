"""Labelling tables: questions and annotators; with the rest of the labelling store under one name.

The labelling store is split by job: ``label_answers`` (append-only annotations and current answers),
``label_queues`` (queues and the example views the Label page shows) and ``label_models``
(pre-labels and suspects). Their functions are importable from here as ``curate.store.label.X``.
"""

from __future__ import annotations

import json
from typing import Any, Sequence

import duckdb

from curate.store.catalog import _rows, first, scalar
from curate.store.label_answers import (CURRENT, answer_history, count_answers, current_answers, current_labels,
                                        example_in_dataset, export_answers, first_row, insert_annotation,
                                        insert_annotations, insert_edit, resolve_keys, resolve_texts)
from curate.store.label_models import last_prelabel_run, prelabels, save_prelabels, save_suspects, suspects
from curate.store.label_queues import example_views, queue

__all__ = ["CURRENT", "add_annotator", "add_question", "annotator_by_hash", "annotator_names", "answer_history",
           "count_annotators", "count_answers", "current_answers", "current_labels", "example_in_dataset",
           "example_text", "example_views", "export_answers", "find_annotator", "find_question", "first_examples",
           "first_row", "insert_annotation", "insert_annotations", "insert_edit", "last_prelabel_run",
           "list_annotators", "list_questions", "prelabels", "queue", "question_counts", "resolve_keys",
           "resolve_texts", "save_prelabels", "save_suspects", "set_overlap", "set_token_hash", "span_types",
           "suspects"]

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


def question_counts(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """Dataset name → number of questions."""
    return dict(con.execute("""SELECT d.name, count(q.id) FROM datasets d LEFT JOIN questions q ON q.dataset_id = d.id
                               GROUP BY d.name""").fetchall())


def first_examples(con: duckdb.DuckDBPyConnection, dataset_id: int, n: int) -> list[dict[str, Any]]:
    """The first ``n`` examples of a dataset (id, label, response), for the demo."""
    return _rows(con.execute("SELECT id, label, response FROM examples WHERE dataset_id = ? ORDER BY id LIMIT ?",
                             [dataset_id, n]))
