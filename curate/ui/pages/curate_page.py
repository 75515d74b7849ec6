"""Curate: run a recipe, read its filtering report, and try other thresholds live over the stored signals."""

from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st

from curate.errors import CurateError
from curate.ids import parse_ids
from curate.ops import RECIPES_DIR, get, report, run_recipe
from curate.ops.report import Report, cascade, mark
from curate.settings import bound
from curate.ui import literal, state


def render() -> None:
    st.header("Curate")
    st.caption("Clean, score and filter with a recipe from pipelines/*.yaml. Mappers store edits (the ingested "
               "record never changes), scorers store signals in [0, 1], filters flag rows with a reason.")
    ws = state.workspace()
    with state.user_errors():
        sets = state.datasets_or_hint(ws)
        if not sets:
            return
        names: list[str] = [d.name for d in sets]
        tasks = {d.name: d.task for d in sets}
        left, right = st.columns(2)
        dataset = left.selectbox("Dataset", names, key="ops_dataset",
                                 index=names.index("messy") if "messy" in names else 0)
        recipes = sorted(p.name for p in RECIPES_DIR.glob("*.yaml"))
        default = f"{tasks[dataset]}.yaml" if f"{tasks[dataset]}.yaml" in recipes else recipes[0]
        recipe = right.selectbox("Recipe", recipes, index=recipes.index(default), key=f"ops_recipe_{dataset}")
        # One slot for progress and the last run's message, so the elements below keep their places
        # (and the sliders their identity) from one rerun to the next.
        slot = st.empty()
        if st.button("Run recipe", type="primary", key="ops_run"):
            _run(ws, RECIPES_DIR / recipe, dataset, slot)
        if (flash := st.session_state.get("ops_flash")) and flash[0] == dataset:
            slot.success(flash[1])
        rep = _report(ws, dataset)
        if rep is None:
            st.info(f"No recipe has run on {dataset} yet: pick a recipe and press Run recipe.")
            return
        _summary(rep)
        _thresholds(rep)
        _samples(rep)
        _diffs(rep)
        _marks(ws, dataset)


def _run(ws, path, dataset: str, slot) -> None:
    bar = slot.progress(0.0, text="starting")

    def progress(label: str, done: int, total: int) -> None:
        bar.progress(min(1.0, done / total) if total else 0.0, text=f"{label}: {done:,} / {total:,} rows")

    result = run_recipe(ws, path, dataset, progress=progress)
    st.session_state.pop("ops_report", None)
    st.session_state["ops_flash"] = dataset, (
        f"Identical run #{result.run_id} of {result.recipe} already done (same params, same input); skipped."
        if result.skipped else f"Ran {result.recipe} on {dataset} as run #{result.run_id} in {result.seconds:.1f}s.")


def _report(ws, dataset: str) -> Report | None:
    """The dataset's latest recipe report, read once per run and kept as view state."""
    from curate.errors import NotFound

    cached = st.session_state.get("ops_report")
    try:
        latest = report(ws, dataset, samples=0) if cached is None or cached.dataset != dataset else None
    except NotFound:
        return None
    if latest is not None:
        cached = report(ws, dataset, run_id=latest.run["id"], samples=5)
        st.session_state["ops_report"] = cached
    return cached


def _summary(rep: Report) -> None:
    c = rep.counters
    st.subheader(f"Run #{rep.run['id']}: {rep.recipe} on {rep.dataset}")
    cols = st.columns(4)
    cols[0].metric("rows", f"{c.total:,}")
    cols[1].metric("kept", f"{c.kept:,}")
    cols[2].metric("dropped", f"{c.removed:,}")
    cols[3].metric("edits", f"{c.edits:,}")
    rows = [{"step": s.step, "operator": s.op, "kind": s.kind, "rows in": s.rows_in, "kept": s.kept,
             "dropped": ", ".join(f"{n} {r}" for r, n in s.dropped.items()), "edited": s.edited, "note": s.skipped or ""}
            for s in rep.steps]
    st.dataframe(pd.DataFrame(rows).astype(object).where(pd.DataFrame(rows).notna(), ""), hide_index=True,
                 key="ops_steps", height=38 + 35 * len(rows))  # every step visible, blanks not "None"


