"""Operators are registered explicitly: each operator module's ``OPERATORS`` list, and the registry's
``MODULES``. A module that builds operators but is missing from ``MODULES``, an operator that is not in
its module's list, or one without a description or README entry fails here."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from curate.ops import registry
from curate.ops.base import Operator, Params

OPS = Path(registry.__file__).resolve().parent
README = (OPS.parent.parent / "README.md").read_text()


def _builds_operators(path: Path) -> bool:
    """True when the module calls ``Operator(...)`` or assigns ``OPERATORS``."""
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "Operator":
            return True
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "OPERATORS" for t in node.targets):
            return True
    return False


def test_every_operator_module_is_listed_and_every_operator_registered() -> None:
    building = {p.stem for p in OPS.glob("*.py") if p.stem not in ("base", "registry") and _builds_operators(p)}
    listed = {m.__name__.rsplit(".", 1)[1] for m in registry.MODULES}
    assert building == listed
    from_lists = [op for module in registry.MODULES for op in module.OPERATORS]
    assert all(isinstance(op, Operator) for op in from_lists)
    assert {op.name: op for op in from_lists} == registry.REGISTRY
    assert all(registry.get(op.name) is op for op in from_lists)
    assert len(registry.operators()) == len(from_lists) >= 25


def test_every_operator_is_documented() -> None:
    for op in registry.operators():
        assert op.doc.strip(), op.name
        assert f"`{op.name}`" in README, f"{op.name} is not named in README.md"
        for name, field in op.params.model_fields.items():
            assert field.description, f"{op.name}.{name} has no description"
        if op.kind == "filter" and op.name != "filter.threshold":
            assert op.reason and len(op.signals) == 1, op.name


def test_a_name_used_twice_is_refused_when_the_registry_is_built() -> None:
    class Twice:
        OPERATORS = [Operator("clean.twice", "mapper", Params, None, "one"),
                     Operator("clean.twice", "mapper", Params, None, "two")]

    with pytest.raises(ValueError, match="'clean.twice' is registered twice"):
        registry.build((Twice,))
