"""Train and evaluate models on versions, and compare versions by eval score.

- ``start(workspace, "sst2:v2", baseline=False, params=TrainParams(...))`` records a model run and
  trains it in a child process (``python -m curate.train.worker``); ``wait``/``get``/``cancel`` follow it.
- ``execute(workspace, run_id)`` runs a recorded run in this process (what the worker does);
  ``resume(workspace, run_id)`` continues a killed or cancelled one from its last checkpoint.
- ``search.search(workspace, ref, params, "lr=1e-5:1e-3:log", trials=8)`` runs an Optuna search whose
  trials are model runs; ``searches`` lists them with the best marked.
- ``leaderboard``, ``flips``, ``nearest_training_rows`` compare runs (see ``compare``).

Heavy libraries (torch, transformers, sklearn) are imported inside the functions that use them.
"""

import os

# Idle OpenMP threads must sleep, not spin: on a busy 2-core machine (the UI, a test run) spinning
# made a training step 6x slower. Read when torch loads, so set it before anything imports torch.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

from curate.train.compare import (Flips, behind_baseline, common_eval_sets, details, failures,  # noqa: E402
                                  flips, leaderboard,
                                  eval_set_names, metrics_of, model_label, progress, trainable,
                                  nearest_training_rows, runs, scores)
from curate.train.model import (ACTIVE, BaselineGap, LeaderboardRow, ModelRun, Prediction,  # noqa: E402
                                 ProgressPoint, RunCounters, Trainable)
from curate.train.params import TrainParams  # noqa: E402
from curate.train.launch import resumable, resume, spawn, start  # noqa: E402
from curate.train.runner import FINAL, cancel, create, execute, get, log_path, run_folder, wait  # noqa: E402
from curate.train.search import searches  # noqa: E402

__all__ = ["ACTIVE", "FINAL", "BaselineGap", "Flips", "LeaderboardRow", "ModelRun", "Prediction", "ProgressPoint",
           "RunCounters", "Trainable", "TrainParams", "behind_baseline", "cancel", "common_eval_sets", "create", "details",
           "execute",
           "failures", "flips", "get", "leaderboard", "log_path", "metrics_of", "resumable", "resume", "run_folder",
           "eval_set_names", "model_label", "progress", "trainable", "nearest_training_rows", "runs",
           "scores", "searches", "spawn", "start", "wait"]