def _thresholds(rep: Report) -> None:
    if not rep.filters:
        return
    st.subheader("Thresholds")
    st.caption("Move a threshold to see how many rows each filter would keep. Nothing is recomputed or written: "
               "to apply new thresholds, put them in the recipe and run it again.")
    chosen: dict[int, float] = {}
    for f in rep.filters:
        key = f"ops_thr_{rep.run['id']}_{f['step']}"
        chart, control = st.columns([3, 2])
        params = get(f["op"]).params   # the filter's own bounds
        low, high = bound(params, "min_score", "low"), bound(params, "min_score", "high")
        with control:
            chosen[f["step"]] = st.slider(f"step {f['step']} {f['op']}: min {f['signal']}", float(low), float(high),
                                          float(f["min_score"]), 0.05, key=key,
                                          help=f"Rows whose {f['signal']} is below this get the issue {f['reason']}.")
        with chart:
            if f["signal"] in rep.signals:
                values = rep.signals.filter(items=[f["signal"]]).dropna()
                bars = alt.Chart(values).mark_bar().encode(
                    alt.X(f"{f['signal']}:Q", bin=alt.Bin(maxbins=20, extent=[0, 1]), title=f["signal"]),
                    alt.Y("count():Q", title="rows"))
                rule = alt.Chart(pd.DataFrame({"t": [chosen[f["step"]]]})).mark_rule(color="red").encode(x="t:Q")
                st.altair_chart(bars + rule, height=140, use_container_width=True)
    steps, kept = cascade(rep.signals, rep.filters, chosen)
    st.markdown(f"**Kept at these thresholds: {kept:,} of {rep.counters.total:,}** (the run kept {rep.counters.kept:,})")
    st.dataframe(pd.DataFrame([{"step": s["step"], "filter": s["op"], "reason": s["reason"], "min_score": s["min_score"],
                                "rows in": s["rows_in"], "dropped": s["dropped"], "kept": s["kept"]} for s in steps]),
                 hide_index=True, key="ops_live")


def _samples(rep: Report) -> None:
    if not rep.samples:
        return
    st.subheader("Dropped rows, by reason")
    for reason, rows in rep.samples.items():
        with st.expander(f"{reason}: {rep.dropped.get(reason, 0):,} rows"):
            st.dataframe(pd.DataFrame(rows), hide_index=True, key=f"ops_drop_{reason}")


def _diffs(rep: Report) -> None:
    if not rep.diffs:
        return
    st.subheader("Edits, before and after")
    for author, pairs in rep.diffs.items():
        with st.expander(f"{author}: {rep.edits.get(author, 0):,} edits"):
            for d in pairs:
                st.markdown(f"example **{d['example_id']}** · {literal.inline(d['field'])}")
                before, after = st.columns(2)
                with before:
                    literal.show(d["before"] or "", title="before")
                with after:
                    literal.show(d["after"] or "", title="after")


def _marks(ws, dataset: str) -> None:
    with st.expander("Mark examples good or bad (trains score.quality_model)"):
        ids = st.text_input("Example ids, comma-separated", key="ops_mark_ids")
        label = st.radio("Mark", ["good", "bad", "clear"], horizontal=True, key="ops_mark_label")
        if st.button("Save marks", key="ops_mark_save") and ids.strip():
            try:
                numbers = parse_ids(ids, "Example ids")
            except CurateError as exc:
                st.error(str(exc))
                return
            n = mark(ws, dataset, numbers, None if label == "clear" else label)
            st.success(f"{n} example(s) {'unmarked' if label == 'clear' else 'marked ' + label}.")
