"""The Ray engine's one-line errors, before anything is written: Ray not installed, an unreachable
cluster, a step the Ray engine cannot run, an unknown engine."""

from __future__ import annotations

import os
import socket
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from curate.cli import app
from curate.ingest import ingest
from curate.ops import RECIPES_DIR

from conftest import ROOT, SAMPLE

RECIPE = str(RECIPES_DIR / "classification.yaml")


@pytest.fixture
def messy(workspace):
    ingest(workspace, [SAMPLE / "messy_reviews.jsonl"], "messy")
    return workspace


def _runs(ws) -> int:
    with ws.connect() as con:
        return con.execute("SELECT count(*) FROM runs WHERE kind IN ('recipe', 'dedup')").fetchall()[0][0]


def _curate(ws, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "curate", "-w", str(ws.root), *args], capture_output=True,
                          text=True, env={**os.environ, **(env or {})}, timeout=120)


@pytest.mark.parametrize("command", [["run", RECIPE, "--dataset", "messy"], ["dedup", "messy"]])
def test_without_ray_one_line_names_the_install_command(messy, tmp_path, command) -> None:
    # A real interpreter in which `import ray` fails, as on a machine without the extra.
    (tmp_path / "noray").mkdir()
    (tmp_path / "noray" / "sitecustomize.py").write_text("import sys\nsys.modules['ray'] = None\n")
    done = _curate(messy, *command, "--engine", "ray",
                   env={"PYTHONPATH": os.pathsep.join([str(tmp_path / "noray"), str(ROOT)])})
    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "pip install 'curate[ray]'" in lines[0], done.stderr
    assert "Traceback" not in done.stderr and _runs(messy) == 0


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize("command", [["run", RECIPE, "--dataset", "messy"], ["dedup", "messy"]])
def test_unreachable_cluster_one_line_names_the_address(messy, command) -> None:
    pytest.importorskip("ray")
    address = f"127.0.0.1:{_closed_port()}"
    result = CliRunner().invoke(app, ["-w", str(messy.root), *command, "--engine", "ray", "--address", address])
    assert result.exit_code == 1
    assert f"Ray cluster at {address} is unreachable" in result.output and "ray start --head" in result.output
    assert _runs(messy) == 0


def test_steps_that_need_the_whole_dataset_are_refused_before_the_run(messy, tmp_path) -> None:
    pytest.importorskip("ray")
    recipe = tmp_path / "outliers.yaml"
    recipe.write_text("steps:\n  - op: score.outlier\n  - op: filter.outlier\n")
    result = CliRunner().invoke(app, ["-w", str(messy.root), "run", str(recipe), "--dataset", "messy",
                                      "--engine", "ray"])
    assert result.exit_code == 1 and "step 1 (score.outlier) needs embeddings" in result.output
    assert "--engine local" in result.output and _runs(messy) == 0


def test_unknown_engine(messy) -> None:
    result = CliRunner().invoke(app, ["-w", str(messy.root), "dedup", "messy", "--engine", "spark"])
    assert result.exit_code == 1 and "unknown engine 'spark'" in result.output and _runs(messy) == 0
