"""The store: migrations, transactions and the busy-lock behaviour on a real DuckDB file."""

from __future__ import annotations

import subprocess
import sys

import duckdb
import pytest

from curate.errors import MigrationError, StoreBusy
from curate.store.migrations import MIGRATIONS, Migration, applied, migrate, schema
from curate.store.workspace import Workspace


def test_fresh_store_has_every_migration(workspace: Workspace) -> None:
    with workspace.connect() as con:
        assert applied(con) == sorted(m.name for m in MIGRATIONS)
        tables = {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
    assert {"datasets", "sources", "examples", "edits", "signals", "issues", "runs", "labels"} <= tables
    assert workspace.db_path.exists() and workspace.artifacts.is_dir()


def test_migrated_store_equals_fresh_store(tmp_path) -> None:
    old = duckdb.connect(str(tmp_path / "old.duckdb"))
    assert migrate(old, MIGRATIONS[:1]) == [MIGRATIONS[0].name]
    assert migrate(old) == [m.name for m in MIGRATIONS[1:]]
    fresh = duckdb.connect(str(tmp_path / "fresh.duckdb"))
    migrate(fresh)
    assert schema(old) == schema(fresh)
    assert migrate(old) == []  # nothing pending: re-running is a no-op


# The order stores applied the first migrations in while they were one list in migrations.py; they are
# one file each now, applied in numeric order.
LISTED_ORDER = ["0001_core", "0004_label", "0002_dedup", "0003_ops", "0006_train", "0005_versions",
                "0006_label_order", "0014_run_owner", "0015_sessions", "0016_spans_preference", "0017_select"]


def test_migrations_are_applied_in_numeric_order() -> None:
    names = [m.name for m in MIGRATIONS]
    assert names == sorted(names) and set(LISTED_ORDER) <= set(names)
    assert all(m.sql.strip() for m in MIGRATIONS)


def test_store_migrated_in_the_listed_order_opens_unchanged(tmp_path) -> None:
    """A store built in the old listed order (every store before migrations became files), and one an older
    curate left halfway through it, open as they are and catch up to the schema of a fresh store."""
    by_name = {m.name: m for m in MIGRATIONS}
    fresh = duckdb.connect()
    migrate(fresh)
    path = tmp_path / "old" / "curate.duckdb"
    path.parent.mkdir()
    old = duckdb.connect(str(path))
    assert migrate(old, [by_name[n] for n in LISTED_ORDER]) == LISTED_ORDER
    old.execute("INSERT INTO datasets (name, task) VALUES ('kept', 'sft')")
    old.close()
    with Workspace(path.parent).connect() as con:
        assert applied(con) == sorted(LISTED_ORDER)
        assert schema(con) == schema(fresh)
        assert con.execute("SELECT name, task FROM datasets").fetchall() == [("kept", "sft")]
    half = duckdb.connect()
    migrate(half, [by_name[n] for n in LISTED_ORDER[:5]])  # 0001, 0004, 0002, 0003, 0006_train
    assert migrate(half) == [n for n in (m.name for m in MIGRATIONS) if n not in LISTED_ORDER[:5]]
    assert schema(half) == schema(fresh)


def test_failing_migration_leaves_store_as_it_was(tmp_path) -> None:
    path = str(tmp_path / "s.duckdb")
    con = duckdb.connect(path)
    migrate(con)
    before = schema(con)
    bad = Migration("9999_broken", "CREATE TABLE half_done (x INTEGER); SELECT * FROM no_such_table")
    with pytest.raises(MigrationError, match="9999_broken failed and was rolled back"):
        migrate(con, [*MIGRATIONS, bad])
    con.close()
    con = duckdb.connect(path)
    assert schema(con) == before
    assert "9999_broken" not in applied(con)
    assert not con.execute("SELECT count(*) FROM information_schema.tables WHERE table_name = 'half_done'").fetchall()[0][0]


def test_transaction_rolls_back_every_statement(workspace: Workspace) -> None:
    with pytest.raises(RuntimeError):
        with workspace.transaction() as con:
            con.execute("INSERT INTO datasets (name, task) VALUES ('a', 'classification')")
            raise RuntimeError("boom")
    with workspace.connect() as con:
        assert con.execute("SELECT count(*) FROM datasets").fetchall()[0][0] == 0


HOLD = "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); print('held', flush=True); time.sleep(float(sys.argv[2]))"


def _hold(workspace: Workspace, seconds: float) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, "-c", HOLD, str(workspace.db_path), str(seconds)],
                            stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "held"
    return proc


