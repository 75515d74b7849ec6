"""curate: an offline-first workbench for building fine-tuning datasets."""

__version__ = "0.1.0"
