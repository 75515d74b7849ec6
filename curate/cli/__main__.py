"""``python -m curate.cli`` runs the CLI."""

from curate.cli import main

main()
