"""Where a model trains: CUDA with bf16 where the GPU supports it, else CPU in float32."""

from __future__ import annotations

import os
from dataclasses import dataclass


@dataclass(frozen=True)
class Device:
    name: str          # "cuda" | "cpu"
    bf16: bool         # autocast to bfloat16 during forward/backward

    def __str__(self) -> str:
        return f"{self.name}{' (bf16)' if self.bf16 else ''}"


def choose_device() -> Device:
    """CUDA (+bf16 when supported) if a GPU is visible, else CPU with every core."""
    import torch

    if torch.cuda.is_available():
        return Device("cuda", bool(torch.cuda.is_bf16_supported()))
    torch.set_num_threads(max(1, os.cpu_count() or 1))
    return Device("cpu", False)


def autocast(device: Device):
    """The autocast context for a device (a no-op on CPU / without bf16)."""
    import contextlib

    import torch

    if device.bf16:
        return torch.autocast(device_type=device.name, dtype=torch.bfloat16)
    return contextlib.nullcontext()
