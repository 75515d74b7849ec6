"""Opening a source's bytes: gzip and zstd streams, and one-line errors for cut or corrupt ones.

Also the checks every text reader makes on a file's first bytes (UTF-16, a byte that is not UTF-8).
"""

from __future__ import annotations

import gzip
import io
import zlib
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Iterator, TYPE_CHECKING, cast

import zstandard

from curate.errors import InputError

if TYPE_CHECKING:
    from curate.ingest.readers import Source

_STREAM_ERRORS: tuple[type[BaseException], ...] = (EOFError, OSError, zlib.error, zstandard.ZstdError)


@contextmanager
def reading(source: Source) -> Iterator[None]:
    """Turn a corrupt or truncated file (bad gzip/zstd, a file vanishing) into one line."""
    try:
        yield
    except InputError:
        raise
    except _STREAM_ERRORS as exc:
        kind = {"gzip": "gzip", "zstd": "zstd"}.get(source.compression or "", "")
        what = f"not a complete {kind} file" if kind else "cannot be read"
        raise InputError(source.path, f"{what} ({str(exc).splitlines()[0][:160] or type(exc).__name__})",
                         fix=f"copy or compress it again{' (check it with: ' + kind + ' -t)' if kind else ''}") from None


def open_binary(source: Source) -> IO[bytes]:
    if source.compression == "gzip":
        return cast(IO[bytes], gzip.open(source.path, "rb"))
    if source.compression == "zstd":
        return io.BufferedReader(_ZstdFrames(source.path), buffer_size=1 << 20)
    return open(source.path, "rb")


class _ZstdFrames(io.RawIOBase):
    """Every frame of a .zst file, decompressed; a file cut inside a frame raises ``EOFError``
    (zstandard's stream reader returns the partial data silently)."""

    def __init__(self, path: Path) -> None:
        self._fh = open(path, "rb")
        self._frame = zstandard.ZstdDecompressor().decompressobj()
        self._out = b""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:  # type: ignore[override]
        while not self._out:
            data = self._fh.read(1 << 20)
            if not data:
                if not self._frame.eof and self._started:
                    raise EOFError("compressed file ended before the end of its last frame")
                return 0
            self._started = True
            while data:
                self._out += self._frame.decompress(data)
                data = self._frame.unused_data if self._frame.eof else b""
                if data:
                    self._frame = zstandard.ZstdDecompressor().decompressobj()
        n = min(len(buffer), len(self._out))
        buffer[:n], self._out = self._out[:n], self._out[n:]
        return n

    _started = False

    def close(self) -> None:
        self._fh.close()
        super().close()


def check_encoding_start(source: Source, head: bytes) -> None:
    if head.startswith((b"\xff\xfe", b"\xfe\xff")) or (len(head) > 3 and b"\x00" in head[:2]):
        raise InputError(source.path, "file is UTF-16, not UTF-8", line=1,
                         fix=f"convert it: iconv -f UTF-16 -t UTF-8 {source.path.name} > utf8.{source.path.name}")


def bad_utf8_line(source: Source, block: bytes, first_line: int) -> None:
    for offset, line in enumerate(block.split(b"\n")):
        try:
            line.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise InputError(source.path, f"not valid UTF-8 (byte {line[exc.start:exc.start + 1]!r} at column "
                             f"{exc.start + 1})", line=first_line + offset,
                             fix="re-save the file as UTF-8, e.g. iconv -f latin1 -t UTF-8") from None
