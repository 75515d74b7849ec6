"""A generated corpus of hostile input files, and an independent oracle of what ingest must do with each.

``case(rng, folder, i)`` writes one file or HF folder (every format, every compression, mutated at
the byte or the record level) and returns a ``Case``. ``expect(case)`` says, from Python's own
readers (gzip, zstandard, json, csv, pyarrow), whether the file must be refused, and if not, the
records ingest must store: raw JSON equal to the source record, ``text`` and ``label`` its fields.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import random
import shutil
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import zstandard

WORDS = ["great", "bad", "ok", "naïve café", "日本語", "😀", "tab\there", "line\nbreak", "quote\"d", "back\\slash",
         "comma, here", "semi;colon", "\u2028sep", "nul\u0000", "ctrl\u0001", "Infinity", "NaN", "null", "", " ",
         "[1,]", "{\"a\": 1}", "-", "%_%", "\ufeffbom", "עברית", "x" * 300]
LABELS = ["pos", "neg", "neutral", 0, 1, 2, None, ""]
TEXT_FORMATS = ["jsonl", "json", "csv", "tsv"]
COMPRESSIONS = ["", ".gz", ".zst"]
MAX_DEPTH = 100  # the documented limit (curate/ingest/strict.py)


@dataclass
class Case:
    path: Path
    format: str           # jsonl | json | csv | tsv | parquet | hf
    compression: str      # "" | .gz | .zst
    mutation: str


class Refuse(Exception):
    """The oracle's verdict: ingest must refuse this file."""


def _record(rng: random.Random, label_kind: str) -> dict:
    text = " ".join(rng.choice(WORDS) for _ in range(rng.randint(1, 4)))
    label = rng.choice(["pos", "neg", "neutral", ""]) if label_kind == "str" else rng.choice([0, 1, 2])
    rec = {"text": text, "label": None if rng.random() < 0.05 else label}
    if rng.random() < 0.3:
        rec["meta"] = {"n": rng.randint(-10**6, 10**6), "tags": [rng.choice(WORDS)], "f": rng.random()}
    return rec


def _records(rng: random.Random) -> list[dict]:
    kind = rng.choice(["str", "int"])
    return [_record(rng, kind) for _ in range(rng.randint(1, 12))]


def _nest(depth: int) -> str:
    return '{"a": ' * (depth - 1) + "[1]" + "}" * (depth - 1)


def _record_mutation(rng: random.Random, lines: list[str]) -> tuple[list[str], str]:
    """Change one serialized record at the JSON level; returns the lines and the mutation's name."""
    i = rng.randrange(len(lines))
    line = lines[i]
    kind = rng.choice(["dup_key", "nan", "infinity", "trailing_comma", "deep", "number_text", "bool_text",
                       "null_text", "float_label", "huge_label", "not_object", "missing_text", "mixed_label",
                       "empty_label", "lone_surrogate", "escaped_nul", "big_number"])
    body = line[1:-1] if line.startswith("{") and line.endswith("}") else line
    new = {
        "dup_key": '{"text": "first", ' + body + "}",
        "nan": line[:-1] + ', "x": NaN}', "infinity": line[:-1] + ', "x": -Infinity}',
        "trailing_comma": line[:-1] + ", }",
        "deep": line[:-1] + ', "deep": ' + _nest(rng.choice([50, 99, 100, 101, 150, 1000, 5000])) + "}",
        "number_text": '{"text": 5, "label": "pos"}', "bool_text": '{"text": true, "label": "pos"}',
        "null_text": '{"text": null, "label": "pos"}', "float_label": '{"text": "a", "label": 0.5}',
        "huge_label": '{"text": "a", "label": 123456789012345678901234567890}',
        "not_object": rng.choice(['["text", "label"]', '"text"', "42", "null", "[]"]),
        "missing_text": '{"title": "a", "label": "pos"}', "mixed_label": '{"text": "a", "label": true}',
        "empty_label": '{"text": "a", "label": ""}', "lone_surrogate": '{"text": "a\\ud800b", "label": "pos"}',
        "escaped_nul": '{"text": "a\\u0000b", "label": "pos"}', "big_number": line[:-1] + ', "x": 1e999}',
    }[kind]
    return lines[:i] + [new] + lines[i + 1:], kind


