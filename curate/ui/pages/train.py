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
        task = choices[dataset].task
        version = top[1].selectbox("Version", choices[dataset].versions, key="train_version")
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


# The settings on the page, by row: (field of TrainParams, label). Defaults, bounds, choices and help
# come from TrainParams (curate.ui.params.widget); only the labels are written here.
BASIC = [[("model", "Model folder"), ("epochs", "Epochs"), ("lr", "Learning rate"), ("batch_size", "Batch size")],
         [("warmup", "Warm-up fraction"), ("weight_decay", "Weight decay"), ("schedule", "Schedule"),
          ("max_length", "Max length (tokens)")],
         [("seed", "Seed"), ("patience", "Early-stop patience"), ("lora", "LoRA adapters (peft)"),
          ("group_by_length", "Group batches by length")]]
ADVANCED = [[("grad_accum", "Gradient accumulation"), ("max_steps", "Max steps"), ("warmup_steps", "Warm-up steps"),
             ("gamma", "Exponential gamma")],
            [("precision", "Precision"), ("dropout", "Dropout override"), ("train_top_layers", "Train top N layers"),
             ("evals_per_epoch", "Evaluations per epoch")],
            [("max_grad_norm", "Max grad norm"), ("lora_r", "LoRA rank"), ("lora_alpha", "LoRA alpha"),
             ("processes", "Processes")],
            [("freeze_embeddings", "Freeze embeddings"), ("gradient_checkpointing", "Gradient checkpointing"),
             ("keep_checkpoints", "Keep checkpoints"), ("dpo_beta", "DPO beta (preference)")]]


def _settings(task: str) -> train.TrainParams:
    from curate.train.params import default
    from curate.ui.params import build, widget

    values = {}
    with st.expander("Settings", expanded=task != "classification"):
        for row in BASIC:
            for col, (name, label) in zip(st.columns(4), row):
                # the learning rate's default depends on the task: one widget (and state) per task
                values[name] = widget(col, train.TrainParams, name, label,
                                      key=f"train_{name}_{task}" if name == "lr" else f"train_{name}",
                                      default=default("lr", task) if name == "lr" else None,
                                      fmt="%.1e" if name == "lr" else None,
                                      placeholder="bundled MiniLM" if task == "classification"
                                      else "required: a causal LM folder")
        with st.popover("Advanced", icon=":material/tune:"):
            for row in ADVANCED:
                for col, (name, label) in zip(st.columns(4), row):
                    values[name] = widget(col, train.TrainParams, name, label, key=f"train_{name}")
    return build(train.TrainParams, values, dict(pair for row in BASIC + ADVANCED for pair in row))


def _runs(ws, dataset: str) -> None:
    runs = train.runs(ws, dataset)
    active = any(r.active for r in runs)

    @st.fragment(run_every=1.0 if active else None)
    def live() -> None:
        current = train.runs(ws, dataset)
        if active and not any(r.active for r in current):
            st.rerun()  # the last run finished: redraw once, then stop polling
        _show_runs(ws, current)
    live()


def _show_runs(ws, runs: list[train.ModelRun]) -> None:
    if not runs:
        st.caption("No model runs of this dataset yet.")
        return
    for run in [r for r in runs if r.active][::-1]:
        _live_run(ws, run)
    done = [r for r in runs if not r.active][::-1]
    if done:
        st.subheader("Runs")
        latest = done[0]
        _finished(ws, latest)
        frame = pd.DataFrame([{"run": r.id, "version": r.version, "kind": r.kind,
                               "model": train.model_label(r), "status": r.status,
                               **_headline(train.scores(ws, r.id)), "message": r.message or ""} for r in done])
        with st.container(key="train_runs_table"):
            st.dataframe(frame, hide_index=True)
    _searches(ws, runs[0].dataset)


