"""Causal-LM supervised fine-tuning for ``sft`` (instruction, input, response) and ``chat`` (messages).

Only the answer tokens are learned: every prompt token gets label -100. A row is rendered as
segments ``(text, trainable)``: with the model's chat template when the tokenizer has one (the
template is rendered turn by turn, so each assistant turn is exactly the text the template adds for
it), else an Alpaca-style prompt (``### Instruction / ### Input / ### Response``). Each segment is
tokenised on its own and the ids concatenated, so the mask is exact whatever the tokenizer merges.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

from curate.errors import InputError
from curate.train.device import Device, autocast, choose_device
from curate.train.fitting import fit, fit_folder
from curate.train.loop import FitResult, Hooks, Validation
from curate.train.metrics import generated_answer, perplexity, short_answer
from curate.train.params import TrainParams, resolved

IGNORE = -100


@dataclass
class SFTModel:
    model: Any
    tokenizer: Any
    device: Device
    chat_template: bool
    fit: FitResult | None = None


def load(path: str | Path, *, seed: int = 0, config: dict[str, Any] | None = None):
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    path = Path(path).expanduser()
    if not (path / "config.json").exists():
        raise InputError(str(path), "not a local model folder (no config.json)",
                         fix="pass --model with a causal LM folder saved by transformers' save_pretrained")
    torch.manual_seed(seed)
    tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=True)
    model = AutoModelForCausalLM.from_pretrained(path, local_files_only=True, **(config or {}))
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token or tokenizer.unk_token
    return tokenizer, model


def _messages(row: dict[str, Any]) -> list[dict[str, str]]:
    msgs = row.get("messages")
    if isinstance(msgs, str):
        msgs = json.loads(msgs)
    if msgs:
        return [{"role": m.get("role", "user"), "content": m.get("content") or ""} for m in msgs]
    user = row.get("instruction") or ""
    if row.get("input"):
        user = f"{user}\n\n{row['input']}"
    return [{"role": "user", "content": user}, {"role": "assistant", "content": row.get("response") or ""}]


def segments(tokenizer, row: dict[str, Any]) -> tuple[list[tuple[str, bool]], bool]:
    """The row as ``(text, trainable)`` segments, and whether the chat template rendered it."""
    msgs = _messages(row)
    if getattr(tokenizer, "chat_template", None):
        rendered = _templated(tokenizer, msgs)
        if rendered is not None:
            return rendered, True
    return _plain(tokenizer, row, msgs), False


def _templated(tokenizer, msgs: list[dict[str, str]]) -> list[tuple[str, bool]] | None:
    out, done = [], ""
    for i, m in enumerate(msgs):
        if m["role"] != "assistant":
            continue
        prompt = tokenizer.apply_chat_template(msgs[:i], tokenize=False, add_generation_prompt=True)
        through = tokenizer.apply_chat_template(msgs[:i + 1], tokenize=False)
        if not prompt.startswith(done) or not through.startswith(prompt):
            return None  # a template that rewrites earlier turns: fall back to the plain format
        out += [(prompt[len(done):], False), (through[len(prompt):], True)]
        done = through
    return out or None


def _plain(tokenizer, row: dict[str, Any], msgs: list[dict[str, str]]) -> list[tuple[str, bool]]:
    eos = tokenizer.eos_token or ""
    if not row.get("messages"):
        prompt = f"### Instruction:\n{row.get('instruction') or ''}\n\n"
        if row.get("input"):
            prompt += f"### Input:\n{row['input']}\n\n"
        return [(prompt + "### Response:\n", False), ((row.get("response") or "") + eos, True)]
    out, pending = [], ""
    for m in msgs:
        if m["role"] == "assistant":
            out += [(pending + "Assistant: ", False), (m["content"] + eos, True)]
            pending = "\n"
        else:
            pending += f"{m['role'].capitalize()}: {m['content']}\n"
    return out


def encode(tokenizer, row: dict[str, Any], max_length: int) -> dict[str, list[int]]:
    """``input_ids``, ``attention_mask`` and ``labels`` (prompt tokens -100) of one row, truncated."""
    ids, labels = [], []
    parts, templated = segments(tokenizer, row)
    if not templated and tokenizer.bos_token_id is not None and tokenizer.bos_token != tokenizer.eos_token:
        ids, labels = [tokenizer.bos_token_id], [IGNORE]
    for text, trainable in parts:
        piece = tokenizer(text, add_special_tokens=False)["input_ids"] if text else []
        ids += piece
        labels += piece if trainable else [IGNORE] * len(piece)
    ids, labels = ids[:max_length], labels[:max_length]
    return {"input_ids": ids, "attention_mask": [1] * len(ids), "labels": labels}


def prompt_ids(tokenizer, row: dict[str, Any], max_length: int) -> tuple[list[int], str]:
    """Token ids up to the last answer (what generation starts from) and that answer's reference text."""
    parts, templated = segments(tokenizer, row)
    last = max(i for i, (_, trainable) in enumerate(parts) if trainable)
    ids = [tokenizer.bos_token_id] if (not templated and tokenizer.bos_token_id is not None
                                      and tokenizer.bos_token != tokenizer.eos_token) else []
    for text, _ in parts[:last]:
        ids += tokenizer(text, add_special_tokens=False)["input_ids"] if text else []
    reference = parts[last][0]
    for special in (tokenizer.eos_token,):
        if special and reference.endswith(special):
            reference = reference[: -len(special)]
    return ids[-max_length:], reference


