"""Named, ordered schema migrations, each applied in one transaction with its record.

Modelled on sqlite-utils' migrations: a migration that fails leaves the store as it was. Later
stages (dedup, labels, versions, training) append their own migrations to ``MIGRATIONS``; never edit
one that has shipped.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

from curate.errors import MigrationError


@dataclass(frozen=True)
class Migration:
    name: str
    sql: str


MIGRATIONS: list[Migration] = [
    Migration("0001_core", """
        CREATE SEQUENCE dataset_ids START 1;
        CREATE TABLE datasets (
            id          INTEGER PRIMARY KEY DEFAULT nextval('dataset_ids'),
            name        VARCHAR NOT NULL UNIQUE,
            task        VARCHAR NOT NULL CHECK (task IN ('classification', 'sft', 'chat')),
            label_type  VARCHAR CHECK (label_type IN ('int', 'str')),
            created_at  TIMESTAMP NOT NULL DEFAULT current_timestamp
        );
        CREATE SEQUENCE run_ids START 1;
        CREATE TABLE runs (
            id           INTEGER PRIMARY KEY DEFAULT nextval('run_ids'),
            kind         VARCHAR NOT NULL,
            dataset_id   INTEGER,
            params       JSON,
            counters     JSON,
            libraries    JSON,
            status       VARCHAR NOT NULL,
            message      VARCHAR,
            started_at   TIMESTAMP NOT NULL,
            finished_at  TIMESTAMP
        );
        CREATE SEQUENCE source_ids START 1;
        CREATE TABLE sources (
            id           INTEGER PRIMARY KEY DEFAULT nextval('source_ids'),
            dataset_id   INTEGER NOT NULL,
            uri          VARCHAR NOT NULL,
            format       VARCHAR NOT NULL,
            sha256       VARCHAR NOT NULL,
            n_rows       BIGINT NOT NULL,
            mapping      JSON NOT NULL,
            run_id       INTEGER,
            ingested_at  TIMESTAMP NOT NULL DEFAULT current_timestamp,
            UNIQUE (dataset_id, sha256)
        );
        -- One row per ingested record. Never updated or deleted: edits, labels and issues live in
        -- side tables joined at read time. `raw` is the source record as ingested (JSON text).
        CREATE TABLE examples (
            id            BIGINT NOT NULL,
            dataset_id    INTEGER NOT NULL,
            source_id     INTEGER NOT NULL,
            row_num       BIGINT NOT NULL,
            split         VARCHAR,
            raw           VARCHAR NOT NULL,
            text          VARCHAR,
            label         VARCHAR,
            instruction   VARCHAR,
            input         VARCHAR,
            response      VARCHAR,
            messages      VARCHAR,
            content_hash  VARCHAR NOT NULL
        );
        -- Side tables shared by the stages. Nothing here changes an example: the current value of a
        -- field is its latest edit (highest id), else the raw field.
        CREATE SEQUENCE edit_ids START 1;
        CREATE TABLE edits (
            id          BIGINT PRIMARY KEY DEFAULT nextval('edit_ids'),
            example_id  BIGINT NOT NULL,
            field       VARCHAR NOT NULL,
            value       VARCHAR,
            author      VARCHAR NOT NULL,   -- 'op:<operator>' or 'human:<annotator>'
            run_id      INTEGER,
            created_at  TIMESTAMP NOT NULL DEFAULT current_timestamp
        );
        -- One number per example per run, in [0, 1] where 1 means good.
        CREATE TABLE signals (
            run_id      INTEGER NOT NULL,
            example_id  BIGINT NOT NULL,
            name        VARCHAR NOT NULL,
            value       DOUBLE
        );
        -- Flags that exclude an example from a version (is_dup, lang_mismatch, too_short, label_suspect);
        -- the current issues of a kind in a dataset are those of the latest run that produced that kind.
        CREATE TABLE issues (
            run_id      INTEGER NOT NULL,
            example_id  BIGINT NOT NULL,
            kind        VARCHAR NOT NULL,
            reason      VARCHAR,
            score       DOUBLE,
            created_at  TIMESTAMP NOT NULL DEFAULT current_timestamp
        );
        -- Embedding cache shared by every stage (see curate/embed.py).
        CREATE TABLE embeddings (
            model     VARCHAR NOT NULL,
            text_key  VARCHAR NOT NULL,
            vector    FLOAT[] NOT NULL,
            PRIMARY KEY (model, text_key)
        );
        -- The label set of a dataset (classes seen at ingest or declared later).
        CREATE TABLE labels (
            dataset_id  INTEGER NOT NULL,
            label       VARCHAR NOT NULL,
            PRIMARY KEY (dataset_id, label)
        );
    """),
]


def applied(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Names of the migrations recorded in this store, in order."""
    con.execute("CREATE TABLE IF NOT EXISTS _migrations (name VARCHAR PRIMARY KEY, "
                "applied_at TIMESTAMP NOT NULL DEFAULT current_timestamp)")
    return [r[0] for r in con.execute("SELECT name FROM _migrations ORDER BY name").fetchall()]


def migrate(con: duckdb.DuckDBPyConnection, migrations: list[Migration] | None = None) -> list[str]:
    """Apply every pending migration, each in its own transaction with its record; return their names."""
    migrations = MIGRATIONS if migrations is None else migrations
    done = set(applied(con))
    newly = []
    for migration in migrations:
        if migration.name in done:
            continue
        con.execute("BEGIN TRANSACTION")
        try:
            con.execute(migration.sql)
            con.execute("INSERT INTO _migrations (name) VALUES (?)", [migration.name])
        except duckdb.Error as exc:
            con.execute("ROLLBACK")
            raise MigrationError(f"migration {migration.name} failed and was rolled back: "
                                 f"{str(exc).splitlines()[0]}; fix: report this with the store file") from None
        con.execute("COMMIT")
        newly.append(migration.name)
    return newly


def schema(con: duckdb.DuckDBPyConnection) -> list[tuple]:
    """The store's tables and columns, for comparing a fresh store with a migrated one."""
    return con.execute("""
        SELECT table_name, column_name, data_type, is_nullable, column_default
        FROM information_schema.columns WHERE table_schema = 'main'
        ORDER BY table_name, ordinal_position""").fetchall()
