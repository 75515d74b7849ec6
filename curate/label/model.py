"""The small model behind pre-labels and suspects: logistic regression on frozen MiniLM embeddings.

Embeddings come from ``curate.embed.embed_cached`` (the bundled model, cached in the store), so a
retrain after N new labels costs one fit of a linear model.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from curate.errors import InputError
from curate.label.questions import Question
from curate.store import label as store
from curate.store.workspace import Workspace

C = 2.0  # inverse regularisation; normalised 384-d embeddings underfit at sklearn's default 1.0


@dataclass
class LabelData:
    """Every example of a dataset with its current label for one question (None: unlabelled)."""
    example_ids: np.ndarray
    texts: list[str]
    labels: list[str | None]
    given: list[str | None]
    classes: list[str]

    def labelled(self) -> np.ndarray:
        return np.array([lab is not None for lab in self.labels], dtype=bool)


def label_data(workspace: Workspace, question: Question) -> LabelData:
    if question.kind != "label":
        raise InputError("question", f"{question.name!r} is a {question.kind} question",
                         fix="pre-labels and suspects work on single-label (kind label) questions")
    with workspace.connect() as con:
        table = store.current_labels(con, question.dataset_id, question.id)
    classes = list(question.options)
    labels = [lab if lab in classes else None for lab in table.column("label").to_pylist()]
    return LabelData(np.asarray(table.column("example_id").to_numpy(), dtype=np.int64),
                     [t or "" for t in table.column("text").to_pylist()], labels,
                     table.column("given").to_pylist(), classes)


def check_trainable(data: LabelData, min_per_class: int) -> tuple[np.ndarray, list[str]]:
    """Integer targets of the labelled rows and the classes present; raise if too few labels."""
    mask = data.labelled()
    present = [c for c in data.classes if sum(lab == c for lab in data.labels) >= min_per_class]
    if len(present) < 2:
        raise InputError("labels", f"need at least {min_per_class} labelled examples in each of two classes "
                         f"(have {int(mask.sum())} labelled)", fix="label a few more examples first")
    y = np.array([present.index(lab) if lab in present else -1 for lab in data.labels])
    return y, present


def embeddings(workspace: Workspace, data: LabelData, progress: Callable[[int, int], None] | None = None) -> np.ndarray:
    from curate.embed import embed_cached

    return embed_cached(workspace, data.texts, progress=progress)


def classifier():
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(C=C, max_iter=2000)


def libraries() -> dict[str, str]:
    import sklearn

    import cleanlab

    return {"scikit-learn": sklearn.__version__, "cleanlab": cleanlab.__version__}
