"""Versions: snapshot a dataset as an immutable version, diff two versions row by row, pin eval sets
and export with a download button."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from curate import versions
from curate.label import annotators
from curate.ui import literal, select_view, state
from curate.ui.params import widget
from curate.versions.export import download
from curate.versions.params import SplitParams

VIEWS = ("Versions", "Create", "Diff", "Select")
CHANGE_ICON = {"added": "➕ added", "removed": "➖ removed", "changed": "✎ changed"}


def render() -> None:
    st.header("Versions")
    ws = state.workspace()
    state.flash("ver_flash")
    with state.user_errors():
        sets = state.datasets_or_hint(ws)
        if not sets:
            return
        names: list[str] = [d.name for d in sets]
        top = st.columns([2, 3])
        dataset = top[0].selectbox("Dataset", names, key="ver_dataset",
                                   index=names.index("sst2") if "sst2" in names else 0)
        view = top[1].radio("View", VIEWS, horizontal=True, key="ver_view")
        found = versions.list_versions(ws, dataset)
        if view == "Create":
            _create(ws, dataset, found)
        elif view == "Diff":
            _diff(ws, found)
        elif view == "Select":
            select_view.render_view(ws, dataset, found)
        else:
            _overview(ws, dataset, found)


# --- list and detail -------------------------------------------------------------------------------

def _overview(ws, dataset: str, found: list[versions.Version]) -> None:
    if not found:
        st.info(f"{dataset} has no versions yet: open **Create** to snapshot it.")
    else:
        table = pd.DataFrame([{
            "version": v.ref, "parent": v.parent or "", "rows": v.n_rows,
            "train": v.counters.splits.train, "validation": v.counters.splits.validation,
            "test": v.counters.splits.test, "left out": v.counters.left_out,
            "decontaminated": v.counters.decontaminated, "note": v.note or "",
            "by": v.params.get("created_by") or "", "created": v.created_at} for v in reversed(found)])
        with st.container(key="ver_list"):
            st.dataframe(table, hide_index=True, width="stretch")
        refs = [v.ref for v in reversed(found)]
        ref = st.selectbox("Version", refs, key="ver_pick")
        _detail(ws, ref)
    evals = versions.list_eval_sets(ws)
    st.subheader("Pinned eval sets")
    if evals:
        st.dataframe(pd.DataFrame([e.to_json() for e in evals])[["name", "ref", "split", "task", "n_rows", "created_at"]],
                     hide_index=True, width="stretch", key="ver_evals")
        st.caption("Every later version of a dataset of the same task keeps these examples and their "
                   "near-duplicates out of its splits.")
    else:
        st.caption("None yet: pin a split of a version below its details.")


def _detail(ws, ref: str) -> None:
    v = versions.get_version(ws, ref)
    c, p = v.counters, v.params
    cols = st.columns(5)
    cols[0].metric("Rows", f"{v.n_rows:,}", help=f"of {c.total:,} examples in the dataset")
    for col, s in zip(cols[1:4], versions.SPLITS):
        col.metric(s.capitalize(), f"{c.splits.of(s):,}")
    cols[4].metric("Left out", f"{c.left_out:,}", help="by issue, dup decision, missing label or "
                   "decontamination (below)")
    st.caption(f"Parent: {v.parent or '—'} · label rule: {p['label_rule']} · split "
               f"{'/'.join(f'{r:.2f}' for r in p['split'])}, seed {p['seed']}"
               + (f" · grouped by {p['group_column']}" if p["group_column"] else "")
               + (f" · by {literal.inline(p['created_by'])}" if p.get("created_by") else ""))
    if v.note:
        literal.show(v.note, title="Note")
    if c.leak_pairs == 0:
        st.success(f"No near-duplicate pair crosses splits ({c.near_dup_pairs:,} near-duplicate pairs kept "
                   f"together; {c.rows_in_groups:,} rows in multi-row groups).", icon=":material/verified:")
    else:
        st.error(f"{c.leak_pairs} near-duplicate pairs cross splits.")
    left, right = st.columns(2)
    with left:
        st.markdown("**Left out, and why**")
        if v.dropped_counts:
            st.dataframe(pd.DataFrame([{"reason": r, "rows": n} for r, n in sorted(v.dropped_counts.items())]),
                         hide_index=True, width="stretch", key="ver_dropped")
        else:
            st.caption("Nothing: every example of the dataset is in this version.")
        if c.decontaminated:
            st.warning(f"Decontamination removed {c.decontaminated:,} rows: "
                       + ", ".join(f"{n} for {name}" for name, n in c.decontaminated_by.items()),
                       icon=":material/shield:")
        elif p["eval_sets"]:
            st.caption(f"Decontaminated against {', '.join(p['eval_sets'])}: nothing to remove.")
    with right:
        st.markdown("**Rows per split and label**")
        counts = pd.DataFrame(v.split_counts)
        if not counts.empty:
            counts["label"] = counts["label"].fillna("—")
            st.dataframe(counts.pivot(index="label", columns="split", values="n").fillna(0).astype(int)
                         .reindex(columns=[s for s in versions.SPLITS if s in set(counts["split"])]),
                         width="stretch", key="ver_counts")
    with st.expander("Rows left out"):
        if v.dropped_rows:
            st.dataframe(pd.DataFrame(v.dropped_rows), hide_index=True, width="stretch", key="ver_dropped_rows")
    select_view.reasons_section(ws, ref)
    _pin(ws, ref)
    _export(ws, ref, v)


def _pin(ws, ref: str) -> None:
    st.markdown("**Pin an eval set**")
    a, b, c = st.columns([1, 2, 1])
    split = a.selectbox("Split", ("test", "validation", "train", "all"), key="ver_pin_split")
    name = b.text_input("Eval set name", value=f"{ref.replace(':', '-')}-{split}", key=f"ver_pin_name_{ref}_{split}")
    c.markdown("&nbsp;")
    if c.button("Pin eval set", key="ver_pin"):
        e = versions.pin_eval_set(ws, ref, split, name)
        st.session_state["ver_flash"] = f"Pinned {e.ref} {e.split} as eval set {e.name} ({e.n_rows:,} rows)."
        st.rerun()


def _export(ws, ref: str, v: versions.VersionDetail) -> None:
    st.markdown("**Export**")
    a, b = st.columns([1, 3])
    fmt = a.selectbox("Format", versions.FORMATS, key="ver_export_format",
                      help="jsonl · parquet · hf (DatasetDict.save_to_disk, zipped) · alpaca / sharegpt "
                           "(LLaMA-Factory, with dataset_info.json, zipped) · messages (TRL SFTTrainer, zipped) · "
                           "csv (text kept exact)")
    key = f"ver_export_{ref}_{fmt}"
    if b.button("Prepare export", key="ver_export_go"):
        st.session_state[key] = versions.export_version(ws, ref, fmt)
    result = st.session_state.get(key)
    if result:
        name, data, mime = download(result)
        b.download_button(f"Download {name}", data, file_name=name, mime=mime, key="ver_download")
        b.caption(f"{result.n_rows:,} rows written to {result.path}"
                  + (f" ({result.skipped} conversations that are not user/assistant pairs were skipped)"
                     if result.skipped else ""))
    if v.exports:
        st.caption(f"{len(v.exports)} earlier exports of this version; the latest: "
                   f"{v.exports[-1]['format']} → {v.exports[-1]['path']}")


# --- create ----------------------------------------------------------------------------------------

def _create(ws, dataset: str, found: list[versions.Version]) -> None:
    kinds = versions.issue_kinds(ws, dataset)
    taken = {v.name for v in found}
    n = len(found) + 1
    while f"v{n}" in taken:
        n += 1
    with st.form("ver_create_form"):
        a, b = st.columns([1, 3])
        name = a.text_input("Name", value=f"v{n}", key=f"ver_new_name_{dataset}_{n}")
        note = b.text_input("Note", key="ver_new_note", placeholder="what changed since the last version")
        exclude = st.multiselect("Issue kinds that leave a row out", list(kinds), default=list(kinds),
                                 format_func=lambda k: f"{k} ({kinds[k]:,} rows)", key=f"ver_exclude_{dataset}")
        rules = ["majority", "adjudicated", "ingested"] + [f"annotator:{a['name']}" for a in annotators.list_annotators(ws)]
        c1, c2, c3, c4, c5 = st.columns(5)
        rule = c1.selectbox("Label rule", rules, key="ver_label_rule",
                            help="majority of the current answers (ties: latest) · adjudicated: the latest answer · "
                                 "one annotator's answers · ingested; unanswered rows keep their current label")
        train = widget(c2, SplitParams, "train", "Train", key="ver_train", step=0.05)
        val = widget(c3, SplitParams, "validation", "Validation", key="ver_val", step=0.05)
        test = widget(c4, SplitParams, "test", "Test", key="ver_test", step=0.05)
        seed = widget(c5, SplitParams, "seed", "Seed", key="ver_seed")
        group = st.text_input("Group column (optional)", key="ver_group",
                              help="a key of the raw records whose rows must share a split, e.g. sent_id")
        submitted = st.form_submit_button("Create version", type="primary")
    if submitted:
        with st.spinner(f"Materialising {dataset}:{name}…"):
            v = versions.create_version(ws, dataset, name.strip(), note=note or None, exclude=tuple(exclude),
                                        label_rule=rule, split=(train, val, test), seed=int(seed),
                                        group_column=group.strip() or None, created_by=state.who(ws))
        st.session_state["ver_created"] = v.ref
        st.session_state["ver_created_parent"] = v.parent
        c = v.counters
        st.success(f"Created {literal.inline(v.ref)}: {c.kept:,} rows (train {c.splits.train:,} · validation "
                   f"{c.splits.validation:,} · test {c.splits.test:,}); {c.left_out:,} left out.")
    created = st.session_state.get("ver_created")
    parent = st.session_state.get("ver_created_parent")
    if created and parent and created.startswith(f"{dataset}:"):
        st.button(f"Open the diff {parent} → {created}", key="ver_open_diff", on_click=_open_diff,
                  args=(parent, created))


def _open_diff(a: str, b: str) -> None:
    st.session_state["ver_view"] = "Diff"
    st.session_state["ver_diff_a"] = a
    st.session_state["ver_diff_b"] = b


# --- diff ------------------------------------------------------------------------------------------

def _diff(ws, found: list[versions.Version]) -> None:
    refs = [v.ref for v in found]
    if len(refs) < 2:
        st.info("A diff needs two versions of this dataset: create another one.")
        return
    for key, default in (("ver_diff_a", refs[-2]), ("ver_diff_b", refs[-1])):
        if st.session_state.get(key) not in refs:
            st.session_state[key] = default
    a_col, b_col = st.columns(2)
    a = a_col.selectbox("From", refs, key="ver_diff_a")
    b = b_col.selectbox("To", refs, key="ver_diff_b")
    d = versions.diff(ws, a, b)
    c = d.counts
    for col, (title, n) in zip(st.columns(3), (("Added", c.added), ("Removed", c.removed), ("Changed", c.changed))):
        col.metric(title, f"{n:,}")
    if not d.rows:
        st.info(f"{a} and {b} hold the same rows.")
        return
    with st.container(key="ver_diff_reasons"):
        st.dataframe(pd.DataFrame([{"change": r.change, "reason": r.reason, "rows": r.n} for r in d.reasons]),
                     hide_index=True, width="stretch")
    shown = st.multiselect("Show", ["added", "removed", "changed"], default=["added", "removed", "changed"],
                           key="ver_diff_show")
    reasons = sorted({r.reason for r in d.rows})
    pick = st.selectbox("Reason", ["any", *reasons], key="ver_diff_reason")
    rows = [r for r in d.rows if r.change in shown and (pick == "any" or r.reason == pick)]
    frame = pd.DataFrame([{"example": r.example_id, "change": CHANGE_ICON[r.change], "reasons": r.reasons,
                           "split": r.split, "before": r.before, "after": r.after} for r in rows[:2000]])
    st.caption(f"{len(rows):,} rows" + (" (first 2,000 shown)" if len(rows) > 2000 else ""))
    with st.container(key="ver_diff_rows"):  # before and after share the width, both on screen
        st.dataframe(frame, hide_index=True, width="stretch", column_config={
            "example": st.column_config.NumberColumn(format="%d", width="small"),
            "change": st.column_config.TextColumn(width="small"), "split": st.column_config.TextColumn(width="small"),
            "before": st.column_config.TextColumn(width="large"), "after": st.column_config.TextColumn(width="large")})
