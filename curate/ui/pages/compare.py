"""Compare: leaderboard of versions × eval sets × model runs, score by version, flips between two runs,
and the nearest training rows of a failed eval item (where they came from)."""

from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st

from curate import train
from curate.ui import select_view, state


def render() -> None:
    st.header("Compare")
    ws = state.workspace()
    with state.user_errors():
        runs = [r for r in train.runs(ws) if r.status == "done"]
        if not runs:
            st.info("No finished model runs yet. Train one on the Train page (or `curate train DATASET:VERSION "
                    "--baseline`) and compare versions here.")
            return
        names: list[str] = sorted({r.dataset for r in runs})
        top = st.columns([2, 2, 3])
        dataset = top[0].selectbox("Dataset", names, key="cmp_dataset",
                                   index=names.index("sst2") if "sst2" in names else 0)
        metrics = train.metrics_of(ws, dataset) or ["accuracy"]
        metric = top[1].selectbox("Metric", metrics, key="cmp_metric")
        board = pd.DataFrame([r.to_json() for r in train.leaderboard(ws, dataset, metric)])
        if board.empty:
            st.info(f"No scores for {dataset} yet.")
            return
        top[2].caption("Baselines (frozen MiniLM embeddings + logistic regression) and fine-tunes are ranked "
                       "apart, and runs only among those with the same classes (no rank: the eval set's labels "
                       "are not the model's classes).")
        _board(board, metric)
        ds_runs = [r for r in runs if r.dataset == dataset]
        if len(ds_runs) >= 2:
            _flips(ws, ds_runs)
        _explain(ws, ds_runs)
        select_view.compare_section(ws, dataset)


def _board(board: pd.DataFrame, metric: str) -> None:
    st.subheader("Leaderboard")
    st.caption("Each run is scored on every pinned eval set whose labels are among its classes (named as pinned, "
               "e.g. sst2-dev): the same rows for every version, so versions compare there. It is also scored on "
               "its own version's splits (DATASET:VERSION:test, and :validation for classification): other rows, "
               "with that version's own labels, for each version, so those rows do not compare versions.")
    table = board.filter(items=["eval_set", "kind", "version", "run", "value", "model", "label_space", "rank", "started"]).rename(
        columns={"value": metric, "eval_set": "eval set", "label_space": "classes"})
    with st.container(key="cmp_board"):
        st.dataframe(table, hide_index=True, column_config={metric: st.column_config.NumberColumn(format="%.3f")})
    # One point per version (its best run), so two runs of one version never draw a vertical line.
    best = board.loc[board.groupby(["eval_set", "kind", "version"], sort=False)["value"].idxmax()]
    best = best.set_index(["eval_set", "kind", "version"]).reindex(
        pd.MultiIndex.from_frame(board.filter(items=["eval_set", "kind", "version"]).drop_duplicates())).reset_index()
    order = list(dict.fromkeys(sorted(board["version"], key=_version_key)))
    chart = alt.Chart(best).mark_line(point=alt.OverlayMarkDef(size=60)).encode(
        x=alt.X("version:N", sort=order, title="version"),
        y=alt.Y("value:Q", title=metric, scale=alt.Scale(zero=False), axis=alt.Axis(format=".3f")),
        color=alt.Color("kind:N", title="run kind"), strokeDash=alt.StrokeDash("eval_set:N", title="eval set"),
        detail="eval_set:N",
        tooltip=["version", "kind", "eval_set", "run", "model", alt.Tooltip("value:Q", format=".4f")])
    st.altair_chart(chart.properties(height=260, title=f"{metric} by version (best run of each)"),
                    width="stretch")


def _version_key(name: str) -> tuple:
    """v2 before v10: digits compare as numbers."""
    import re

    return tuple(int(p) if p.isdigit() else p for p in re.split(r"(\d+)", name))


def _label(r: train.ModelRun) -> str:
    return f"run {r.id} · {r.version} · {r.kind} · {train.model_label(r)}"


def _flips(ws, runs: list[train.ModelRun]) -> None:
    st.subheader("Flips between two runs")
    labels = {_label(r): r.id for r in runs[::-1]}
    keys = list(labels)
    c = st.columns([3, 3, 2])
    a = labels[c[0].selectbox("Run A", keys, index=min(1, len(keys) - 1), key="cmp_run_a")]
    b = labels[c[1].selectbox("Run B", keys, index=0, key="cmp_run_b")]
    shared = train.common_eval_sets(ws, a, b)
    if not shared:
        st.caption("These two runs share no eval set.")
        return
    eval_set = c[2].selectbox("Eval set", shared, key="cmp_flip_set")
    f = train.flips(ws, a, b, eval_set)
    st.markdown(f"**{len(f.fixed)}** fixed (wrong in A, right in B) · **{len(f.broken)}** broken (right in A, "
                f"wrong in B) · {f.both_right} right in both · {f.both_wrong} wrong in both")
    rows = [{"flip": "fixed", **p} for p in f.fixed] + [{"flip": "broken", **p} for p in f.broken]
    if rows:
        frame = pd.DataFrame(rows).filter(items=["flip", "example_id", "text", "reference", "prediction_a", "prediction_b"])
        with st.container(key="cmp_flips"):
            st.dataframe(frame.rename(columns={"prediction_a": f"run {a}", "prediction_b": f"run {b}"}),
                         hide_index=True, height=240)


def _explain(ws, runs: list[train.ModelRun]) -> None:
    st.subheader("Why did it fail? Nearest training rows")
    labels = {_label(r): r for r in runs[::-1]}
    c = st.columns([3, 2])
    run = labels[c[0].selectbox("Run", list(labels), key="cmp_explain_run")]
    sets = list(train.scores(ws, run.id))
    if not sets:
        return
    eval_set = c[1].selectbox("Eval set", sets, key="cmp_explain_set")
    failed = train.failures(ws, run.id, eval_set)
    if not failed:
        st.caption("This run got every scored item of the eval set right.")
        return
    options = {f"{p.example_id} · expected {p.reference}, got {p.prediction} · {(p.text or '')[:80]}":
               p.example_id for p in failed}
    picked = st.selectbox(f"Failed eval item ({len(failed)})", list(options), key="cmp_explain_item")
    if st.button("Find nearest training rows", key="cmp_explain_go"):
        with st.spinner("Embedding the version's training rows (cached after the first time)…"):
            near = train.nearest_training_rows(ws, run.id, options[picked], k=5)
        frame = pd.DataFrame([{**n, **{k: ", ".join(n[k] or []) for k in ("edits", "annotations", "issues")}}
                              for n in near])
        with st.container(key="cmp_neighbours"):
            st.dataframe(frame, hide_index=True)
