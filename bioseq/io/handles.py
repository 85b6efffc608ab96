"""Opening inputs and writing outputs safely.

Readers in :mod:`bioseq.io` accept either a path or an open binary handle.
:func:`open_input` turns both into a binary stream, decompressing gzip and
BGZF (bgzip) transparently, and turns the usual low-level failures into one
:class:`~bioseq.errors.InputError` that names the file: a missing file, a
directory, a truncated or corrupt gzip stream, a binary file where text was
expected. :func:`atomic_output`, :func:`atomic_path` and
:func:`atomic_directory` (from :mod:`bioseq.io.atomic`, re-exported here)
write an output under a temporary name and rename it only when writing
succeeded, so a failed or killed command never leaves a half-written output
behind.
"""

from __future__ import annotations

import contextlib
import gzip
import io
import os
import zlib
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO, BinaryIO

from bioseq.errors import InputError, MissingFileError
from bioseq.io.atomic import atomic_directory, atomic_output, atomic_path, can_write

__all__ = [
    "PathOrHandle",
    "open_input",
    "input_name",
    "compression_of",
    "is_bgzf",
    "check_text",
    "atomic_output",
    "atomic_path",
    "atomic_directory",
    "text_lines",
    "read_errors",
    "can_write",
]

PathOrHandle = str | os.PathLike | IO[bytes] | IO[str]

_GZIP_MAGIC = b"\x1f\x8b"
_BZ2_MAGIC = b"BZh"
_XZ_MAGIC = b"\xfd7zXZ\x00"
_ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"


def input_name(source: PathOrHandle) -> str:
    """A printable name for a path or handle (``"<stream>"`` if it has none)."""
    if isinstance(source, (str, os.PathLike)):
        return os.fspath(source)
    name = getattr(source, "name", None)
    return name if isinstance(name, str) and name else "<stream>"


def compression_of(head: bytes) -> str | None:
    """Name the compression of a stream from its first bytes.

    Returns ``"bgzf"``, ``"gzip"``, ``"bz2"``, ``"xz"``, ``"zstd"`` or ``None``.
    """
    if head.startswith(_GZIP_MAGIC):
        return "bgzf" if is_bgzf(head) else "gzip"
    if head.startswith(_BZ2_MAGIC):
        return "bz2"
    if head.startswith(_XZ_MAGIC):
        return "xz"
    if head.startswith(_ZSTD_MAGIC):
        return "zstd"
    return None


def is_bgzf(head: bytes) -> bool:
    """True when the bytes start a BGZF block (gzip with the ``BC`` extra field)."""
    return len(head) >= 18 and head[:4] == b"\x1f\x8b\x08\x04" and head[12:14] == b"BC"


def _peek(handle: BinaryIO, size: int) -> bytes:
    if hasattr(handle, "peek"):
        return handle.peek(size)[:size]
    raise TypeError("handle cannot peek")  # pragma: no cover - we always wrap


class _GuardedGzip(io.BufferedReader):
    """A gzip reader whose truncation and corruption errors name the file."""

    def __init__(self, raw: gzip.GzipFile, name: str) -> None:
        super().__init__(raw, buffer_size=1 << 20)
        self._bioseq_name = name

    def _guard(self, call, *args):
        try:
            return call(*args)
        except EOFError as exc:
            raise InputError(
                "the gzip stream ends early (the file is truncated)",
                path=self._bioseq_name,
                fix="Download or copy the file again, or check it with 'gzip -t'",
            ) from exc
        except (gzip.BadGzipFile, zlib.error) as exc:
            raise InputError(
                f"the gzip stream is corrupt ({exc})",
                path=self._bioseq_name,
                fix="Check it with 'gzip -t' and recreate it",
            ) from exc

    def read(self, size=-1):
        return self._guard(super().read, size)

    def read1(self, size=-1):
        return self._guard(super().read1, size)

    def readline(self, size=-1):
        return self._guard(super().readline, size)

    def readinto(self, buffer):
        return self._guard(super().readinto, buffer)

    def peek(self, size=0):
        return self._guard(super().peek, size)

    def __iter__(self):
        return self

    def __next__(self):
        line = self.readline()
        if not line:
            raise StopIteration
        return line