def collator(pad_id: int):
    def collate(batch: list[dict[str, list[int]]]):
        import torch

        width = max(len(b["input_ids"]) for b in batch)
        ids = torch.full((len(batch), width), pad_id, dtype=torch.long)
        mask = torch.zeros((len(batch), width), dtype=torch.long)
        labels = torch.full((len(batch), width), IGNORE, dtype=torch.long)
        for i, b in enumerate(batch):
            n = len(b["input_ids"])
            ids[i, :n] = torch.tensor(b["input_ids"])
            mask[i, :n] = 1
            labels[i, :n] = torch.tensor(b["labels"])
        return {"input_ids": ids, "attention_mask": mask, "labels": labels}
    return collate


def features(tokenizer, rows: Sequence[dict[str, Any]], max_length: int) -> list[dict[str, list[int]]]:
    """Encoded rows that still have at least one answer token after truncation."""
    feats = [encode(tokenizer, r, max_length) for r in rows]
    return [f for f in feats if any(label != IGNORE for label in f["labels"])]


def train(train_rows: Sequence[dict[str, Any]], val_rows: Sequence[dict[str, Any]], params: TrainParams, *,
          device: Device | None = None, hooks: Hooks | None = None, folder: Path | None = None,
          resume: bool = False) -> SFTModel:
    """Fine-tune a local causal LM on the answers of the rows; validation loss drives early stopping
    and the choice of the best checkpoint (checkpoints and logs in ``folder``; see classify.train)."""
    from curate.train import controls

    params = resolved(params, "sft")
    if not params.model:
        raise InputError("--model", "SFT needs a causal language model folder", fix="pass --model DIR")
    device = device or choose_device(params.precision)
    tokenizer, model = load(params.model, seed=params.seed,
                            config=controls.dropout_config(Path(params.model).expanduser(), params))
    controls.apply(model, params)
    if params.lora:
        from curate.train.lora import wrap

        model = wrap(model, params, task="CAUSAL_LM")
    feats = features(tokenizer, train_rows, params.max_length)
    if not feats:
        raise InputError("training split", "no row has an answer to learn within --max-length tokens",
                         fix="raise --max-length or check the response/messages fields")
    trained = SFTModel(model, tokenizer, device, segments(tokenizer, train_rows[0])[1])
    validation = Validation(features(tokenizer, val_rows, params.max_length), "loss", False)
    with fit_folder(folder) as (where, keep):
        trained.fit = fit(model, feats, collator(tokenizer.pad_token_id), params, device, where,
                          validation=validation, hooks=hooks, resume=resume, keep=keep)
    return trained


