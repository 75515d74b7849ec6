"""Recipes: an ordered list of operator steps in ``pipelines/*.yaml``, parsed and validated whole.

    name: classification
    task: classification          # optional; the dataset must have this task
    steps:
      - op: clean.unicode
      - op: score.lang
        expected: [en]
      - op: filter.lang
        min_score: 0.5            # why this threshold

Every problem in the file is reported at once, one per step, before the store is touched:
``pipelines/x.yaml: step 3 (filter.lang): min_score must be ≤ 1``.
"""

from __future__ import annotations

import difflib
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from curate.errors import CurateError
from curate.ops import filters as filter_ops
from curate.ops.registry import Operator, Params, UnknownOperator, get
from curate.ops.text import FIELDS_OF_TASK, MAIN_FIELD, TASK_TEXT_FIELDS

RECIPES_DIR = Path(__file__).resolve().parent.parent / "_data" / "pipelines"  # pipelines/, shipped in the package
TOP_KEYS = ("name", "description", "task", "steps")
TASKS = ("classification", "sft", "chat")


class RecipeError(CurateError):
    """A recipe file that cannot run: names the file, the step and what to fix."""


@dataclass(frozen=True)
class Step:
    index: int          # 1-based, as users count
    op: Operator
    params: Params

    @property
    def label(self) -> str:
        return f"step {self.index} ({self.op.name})"

    def resolved(self) -> dict[str, Any]:
        return {"op": self.op.name, **self.params.model_dump(mode="json")}

    @property
    def reads(self) -> tuple[str, str] | None:
        """A filter's (signal, reason)."""
        return filter_ops.signal_and_reason(self.op, self.params) if self.op.kind == "filter" else None


@dataclass(frozen=True)
class Recipe:
    name: str
    path: str
    description: str
    task: str | None
    steps: tuple[Step, ...]

    def resolved(self) -> dict[str, Any]:
        """Everything that decides the result: recorded with the run and hashed to skip identical re-runs."""
        return {"recipe": self.name, "task": self.task, "steps": [s.resolved() for s in self.steps]}

    def fingerprint(self) -> str:
        return hashlib.sha256(json.dumps(self.resolved(), sort_keys=True).encode()).hexdigest()

    @property
    def filters(self) -> list[Step]:
        return [s for s in self.steps if s.op.kind == "filter"]


def _loc(err: dict) -> str:
    return ".".join(str(p) for p in err["loc"]) or "params"


def _explain(err: dict, model: type[Params]) -> str:
    """One pydantic error as a short sentence a recipe author can act on."""
    kind, ctx, loc = err["type"], err.get("ctx", {}), _loc(err)
    bounds = {"less_than_equal": ("≤", "le"), "greater_than_equal": ("≥", "ge"),
              "less_than": ("<", "lt"), "greater_than": (">", "gt")}
    if kind in bounds:
        sign, key = bounds[kind]
        return f"{loc} must be {sign} {ctx[key]}"
    if kind == "extra_forbidden":
        close = difflib.get_close_matches(str(err["loc"][0]), list(model.model_fields), n=1, cutoff=0.5)
        known = ", ".join(model.model_fields) or "none"
        return f"unknown parameter {loc!r}" + (f"; did you mean {close[0]!r}?" if close else f" (parameters: {known})")
    if kind == "missing":
        return f"{loc} is required"
    if kind == "literal_error":
        return f"{loc} must be one of {ctx.get('expected')}"
    if kind == "value_error":
        return f"{loc}: {ctx.get('error', err['msg'])}"
    if kind == "string_pattern_mismatch":
        return f"{loc} must be lower_snake_case (letters, digits, _)"
    return f"{loc}: {err['msg'][0].lower() + err['msg'][1:]}"


def _resolve_fields(op: Operator, raw: dict, task: str | None) -> dict:
    """Fill ``auto`` field choices in from the task, so the run records what it really read."""
    if task is None:
        return raw
    out = dict(raw)
    if op.kind == "mapper" and out.get("fields") is None:
        out["fields"] = list(TASK_TEXT_FIELDS[task])
    if op.kind == "scorer" and "field" in op.params.model_fields and out.get("field", "auto") == "auto":
        out["field"] = MAIN_FIELD[task]
    return out


