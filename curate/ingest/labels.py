"""Class display names at ingest: from an HF ``ClassLabel`` or from ``--labels 0=negative,1=positive``.

A classification dataset's label *is* its display name: when names are known, each record's raw label
value (kept unchanged in ``raw``) is stored as its name, so the Label page, reports, exports and saved
models (``id2label``) all show ``negative`` rather than ``0``, and the dataset's classes keep the order
the names were given in. A ``ClassLabel`` value of ``-1`` (datasets' "no label") becomes unlabelled.
Names come from, in order: ``--labels``, the ``ClassLabel`` feature of an HF folder (its
``dataset_info.json``) or of a Parquet file written by ``datasets`` (its ``huggingface`` schema
metadata); otherwise the label strings themselves are the names.
"""

from __future__ import annotations

import json
from pathlib import Path

from curate.errors import InputError
from curate.ingest.readers import Source

NO_LABEL = "-1"


def parse_labels(text: str | None, where: str = "--labels") -> dict[str, str]:
    """``0=negative,1=positive`` → ``{"0": "negative", "1": "positive"}`` (order kept)."""
    if not text:
        return {}
    out: dict[str, str] = {}
    for part in text.split(","):
        value, sep, name = part.partition("=")
        if not sep or not value.strip() or not name.strip():
            raise InputError(where, f"cannot read {part!r}", fix="write value=name pairs, e.g. --labels 0=negative,1=positive")
        if name.strip() in out.values():
            raise InputError(where, f"name {name.strip()!r} is given to two values", fix="give each class its own name")
        out[value.strip()] = name.strip()
    return out


def _features(source: Source) -> list[dict]:
    """The ``features`` dicts a source declares (HF folder splits, or a datasets-written Parquet file)."""
    if source.format == "hf":
        found = []
        for info in sorted(Path(source.path).glob("**/dataset_info.json")):
            try:
                found.append(json.loads(info.read_text(encoding="utf-8")).get("features") or {})
            except (OSError, ValueError):
                continue
        return found
    if source.format == "parquet":
        import pyarrow.parquet as pq

        try:  # a damaged schema note is no class names; the rows are read (and judged) by DuckDB
            meta = pq.read_schema(source.path).metadata or {}
            return [json.loads(meta[b"huggingface"]).get("info", {}).get("features") or {}]
        except (KeyError, ValueError, AttributeError, OSError):  # pyarrow's ArrowInvalid is a ValueError
            return []
    return []


def class_names(source: Source, column: str) -> list[str] | None:
    """The ``ClassLabel`` names of ``column`` in ``source``, if it declares them."""
    for features in _features(source):
        feature = features.get(column) if isinstance(features, dict) else None
        if isinstance(feature, dict) and feature.get("_type") == "ClassLabel" and feature.get("names"):
            return [str(n) for n in feature["names"]]
    return None


def sequence_names(source: Source, column: str) -> list[str] | None:
    """The ``ClassLabel`` names of a sequence column (an HF ``ner_tags``), if the source declares them."""
    for features in _features(source):
        feature = features.get(column) if isinstance(features, dict) else None
        inner = feature.get("feature") if isinstance(feature, dict) else None
        if isinstance(inner, dict) and inner.get("_type") == "ClassLabel" and inner.get("names"):
            return [str(n) for n in inner["names"]]
    return None


def names_for(source: Source, column: str | None, given: dict[str, str]) -> dict[str, str | None]:
    """raw label value (as text) → display name (None: no label) for one source; empty: keep the strings."""
    if given:
        return dict(given)
    names = class_names(source, column) if column and "." not in column else None
    if not names:
        return {}
    return {**{str(i): n for i, n in enumerate(names)}, NO_LABEL: None}
