"""Files uploaded through the browser are kept in the workspace, so their provenance stays on disk."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from curate.store.workspace import Workspace


def save_upload(workspace: Workspace, name: str, data: bytes) -> Path:
    """Write an uploaded file to ``artifacts/uploads/`` under its own name (a hash prefix if taken)."""
    folder = workspace.artifacts / "uploads"
    folder.mkdir(parents=True, exist_ok=True)
    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", Path(name).name).lstrip(".") or "upload"  # never "..", "." or hidden
    path = folder / safe
    if path.exists() and path.read_bytes() != data:
        path = folder / f"{hashlib.sha256(data).hexdigest()[:8]}-{safe}"
    if not path.exists():
        path.write_bytes(data)
    return path