def parse(text: str, path: str = "<recipe>", *, task: str | None = None) -> Recipe:
    """Validate a recipe's text whole; raise one ``RecipeError`` listing every problem."""
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f":{mark.line + 1}" if mark else ""
        raise RecipeError(f"{path}{where}: not valid YAML ({getattr(exc, 'problem', exc)}); fix the syntax") from None
    if not isinstance(doc, dict):
        raise RecipeError(f"{path}: a recipe is a mapping with a `steps:` list; see pipelines/*.yaml")
    problems: list[str] = []
    task = _top_level(doc, path, task, problems)
    raw_steps = doc.get("steps")
    if not isinstance(raw_steps, list) or not raw_steps:
        problems.append("`steps:` must be a non-empty list of `- op: NAME` entries")
        raw_steps = []
    steps: list[Step] = []
    produced: dict[str, str] = {}   # signal → label of the step that writes it
    for index, raw in enumerate(raw_steps, start=1):
        step = _step(index, raw, task, problems)
        if step is not None:
            _check_signals(step, produced, problems)
            steps.append(step)
    if problems:
        raise RecipeError(f"{path}: " + f"; {path}: ".join(problems))
    name = doc.get("name") or Path(path).stem
    return Recipe(str(name), path, str(doc.get("description") or ""), task, tuple(steps))


def _top_level(doc: dict, path: str, task: str | None, problems: list[str]) -> str | None:
    """Check the recipe's keys and declared task against the dataset's; the task its steps are for."""
    for key in doc:
        if key not in TOP_KEYS:
            close = difflib.get_close_matches(str(key), TOP_KEYS, n=1)
            problems.append(f"unknown key {key!r}" + (f"; did you mean {close[0]!r}?" if close else
                                                       f" (keys: {', '.join(TOP_KEYS)})"))
    declared = doc.get("task")
    if declared is not None and declared not in TASKS:
        problems.append(f"task must be one of {', '.join(TASKS)}")
        declared = None
    if declared and task and declared != task:
        raise RecipeError(f"{path}: the recipe is for {declared} datasets but the dataset is {task}; "
                          f"fix: pick a {task} recipe (e.g. pipelines/{task}.yaml)")
    return task or declared


def _step(index: int, raw: Any, task: str | None, problems: list[str]) -> Step | None:
    """One step with its validated params; None (and its problems noted) when it cannot run."""
    if not isinstance(raw, dict) or "op" not in raw:
        problems.append(f"step {index}: must be a mapping like `- op: clean.html`")
        return None
    name = str(raw["op"])
    try:
        op = get(name)
    except UnknownOperator as exc:
        problems.append(f"step {index} ({name}): {exc}")
        return None
    label = f"step {index} ({name})"
    if task and task not in op.tasks:
        problems.append(f"{label}: applies to {' and '.join(op.tasks)} datasets, not {task}")
        return None
    given = {k: v for k, v in raw.items() if k != "op"}
    try:
        params = op.params.model_validate(_resolve_fields(op, given, task))
    except ValidationError as exc:
        problems.extend(f"{label}: {_explain(e, op.params)}" for e in exc.errors())
        return None
    if task:
        chosen = getattr(params, "field", None)
        if chosen and chosen != "auto" and chosen not in FIELDS_OF_TASK[task]:
            problems.append(f"{label}: field {chosen!r} does not exist in {task} datasets "
                            f"(fields: {', '.join(sorted(FIELDS_OF_TASK[task]))})")
        bad = [f for f in getattr(params, "fields", None) or [] if f not in TASK_TEXT_FIELDS[task]]
        if op.kind == "mapper" and bad:
            problems.append(f"{label}: {task} datasets have no field {bad[0]!r} to clean "
                            f"(fields: {', '.join(TASK_TEXT_FIELDS[task])})")
    return Step(index, op, params)


def _check_signals(step: Step, produced: dict[str, str], problems: list[str]) -> None:
    """A scorer writes each signal once; a filter reads one an earlier step wrote (``produced`` grows)."""
    if step.op.kind == "scorer":
        for signal in step.op.signals:
            if signal in produced:
                problems.append(f"{step.label}: signal {signal!r} is already written by {produced[signal]}")
            produced[signal] = step.label
    if step.op.kind == "filter":
        signal, _ = step.reads
        if signal not in produced:
            writer = next((o.name for o in _scorers() if signal in o.signals), None)
            fix = f"add `- op: {writer}` before it" if writer else "no scorer writes it"
            problems.append(f"{step.label}: signal {signal!r} is not written by an earlier step; {fix}")


def _scorers() -> list[Operator]:
    from curate.ops.registry import operators

    return [o for o in operators() if o.kind == "scorer"]


def load(path: str | Path, *, task: str | None = None) -> Recipe:
    """Read and validate a recipe file (for the dataset's ``task`` when given)."""
    p = Path(path)
    if not p.is_file():
        near = sorted(str(x) for x in Path("pipelines").glob("*.yaml")) if Path("pipelines").is_dir() else []
        hint = f"recipes here: {', '.join(near)}" if near else "give the path of a pipelines/*.yaml file"
        raise RecipeError(f"{path}: recipe file not found; {hint}")
    return parse(p.read_text(encoding="utf-8"), str(path), task=task)