def _byte_mutation(rng: random.Random, data: bytes) -> tuple[bytes, str]:
    kind = rng.choice(["truncate", "flip", "insert", "delete", "crlf", "cr_only", "blank_lines", "bom",
                       "double_bom", "utf16", "utf16be_nobom", "latin1", "whitespace_lines", "nul_bytes"])
    pos = rng.randrange(len(data) + 1)
    if kind == "truncate":
        return data[:pos], kind
    if kind == "flip" and data:
        pos = min(pos, len(data) - 1)
        return data[:pos] + bytes([rng.randrange(256)]) + data[pos + 1:], kind
    if kind == "insert":
        junk = rng.choice([b",", b"]", b"}", b"{", b'"', b"\\", b"\x00", b"\x01", b"\xff", b"\r", b"\n", b"NaN", b" "])
        return data[:pos] + junk + data[pos:], kind
    if kind == "delete" and data:
        pos = min(pos, len(data) - 1)
        return data[:pos] + data[pos + 1:], kind
    text = data.decode("utf-8", "surrogateescape")
    return {
        "crlf": data.replace(b"\n", b"\r\n"), "cr_only": data.replace(b"\n", b"\r"),
        "blank_lines": data.replace(b"\n", b"\n\n\n"), "bom": b"\xef\xbb\xbf" + data,
        "double_bom": b"\xef\xbb\xbf\xef\xbb\xbf" + data,
        "utf16": text.encode("utf-16", "surrogatepass"), "utf16be_nobom": text.encode("utf-16-be", "surrogatepass"),
        "latin1": data.replace("é".encode(), b"\xe9"), "whitespace_lines": data.replace(b"\n", b"\n   \n"),
        "nul_bytes": data.replace(b" ", b"\x00", 1),
    }.get(kind, data), kind


def _serialize(fmt: str, records: list[dict], rng: random.Random) -> tuple[bytes, str]:
    if fmt in ("jsonl", "json"):
        lines = [json.dumps(r, ensure_ascii=rng.random() < 0.5) for r in records]
        name = "valid"
        if rng.random() < 0.5:
            lines, name = _record_mutation(rng, lines)
        if fmt == "jsonl":
            return ("\n".join(lines) + ("\n" if rng.random() < 0.8 else "")).encode("utf-8", "surrogatepass"), name
        return ("[\n" + ",\n".join(lines) + "\n]\n").encode("utf-8", "surrogatepass"), name
    delim = "," if fmt == "csv" else "\t"
    header = ["text", "label"]
    name = "valid"
    roll = rng.random()
    if roll < 0.1:  # a header over 64 KiB now and then
        header += [f"column_{i}_" + "w" * 90 for i in range(700 if rng.random() < 0.1 else 10)]
        name = "wide_header"
    buf = io.StringIO()
    writer = csv.writer(buf, delimiter=delim, lineterminator="\n")
    writer.writerow(header)
    for r in records:
        cells = [str(r["text"]).replace("\x00", ""), "" if r["label"] is None else str(r["label"])]
        writer.writerow(cells + [""] * (len(header) - 2))
    if 0.1 <= roll < 0.2:
        writer.writerow(["\x01", "\x01"] + [""] * (len(header) - 2))
        name = "x01_cell"
    elif 0.2 <= roll < 0.3:
        buf.write("ragged" + delim + "row" + delim + "extra\n")
        name = "ragged"
    elif 0.3 <= roll < 0.35:
        buf.write('"unclosed quote' + delim + "x\n")
        name = "open_quote"
    return buf.getvalue().encode("utf-8", "surrogatepass"), name


def _compress(data: bytes, compression: str) -> bytes:
    if compression == ".gz":
        return gzip.compress(data, mtime=0)
    if compression == ".zst":
        return zstandard.ZstdCompressor(write_checksum=True).compress(data)
    return data


