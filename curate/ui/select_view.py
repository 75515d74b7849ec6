"""The Select view of the Versions page: choose a budget of a version's training rows by strategy, see
the pick on a 2-D map of the pool and per class before anything is written, then create the version
(or labelling queue) in one click and train it in one more. Also the "why picked" table of a selected
version and the random-subset comparisons shown on the Compare page. (``pages/select.py`` opens the
Versions page on this view.)"""

from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st

from curate import select as selection, versions
from curate.select.params import SelectParams
from curate.settings import bound, default
from curate.ui.params import widget

WEIGHT = default(SelectParams, "weight")   # a strategy's weight when it is the only one scored


def _pool(ws, ref: str):
    """The source and pool of ``ref`` with embeddings and every strategy's inputs, read once per session."""
    key = ("sel_pool", str(ws.root), ref)
    cached = st.session_state.get("sel_cache")
    if not cached or cached[0] != key:
        with st.spinner(f"Reading the training pool of {ref} (embeddings are cached in the store)…"):
            src = selection.load_source(ws, ref)
            pool = selection.build_pool(ws, src, {s: WEIGHT for s in selection.STRATEGIES}, embeddings=True)
        st.session_state["sel_cache"] = cached = (key, src, pool)
    return cached[1], cached[2]


def render_view(ws, dataset: str, found: list[versions.Version]) -> None:
    """The Select view: inputs, a live preview, and the create / train buttons."""
    if not found:
        st.info(f"{dataset} has no versions yet: open **Create** to snapshot it, then select from it.")
        return
    refs = [v.ref for v in reversed(found)]
    top = st.columns([2, 3, 1, 1])
    ref = top[0].selectbox("Select from", refs, key="sel_source", help="its train split is the pool; validation "
                           "and test rows are kept whole, so scores stay comparable")
    chosen = top[1].multiselect("Strategies", list(selection.STRATEGIES), key="sel_strategies",
                                default=list(selection.parse_strategy(default(SelectParams, "strategy"))),
                                help=" · ".join(f"{k}: {v}" for k, v in selection.STRATEGIES.items()))
    seed = widget(top[2], SelectParams, "seed", "Seed", key="sel_seed")
    balance = widget(top[3], SelectParams, "balance", "Class balance", key="sel_balance")
    if not chosen:
        st.info("Pick at least one strategy.")
        return
    src, pool = _pool(ws, ref)
    n = len(pool.example_ids)
    if n == 0:
        st.warning(f"{ref} has no training rows to select from.")
        return
    weights = _weights(chosen)
    least = int(bound(SelectParams, "budget", "low"))
    budget = st.slider("Budget (training rows)", least, n, min(n, max(least, n // 4)), key=f"sel_budget_{ref}")
    p = selection.preview(ws, ref, budget, weights, seed=int(seed), balance=balance, source=src, pool=pool)
    _show_preview(p)
    _create_buttons(ws, dataset, ref, p, found)


def _weights(chosen: list[str]) -> dict[str, float]:
    scored = [s for s in chosen if s != "clean"]
    if len(scored) < 2:
        return {s: WEIGHT for s in chosen}
    cols = st.columns(len(scored))
    weights = {s: float(widget(c, SelectParams, "weight", f"Weight of {s}", key=f"sel_w_{s}", step=0.5))
               for s, c in zip(scored, cols)}
    return {**weights, **({"clean": WEIGHT} if "clean" in chosen else {})}


def _show_preview(p) -> None:
    left, right = st.columns([3, 2])
    points = pd.DataFrame(selection.pool_map(p))
    with left:
        if not points.empty:
            chart = alt.Chart(points).mark_circle().encode(
                x=alt.X("x:Q", title="PC 1"), y=alt.Y("y:Q", title="PC 2"),
                color=alt.Color("selected:N", title="selected", scale=alt.Scale(domain=[True, False],
                                                                                 range=["#d62728", "#c7c7c7"])),
                size=alt.condition("datum.selected", alt.value(40), alt.value(12)),
                tooltip=["label", "rank", "text"])
            st.altair_chart(chart.properties(height=340, title="Pool (PCA of MiniLM embeddings)"),
                            use_container_width=True)
    with right:
        counts = pd.DataFrame([{"class": k, "pool": c.pool, "selected": c.selected} for k, c in p.counts().items()])
        with st.container(key="sel_counts"):
            st.dataframe(counts, hide_index=True, width="stretch")
        st.caption(f"{len(p.picked.order):,} of {len(p.pool.example_ids):,} pool rows"
                   + (f" · {int(p.picked.excluded.sum()):,} left out by clean" if "clean" in p.weights else "")
                   + (" · no quality signals stored: run a recipe for quality/mix to rank by"
                      if {"quality", "mix"} & set(p.weights) and not p.params["quality_signals"] else "")
                   + f" · picked in {p.seconds:.2f}s")


def _create_buttons(ws, dataset: str, ref: str, p, found: list[versions.Version]) -> None:
    taken = {v.name for v in found}
    k = 1
    while f"sel{k}" in taken:
        k += 1
    a, b, c = st.columns([2, 2, 2])
    name = a.text_input("Name", value=f"sel{k}", key=f"sel_name_{dataset}_{k}")
    purpose = b.radio("For", ("train", "label"), horizontal=True, key="sel_purpose",
                      help="train: a new version · label: a labelling queue (Label page: selected)")
    c.markdown("&nbsp;")
    if c.button("Create version" if purpose == "train" else "Create labelling queue", type="primary",
                key="sel_create"):
        made = selection.create(ws, ref, len(p.picked.order), p.weights, name.strip(), purpose=purpose,
                                seed=int(p.params["seed"]), balance=p.params["balance"], chosen=p)
        st.session_state["sel_made"] = made.ref
        st.session_state["ver_flash"] = (f"Created {made.ref or f'labelling queue {made.queue}'}: "
                                         f"{made.selected:,} rows selected from {ref}.")
        st.rerun()
    made = st.session_state.get("sel_made")
    if made and made.startswith(f"{dataset}:"):
        if st.button(f"Train {made} (quick baseline)", key="sel_train"):
            from curate import train

            run_id = train.start(ws, made, baseline=True)
            st.success(f"Model run {run_id} started on {made}: follow it on the Train page.")


def reasons_section(ws, ref: str) -> None:
    """Why each row of a selected version was picked (nothing for other versions)."""
    rows = selection.selection_of(ws, ref)
    if not rows:
        return
    with st.expander(f"Why these rows: {len(rows):,} picked by selection"):
        frame = pd.DataFrame([{"example": r["example_id"], "rank": r["rank"], "score": r["score"], **r["scores"]}
                              for r in rows[:2000]])
        with st.container(key="sel_reasons"):
            st.dataframe(frame, hide_index=True, width="stretch")


def compare_section(ws, dataset: str) -> None:
    """Selections against random subsets of the same size (``curate select --compare-random``)."""
    from curate.select.compare import comparisons

    rows = comparisons(ws, dataset)
    if not rows:
        return
    st.subheader("Selection vs random subsets")
    frame = pd.DataFrame(rows)
    with st.container(key="cmp_select"):
        st.dataframe(frame, hide_index=True)
    chart = alt.Chart(frame).mark_point(filled=True, size=80).encode(
        x=alt.X("selection:N"), y=alt.Y("value:Q", scale=alt.Scale(zero=False)),
        color=alt.Color("role:N"), tooltip=["version", "run", "eval_set", "metric", "value"])
    st.altair_chart(chart.properties(height=220), use_container_width=True)
