"""Data: the workspace's datasets, upload with preview and column mapping, and a paged browser."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
import streamlit as st

from curate import browse
from curate.errors import CurateError, InputError
from curate.ingest import TASK_FIELDS, ingest, preview
from curate.ingest.tasks import REQUIRED, missing_fields
from curate.ingest.uploads import save_upload
from curate.ui import literal, state

PAGE_SIZE = 50
NONE = "—"
UPLOAD_TYPES = ["jsonl", "ndjson", "json", "csv", "tsv", "parquet", "gz", "zst"]
NAME_BOX = "Dataset (new or existing)"
# What to do in the form instead of the command-line option an ingest error's fix names (first match).
FORM_FIXES = (
    ("--map", "pick the right column for each field under Map columns to fields, or correct the file and upload it again"),
    ("--replace", f"type a new dataset name under {NAME_BOX} (the form adds a file; it never replaces one)"),
    ("--dataset", f"type a name of letters, digits, '-', '_' or '.' (not first) under {NAME_BOX}"),
    ("--task", "pick the Task above"),
)


def render() -> None:
    st.header("Data")
    ws = state.workspace()
    if flash := st.session_state.pop("data_flash", None):
        st.success(flash)
    with state.user_errors():
        sets = browse.datasets(ws)
        _datasets_table(sets)
        _upload(ws, [d.name for d in sets])
        if sets:
            _browser(ws, sets)


def _datasets_table(sets: list[browse.DatasetInfo]) -> None:
    if not sets:
        st.info("No datasets yet. Upload a file below, or run `curate demo` for a demo workspace.")
        return
    frame = pd.DataFrame([{
        "dataset": d.name, "task": d.task, "examples": d.examples, "labelled": d.labelled,
        "sources": d.sources, "labels": ", ".join(d.labels)} for d in sets])
    with st.container(key="datasets_table"):
        st.dataframe(frame, hide_index=True)


def _upload(ws, names: list[str]) -> None:
    with st.expander("Add data: upload a file", expanded=not names):
        upload = st.file_uploader("JSONL, JSON, CSV/TSV, Parquet (.gz/.zst too)", type=UPLOAD_TYPES,
                                  key="upload_file")
        if upload is None:
            return
        path = save_upload(ws, upload.name, upload.getvalue())
        try:
            view = preview(path)
        except CurateError as exc:
            st.error(form_error(exc, upload.name, path))
            return
        st.caption(f"{len(view.columns)} columns: " + literal.inline(", ".join(map(str, view.columns))))
        with st.container(key="upload_preview"):
            st.dataframe(pd.DataFrame(view.records).astype(str), hide_index=True, height=220)
        tasks = list(TASK_FIELDS)
        task = st.selectbox("Task", tasks, index=tasks.index(view.task) if view.task else 0, key="upload_task",
                            help="Detected from the columns; change it if the guess is wrong.")
        st.markdown("**Map columns to fields**")
        mapping: dict[str, str] = {}
        cells = st.columns(len(TASK_FIELDS[task]))
        for cell, field in zip(cells, TASK_FIELDS[task]):
            options = [NONE, *view.columns]
            guess = view.suggested[task].get(field)
            label = field + (" (required)" if field in REQUIRED[task] else " (one pair required)" if task == "spans"
                             else " (optional)")
            choice = cell.selectbox(label, options, index=options.index(guess) if guess in options else 0,
                                    key=f"map_{task}_{field}")
            if choice != NONE:
                mapping[field] = choice
        default_name = re.sub(r"[^A-Za-z0-9_.-]+", "-", Path(upload.name).name.split(".")[0]).strip("-") or "dataset"
        name = st.text_input(NAME_BOX, value=default_name, key="upload_dataset")
        missing = missing_fields(task, mapping, view.columns)
        if missing:
            need = "text and spans, or to tokens and ner_tags" if task == "spans" else " and ".join(missing)
            st.warning(f"Map a column to {need} to ingest this file as {task}.")
        if st.button("Ingest", type="primary", key="upload_ingest", disabled=bool(missing)):
            try:
                report = ingest(ws, [path], name.strip(), task=task, mapping=mapping)
            except CurateError as exc:
                st.error(form_error(exc, upload.name, path))
                return
            if report.rows:
                st.session_state["data_flash"] = f"Ingested {report.rows:,} rows into {literal.inline(name)} ({report.task})."
            else:
                st.session_state["data_flash"] = (f"{literal.inline(upload.name)} was already ingested into "
                                                   f"{literal.inline(name)}; nothing added.")
            st.session_state["browse_next"] = name.strip()
            st.rerun()


def form_error(exc: CurateError, upload: str, path: Path) -> str:
    """An ingest error as the upload form should say it: the uploaded file's name instead of where the
    server keeps it, and what to do in the form instead of a command-line option."""
    if not isinstance(exc, InputError):
        return str(exc).replace(str(path), upload)
    where = upload if exc.path == str(path) else NAME_BOX if exc.path == "--dataset" else exc.path
    fix = exc.fix or ""
    if "--" in fix or "curate " in fix:
        fix = next((form for flag, form in FORM_FIXES if flag in fix), "correct the file and upload it again")
    problem = exc.problem.replace(str(path), upload).replace("--map ", "mapping ")
    return str(InputError(where, problem, line=exc.line, row=exc.row, fix=fix or None))


def _browser(ws, sets: list[browse.DatasetInfo]) -> None:
    st.subheader("Browse")
    names: list[str] = [d.name for d in sets]
    if (nxt := st.session_state.pop("browse_next", None)) in names:
        st.session_state["browse_dataset"] = nxt
        st.session_state["browse_page"] = 1
    left, mid, right = st.columns([2, 3, 1])
    dataset = left.selectbox("Dataset", names, key="browse_dataset", on_change=_reset_page)
    query = mid.text_input("Filter (text contains)", key="browse_query", on_change=_reset_page).strip() or None
    total = browse.page(ws, dataset, limit=0, query=query).total
    pages = max(1, -(-total // PAGE_SIZE))
    number = right.number_input(f"Page (of {pages:,})", min_value=1, max_value=pages, step=1, key="browse_page")
    page = browse.page(ws, dataset, offset=(int(number) - 1) * PAGE_SIZE, limit=PAGE_SIZE, query=query)
    shown = f"rows {page.offset + 1:,}–{page.offset + len(page.rows):,} of " if page.rows else ""
    st.caption(f"{literal.inline(dataset)} · {page.task} · {shown}{total:,} examples (current values)"
               + (f" containing “{literal.inline(query)}”" if query else ""))
    if not page.rows:
        st.info("No examples match.")
        return
    edited = any(r["edited"] for r in page.rows)
    frame = pd.DataFrame([{**r, "edited": ", ".join(r["edited"]), **_turns(r)} for r in page.rows],
                         columns=["id", *page.columns, *(["edited"] if edited else [])])
    with st.container(key="browse_rows"):
        st.dataframe(frame, hide_index=True, column_config={"id": st.column_config.NumberColumn(format="%d")})
    ids: list[int] = [r["id"] for r in page.rows]
    chosen = st.selectbox("Show example", ids, key="browse_example")
    _example(ws, int(chosen))


def _turns(row: dict) -> dict:
    """A conversation as its turns ("user: … ⏎ assistant: …"), not its JSON."""
    if not isinstance(row.get("messages"), str):
        return {}
    turns = json.loads(row["messages"])
    return {"messages": " ⏎ ".join(f"{t.get('role', '')}: {t.get('content', '')}" for t in turns)}


def _reset_page() -> None:
    st.session_state["browse_page"] = 1


def _example(ws, example_id: int) -> None:
    detail = browse.example(ws, example_id)
    fields, raw, prov = st.columns(3)
    with fields:
        st.markdown("**Fields** (current values)")
        for key, value in detail["fields"].items():
            by = detail["edited_by"].get(key)
            _field(key + (f" · edited by {by}" if by else ""), value)
            if by:
                with st.expander(f"Original {key} (as ingested)"):
                    _field(key, detail["original"].get(key))
    with raw:
        st.markdown("**Raw record** (as ingested)")
        st.json(detail["raw"])
    with prov:
        st.markdown("**Provenance**")
        st.json(detail["provenance"])


def _field(title: str, value) -> None:
    """A field's value literally; a conversation as its turns."""
    if isinstance(value, list):
        st.caption(literal.inline(title))
        for turn in value:
            literal.show(turn.get("content", ""), title=str(turn.get("role", "")))
    else:
        literal.show(value, title=title)