def test_busy_workspace_is_reported_in_one_line(workspace: Workspace) -> None:
    with workspace.connect():
        pass
    holder = _hold(workspace, 30)
    try:
        with pytest.raises(StoreBusy) as info:
            with Workspace(workspace.root, busy_timeout=0.3).connect():
                pass
        message = str(info.value)
        assert "\n" not in message and "busy" in message and f"process {holder.pid}" in message
    finally:
        holder.kill()
        holder.wait()


def test_busy_lock_is_retried_until_released(workspace: Workspace) -> None:
    with workspace.connect():
        pass
    holder = _hold(workspace, 1.0)
    with Workspace(workspace.root, busy_timeout=20).connect() as con:
        assert con.execute("SELECT count(*) FROM datasets").fetchall()[0][0] == 0
    holder.wait()
    assert holder.returncode == 0  # we got in after the holder finished, not by breaking its lock


def test_unit_of_work_releases_the_file_for_other_processes(workspace: Workspace) -> None:
    """Units of work attach the store to the process's DuckDB host; the last one out detaches it,
    so another process can write (and sees what was committed) in between."""
    with workspace.transaction() as con:
        con.execute("CREATE TABLE t (x INTEGER)")
        con.execute("INSERT INTO t VALUES (1)")
        with workspace.connect() as inner:  # a nested unit of work shares the attachment
            assert inner.execute("SELECT current_database()").fetchall()[0][0] == \
                con.execute("SELECT current_database()").fetchall()[0][0]
    write = ("import duckdb, sys; c = duckdb.connect(sys.argv[1]); "
             "print(c.execute('SELECT sum(x) FROM t').fetchall()[0][0]); c.execute('INSERT INTO t VALUES (41)')")
    out = subprocess.run([sys.executable, "-c", write, str(workspace.db_path)], capture_output=True, text=True)
    assert out.returncode == 0 and out.stdout.strip() == "1", out.stderr
    with workspace.connect() as con:
        assert con.execute("SELECT sum(x) FROM t").fetchall()[0][0] == 42


def test_two_workspaces_in_one_process_stay_apart(tmp_path) -> None:
    a, b = Workspace(tmp_path / "a"), Workspace(tmp_path / "b")
    with a.transaction() as ca, b.transaction() as cb:
        ca.execute("CREATE TABLE only_a (x INTEGER)")
        cb.execute("CREATE TABLE only_b (x INTEGER)")
    with a.connect() as ca, b.connect() as cb:
        names_a = {r[0] for r in ca.execute("SELECT table_name FROM information_schema.tables "
                                            "WHERE table_catalog = current_database()").fetchall()}
        names_b = {r[0] for r in cb.execute("SELECT table_name FROM information_schema.tables "
                                            "WHERE table_catalog = current_database()").fetchall()}
    assert "only_a" in names_a and "only_a" not in names_b
    assert "only_b" in names_b and "only_b" not in names_a
    assert schema_of(a) == schema_of(b)


def schema_of(ws: Workspace) -> list[tuple]:
    with ws.connect() as con:
        return [r for r in schema(con) if r[0] not in ("only_a", "only_b")]



# Run with `python -c` (no `__main__.__file__`), DuckDB's Python client takes the process for an
# interactive one and turns its progress bar on for `duckdb.connect()`: a statement over 2 s then draws
# it on stdout, a pipe too. A DETACH checkpointing a big ingest on a loaded machine put one into a
# loader's result line (tests/test_concurrency.py).
BAR_SETTINGS = """
import json, sys
from curate.store import workspace as w
ws, q = w.Workspace(sys.argv[1]), "SELECT current_setting('enable_progress_bar')"
with ws.connect() as con:
    with w._OPEN_CLOSE:
        host = w._host().execute(q).fetchall()[0][0]
    unit = con.execute(q).fetchall()[0][0]
with ws.read() as con:
    read = con.execute(q).fetchall()[0][0]
with w.scratch() as con:
    side = con.execute(q).fetchall()[0][0]
print(json.dumps({"host": host, "unit": unit, "read": read, "scratch": side}))
"""


def test_no_connection_draws_duckdbs_progress_bar_even_in_python_c(workspace: Workspace) -> None:
    import json
    from pathlib import Path

    done = subprocess.run([sys.executable, "-c", BAR_SETTINGS, str(workspace.root)], capture_output=True, text=True,
                          env={"PYTHONPATH": str(Path(__file__).resolve().parent.parent), "PATH": "/usr/bin:/bin"})
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"host": False, "unit": False, "read": False, "scratch": False}
