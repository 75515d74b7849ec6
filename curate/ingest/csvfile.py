"""CSV/TSV: the header (any length, delimiter sniffed) and the checks made before DuckDB reads the rows."""

from __future__ import annotations

import csv
import io
from typing import IO, TYPE_CHECKING

from curate.errors import InputError
from curate.ingest.streams import check_encoding_start, open_binary, reading

if TYPE_CHECKING:
    from curate.ingest.readers import Source


def prescan(source: Source, width: int, delim: str) -> None:
    """Read the file once before DuckDB does: a cut-off .gz/.zst must be refused (DuckDB takes it for a
    shorter file), and DuckDB silently drops an extra empty last cell ("a,b," under a 2-column header),
    shifting nothing but hiding a ragged row; so a file with a line ending in the delimiter has its
    cell counts checked here with Python's csv module."""
    sep = delim.encode()
    suspicious, last = False, b""
    with reading(source), open_binary(source) as fh:
        while chunk := fh.read(1 << 22):
            if not source.compression and suspicious:
                break
            pair = last + chunk
            suspicious = suspicious or sep + b"\n" in pair or sep + b"\r" in pair
            last = chunk[-1:]
    if suspicious or last == sep:
        _csv_cell_counts(source, width, delim)


def _csv_cell_counts(source: Source, width: int, delim: str) -> None:
    with reading(source), open_binary(source) as fh:
        text = io.TextIOWrapper(fh, encoding="utf-8-sig", newline="", errors="surrogateescape")
        rows = csv.reader(text, delimiter=delim, quotechar='"', doublequote=True, strict=True)
        try:
            next(rows, None)
            for row in rows:
                if row and len(row) != width:
                    raise InputError(source.path, f"row has {len(row)} cells but the header has {width}",
                                     line=rows.line_num,
                                     fix="quote cells that contain the delimiter, or fix the row's cell count")
        except csv.Error as exc:
            raise InputError(source.path, f"not valid CSV ({exc})", line=rows.line_num,
                             fix="close the quoted cell, or quote cells that contain quotes") from None


def csv_header(source: Source) -> tuple[list[str], str]:
    """The header row and delimiter of a CSV/TSV file (sniffed among , ; | tab for .csv).

    The header is read as CSV from the stream, so it may be any length and hold quoted line breaks.
    """
    with reading(source), open_binary(source) as fh:
        head = fh.read(1 << 16)
        check_encoding_start(source, head[:4])
        if head.startswith(b"\xef\xbb\xbf\xef\xbb\xbf"):
            raise InputError(source.path, "file starts with two UTF-8 byte-order marks", line=1,
                             fix="remove the extra one: re-save the file as UTF-8")
        text = head.decode("utf-8-sig", errors="replace")
        if not text.strip():
            raise InputError(source.path, "file is empty", fix="export the data again; a CSV needs a header row")
        delim = "\t"
        if source.format == "csv":
            try:
                sample = "\n".join(text.splitlines()[:20])[:4096]  # the sniffer's regexes are slow on long lines
                delim = csv.Sniffer().sniff(sample, delimiters=",;|\t").delimiter
            except csv.Error:
                delim = ","
        stream = io.TextIOWrapper(io.BufferedReader(_Prefixed(head, fh)), encoding="utf-8-sig", newline="",
                                  errors="surrogateescape")  # bad bytes after the header are DuckDB's to name
        try:
            header = next(csv.reader(stream, delimiter=delim))
        except csv.Error as exc:
            raise InputError(source.path, f"header row is not CSV ({exc})", line=1, fix="fix the header row") from None
    try:
        "".join(header).encode("utf-8")
    except UnicodeEncodeError:
        raise InputError(source.path, "header row is not valid UTF-8", line=1,
                         fix="re-save the file as UTF-8, e.g. iconv -f latin1 -t UTF-8") from None
    if len(set(header)) != len(header) or any(not h for h in header):
        shown = header if len(header) <= 20 else header[:20] + ["…"]
        raise InputError(source.path, f"header has empty or repeated column names: {shown}", line=1,
                         fix="give every column a unique name")
    return header, delim


class _Prefixed(io.RawIOBase):
    """``head`` (already read) followed by the rest of ``fh``."""

    def __init__(self, head: bytes, fh: IO[bytes]) -> None:
        self._head, self._fh = head, fh

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:  # type: ignore[override]
        data = self._head[:len(buffer)] if self._head else self._fh.read(len(buffer))
        self._head = self._head[len(data):]
        buffer[:len(data)] = data
        return len(data)
