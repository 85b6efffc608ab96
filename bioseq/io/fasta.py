"""Streaming FASTA reader and writer.

Data contract
-------------
A FASTA file is a series of records, each a header line ``>name description``
followed by zero or more sequence lines. :class:`FastaReader` yields one
:class:`FastaRecord` per record:

``name``
    The header after ``>`` up to the first whitespace (leading whitespace is
    skipped, as Biopython does). It must not be empty.
``description``
    The rest of the header, stripped; ``""`` when there is none.
``sequence``
    The sequence lines joined, without line breaks (``str``, case kept unless
    ``uppercase=True``). An empty sequence is legal and read as ``""``.

Positions inside a sequence are 0-based; line numbers in error messages are
1-based, as an editor shows them. The reader accepts plain, gzip and bgzip
files or open handles, reads about 1 MB at a time and keeps memory constant:
it holds one chunk of records, or, for a record longer than 2 MB (a
chromosome, a single very long line), that record's sequence being built
from 1 MB pieces; turning it into a ``str`` at the end briefly needs twice
its length. It tolerates ``\n`` and ``\r\n`` line ends (mixed), blank
lines, trailing whitespace and ``;`` comment lines before the first record,
and rejects everything else with an :class:`~bioseq.errors.InputError` that
names the file, line, record, the offending character and a fix (a lone
``\r``, a NUL byte and a byte-order mark included).

Use :func:`bioseq.io.fasta_codes.read_fasta_codes` to read a whole file
straight into ``(N, L)`` uint8 codes much faster.
"""

from __future__ import annotations

import contextlib
import functools
import gzip
import itertools
import operator
import os
import re
from collections.abc import Iterable, Iterator
from typing import BinaryIO, NamedTuple

from bioseq.errors import InputError
from bioseq.io.fastx import (
    UPPER,
    LongRecord,
    RecordReader,
    SequenceCleaner,
    check_output_fields,
    chunks,
    clean_sequence,
    has_lone_cr,
    split_header,
)
from bioseq.io.handles import PathOrHandle, atomic_output

__all__ = ["FastaRecord", "FastaReader", "read_fasta", "write_fasta"]


class FastaRecord(NamedTuple):
    """One FASTA record (an immutable named tuple: cheap to create by the million).

    Parameters
    ----------
    name : str
        Header up to the first whitespace.
    description : str
        The rest of the header (``""`` if none).
    sequence : str
        The sequence, without line breaks.
    """

    name: str
    description: str
    sequence: str


_make_record = functools.partial(tuple.__new__, FastaRecord)  # FastaRecord from a 3-tuple, in C
_partition_line = operator.methodcaller("partition", b"\n")
# Name: the header up to the first whitespace (leading blanks skipped, as Biopython does);
# description: the rest, stripped. One match per header line, or none for an empty name.
_NAME = re.compile(r"^[ \t\r\f\v]*(\S+)", re.MULTILINE)
_DESCRIPTION = re.compile(r"^[ \t\r\f\v]*\S+[ \t\r\f\v]*(.*)$", re.MULTILINE)
_TRAILING_BLANK = re.compile(r"[ \t\r\f\v]$", re.MULTILINE)


