"""Token classification (named entities) for ``spans`` versions: fine-tune with HF ``Trainer`` and
score entity-level precision/recall/F1 per type with ``seqeval``.

Words are the text split on whitespace with BIO tags (``curate.ingest.shapes.spans_to_bio``, the same
as the ``hf`` export); each word's first word piece carries its tag, the other pieces are ignored
(-100), and a word's predicted tag is its first piece's. Words cut off by ``max_length`` are
predicted ``O``. Default model: the bundled MiniLM, with a new classification head.
"""

from __future__ import annotations

import json
import math
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, cast

from curate.ingest.shapes import spans_to_bio
from curate.train.loop import Hooks, Progress
from curate.train.params import TrainParams
from curate.versions.shaped_formats import bio_names

if TYPE_CHECKING:
    from transformers import TrainerCallback

IGNORE = -100


@dataclass
class Tagger:
    model: Any
    tokenizer: Any
    names: list[str]
    steps: int = 0
    seconds: float = 0.0
    cancelled: bool = False
    losses: list[float] = field(default_factory=list)


def words_and_tags(rows: list[dict]) -> tuple[list[list[str]], list[list[str]]]:
    pairs = [spans_to_bio(r["text"] or "", r["spans"] or []) for r in rows]
    return [p[0] for p in pairs], [p[1] for p in pairs]


def encode(tokenizer, words: list[list[str]], tags: list[list[str]] | None, names: list[str], max_length: int) -> list[dict]:
    """Model inputs per sentence; ``labels`` (first piece of each word, else -100) when ``tags`` given."""
    index = {n: i for i, n in enumerate(names)}
    out = []
    for k, ws in enumerate(words):
        enc = tokenizer(ws, is_split_into_words=True, truncation=True, max_length=max_length)
        ids, prev, labels = enc.word_ids(), None, []
        for w in ids:
            labels.append(IGNORE if w is None or w == prev or tags is None else index.get(tags[k][w], 0))
            prev = w
        item = {"input_ids": enc["input_ids"], "attention_mask": enc["attention_mask"]}
        if tags is not None:
            item["labels"] = labels
        out.append(item)
    return out


def entity_metrics(gold: list[list[str]], pred: list[list[str]]) -> tuple[dict[str, float], dict[str, Any]]:
    """seqeval's entity-level micro P/R/F1 and ``precision|recall|f1:<type>``, plus per-type support."""
    from seqeval.metrics import classification_report, f1_score, precision_score, recall_score

    zero: Any = 0   # seqeval annotates zero_division as str ("warn"); like sklearn it takes 0 or 1
    metrics = {"precision": precision_score(gold, pred, zero_division=zero),
               "recall": recall_score(gold, pred, zero_division=zero),
               "f1": f1_score(gold, pred, zero_division=zero), "n": float(len(gold))}
    report: dict[str, dict[str, float]] = cast(Any, classification_report(gold, pred, output_dict=True,
                                                                           zero_division=zero))
    support = {}
    for kind, scores in report.items():
        if kind.endswith(" avg"):
            continue
        for m in ("precision", "recall", "f1"):
            metrics[f"{m}:{kind}"] = float(scores["f1-score" if m == "f1" else m])
        support[kind] = int(scores["support"])
    return {k: float(v) for k, v in metrics.items()}, {"support": support}


class Tracked(Protocol):
    """What the progress callback writes to: a ``Tagger`` or a DPO ``Tuned``."""
    cancelled: bool
    losses: list[float]


def _callback(hooks: Hooks, tagger: Tracked) -> TrainerCallback:
    """A ``TrainerCallback`` passing progress to curate's hooks and stopping when asked."""
    from transformers import TrainerCallback

    started = time.monotonic()

    class Callback(TrainerCallback):
        def on_log(self, args, state, control, logs=None, **kwargs):
            if not logs or "loss" not in logs:
                return
            tagger.losses.append(float(logs["loss"]))
            if hooks.on_progress:
                elapsed = time.monotonic() - started
                eta = elapsed / max(state.global_step, 1) * (state.max_steps - state.global_step)
                hooks.on_progress(Progress(state.global_step, state.max_steps, state.epoch or 0.0, float(logs["loss"]),
                                           float(logs.get("learning_rate", 0.0)), elapsed, eta))

        def on_step_end(self, args, state, control, **kwargs):
            if hooks.should_stop and hooks.should_stop():
                tagger.cancelled = control.should_training_stop = True

    return Callback()


