"""One source for every setting: a stage's params model holds its defaults, bounds and descriptions;
the CLI's options and the UI's widgets are built from it (``curate/cli/_options.py``,
``curate/ui/params.py``). An AST scan of the shells finds no numeric default or bound written by hand,
except the listed presentation options (how many rows to print, a port, a page number)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from curate.cli import app
from curate.cli._options import describe
from curate.dedup.params import DedupParams
from curate.label.params import PrelabelParams, QuestionParams, SuspectParams
from curate.select.params import SelectParams
from curate.settings import bounds
from curate.train.params import TrainParams
from curate.versions.params import SplitParams

PACKAGE = Path(__file__).resolve().parent.parent / "curate"
WIDGETS = ("number_input", "slider", "select_slider")
# Shell-only settings with no params model: how output looks or where a server listens.
PRESENTATION = {
    ("cli/browse.py", "--limit"), ("cli/browse.py", "--offset"), ("cli/ui.py", "--port"),
    ("cli/ops.py", "--samples"), ("cli/label.py", "--limit"), ("cli/versions.py", "--rows"),
    ("ui/pages/data.py", "number_input"),   # the page number of the Data browser
}
MODELS = (DedupParams, TrainParams, QuestionParams, SuspectParams, PrelabelParams, SelectParams, SplitParams)


def _numeric(node: ast.AST | None) -> bool:
    return isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) and not isinstance(node.value, bool) \
        or isinstance(node, ast.UnaryOp) and _numeric(node.operand)


def _literal_settings(path: Path) -> list[tuple[str, str, int]]:
    """(file, option flag or widget, line) of every typer option or Streamlit number widget in ``path``
    whose default, min or max is a number written in the call."""
    rel = path.relative_to(PACKAGE).as_posix()
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute):
            continue
        kw = {k.arg: k.value for k in node.keywords}
        if node.func.attr in ("Option", "Argument"):
            flags = [a.value for a in node.args[1:] if isinstance(a, ast.Constant) and isinstance(a.value, str)]
            if (node.args and _numeric(node.args[0])) or _numeric(kw.get("min")) or _numeric(kw.get("max")):
                found.append((rel, flags[0] if flags else "?", node.lineno))
        elif node.func.attr in WIDGETS:
            values = [*node.args[1:4], kw.get("min_value"), kw.get("max_value"), kw.get("value")]
            if any(_numeric(v) for v in values):
                found.append((rel, node.func.attr, node.lineno))
    return found


def test_no_numeric_default_or_bound_is_written_in_the_cli_or_the_ui() -> None:
    files = [*(PACKAGE / "cli").glob("*.py"), *(PACKAGE / "ui").rglob("*.py")]
    written = [f for path in files for f in _literal_settings(path) if f[:2] not in PRESENTATION]
    assert written == []


def test_the_scan_catches_a_hand_written_bound() -> None:
    path = PACKAGE / "cli" / "_scan_probe.py"
    try:
        path.write_text('import typer\nx = typer.Option(128, "--num-perm", min=16, max=1024)\n'
                        'import streamlit as st\ny = st.number_input("Permutations", 16, 512, 128)\n')
        assert [f[1] for f in _literal_settings(path)] == ["--num-perm", "number_input"]
    finally:
        path.unlink()


def _help(*command: str) -> str:
    out = CliRunner().invoke(app, [*command, "--help"], env={"COLUMNS": "2000", "TERM": "dumb"}).output
    return " ".join(out.replace("│", " ").split())


@pytest.mark.parametrize("command, model, fields", [
    (("dedup", "run"), DedupParams, ("method", "threshold", "ngram", "shingle", "num_perm", "neighbors")),
    (("train",), TrainParams, ("epochs", "max_length", "batch_size", "lora_r")),
    (("suspects",), SuspectParams, ("method", "folds", "epochs", "model")),
    (("questions", "add"), QuestionParams, ("overlap",)),
    (("select",), SelectParams, ("strategy", "seed", "compare_random")),
    (("version", "create"), SplitParams, ("seed",)),
])
def test_cli_options_are_built_from_the_params_model(command, model, fields) -> None:
    text = _help(*command)
    for name in fields:
        flag = "--" + name.replace("_", "-")
        assert flag in text and " ".join(describe(model, name).split()) in text, (command, name)


def test_every_bounded_field_has_a_description_and_a_default_in_range() -> None:
    for model in MODELS:
        for name, field in model.model_fields.items():
            assert field.description, f"{model.__name__}.{name}"
            low, high = bounds(model, name)
            value = field.get_default(call_default_factory=True)
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                assert (low is None or value >= low) and (high is None or value <= high), f"{model.__name__}.{name}"


def test_ids_are_parsed_by_one_function_with_one_message() -> None:
    from curate.errors import InputError
    from curate.ids import parse_ids

    assert parse_ids(" 12, 15,40,", "--good") == [12, 15, 40]
    with pytest.raises(InputError, match=r"--good: 'x,y' is not a comma-separated list of ids"):
        parse_ids("x,y", "--good")
    by_hand = re.compile(r"int\(\w+(\.strip\(\))?\) for \w+ in [^\n]*\.split\(")   # int(x) for x in s.split(",")
    scanned = [p.relative_to(PACKAGE).as_posix() for p in PACKAGE.rglob("*.py")
               if by_hand.search(p.read_text()) and p.name != "ids.py"]
    assert scanned == []


def test_a_widget_is_built_from_its_field() -> None:
    from streamlit.testing.v1 import AppTest

    def page() -> None:
        import streamlit as st

        from curate.dedup.params import DedupParams
        from curate.label.params import SuspectParams
        from curate.ui.params import widget

        widget(st, DedupParams, "num_perm", "Permutations", key="perm", step=16)
        widget(st, SuspectParams, "accept_above", "Accept", key="acc", slider=True, step=0.01)
        widget(st, DedupParams, "method", "Method", key="method")

    # AppTest's default of 3 s is too short for the first run's imports on a loaded machine
    at = AppTest.from_function(page, default_timeout=60).run()
    assert not at.exception
    perm, = at.number_input
    assert (perm.min, perm.max, perm.value) == (16, 1024, 128)
    acc, = at.slider
    assert (acc.min, acc.max, acc.value) == (0.0, 1.0, 0.6)
    assert at.selectbox[0].value == "minhash" and at.selectbox[0].options == ["exact", "minhash", "semantic"]