@contextlib.contextmanager
def open_input(source: PathOrHandle, *, decompress: bool = True) -> Iterator[BinaryIO]:
    """Open a path or wrap a handle as a buffered binary stream.

    Parameters
    ----------
    source : str, os.PathLike or file object
        A path, or a handle opened in binary (preferred) or text mode. A
        handle is not closed on exit; a path opened here is.
    decompress : bool, default True
        Decompress gzip and BGZF streams (detected from their magic bytes, not
        the file name).

    Yields
    ------
    BinaryIO
        A stream with ``read``, ``readline``, ``peek`` and line iteration.

    Raises
    ------
    MissingFileError
        The path does not exist.
    InputError
        The path is a directory or unreadable, or the stream is compressed in
        a format bioseq does not read (bz2, xz, zstd), or the gzip stream is
        truncated or corrupt (raised while reading).
    """
    name = input_name(source)
    with contextlib.ExitStack() as stack:
        if isinstance(source, (str, os.PathLike)):
            path = Path(source)
            if not path.exists():
                raise MissingFileError(
                    "the file does not exist",
                    path=name,
                    fix="Check the path and the working directory",
                )
            if path.is_dir():
                raise InputError("this is a directory, not a file", path=name)
            try:
                raw = stack.enter_context(open(path, "rb"))
            except OSError as exc:
                raise InputError(f"cannot open the file ({exc.strerror})", path=name) from exc
        elif isinstance(source, io.TextIOBase) or hasattr(source, "encoding"):
            buffer = getattr(source, "buffer", None)
            if buffer is None:  # e.g. io.StringIO
                raw = io.BytesIO(source.read().encode("utf-8"))
            else:
                raw = buffer
        elif hasattr(source, "read"):
            raw = source
        else:
            raise TypeError(f"expected a path or a file object, got {type(source).__name__}")
        stream = raw if hasattr(raw, "peek") else io.BufferedReader(_ReadOnly(raw), 1 << 20)
        head = _peek(stream, 32)
        kind = compression_of(head)
        if kind in ("gzip", "bgzf") and decompress:
            gz = gzip.GzipFile(fileobj=stream, mode="rb")
            stream = _GuardedGzip(gz, name)
        elif kind in ("bz2", "xz", "zstd"):
            raise InputError(
                f"the file is {kind}-compressed, which bioseq does not read",
                path=name,
                fix="Decompress it, or recompress it with 'bgzip' (gzip also works)",
            )
        yield stream


class _ReadOnly(io.RawIOBase):
    """Adapter giving any object with ``read`` the raw-IO interface."""

    def __init__(self, handle) -> None:
        self._handle = handle

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        data = self._handle.read(len(buffer))
        n = len(data)
        buffer[:n] = data
        return n


def check_text(head: bytes, *, path: str, what: str) -> None:
    """Reject a stream whose first bytes show it is binary, not text.

    Parameters
    ----------
    head : bytes
        The first few kilobytes of the (decompressed) stream.
    path : str
        File name for the message.
    what : str
        The format that was expected, e.g. ``"FASTA"``.

    Raises
    ------
    InputError
        When the bytes hold a NUL or look like BAM/CRAM/BCF.
    """
    if head.startswith(b"BAM\x01"):
        raise InputError(
            f"this is a BAM file, not {what}",
            path=path,
            fix="Read it with bioseq.io.aligned_reads.read_alignments, or pass the right file",
        )
    if head.startswith(b"CRAM"):
        raise InputError(f"this is a CRAM file, not {what}", path=path)
    if b"\x00" in head:
        raise InputError(
            f"this is a binary file, not {what} text",
            path=path,
            fix="Pass the uncompressed or gzip-compressed text file",
        )


def text_lines(stream: Iterable[bytes], path: str, *, what: str = "text") -> Iterator[tuple[int, str]]:
    """Number and decode the lines of a binary stream.

    Parameters
    ----------
    stream : iterable of bytes
        Lines as a binary file yields them.
    path : str
        File name for the error message.
    what : str, default "text"
        The format expected, for the message (e.g. ``"BED"``).

    Yields
    ------
    (int, str)
        The 1-based line number and the UTF-8 line without trailing
        whitespace (so CRLF endings and trailing tabs are gone).

    Raises
    ------
    InputError
        On a line that is not UTF-8.
    """
    for number, raw in enumerate(stream, 1):
        try:
            yield number, raw.decode("utf-8").rstrip()
        except UnicodeDecodeError:
            raise InputError(
                "the line is not UTF-8 text",
                path=path,
                line=number,
                fix=f"Pass a {what} text file (plain, gzip or bgzip)",
            ) from None


@contextlib.contextmanager
def read_errors(path: str) -> Iterator[None]:
    """Turn a decoding error raised inside the block into an :class:`InputError`."""
    try:
        yield
    except UnicodeDecodeError as exc:
        raise InputError(
            f"the file is not UTF-8 text (byte {exc.object[exc.start : exc.start + 1]!r} cannot be decoded)",
            path=path,
            fix="Save it as UTF-8 text",
        ) from exc