def train(train_rows: list[dict], params: TrainParams, *, model_dir: str | Path, device=None,
          hooks: Hooks | None = None) -> Tagger:
    from transformers import (AutoModelForTokenClassification, AutoTokenizer, DataCollatorForTokenClassification,
                              Trainer, TrainingArguments)

    words, tags = words_and_tags(train_rows)
    names = bio_names([s["label"] for r in train_rows for s in (r["spans"] or [])])
    tokenizer = AutoTokenizer.from_pretrained(str(model_dir))
    model = AutoModelForTokenClassification.from_pretrained(
        str(model_dir), num_labels=len(names), id2label=dict(enumerate(names)), label2id={n: i for i, n in enumerate(names)})
    tagger = Tagger(model, tokenizer, names)
    data = encode(tokenizer, words, tags, names, params.max_length)
    with tempfile.TemporaryDirectory(prefix="curate-tokens-") as tmp:
        args = TrainingArguments(output_dir=tmp, num_train_epochs=params.epochs, max_steps=params.max_steps or -1,
                                 learning_rate=params.lr or 1e-4, per_device_train_batch_size=params.batch_size,
                                 warmup_steps=min(params.warmup, 0.999), weight_decay=params.weight_decay, seed=params.seed,
                                 lr_scheduler_type=params.schedule, max_grad_norm=params.max_grad_norm,
                                 logging_steps=1, save_strategy="no", report_to=[], use_cpu=str(device or "cpu") == "cpu",
                                 disable_tqdm=True)
        trainer = Trainer(model=model, args=args, train_dataset=cast(Any, data), data_collator=DataCollatorForTokenClassification(tokenizer),
                          callbacks=[_callback(hooks or Hooks(), tagger)])
        started = time.monotonic()
        out = trainer.train()
    tagger.steps, tagger.seconds = out.global_step, time.monotonic() - started
    return tagger


def predict(tagger: Tagger, words: list[list[str]], max_length: int, batch_size: int = 32) -> list[list[str]]:
    """Predicted BIO tag per word."""
    import torch

    tagger.model.eval()
    out = []
    for start in range(0, len(words), batch_size):
        chunk = words[start:start + batch_size]
        enc = tagger.tokenizer(chunk, is_split_into_words=True, truncation=True, max_length=max_length,
                               padding=True, return_tensors="pt")
        with torch.no_grad():
            logits = tagger.model(**{k: v.to(tagger.model.device) for k, v in enc.items()}).logits
        best = logits.argmax(-1).tolist()
        for k, ws in enumerate(chunk):
            tags, seen = ["O"] * len(ws), set()
            for pos, w in enumerate(enc.word_ids(k)):
                if w is not None and w not in seen:
                    seen.add(w)
                    tags[w] = tagger.names[best[k][pos]]
            out.append(tags)
    return out


def evaluate(tagger: Tagger, rows: list[dict], params: TrainParams):
    """``(metrics, detail, predictions)`` of one eval set; an item is correct when all its tags are."""
    from curate.train.evaluate import prediction_table

    words, gold = words_and_tags(rows)
    pred = predict(tagger, words, params.max_length)
    metrics, detail = entity_metrics(gold, pred)
    table = prediction_table(rows, [json.dumps(g) for g in gold], [json.dumps(p) for p in pred],
                             [g == p for g, p in zip(gold, pred)], [None] * len(rows))
    return metrics, detail, table


def save(trained: Any, folder: Path) -> None:
    """Save a trained model and its tokenizer (a ``Tagger`` here, ``curate.train.dpo``'s ``Tuned`` too)."""
    folder.mkdir(parents=True, exist_ok=True)
    trained.model.save_pretrained(str(folder))
    trained.tokenizer.save_pretrained(str(folder))


def final_loss(trained: Any) -> float | None:
    """The last logged training loss, if finite."""
    return trained.losses[-1] if trained.losses and math.isfinite(trained.losses[-1]) else None