class FastaReader(RecordReader):
    """Iterate the records of a FASTA file, one at a time, in constant memory.

    Parameters
    ----------
    source : str, os.PathLike or binary file object
        Plain, gzip or bgzip FASTA. A handle is left open; a path opened here
        is closed by :meth:`close` or at the end of a ``with`` block.
    alphabet : {"dna", "any"}, default "dna"
        ``"dna"`` accepts IUPAC nucleotide letters in either case (``U``
        included); ``"any"`` accepts any printable ASCII (protein, gaps).
    uppercase : bool, default False
        Return upper-case sequences.

    Raises
    ------
    MissingFileError
        The file does not exist.
    InputError
        On construction when the file is empty, binary or not FASTA; while
        iterating on a bad header or character (with file, line and record).

    Examples
    --------
    >>> import io
    >>> with FastaReader(io.BytesIO(b">s1 test\\nACGT\\nac\\n")) as reader:
    ...     [(r.name, r.description, r.sequence) for r in reader]
    [('s1', 'test', 'ACGTac')]
    """

    marker, what = b">", "FASTA"

    def _iterate(self, stream: BinaryIO, head: bytes, line: int) -> Iterator[Iterator[FastaRecord]]:
        """The records of each ~1 MB chunk, as an iterator per chunk; closes the file at the end."""
        self._valid_or_separator = self._valid + b"\x00"
        self._table = UPPER if self._uppercase else None
        for buf in chunks(stream, head):
            if isinstance(buf, LongRecord):
                record, lines = self._long(buf, line)
                yield iter((record,))
                line += lines
                continue
            texts = buf[1:-1].split(b"\n>")
            records = None if has_lone_cr(buf) else self._fast(texts)
            yield self._precise(texts, line) if records is None else records
            line += buf.count(b"\n")
        self._stack.close()

    def _long(self, item: LongRecord, line: int) -> tuple[FastaRecord, int]:
        """One long record built piece by piece; also the number of lines it spans."""
        name, description = split_header(item.header, path=self._path, line=line)
        cleaner = SequenceCleaner(
            valid=self._valid, alphabet=self._alphabet, path=self._path, line=line + 1, record=name, table=self._table
        )
        seq = bytearray()
        for piece in item.pieces:
            seq += cleaner.feed(piece)
        seq += cleaner.finish()
        lines = cleaner.line - line
        return FastaRecord(name, description, seq.decode("ascii")), lines

    def _flatten(self, generator: Iterator[Iterator[FastaRecord]]) -> Iterator[FastaRecord]:
        return itertools.chain.from_iterable(generator)  # the per-record loop runs in C

    def _fast(self, texts: list[bytes]) -> Iterator[FastaRecord] | None:
        """Parse a chunk's records in bulk (C-level loops only); None when one needs :meth:`_precise`."""
        heads, _, bodies = zip(*map(_partition_line, texts))
        joined = b"\x00".join(bodies).translate(self._table, b"\r\n")
        if joined.translate(None, self._valid_or_separator):
            return None
        seqs = joined.decode("ascii").split("\x00")
        header_text = b"\n".join(heads)
        if len(seqs) != len(texts) or b"\x00" in header_text:
            return None  # a NUL in a sequence or a header
        try:
            headers = header_text.decode("utf-8")
        except UnicodeDecodeError:
            return None
        names, descriptions = _NAME.findall(headers), _DESCRIPTION.findall(headers)
        if len(names) != len(texts) or len(descriptions) != len(texts):
            return None  # an empty name
        if _TRAILING_BLANK.search(headers):  # rare: strip descriptions one by one
            descriptions = [d.rstrip() for d in descriptions]
        # A lazy map: each record is made when the caller asks for it and can die young.
        return map(_make_record, zip(names, descriptions, seqs))

    def _precise(self, texts: list[bytes], line: int) -> Iterator[FastaRecord]:
        """Parse record by record, raising the precise error."""
        path, valid, alphabet = self._path, self._valid, self._alphabet
        for text in texts:
            end = text.find(b"\n")
            end = len(text) if end < 0 else end
            name, description = split_header(text[:end], path=path, line=line)
            seq = clean_sequence(text[end + 1 :], valid=valid, alphabet=alphabet, path=path, line=line + 1, record=name)
            yield FastaRecord(name, description, seq.translate(self._table).decode("ascii"))
            line += text.count(b"\n") + 1


def read_fasta(source: PathOrHandle, *, alphabet: str = "dna", uppercase: bool = False) -> FastaReader:
    """Iterate the records of a FASTA file (a :class:`FastaReader`).

    The file is closed when the records are exhausted, or by ``close()``.

    Raises
    ------
    InputError
        As :class:`FastaReader`.
    """
    return FastaReader(source, alphabet=alphabet, uppercase=uppercase)


def write_fasta(records: Iterable[FastaRecord], path: str | os.PathLike, *, width: int | None = 60) -> int:
    """Write records to a FASTA file atomically (gzip when ``path`` ends in ``.gz``).

    Parameters
    ----------
    records : iterable of FastaRecord
    path : str or os.PathLike
        Output file; it appears only once every record was written.
    width : int or None, default 60
        Letters per sequence line; ``None`` writes each sequence on one line.

    Returns
    -------
    int
        The number of records written.

    Raises
    ------
    InputError
        When ``width`` is not a positive integer, or a record is not a
        :class:`FastaRecord`, has an empty name or whitespace in its name, or
        line breaks in its description or sequence. Nothing is written then.
    """
    if width is not None and (not isinstance(width, int) or isinstance(width, bool) or width < 1):
        raise InputError(f"width must be a positive integer or None, got {width!r}")
    count = 0
    compress = os.fspath(path).endswith(".gz")
    with (
        atomic_output(path) as raw,
        gzip.GzipFile(fileobj=raw, mode="wb") if compress else contextlib.nullcontext(raw) as out,
    ):
        for count, record in enumerate(records, start=1):
            out.write(_format_record(record, count, width))
    return count


def _format_record(record: FastaRecord, number: int, width: int | None) -> bytes:
    if not isinstance(record, FastaRecord):
        raise InputError(
            f"record {number} is a {type(record).__name__}, not a FastaRecord",
            fix="Build records with FastaRecord(name, description, sequence)",
        )
    name, description, seq = record.name, record.description, record.sequence
    check_output_fields(number, name, description, seq)
    header = f">{name} {description}\n" if description else f">{name}\n"
    if width is None or len(seq) <= width:
        body = seq + "\n" if seq else ""
    else:
        body = "".join(seq[i : i + width] + "\n" for i in range(0, len(seq), width))
    return (header + body).encode("utf-8")
