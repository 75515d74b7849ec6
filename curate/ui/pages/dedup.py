"""Dedup: preview clusters at a threshold, run dedup, and decide each cluster (canonical / keep all / split)."""

from __future__ import annotations

import difflib
import html
import re

import altair as alt
import pandas as pd
import streamlit as st

from curate import dedup
from curate.dedup import DEFAULT_FIELDS, DEFAULT_THRESHOLD
from curate.dedup.fields import COMPARABLE_FIELDS
from curate.dedup.params import DedupParams
from curate.settings import bound
from curate.dedup.preview import PREVIEW_FLOOR
from curate.store.workspace import Workspace
from curate.ui import literal, state
from curate.ui.params import widget

ROLE_ICON = {"canonical": "★ canonical", "dup": "duplicate", "kept": "kept", "split": "split out"}


@st.cache_data(max_entries=8, show_spinner="Comparing rows for the preview…")
def _preview(root: str, dataset: str, method: str, fields: tuple[str, ...], ngram: int | None, num_perm: int | None,
             revision: tuple[int, int]) -> dedup.PreviewGraph:
    """Pairs down to a low floor, computed once per dataset revision and settings (not per threshold)."""
    return dedup.preview_graph(Workspace(root), dataset, method=method, fields=list(fields), ngram=ngram,
                               num_perm=num_perm)


def render() -> None:
    st.header("Dedup")
    ws = state.workspace()
    state.flash("dedup_flash")
    with state.user_errors():
        sets = state.datasets_or_hint(ws)
        if not sets:
            return
        names: list[str] = [d.name for d in sets]
        task = {d.name: d.task for d in sets}
        top = st.columns([2, 2, 3])
        dataset = top[0].selectbox("Dataset", names, key="dedup_dataset",
                                   index=names.index("messy") if "messy" in names else 0)
        method = widget(top[1], DedupParams, "method", "Method", key="dedup_method")
        known = list(COMPARABLE_FIELDS[task[dataset]])
        fields = top[2].multiselect("Fields compared", known, default=DEFAULT_FIELDS[task[dataset]],
                                    key=f"dedup_fields_{task[dataset]}") or DEFAULT_FIELDS[task[dataset]]
        ngram = num_perm = None   # unset: DedupParams' defaults, resolved for the data
        if method == "minhash":
            with st.expander("MinHash settings"):
                c1, c2 = st.columns(2)
                ngram = widget(c1, DedupParams, "ngram", "Shingle length", key="dedup_ngram", empty="auto")
                num_perm = widget(c2, DedupParams, "num_perm", "Permutations", key="dedup_num_perm", step=16)
        graph = _preview(str(ws.root), dataset, method, tuple(fields), ngram, num_perm, dedup.revision(ws, dataset))
        threshold = _threshold(method, graph.params)
        _live_preview(graph, threshold)
        if st.button("Run dedup", type="primary", key="dedup_run"):
            with st.spinner(f"Deduplicating {dataset}…"):
                report = dedup.run_dedup(ws, dataset, method=method, threshold=_moved(threshold, graph.params),
                                         ngram=ngram, num_perm=num_perm, fields=fields)
            st.session_state["dedup_flash"] = (
                f"Dedup run {report.run_id}: {report.clusters:,} clusters, {report.flagged:,} rows flagged is_dup "
                f"of {report.rows:,}" + (f"; {report.decisions_applied} decisions re-applied"
                                         if report.decisions_applied else "") + ".")
            st.rerun()
        _results(ws, dataset)


def _threshold(method: str, params) -> float:
    if method == "exact":
        st.caption("Exact duplicates: same text after Unicode NFKC, lower case and whitespace normalisation.")
        return DEFAULT_THRESHOLD["exact"]
    default = params.threshold if params is not None else DEFAULT_THRESHOLD[method]
    floor = min(PREVIEW_FLOOR[method], default)
    kind = params.shingle if params is not None and method == "minhash" else ""
    key = f"dedup_threshold_{method}{kind}"
    what = f"Jaccard similarity of {kind} shingles" if method == "minhash" else "cosine similarity of embeddings"
    if params is not None and params.chosen:
        st.caption(f"Shingles: {params.ngram}-{params.shingle} n-grams, {params.chosen}.")
    return float(st.slider(f"Threshold ({what})", floor, float(bound(DedupParams, "threshold", "high")), default, 0.01,
                           key=key))


def _moved(threshold: float, params) -> float | None:
    """The slider's value if the user moved it off the data's resolved default, else None: the run then
    resolves its own default for the data (0.6 for CJK/Thai character shingles, 0.8 word, 0.9 cosine)."""
    default = params.threshold if params is not None else None
    return None if default is not None and abs(threshold - default) < 1e-9 else threshold


def _live_preview(graph: dedup.PreviewGraph, threshold: float) -> None:
    sizes = dedup.preview_sizes(graph, threshold)
    a, b, c = st.columns([1, 1, 3])
    a.metric("Clusters (preview)", f"{len(sizes):,}")
    b.metric("Rows flagged (preview)", f"{sum(sizes) - len(sizes):,}")
    if sizes:
        hist = pd.DataFrame({"size": sizes}).value_counts().rename("clusters").reset_index()
        chart = alt.Chart(hist).mark_bar().encode(
            x=alt.X("size:O", title="cluster size"), y=alt.Y("clusters:Q", title="clusters"),
            tooltip=["size", "clusters"]).properties(height=160)
        c.altair_chart(chart, width="stretch")
    else:
        c.caption("No duplicates at this threshold.")


