"""DPO on a ``preference`` version with TRL's ``DPOTrainer``, scored by held-out preference accuracy.

Pairs go to TRL in its conversational format (prompt/chosen/rejected as turn lists) when the model's
tokenizer has a chat template, else in its standard format (the prompt's turns joined by newlines,
each side's reply as text after a space). Accuracy on an eval set is the share of pairs whose
DPO implicit reward ranks chosen above rejected: ``(log π(c) − log π_ref(c)) − (log π(r) − log π_ref(r)) > 0``
with π_ref the model trained from (TRL's ``rewards/accuracies``, on held-out pairs); the margin
is stored per item as its score.
"""

from __future__ import annotations

import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from curate.train.loop import Hooks
from curate.train.params import TrainParams, default
from curate.train.tokens import _callback, final_loss, save  # noqa: F401 - the runner calls them on this module

@dataclass
class Tuned:
    model: Any
    tokenizer: Any
    reference: str
    steps: int = 0
    seconds: float = 0.0
    cancelled: bool = False
    losses: list[float] = field(default_factory=list)


def _text(turns: list[dict]) -> str:
    return "\n".join(t["content"] for t in turns)


def _reply(turns: list[dict]) -> str:
    """A response as text continuing its prompt: TRL joins the two strings, so it starts with a space."""
    text = _text(turns)
    return text if text[:1].isspace() else " " + text


def pair(row: dict, templated: bool) -> dict[str, Any]:
    """One TRL preference record of a version row."""
    if templated:
        return {"prompt": row["messages"], "chosen": row["chosen"], "rejected": row["rejected"]}
    return {"prompt": _text(row["messages"]), "chosen": _reply(row["chosen"]), "rejected": _reply(row["rejected"])}


def train(train_rows: list[dict], params: TrainParams, *, model_dir: str | Path, device=None,
          hooks: Hooks | None = None) -> Tuned:
    from datasets import Dataset
    from transformers import AutoTokenizer
    from trl.trainer.dpo_config import DPOConfig
    from trl.trainer.dpo_trainer import DPOTrainer

    tokenizer = AutoTokenizer.from_pretrained(str(model_dir))
    templated = bool(getattr(tokenizer, "chat_template", None))
    tuned = Tuned(None, tokenizer, str(model_dir))
    data = Dataset.from_list([pair(r, templated) for r in train_rows])
    with tempfile.TemporaryDirectory(prefix="curate-dpo-") as tmp:
        args = DPOConfig(output_dir=tmp, num_train_epochs=params.epochs, max_steps=params.max_steps or -1,
                         learning_rate=params.lr or 5e-6, per_device_train_batch_size=params.batch_size,
                         warmup_steps=min(params.warmup, 0.999), weight_decay=params.weight_decay, seed=params.seed,
                         lr_scheduler_type=params.schedule, max_grad_norm=params.max_grad_norm, beta=params.dpo_beta,
                         max_length=params.max_length, logging_steps=1, save_strategy="no", report_to=[],
                         use_cpu=str(device or "cpu") == "cpu", disable_tqdm=True)
        trainer = DPOTrainer(model=str(model_dir), args=args, train_dataset=data, processing_class=tokenizer,
                             callbacks=[_callback(hooks or Hooks(), tuned)])
        started = time.monotonic()
        out = trainer.train()
    tuned.model, tuned.steps, tuned.seconds = trainer.model, out.global_step, time.monotonic() - started
    return tuned


def _ids(tokenizer, prompt: list[dict], response: list[dict], templated: bool) -> tuple[list[int], int]:
    """Token ids of prompt + response and where the response starts."""
    if templated:
        head = tokenizer.apply_chat_template(prompt, add_generation_prompt=True, tokenize=False)
        full = tokenizer.apply_chat_template(prompt + response, tokenize=False)
        p_ids = tokenizer(head, add_special_tokens=False)["input_ids"]
        r_ids = tokenizer(full[len(head):] if full.startswith(head) else _text(response), add_special_tokens=False)["input_ids"]
    else:
        p_ids = tokenizer(_text(prompt))["input_ids"]
        r_ids = tokenizer(_reply(response), add_special_tokens=False)["input_ids"] + [tokenizer.eos_token_id]
    return p_ids + r_ids, len(p_ids)


def logprob(model, ids: list[int], start: int) -> float:
    """Sum of the log-probabilities of ``ids[start:]`` given what precedes them."""
    import torch

    x = torch.tensor([ids], device=model.device)
    with torch.no_grad():
        logits = model(input_ids=x).logits[0, :-1].float()
    logp = torch.log_softmax(logits, -1).gather(1, x[0, 1:, None])[:, 0]
    return float(logp[start - 1:].sum())


def margins(tuned: Tuned, rows: list[dict], beta: float | None = None) -> list[float]:
    """The DPO implicit reward margin (chosen minus rejected, times ``beta``, default TrainParams') of each pair."""
    beta = default("dpo_beta") if beta is None else beta
    from transformers import AutoModelForCausalLM

    reference = AutoModelForCausalLM.from_pretrained(tuned.reference).to(tuned.model.device).eval()
    tuned.model.eval()
    templated = bool(getattr(tuned.tokenizer, "chat_template", None))
    out = []
    for r in rows:
        side = []
        for response in (r["chosen"], r["rejected"]):
            ids, start = _ids(tuned.tokenizer, r["messages"], response, templated)
            side.append(logprob(tuned.model, ids, start) - logprob(reference, ids, start))
        out.append(beta * (side[0] - side[1]))
    return out


def evaluate(tuned: Tuned, rows: list[dict], params: TrainParams | None = None):
    """``(metrics, detail, predictions)``: preference accuracy, mean margin and ``n``."""
    from curate.train.evaluate import prediction_table

    m = margins(tuned, rows, params.dpo_beta if params is not None else None)
    correct = [x > 0 for x in m]
    metrics = {"preference_accuracy": sum(correct) / len(rows) if rows else None,
               "reward_margin": sum(m) / len(m) if m else None, "n": float(len(rows))}
    table = prediction_table(rows, ["chosen"] * len(rows), ["chosen" if c else "rejected" for c in correct], correct, m)
    return metrics, None, table
