"""The CLI package's shape: one module per stage with ``register(app)``, shared helpers in
``_common``, no import cycle, and every command registered through a ``register`` function."""

from __future__ import annotations

import ast
from pathlib import Path

import curate.cli as cli

CLI = Path(cli.__file__).resolve().parent


def _imports(path: Path) -> set[str]:
    """Modules ``path`` imports (at any depth of the file, lazy imports included)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found |= {f"{node.module}.{a.name}" for a in node.names}
    return found


def _graph() -> dict[str, set[str]]:
    names = {("curate.cli" if p.name == "__init__.py" else f"curate.cli.{p.stem}"): p for p in CLI.glob("*.py")}
    return {name: (_imports(path) & set(names)) - {name} for name, path in names.items()}


def test_command_modules_never_import_the_package_and_form_no_cycle() -> None:
    graph = _graph()
    assert [m for m, deps in graph.items() if m != "curate.cli.__main__" and "curate.cli" in deps] == []
    seen: dict[str, int] = {}   # 1 = on the current path, 2 = done

    def visit(node: str, path: list[str]) -> None:
        seen[node] = 1
        for dep in sorted(graph[node]):
            assert seen.get(dep) != 1, "import cycle: " + " -> ".join([*path, node, dep])
            if dep not in seen:
                visit(dep, [*path, node])
        seen[node] = 2

    for module in sorted(graph):
        if module not in seen:
            visit(module, [])


def test_every_stage_module_registers_its_commands_and_nothing_registers_at_import() -> None:
    stages = {m.__name__.rsplit(".", 1)[1] for m in cli.STAGES}
    helpers = {"__init__", "__main__", "_common", "_options", "search"}  # search: used by train
    assert stages | helpers == {p.stem for p in CLI.glob("*.py")}
    for module in cli.STAGES:
        assert callable(module.register), module.__name__
    decorated = [f"{p.name}:{node.lineno}" for p in CLI.glob("*.py") for node in ast.walk(ast.parse(p.read_text()))
                 if isinstance(node, ast.FunctionDef) and any(
                     isinstance(d, ast.Call) and isinstance(d.func, ast.Attribute) and d.func.attr in ("command", "callback")
                     for d in node.decorator_list)]
    assert decorated == []
