"""SQL of UI sign-in sessions (see curate/label/sessions.py): hashed ids with an expiry."""

from __future__ import annotations

import duckdb

from curate.store.catalog import first


def add_session(con: duckdb.DuckDBPyConnection, id_hash: str, annotator: str, hours: float) -> None:
    """Store a session for ``annotator`` that expires ``hours`` from now; drop expired ones."""
    con.execute("DELETE FROM ui_sessions WHERE expires_at <= current_timestamp")
    con.execute("""INSERT INTO ui_sessions (id_hash, annotator, expires_at)
                   VALUES (?, ?, current_timestamp + to_microseconds(CAST(? * 3600e6 AS BIGINT)))""",
                [id_hash, annotator, float(hours)])


def session_annotator(con: duckdb.DuckDBPyConnection, id_hash: str) -> str | None:
    """The annotator of an unexpired session whose annotator still exists, else None."""
    row = first(con.execute("""
        SELECT s.annotator FROM ui_sessions s JOIN annotators a ON a.name = s.annotator
        WHERE s.id_hash = ? AND s.expires_at > current_timestamp""", [id_hash]))
    return row[0] if row else None


def delete_session(con: duckdb.DuckDBPyConnection, id_hash: str) -> None:
    con.execute("DELETE FROM ui_sessions WHERE id_hash = ?", [id_hash])