def _searches(ws, dataset: str) -> None:
    """Each hyperparameter search (newest first): its trials, the best marked, and the validation
    score against each searched parameter."""
    from curate.train.search import parse_space

    for found in train.searches(ws, dataset)[::-1]:
        trials = found["trials"]
        with st.container(border=True, key=f"train_search_{found['id']}"):
            st.markdown(f"**Search {found['id']}** on {found['version']} · `{found['space']}` · {found['sampler']} · "
                        f"{len(trials)}/{found['planned']} trials · *{found['status']}*" +
                        (f" · best: model run {found['best_run']}" if found["best_run"] else ""))
            if not trials:
                continue
            frame = pd.DataFrame([{"trial": t["trial"], "run": t["run"], **t["params"], "validation score": t["score"],
                                   "status": t["status"], "best": "★" if t["run"] == found["best_run"] else ""}
                                  for t in trials])
            st.dataframe(frame, hide_index=True)
            dims = parse_space(found["space"])
            for col, dim in zip(st.columns(max(1, len(dims))), dims):
                name, log = dim.name, dim.log
                chart = alt.Chart(frame.dropna(subset=["validation score"])).mark_circle(size=80).encode(
                    x=alt.X(f"{name}:Q" if frame[name].dtype.kind in "if" else f"{name}:N", title=name,
                            scale=alt.Scale(type="log") if log else alt.Undefined),
                    y=alt.Y("validation score:Q", scale=alt.Scale(zero=False)),
                    color=alt.condition(alt.datum.best == "★", alt.value("#d62728"), alt.value("#1f77b4")),
                    tooltip=["trial", "run", name, alt.Tooltip("validation score:Q", format=".4f")])
                col.altair_chart(chart.properties(height=200), use_container_width=True)


def _headline(scores: dict) -> dict:
    out = {}
    for name, values in scores.items():
        for metric in ("accuracy", "macro_f1", "exact_match", "perplexity"):
            if values.get(metric) is not None:
                out[f"{name} · {metric}"] = round(values[metric], 4)
    return out


def _live_run(ws, run: train.ModelRun) -> None:
    with st.container(border=True, key=f"train_live_{run.id}"):
        what = "baseline" if run.kind == "baseline" else "fine-tune"
        st.markdown(f"**Model run {run.id}** · {what} on {run.version} · {train.model_label(run)} · "
                    f"*{run.phase or run.status}*")
        total = run.total_steps or 0
        frac = min(1.0, (run.step or 0) / total) if total else 0.0
        eta = f" · ETA {run.eta_seconds:.0f} s" if run.eta_seconds else ""
        loss = f" · loss {run.shown_loss:.4f}" if run.shown_loss is not None else ""
        st.progress(frac, text=f"step {run.step or 0}/{total or '?'}{loss}{eta}")
        _loss_chart(ws, run.id)
        if st.button("Cancel", key=f"train_cancel_{run.id}", icon=":material/stop:",
                     disabled=bool(run.cancel_requested)):
            train.cancel(ws, run.id)
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


def _finished(ws, run: train.ModelRun) -> None:
    what = "baseline" if run.kind == "baseline" else "fine-tune"
    if run.status != "done":
        st.warning(f"Model run {run.id} ({what} on {run.version}) {run.status}: {run.message or ''}")
        if train.resumable(ws, run) and st.button("Resume from the last checkpoint", key=f"train_resume_{run.id}",
                                                  icon=":material/replay:"):
            step = train.resume(ws, run.id)
            st.session_state["train_flash"] = f"Model run {run.id} resumes from step {step}."
            st.rerun()
        return
    scores = train.scores(ws, run.id)
    seconds = run.counters.seconds if run.counters.seconds is not None else "?"
    st.markdown(f"Latest: **model run {run.id}** · {what} on {run.version} · {train.model_label(run)} · "
                f"{seconds} s" + (f" · saved in `{run.artifact}`" if run.artifact else ""))
    cols = st.columns(max(1, len(scores)))
    for col, (name, values) in zip(cols, scores.items()):
        metric = next((m for m in ("accuracy", "exact_match", "perplexity") if values.get(m) is not None), None)
        if metric:
            col.metric(f"{name} · {metric}", f"{values[metric]:.3f}")
    if run.kind == "finetune" and run.task == "classification":
        _behind_baseline(ws, run)
        _loss_chart(ws, run.id)


def _behind_baseline(ws, run: train.ModelRun) -> None:
    """Say so when a fine-tune scores below the quick baseline of its version on its eval sets."""
    gaps = train.behind_baseline(ws, run.dataset, run.id)
    if not gaps:
        return
    where = "; ".join(f"{g.eval_set}: {g.value:.3f} against {g.baseline:.3f} (model run {g.baseline_run})"
                      for g in gaps)
    st.warning(f"This fine-tune scores below the quick baseline of {run.version} on the same eval sets "
               f"({gaps[0].metric}: {where}). The fine-tuned model learned less than a logistic regression on "
               "frozen embeddings of the same rows: it is undertrained or its training went wrong, which says "
               "nothing against the data. Try more epochs or Max steps, a learning rate between 2e-5 and 1e-4 "
               "(a flat or rising loss below says the rate is off), a longer Max length if texts are cut, and "
               "more training rows.", icon=":material/trending_down:")
