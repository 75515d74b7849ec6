"""Train: one button to train (quick baseline or fine-tune) on a version, live progress, cancel.

Training runs in a child process that writes progress to the store; this page only reads it, so a
browser reload (or another tab) shows the same live run.
"""

from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st

from curate import train
from curate.ui import state

MODES = ["Fine-tune", "Quick baseline"]
ACTIVE = ("queued", "running")


def render() -> None:
    st.header("Train")
    ws = state.workspace()
    with state.user_errors():
        choices = train.trainable(ws)
        if not choices:
            st.info("No versions yet. Create one on the Versions page (or `curate version create`), "
                    "then train on it here.")
            return
        top = st.columns([2, 2, 3])
        names = list(choices)
        dataset = top[0].selectbox("Dataset", names, key="train_dataset",
                                   index=names.index("sst2") if "sst2" in names else 0)
        task = choices[dataset]["task"]
        version = top[1].selectbox("Version", choices[dataset]["versions"], key="train_version")
        modes = MODES if task == "classification" else MODES[:1]
        mode = top[2].radio("Model", modes, key="train_mode", horizontal=True,
                            help="Fine-tune: the real number (transformers, in a child process). Quick baseline: "
                                 "frozen MiniLM embeddings + logistic regression, scores a version in seconds.")
        params = _settings(task) if mode == "Fine-tune" else train.TrainParams()
        sets = train.eval_set_names(ws, dataset, task)
        st.caption("Scored on pinned eval sets: " + (", ".join(sets) if sets else
                   f"none pinned yet, so on {dataset}:{version}'s own test split (pin one on the Versions page)"))
        if st.button("Train", type="primary", key="train_start", icon=":material/play_arrow:"):
            run_id = train.start(ws, f"{dataset}:{version}", baseline=mode == "Quick baseline", params=params)
            st.session_state["train_flash"] = f"Started model run {run_id} on {dataset}:{version}."
            st.rerun()
        # Kept for the session (not popped): a quick baseline can finish, and redraw the page, within a second.
        if flash := st.session_state.get("train_flash"):
            st.success(flash)
        _runs(ws, dataset)


def _settings(task: str) -> train.TrainParams:
    with st.expander("Settings", expanded=task != "classification"):
        c = st.columns(4)
        model = c[0].text_input("Model folder", key="train_model",
                                placeholder="bundled MiniLM" if task == "classification" else "required: a causal LM folder")
        epochs = c[1].number_input("Epochs", 0.1, 100.0, 3.0, 0.5, key="train_epochs")
        lr = c[2].number_input("Learning rate", 1e-7, 1.0, 1e-4 if task == "classification" else 5e-5,
                               format="%.1e", key="train_lr")
        batch = c[3].number_input("Batch size", 1, 1024, 16, key="train_batch")
        c = st.columns(4)
        warmup = c[0].number_input("Warm-up fraction", 0.0, 1.0, 0.1, 0.05, key="train_warmup")
        decay = c[1].number_input("Weight decay", 0.0, 1.0, 0.01, 0.01, key="train_wd")
        schedule = c[2].selectbox("Schedule", ["linear", "cosine", "constant"], key="train_schedule")
        max_length = c[3].number_input("Max length (tokens)", 8, 8192, 128 if task == "classification" else 512,
                                       key="train_maxlen")
        c = st.columns(4)
        seed = c[0].number_input("Seed", 0, 2**31 - 1, 0, key="train_seed")
        patience = c[1].number_input("Early-stop patience", 0, 100, 2, key="train_patience",
                                     help="Validation evaluations without improvement before stopping (0: off).")
        lora = c[2].checkbox("LoRA adapters (peft)", key="train_lora")
        grouped = c[3].checkbox("Group batches by length", key="train_group",
                                help="Examples of similar length share a batch: less padding, faster on CPU.")
    return train.TrainParams(model=model or None, epochs=epochs, lr=lr, batch_size=int(batch), warmup=warmup,
                             weight_decay=decay, schedule=schedule, max_length=int(max_length), seed=int(seed),
                             patience=int(patience), lora=lora, group_by_length=grouped)