def _item_losses(trained: SFTModel, feats: list[dict], batch_size: int) -> tuple[list[float], list[int]]:
    """Mean answer-token loss of each encoded row, and its number of answer tokens."""
    import torch

    collate = collator(trained.tokenizer.pad_token_id)
    losses, counts = [], []
    trained.model.eval()
    with torch.inference_mode():
        for start in range(0, len(feats), batch_size):
            batch = {k: v.to(trained.device.name) for k, v in collate(feats[start:start + batch_size]).items()}
            with autocast(trained.device):
                logits = trained.model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits
            shift_logits, shift_labels = logits[:, :-1].float(), batch["labels"][:, 1:]
            tok = torch.nn.functional.cross_entropy(shift_logits.transpose(1, 2), shift_labels,
                                                    ignore_index=IGNORE, reduction="none")
            n = (shift_labels != IGNORE).sum(1)
            losses += (tok.sum(1) / n.clamp(min=1)).tolist()
            counts += n.tolist()
    return losses, counts


@dataclass
class SFTEval:
    metrics: dict[str, float | None]
    references: list[str | None] = field(default_factory=list)
    predictions: list[str | None] = field(default_factory=list)
    correct: list[bool | None] = field(default_factory=list)
    item_loss: list[float | None] = field(default_factory=list)


def evaluate(trained: SFTModel, rows: Sequence[dict[str, Any]], params: TrainParams) -> SFTEval:
    """Answer loss and perplexity over the rows; exact match of generated answers on up to
    ``params.gen_limit`` rows whose reference is short (GSM8K ``#### N`` or a few words)."""
    import torch

    tok = trained.tokenizer
    encoded = [encode(tok, r, params.max_length) for r in rows]
    usable = [i for i, f in enumerate(encoded) if any(label != IGNORE for label in f["labels"])]
    losses, counts = _item_losses(trained, [encoded[i] for i in usable], params.batch_size)
    item_loss: list[float | None] = [None] * len(rows)
    for i, loss in zip(usable, losses):
        item_loss[i] = loss
    total = sum(counts)
    mean = sum(loss * n for loss, n in zip(losses, counts)) / total if total else None
    out = SFTEval({"loss": mean, "perplexity": perplexity(mean) if mean is not None else None, "n": len(rows)},
                  [None] * len(rows), [None] * len(rows), [None] * len(rows), item_loss)
    generated = 0
    for i in usable:
        if generated >= params.gen_limit:
            break
        ids, reference = prompt_ids(tok, rows[i], params.max_length)
        answer = short_answer(reference)
        if answer is None:
            continue
        with torch.inference_mode():
            gen = trained.model.generate(torch.tensor([ids], device=trained.device.name),
                                         attention_mask=torch.ones((1, len(ids)), dtype=torch.long,
                                                                   device=trained.device.name),
                                         max_new_tokens=params.gen_max_new_tokens, do_sample=False,
                                         pad_token_id=tok.pad_token_id, eos_token_id=tok.eos_token_id)
        text = tok.decode(gen[0, len(ids):], skip_special_tokens=True)
        got = generated_answer(text, answer)
        out.references[i], out.predictions[i], out.correct[i] = answer, got, got == answer
        generated += 1
    if generated:
        out.metrics["exact_match"] = sum(bool(c) for c in out.correct) / generated
        out.metrics["n_generated"] = generated
    return out


def save(trained: SFTModel, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    trained.model.save_pretrained(folder)  # LoRA: the adapter (small); the base model stays where it was
    trained.tokenizer.save_pretrained(folder)
    return folder