def _results(ws, dataset: str) -> None:
    summary = dedup.summary(ws, dataset)
    st.subheader("Clusters")
    if summary is None:
        st.info(f"{dataset} has not been deduplicated yet: choose a method and threshold, then Run dedup.")
        return
    p, c = summary.params, summary.counters
    shingled = f", {p.ngram}-{p.shingle} shingles" if p.method == "minhash" else ""
    st.caption(f"Latest run {summary.run_id} ({p.method}{shingled}, threshold {p.threshold}, fields "
               f"{', '.join(p.fields)}): {c.total:,} rows, {c.clusters:,} clusters, "
               f"{c.dropped_is_dup:,} flagged is_dup · {c.decisions_applied} decisions re-applied")
    rows = dedup.clusters(ws, dataset, limit=500)
    if not rows:
        st.info("No duplicate clusters in the latest run.")
        return
    frame = pd.DataFrame([{"cluster": r.cluster_id, "size": r.size, "status": r.status,
                           "canonical": r.canonical_id, "decision": _decision_text(r)} for r in rows])
    st.dataframe(frame, hide_index=True, key="dedup_clusters_table", height=220,
                 column_config={"canonical": st.column_config.NumberColumn(format="%d")})
    labels: dict[int, str] = {r.cluster_id: f"#{r.cluster_id} · {r.size} rows · {_decision_text(r) or r.status}"
                              for r in rows}
    chosen = st.selectbox("Open cluster", list(labels), format_func=lambda c: labels[c], key="dedup_cluster")
    _cluster(ws, dataset, int(chosen))


def _decision_text(r: dedup.Cluster) -> str:
    """Plain text (for tables and select options, which Streamlit shows literally)."""
    return f"{r.action} by {r.author}" if r.action else ""


def _cluster(ws, dataset: str, cluster_id: int) -> None:
    detail = dedup.cluster_detail(ws, dataset, cluster_id)
    members = detail.members
    anchor = next((m for m in members if m.role == "canonical"), members[0])
    st.markdown(f"**Cluster #{cluster_id}** · {detail.size} rows · status **{detail.status}**"
                + (f" · decision: **{literal.inline(_decision_text(detail))}**" if detail.action else ""))
    for start in range(0, len(members), 3):
        cols = st.columns(3)
        for col, m in zip(cols, members[start:start + 3]):
            box = col.container(border=True)
            sim = f" · similarity {m.similarity:.2f}" if m.similarity is not None else ""
            box.markdown(f"**{ROLE_ICON.get(m.role, m.role)}** · example {m.example_id}{sim}")
            body = html.escape(m.text) if m is anchor else _diff_html(anchor.text, m.text)
            box.html(f"<pre style='{literal.STYLE}; font-size: 0.9em'>{body}</pre>")
    _decide(ws, dataset, cluster_id, members)


def _diff_html(base: str, text: str) -> str:
    """``text`` as escaped HTML, marking what differs from ``base``: words are aligned first, then a
    replaced run is compared character by character, so a case-only change marks only those letters.
    Inserted characters are highlighted, removed ones struck through."""
    a, b = re.split(r"(\s+)", base), re.split(r"(\s+)", text)
    out = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(a=a, b=b, autojunk=False).get_opcodes():
        old, new = "".join(a[i1:i2]), "".join(b[j1:j2])
        out.append(html.escape(new) if op == "equal" else _char_diff(old, new))
    return "".join(out)


def _char_diff(old: str, new: str) -> str:
    out = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(a=old, b=new, autojunk=False).get_opcodes():
        if op == "equal":
            out.append(html.escape(new[j1:j2]))
            continue
        if i2 > i1:
            out.append(f"<del style='color:#b00020'>{html.escape(old[i1:i2])}</del>")
        if j2 > j1:
            out.append(f"<mark style='background:#fff3a0'>{html.escape(new[j1:j2])}</mark>")
    return "".join(out)


def _decide(ws, dataset: str, cluster_id: int, members: list[dedup.Member]) -> None:
    ids: list[int] = [m.example_id for m in members]
    author = state.who(ws)
    if author is None:
        st.info("Sign in to decide on clusters.")
        return
    st.caption("Decided by " + literal.inline(author) + " (the signed-in annotator)")
    left, mid, right = st.columns(3)
    with left:
        current = next((m.example_id for m in members if m.role == "canonical"), ids[0])
        canonical = st.selectbox("Canonical row", ids, index=ids.index(current), key=f"dedup_canonical_{cluster_id}")
        if st.button("Set canonical", key="dedup_set_canonical"):
            _apply(ws, dataset, cluster_id, "canonical", author, canonical_id=int(canonical))
    with mid:
        st.caption("These rows are duplicates but each one should stay.")
        if st.button("Keep all", key="dedup_keep_all"):
            _apply(ws, dataset, cluster_id, "keep_all", author)
    with right:
        out = st.multiselect("Not duplicates (split out)", ids, key=f"dedup_split_{cluster_id}",
                             help="Leave empty to split the whole cluster.")
        if st.button("Split", key="dedup_split"):
            _apply(ws, dataset, cluster_id, "split", author, split_out=[int(x) for x in out])


def _apply(ws, dataset: str, cluster_id: int, action: str, author: str, **kwargs) -> None:
    dedup.decide(ws, dataset, cluster_id, action, author=author, **kwargs)
    st.session_state["dedup_flash"] = (f"Cluster #{cluster_id}: {action.replace('_', ' ')} saved "
                                       f"(by {literal.inline(author)}).")
    st.rerun()
