"""What a run changes in the model before training: dropout override and frozen weights."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from curate.errors import InputError
from curate.train.params import TrainParams


def dropout_config(path: str | Path, params: TrainParams) -> dict[str, Any]:
    """Config overrides for ``from_pretrained`` setting every dropout probability of the model's config
    (``hidden_dropout_prob``, ``attention_probs_dropout_prob``, ``resid_pdrop``, ``classifier_dropout``…)."""
    if params.dropout is None:
        return {}
    from transformers import AutoConfig

    config = AutoConfig.from_pretrained(path, local_files_only=True).to_dict()
    return {k: params.dropout for k, v in config.items()
            if ("dropout" in k or "pdrop" in k) and (v is None or isinstance(v, float))}


def apply(model, params: TrainParams) -> None:
    """Set every dropout module's probability (heads the config does not reach included) and freeze
    the embeddings and/or all but the top ``train_top_layers`` layers."""
    import torch

    if params.dropout is not None:
        for module in model.modules():
            if isinstance(module, torch.nn.Dropout):
                module.p = params.dropout
    if params.freeze_embeddings or params.train_top_layers is not None:
        for module in embedding_modules(model):
            module.requires_grad_(False)
    if params.train_top_layers is not None:
        layers = transformer_layers(model)
        for layer in layers[:max(0, len(layers) - params.train_top_layers)]:
            layer.requires_grad_(False)


def embedding_modules(model) -> list:
    """The token embeddings and, where the model groups them, its whole embeddings block (positions,
    token types and their norm); every other ``nn.Embedding`` too (GPT-2's position table)."""
    import torch

    found = [model.get_input_embeddings()]
    for name, module in model.named_modules():
        if isinstance(module, torch.nn.Embedding) or name.split(".")[-1] == "embeddings":
            found.append(module)
    return found


def transformer_layers(model) -> list:
    """The model's stack of transformer layers: its longest ``nn.ModuleList``."""
    import torch

    lists = [m for m in model.modules() if isinstance(m, torch.nn.ModuleList)]
    if not lists:
        raise InputError("--train-top-layers", f"{type(model).__name__} has no list of layers to freeze",
                         fix="use --freeze-embeddings, or train every layer")
    return list(max(lists, key=len))
