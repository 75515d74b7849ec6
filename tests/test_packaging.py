"""A wheel (not an editable install) carries sample_data/ and pipelines/: `curate demo` and the recipe
list work from it. Built from a copy of the repository and installed into a throwaway venv that
borrows the dependencies of the running interpreter through a .pth file (no download)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

from tests.conftest import ROOT


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    src = tmp_path_factory.mktemp("src") / "curate"
    shutil.copytree(ROOT, src, symlinks=True, ignore=shutil.ignore_patterns(
        ".git", "build", "dist", "*.egg-info", "__pycache__", ".pytest_cache", "bench", "tests"))
    out = src.parent / "dist"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(out),
                    str(src)], check=True, capture_output=True, timeout=300)
    return next(out.glob("curate-*.whl"))


def test_wheel_ships_sample_data_and_recipes(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    shipped_samples = {f"curate/_data/sample_data/{p.name}" for p in (ROOT / "sample_data").iterdir() if p.is_file()}
    shipped_recipes = {f"curate/_data/pipelines/{p.name}" for p in (ROOT / "pipelines").glob("*.yaml")}
    assert shipped_samples <= names and shipped_recipes <= names and len(shipped_recipes) >= 3
    assert "curate/ui/entry/main.py" in names   # the script `curate ui` runs
    assert {"curate/ui/components/span_editor.js", "curate/ui/components/span_editor.css"} <= names


def test_installed_wheel_finds_its_demo_data_and_recipes(wheel: Path, tmp_path: Path) -> None:
    """The installed package (not this checkout) lists the shipped recipes, holds every file `curate demo`
    reads, and its `curate` script ingests one of them. (A whole `curate demo` from the wheel takes ~30 s of
    MiniLM embedding; the demo itself is built by tests/conftest.py's demo_template.)"""
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    python = venv / "bin" / "python"
    site = Path(subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                               check=True, capture_output=True, text=True).stdout.strip())
    (site / "borrowed.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")  # dependencies, not curate
    subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", "-q", str(wheel)],
                   check=True, capture_output=True, timeout=300)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    probe = ("import json, curate, curate.ops as o, curate.demo as d; print(json.dumps({'file': curate.__file__, "
             "'recipes': sorted(p.name for p in o.RECIPES_DIR.glob('*.yaml')), 'samples': str(d.SAMPLE_DATA), "
             "'missing': [f for fs in d.DEMO_DATASETS.values() for f in fs if not (d.SAMPLE_DATA / f).is_file()]}))")
    found = json.loads(subprocess.run([str(python), "-c", probe], cwd=tmp_path, env=env, capture_output=True,
                                      text=True, check=True).stdout)
    assert found["file"].startswith(str(site)) and found["samples"].startswith(str(site))
    assert {"classification.yaml", "sft.yaml"} <= set(found["recipes"]) and found["missing"] == []
    run = lambda *args: subprocess.run([str(venv / "bin" / "curate"), *args], cwd=tmp_path, env=env,  # noqa: E731
                                       capture_output=True, text=True, timeout=600)
    from curate import __version__

    assert run("--version").stdout.strip() == f"curate {__version__}"
    ingested = run("-w", str(tmp_path / "ws"), "ingest", str(Path(found["samples"]) / "sst2_dev.jsonl"), "-d", "sst2",
                   "--json")
    assert ingested.returncode == 0 and json.loads(ingested.stdout)["rows"] == 200, ingested.stderr[-2000:]
