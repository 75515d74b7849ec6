"""``python -m curate`` runs the CLI."""

from curate.cli import main

if __name__ == "__main__":  # importing the module (test_layers does) must not run the CLI
    main()