def text_case(rng: random.Random, folder: Path, i: int, fmt: str, compression: str) -> Case:
    data, name = _serialize(fmt, _records(rng), rng)
    if rng.random() < 0.4:
        data, name = _byte_mutation(rng, data)
    special = rng.random()
    if special < 0.02:
        data, name = b"", "empty"
    elif special < 0.03:
        data, name = b"\n" * rng.choice([3, 1 << 20]), "blank_only"
    packed = _compress(data, compression)
    if compression and rng.random() < 0.25:
        cut = rng.randrange(len(packed))
        packed, name = rng.choice([(packed[:cut], "truncated_archive"), (b"garbage" + packed, "garbage_archive"),
                                   (packed[:cut] + bytes([packed[cut] ^ 0xFF]) + packed[cut + 1:], "flipped_archive")])
    path = folder / f"c{i}_{name}.{fmt}{compression}"
    path.write_bytes(packed)
    return Case(path, fmt, compression, name)


def parquet_case(rng: random.Random, folder: Path, i: int) -> Case:
    records = [{"text": r["text"].replace("\x00", ""), "label": r["label"]} for r in _records(rng)]
    path = folder / f"c{i}.parquet"
    name = "valid"
    table = pa.Table.from_pylist(records)
    if rng.random() < 0.2:
        table = table.append_column("score", pa.array([float("nan")] * len(records)))
        name = "nan_column"
    pq.write_table(table, path)
    if rng.random() < 0.4:
        data = path.read_bytes()
        cut = rng.randrange(len(data))
        data, name = rng.choice([(data[:cut], "truncate"), (data[:cut] + b"\x00" + data[cut + 1:], "flip")])
        path.write_bytes(data)
    return Case(path, "parquet", "", name)


def hf_case(rng: random.Random, folder: Path, i: int, base: dict[str, Path]) -> Case:
    kind = rng.choice(["dict", "single"])
    path = folder / f"c{i}_hf"
    shutil.copytree(base[kind], path)
    arrows = sorted(path.rglob("*.arrow"))
    meta = path / "dataset_dict.json" if kind == "dict" else path / "state.json"
    name = rng.choice(["valid", "bad_meta", "wrong_meta", "no_state", "no_arrow", "truncate_arrow", "flip_arrow",
                       "splits_escape"])
    if name == "bad_meta":
        meta.write_text(meta.read_text()[: rng.randrange(1, 20)])
    elif name == "wrong_meta":
        meta.write_text(json.dumps(rng.choice([[], {"splits": 5}, {"_data_files": [{"name": "x"}]}, {}])))
    elif name == "no_state":
        next(path.rglob("state.json")).unlink()
    elif name == "no_arrow":
        arrows[0].unlink()
    elif name in ("truncate_arrow", "flip_arrow"):
        data = arrows[0].read_bytes()
        cut = rng.randrange(len(data))
        arrows[0].write_bytes(data[:cut] if name == "truncate_arrow" else data[:cut] + b"\xff" + data[cut + 1:])
    elif name == "splits_escape" and kind == "dict":
        meta.write_text(json.dumps({"splits": ["../../etc"]}))
    return Case(path, "hf", "", name)


def hf_bases(folder: Path) -> dict[str, Path]:
    import datasets

    datasets.disable_progress_bars()
    rows = [{"text": "a", "label": "pos"}, {"text": "b", "label": "neg"}]
    datasets.Dataset.from_list(rows).save_to_disk(folder / "base_single")
    datasets.DatasetDict({"train": datasets.Dataset.from_list(rows),
                          "test": datasets.Dataset.from_list(rows[:1])}).save_to_disk(folder / "base_dict")
    return {"single": folder / "base_single", "dict": folder / "base_dict"}


def case(rng: random.Random, folder: Path, i: int, hf: dict[str, Path]) -> Case:
    roll = rng.random()
    if roll < 0.06:
        return parquet_case(rng, folder, i)
    if roll < 0.1:
        return hf_case(rng, folder, i, hf)
    return text_case(rng, folder, i, rng.choice(TEXT_FORMATS), rng.choice(COMPRESSIONS))
