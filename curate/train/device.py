"""Where a model trains and in which precision: CUDA (bf16 where the GPU supports it) or CPU in fp32."""

from __future__ import annotations

import os
from dataclasses import dataclass

from curate.errors import InputError


@dataclass(frozen=True)
class Device:
    name: str                  # "cuda" | "cpu"
    precision: str = "fp32"    # "fp32" | "bf16" | "fp16": mixed precision of forward/backward

    def __str__(self) -> str:
        return f"{self.name}{f' ({self.precision})' if self.precision != 'fp32' else ''}"


def choose_device(precision: str = "auto") -> Device:
    """CUDA if a GPU is visible, else CPU with every core (one core per process under torchrun); the
    precision ``auto`` is bf16 on a GPU that supports it, fp32 elsewhere; fp16 needs a GPU."""
    import torch

    cuda = torch.cuda.is_available()
    if precision == "auto":
        precision = "bf16" if cuda and torch.cuda.is_bf16_supported() else "fp32"
    if precision == "fp16" and not cuda:
        raise InputError("--precision fp16", "fp16 mixed precision needs a CUDA GPU and none is visible",
                         fix="use --precision fp32 (or bf16) on CPU")
    if precision == "bf16" and cuda and not torch.cuda.is_bf16_supported():
        raise InputError("--precision bf16", "this GPU does not support bfloat16", fix="use --precision fp16")
    if cuda:
        return Device("cuda", precision)
    world = int(os.environ.get("WORLD_SIZE", "1"))
    torch.set_num_threads(max(1, (os.cpu_count() or 1) // world))
    return Device("cpu", precision)


def autocast(device: Device):
    """The autocast context for a device's precision (a no-op in fp32)."""
    import contextlib

    import torch

    if device.precision in ("bf16", "fp16"):
        dtype = torch.bfloat16 if device.precision == "bf16" else torch.float16
        return torch.autocast(device_type=device.name, dtype=dtype)
    return contextlib.nullcontext()
