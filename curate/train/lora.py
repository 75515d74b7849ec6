"""Optional LoRA adapters through ``peft`` (install with ``pip install peft``)."""

from __future__ import annotations

from curate.errors import CurateError
from curate.train.params import TrainParams


def available() -> bool:
    try:
        import peft  # noqa: F401
    except ImportError:
        return False
    return True


def wrap(model, params: TrainParams, *, task: str):
    """The model with LoRA adapters on every linear layer; only adapters (and the head) train."""
    try:
        from peft import LoraConfig, get_peft_model
    except ImportError:
        raise CurateError("LoRA needs peft, which is not installed; fix: pip install peft, "
                          "or train without --lora") from None
    config = LoraConfig(task_type=task, r=params.lora_r, lora_alpha=params.lora_alpha, lora_dropout=0.05,
                        target_modules="all-linear")
    return get_peft_model(model, config)
