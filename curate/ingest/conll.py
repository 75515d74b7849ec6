"""CoNLL-2003 style files (``.conll``): one token per line, its tag in the last column, a blank line
between sentences, ``-DOCSTART-`` lines between documents.

Each sentence becomes one record ``{"tokens", "ner_tags", "lines", "document"}``: the tags as
written (BIO strings), every original line of the sentence (so POS/chunk columns are kept) and the
number of the document it belongs to (``-DOCSTART-`` lines only count documents). Its row number is
the line the sentence starts on, so errors name that line.
"""

from __future__ import annotations

import io
import json
from typing import IO, Iterator, cast

import pyarrow as pa

from curate.errors import InputError

BATCH = 5000


def _record(lines: list[str], document: int) -> str:
    cols = [line.split() for line in lines]
    return json.dumps({"tokens": [c[0] for c in cols], "ner_tags": [c[-1] for c in cols], "lines": lines,
                       "document": document}, ensure_ascii=False)


def sentences(fh: IO[bytes], where: str) -> Iterator[tuple[int, str]]:
    """``(first line number, raw JSON record)`` per sentence of a binary CoNLL stream."""
    current: list[str] = []
    start, document = 0, 0
    lines = fh if hasattr(fh, "peek") else io.BufferedReader(cast(io.RawIOBase, fh))
    for line_no, raw in enumerate(lines, 1):
        try:
            line = raw.decode("utf-8").rstrip("\r\n")
        except UnicodeDecodeError:
            raise InputError(where, "is not UTF-8 text", line=line_no, fix="convert it: iconv -t UTF-8") from None
        if line.startswith("-DOCSTART-"):
            document += 1
            continue
        if not line.strip():
            if current:
                yield start, _record(current, document)
            current = []
            continue
        if len(line.split()) < 2:
            raise InputError(where, f"line has one column ({line.strip()[:40]!r}); a token needs its tag",
                             line=line_no, fix="write `TOKEN ... TAG` on each line, a blank line between sentences")
        if not current:
            start = line_no
        current.append(line)
    if current:
        yield start, _record(current, document)


def batches(fh: IO[bytes], where: str) -> Iterator[pa.Table]:
    rows, raws = [], []
    for row_num, raw in sentences(fh, where):
        rows.append(row_num)
        raws.append(raw)
        if len(rows) >= BATCH:
            yield pa.table({"row_num": pa.array(rows, pa.int64()), "raw": pa.array(raws, pa.string())})
            rows, raws = [], []
    if rows:
        yield pa.table({"row_num": pa.array(rows, pa.int64()), "raw": pa.array(raws, pa.string())})
