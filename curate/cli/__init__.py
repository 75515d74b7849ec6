"""The ``curate`` command: thin shells that parse arguments, make one library call and print.

One module per stage, each with ``register(app)``; shared helpers (consoles, workspace, the error
guard, literal printing) in ``_common``, options built from params models in ``_options``. Stage
modules never import this package, so there is no cycle: this file builds ``app`` and registers them.
"""

from __future__ import annotations

from curate.cli import browse, dedup, evaluate, ingest, label, ops, select, train, ui, versions
from curate.cli._common import new_app

# Registration order is the order of `curate --help` (commands first, then groups).
STAGES = (ingest, browse, ui, dedup, evaluate, label, ops, select, train, versions)

app = new_app()
for _stage in STAGES:
    _stage.register(app)


def main() -> None:
    """The ``curate`` console script (pyproject ``curate.cli:main``) and ``python -m curate``."""
    app()
