"""Named, ordered schema migrations, each applied in one transaction with its record.

Modelled on sqlite-utils' migrations: a migration that fails leaves the store as it was. Each migration
is one file here, ``NNNN_<stage>.sql``, applied in the order of the file names; its name (the file name
without ``.sql``) is what a store records in ``_migrations``, so never rename or edit one that has
shipped: add a file numbered after the last. (Stores applied the first ones as 0001, 0004, 0002, 0003,
0006_train, 0005; none of them touches another's tables, so the numeric order builds the same schema and
a store migrated either way needs nothing more.)
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib.resources import files

import duckdb

from curate.errors import MigrationError


@dataclass(frozen=True)
class Migration:
    name: str
    sql: str


def _load() -> list[Migration]:
    found = [f for f in files(__name__).iterdir() if f.name.endswith(".sql")]
    return [Migration(f.name.removesuffix(".sql"), f.read_text(encoding="utf-8"))
            for f in sorted(found, key=lambda f: f.name)]


MIGRATIONS: list[Migration] = _load()


def applied(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Names of the migrations recorded in this store, in order."""
    exists = con.execute("SELECT count(*) FROM duckdb_tables() WHERE database_name = current_database() "
                         "AND table_name = '_migrations'").fetchall()[0][0]
    if not exists:
        con.execute("CREATE TABLE IF NOT EXISTS _migrations (name VARCHAR PRIMARY KEY, "
                    "applied_at TIMESTAMP NOT NULL DEFAULT current_timestamp)")
    return [r[0] for r in con.execute("SELECT name FROM _migrations ORDER BY name").fetchall()]


def pending(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Names of the migrations this store still needs."""
    exists = con.execute("SELECT count(*) FROM duckdb_tables() WHERE database_name = current_database() "
                         "AND table_name = '_migrations'").fetchall()[0][0]
    done = set(applied(con)) if exists else set()
    return [m.name for m in MIGRATIONS if m.name not in done]


def migrate(con: duckdb.DuckDBPyConnection, migrations: list[Migration] | None = None, *,
            read_only: bool = False) -> list[str]:
    """Apply every pending migration, each in its own transaction with its record; return their names.

    A read-only store is read as it is when it needs no migration; else that is one line."""
    migrations = MIGRATIONS if migrations is None else migrations
    done = set(applied(con))
    newly = []
    pending = [m.name for m in migrations if m.name not in done]
    if read_only and pending:
        raise MigrationError(f"the store is read-only and was written by an older curate (it needs "
                             f"{', '.join(pending)}); fix: open a writable copy of the workspace once")
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
        FROM information_schema.columns WHERE table_schema = 'main' AND table_catalog = current_database()
        ORDER BY table_name, ordinal_position""").fetchall()