def _runs(ws, dataset: str) -> None:
    runs = train.runs(ws, dataset)
    active = any(r["status"] in ACTIVE for r in runs)

    @st.fragment(run_every=1.0 if active else None)
    def live() -> None:
        current = train.runs(ws, dataset)
        if active and not any(r["status"] in ACTIVE for r in current):
            st.rerun()  # the last run finished: redraw once, then stop polling
        _show_runs(ws, current)
    live()


def _show_runs(ws, runs: list[dict]) -> None:
    if not runs:
        st.caption("No model runs of this dataset yet.")
        return
    for run in [r for r in runs if r["status"] in ACTIVE][::-1]:
        _live_run(ws, run)
    done = [r for r in runs if r["status"] not in ACTIVE][::-1]
    if done:
        st.subheader("Runs")
        latest = done[0]
        _finished(ws, latest)
        frame = pd.DataFrame([{"run": r["id"], "version": r["version"], "kind": r["kind"],
                               "model": train.model_label(r), "status": r["status"],
                               **_headline(train.scores(ws, r["id"])), "message": r["message"] or ""} for r in done])
        with st.container(key="train_runs_table"):
            st.dataframe(frame, hide_index=True)


def _headline(scores: dict) -> dict:
    out = {}
    for name, values in scores.items():
        for metric in ("accuracy", "macro_f1", "exact_match", "perplexity"):
            if values.get(metric) is not None:
                out[f"{name} · {metric}"] = round(values[metric], 4)
    return out


def _live_run(ws, run: dict) -> None:
    with st.container(border=True, key=f"train_live_{run['id']}"):
        what = "baseline" if run["kind"] == "baseline" else "fine-tune"
        st.markdown(f"**Model run {run['id']}** · {what} on {run['version']} · {train.model_label(run)} · "
                    f"*{run['phase'] or run['status']}*")
        total = run["total_steps"] or 0
        frac = min(1.0, (run["step"] or 0) / total) if total else 0.0
        eta = f" · ETA {run['eta_seconds']:.0f} s" if run.get("eta_seconds") else ""
        loss = f" · loss {run['loss']:.4f}" if run.get("loss") == run.get("loss") and run.get("loss") else ""
        st.progress(frac, text=f"step {run['step'] or 0}/{total or '?'}{loss}{eta}")
        _loss_chart(ws, run["id"])
        if st.button("Cancel", key=f"train_cancel_{run['id']}", icon=":material/stop:",
                     disabled=bool(run["cancel_requested"])):
            train.cancel(ws, run["id"])
            st.rerun()


def _loss_chart(ws, run_id: int) -> None:
    points = pd.DataFrame(train.progress(ws, run_id))
    if points.empty or points["loss"].dropna().empty:
        return
    long = points.melt(id_vars=["step"], value_vars=["loss", "val_loss"], var_name="curve").dropna()
    # Whole-number step ticks; val_loss has few points (one per evaluation), so points are drawn large
    # enough to see even when its line has a single point.
    chart = alt.Chart(long).mark_line(point=alt.OverlayMarkDef(size=60, filled=True)).encode(
        x=alt.X("step:Q", title="step", axis=alt.Axis(tickMinStep=1, format="d")), y=alt.Y("value:Q", title="loss"),
        color=alt.Color("curve:N", title=None), tooltip=["step", "curve", alt.Tooltip("value:Q", format=".4f")])
    st.altair_chart(chart.properties(height=220), use_container_width=True)


def _finished(ws, run: dict) -> None:
    what = "baseline" if run["kind"] == "baseline" else "fine-tune"
    if run["status"] != "done":
        st.warning(f"Model run {run['id']} ({what} on {run['version']}) {run['status']}: {run['message'] or ''}")
        return
    scores = train.scores(ws, run["id"])
    st.markdown(f"Latest: **model run {run['id']}** · {what} on {run['version']} · {train.model_label(run)} · "
                f"{run['counters'].get('seconds', '?')} s" + (f" · saved in `{run['artifact']}`" if run["artifact"] else ""))
    cols = st.columns(max(1, len(scores)))
    for col, (name, values) in zip(cols, scores.items()):
        metric = next((m for m in ("accuracy", "exact_match", "perplexity") if values.get(m) is not None), None)
        if metric:
            col.metric(f"{name} · {metric}", f"{values[metric]:.3f}")
    if run["kind"] == "finetune" and run["task"] == "classification":
        _loss_chart(ws, run["id"])
