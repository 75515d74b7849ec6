"""Labelling: questions, annotators, append-only annotations, queues, agreement, pre-labels, suspects.

Pure logic over the store (``curate.store.label`` holds the SQL); no streamlit, no typer.
An **annotation** is one annotator's answer to one **question** on one example; annotations are
appended, never changed, and the latest per (example, annotator, question) is current.
"""
