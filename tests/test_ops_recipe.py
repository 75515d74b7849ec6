"""Recipe parsing and validation: every problem named with file, step and fix, before the store is touched."""

from __future__ import annotations

from pathlib import Path

import pytest

from curate.ops import RECIPES_DIR, RecipeError, load, parse

GOOD = """
name: t
steps:
  - op: clean.html
  - op: score.lang
    expected: [en]
  - op: filter.lang
    min_score: 0.5
"""


@pytest.mark.parametrize("text, message", [
    ("steps:\n  - op: clean.html\n  - op: score.lang\n  - op: filter.lang\n    min_score: 1.5\n",
     "x.yaml: step 3 (filter.lang): min_score must be ≤ 1"),
    ("steps:\n  - op: score.lang\n  - op: filter.lang\n    min_score: -0.1\n",
     "x.yaml: step 2 (filter.lang): min_score must be ≥ 0"),
    ("steps:\n  - op: clean.htm\n", "x.yaml: step 1 (clean.htm): unknown operator 'clean.htm'; did you mean clean.html?"),
    ("steps:\n  - op: score.lang\n    expectd: [en]\n", "step 1 (score.lang): unknown parameter 'expectd'; did you mean 'expected'?"),
    ("steps:\n  - op: score.lang\n    expected: [xx]\n", "step 1 (score.lang): expected: unknown language code 'xx'"),
    ("steps:\n  - op: filter.lang\n", "step 1 (filter.lang): signal 'lang_match' is not written by an earlier step; "
                                     "add `- op: score.lang` before it"),
    ("steps:\n  - op: score.lang\n  - op: score.lang\n", "step 2 (score.lang): signal 'lang_conf' is already written by step 1"),
    ("steps:\n  - op: score.heuristics\n    min_words: 0\n", "step 1 (score.heuristics): min_words must be ≥ 1"),
    ("steps:\n  - op: clean.whitespace\n    max_blank_lines: 99\n", "max_blank_lines must be ≤ 10"),
    ("steps:\n  - op: clean.pii\n    kinds: [email, ssn]\n", "step 1 (clean.pii): kinds.1 must be one of"),
    ("steps:\n  - op: filter.threshold\n    signal: length\n    min_score: 0.5\n",
     "step 1 (filter.threshold): reason is required"),
    ("steps: []\n", "x.yaml: `steps:` must be a non-empty list"),
    ("stepz:\n  - op: clean.html\n", "x.yaml: unknown key 'stepz'; did you mean 'steps'?"),
    ("steps:\n  - clean.html\n", "x.yaml: step 1: must be a mapping like `- op: clean.html`"),
    ("steps: [\n", "x.yaml:"),
    ("- just a list\n", "x.yaml: a recipe is a mapping"),
])
def test_validation_errors(text: str, message: str) -> None:
    with pytest.raises(RecipeError) as info:
        parse(text, "x.yaml")
    assert message in str(info.value)
    assert "\n" not in str(info.value)


def test_every_problem_is_reported_at_once() -> None:
    text = "steps:\n  - op: clean.htm\n  - op: score.lang\n    expected: [en]\n  - op: filter.lang\n    min_score: 2\n"
    message = str(pytest.raises(RecipeError, parse, text, "x.yaml").value)
    assert "step 1 (clean.htm)" in message and "step 3 (filter.lang): min_score must be ≤ 1" in message


def test_task_checks() -> None:
    with pytest.raises(RecipeError, match="step 1 \\(score.sft\\): applies to sft and chat datasets, not classification"):
        parse("steps:\n  - op: score.sft\n", "x.yaml", task="classification")
    with pytest.raises(RecipeError, match="field 'response' does not exist in classification datasets"):
        parse("steps:\n  - op: score.lang\n    field: response\n", "x.yaml", task="classification")
    with pytest.raises(RecipeError, match="recipe is for sft datasets but the dataset is classification"):
        parse("task: sft\nsteps:\n  - op: clean.html\n", "x.yaml", task="classification")


def test_auto_fields_resolve_per_task_and_fingerprint_is_stable() -> None:
    r = parse(GOOD, "t.yaml", task="sft")
    assert r.steps[0].params.fields == ["instruction", "input", "response"]
    assert r.steps[1].params.field == "response"
    assert parse(GOOD, "t.yaml", task="classification").steps[1].params.field == "text"
    assert r.fingerprint() == parse(GOOD, "t.yaml", task="sft").fingerprint()
    assert r.fingerprint() != parse(GOOD.replace("0.5", "0.6"), "t.yaml", task="sft").fingerprint()
    assert r.resolved()["steps"][2] == {"op": "filter.lang", "min_score": 0.5}


@pytest.mark.parametrize("name, task", [("classification", "classification"), ("sft", "sft"),
                                        ("multilingual", "classification")])
def test_shipped_recipes_are_valid_and_commented(name: str, task: str) -> None:
    path = RECIPES_DIR / f"{name}.yaml"
    recipe = load(path, task=task)
    assert recipe.filters
    lines = path.read_text().splitlines()
    for i, line in enumerate(lines):   # every threshold carries a comment saying why
        if line.strip().startswith("min_score:"):
            assert "#" in line, f"{path.name}:{i + 1} has no comment"


def test_missing_file() -> None:
    with pytest.raises(RecipeError, match="recipe file not found"):
        load(Path("nope/none.yaml"))
