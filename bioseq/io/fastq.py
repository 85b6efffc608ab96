"""Streaming FASTQ reader and writer.

Data contract
-------------
Each record is ``@name description``, one or more sequence lines, a ``+``
line (empty, or repeating the title or name) and quality lines whose total
length equals the sequence length (multi-line FASTQ is read as Biopython and
htslib read it). :class:`FastqReader` yields :class:`FastqRecord` objects:
``name``, ``description`` and ``sequence`` as in :mod:`bioseq.io.fasta`, and
``quality``, the quality characters (``'!'`` .. ``'~'``).
:attr:`FastqRecord.phred` gives them as Phred scores, a ``(L,)`` uint8 array
with offset 33 (Sanger / Illumina 1.8+). Older Solexa/Illumina 1.3 files
(offset 64) read fine; subtract 31 from their ``phred`` yourself.

Position ``i`` of ``quality`` (0-based) belongs to base ``i`` of
``sequence``; line numbers in error messages are 1-based. Input may be plain,
gzip or bgzip, a path or a handle; memory stays constant (one record at a
time). Truncated records, quality strings of the wrong length, characters
outside ``'!'`` .. ``'~'``, mismatched ``+`` titles, non-nucleotide bases and
a ``\r`` that is not part of a ``\r\n`` line end raise
:class:`~bioseq.errors.InputError` with the file, line, record and a fix.
"""

from __future__ import annotations

import contextlib
import gzip
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import BinaryIO

import numpy as np

from bioseq.errors import InputError
from bioseq.io.fastx import RecordReader, check_output_fields, clean_sequence, outside, split_header
from bioseq.io.handles import PathOrHandle, atomic_output
from bioseq.io.sniff import lone_carriage_return

__all__ = ["FastqRecord", "FastqReader", "read_fastq", "write_fastq"]

PHRED_OFFSET = 33
"""ASCII code of quality 0 (``'!'``)."""

_QUALITY_BYTES = bytes(range(33, 127))
_QUALITY_FIX = "Quality characters must lie in '!'..'~' (Phred+33); re-export the reads"


@dataclass(frozen=True, slots=True)
class FastqRecord:
    """One FASTQ record.

    Parameters
    ----------
    name : str
        Title up to the first whitespace.
    description : str
        The rest of the title (``""`` if none).
    sequence : str
        The bases.
    quality : str
        One quality character per base.
    """

    name: str
    description: str
    sequence: str
    quality: str

    @property
    def phred(self) -> np.ndarray:
        """Phred scores, shape ``(L,)``, dtype uint8: ``ord(quality[i]) - 33``.

        Raises
        ------
        InputError
            When a quality character lies outside ``'!'`` .. ``'~'``.
        """
        raw = _checked_quality(self.quality, self.name)
        return np.frombuffer(raw, dtype=np.uint8) - np.uint8(PHRED_OFFSET)


def _checked_quality(quality: str, name: str) -> bytes:
    raw = quality.encode("latin-1", "replace")
    bad = raw.translate(None, _QUALITY_BYTES)
    if bad:
        raise InputError(
            f"quality character {bad[:1].decode('latin-1')!r} at position "
            f"{raw.index(bad[:1])} (0-based) is outside '!'..'~'",
            record=name,
            fix=_QUALITY_FIX,
        )
    return raw


class FastqReader(RecordReader):
    """Iterate the records of a FASTQ file, one at a time, in constant memory.

    Parameters
    ----------
    source : str, os.PathLike or binary file object
        Plain, gzip or bgzip FASTQ. A handle is left open; a path opened here
        is closed by :meth:`close` or at the end of a ``with`` block.
    alphabet : {"dna", "any"}, default "dna"
        Letters accepted in sequences (see :class:`bioseq.io.fasta.FastaReader`).
    uppercase : bool, default False
        Return upper-case sequences.

    Raises
    ------
    MissingFileError
        The file does not exist.
    InputError
        On construction when the file is empty, binary or not FASTQ; while
        iterating on a malformed or truncated record (file, line, record, fix).

    Examples
    --------
    >>> import io
    >>> reads = FastqReader(io.BytesIO(b"@r1 x\\nACG\\n+\\nI#!\\n"))
    >>> record = next(reads)
    >>> record.name, record.sequence, record.phred.tolist()
    ('r1', 'ACG', [40, 2, 0])
    """

    marker, what = b"@", "FASTQ"

    def _iterate(self, stream: BinaryIO, head: bytes, line: int) -> Iterator[FastqRecord]:
        self._line = line
        yield from self._parse(stream, head)
        self._stack.close()

    def _next_line(self, lines: Iterator[bytes]) -> bytes | None:
        raw = next(lines, None)
        if raw is not None:
            self._line += 1
        return raw

    def _parse(self, stream: BinaryIO, pending: bytes | None) -> Iterator[FastqRecord]:
        lines = iter(stream)
        name = None
        while True:
            while pending is not None and not pending.strip():  # blank lines between records
                pending = self._next_line(lines)
            if pending is None:
                return
            if pending[:1] != b"@":
                raise self._not_a_header(pending, name)
            title_line, title = self._line, pending[1:]
            name, description = split_header(title, path=self._path, line=title_line)
            seq, plus = self._sequence(lines, name, title_line)
            plus_line = self._line
            text = (seq.upper() if self._uppercase else seq).decode("ascii")
            del seq  # a long read is held once, as text, while its quality is read
            quality, pending = self._quality(lines, name, len(text))
            self._check_plus(plus, title, name, plus_line)
            record = FastqRecord(name, description, text, quality.decode("ascii"))
            del text, quality
            yield record
            del record  # the caller's: not kept alive by this generator
            if pending is None:
                pending = self._next_line(lines)

    def _sequence(self, lines: Iterator[bytes], name: str, title_line: int) -> tuple[bytes, bytes]:
        parts = []
        while (raw := self._next_line(lines)) is not None:
            if raw[:1] == b"+":
                body = b"".join(parts)
                seq = clean_sequence(
                    body, valid=self._valid, alphabet=self._alphabet, path=self._path, line=title_line + 1, record=name
                )
                return seq, raw
            if raw[:1] == b"@":
                raise InputError(
                    "a new record starts before the '+' line of this one",
                    path=self._path,
                    line=self._line,
                    record=name,
                    fix="Every record needs '@title', sequence, '+' and quality lines; "
                    "restore the missing lines or drop the record",
                )
            parts.append(raw)
        raise self._truncated(name, "before the '+' line")

    def _quality(self, lines: Iterator[bytes], name: str, size: int) -> tuple[bytes, bytes | None]:
        parts: list[bytes] = []
        got = 0
        while not parts or got < size:
            raw = self._next_line(lines)
            if raw is None:
                raise self._truncated(name, f"inside the quality ({got} of {size} characters)")
            if size == 0 and raw[:1] == b"@":  # empty quality line left out
                return b"", raw
            part = raw.rstrip(b"\r\n")
            if b"\r" in part:
                raise lone_carriage_return(path=self._path, line=self._line, record=name, column=part.index(b"\r") + 1)
            if got + len(part) > size:
                raise self._length_error(name, got, len(part), size, started=bool(parts), raw=raw)
            bad = outside(part, _QUALITY_BYTES)
            if bad:
                raise InputError(
                    f"quality character {bad[:1].decode('latin-1')!r} in column "
                    f"{part.index(bad[:1]) + 1} is outside '!'..'~'",
                    path=self._path,
                    line=self._line,
                    record=name,
                    fix=_QUALITY_FIX,
                )
            parts.append(part)
            got += len(part)
        return b"".join(parts), None

    def _length_error(self, name: str, got: int, extra: int, size: int, *, started: bool, raw: bytes) -> InputError:
        if started and raw[:1] == b"@":  # the next record's title: this quality is short
            problem = f"the quality has {got} characters but the sequence has {size}"
        else:
            problem = f"the quality has at least {got + extra} characters but the sequence has {size}"
        return InputError(
            problem,
            path=self._path,
            line=self._line,
            record=name,
            fix="Sequence and quality must have the same length; the record is corrupt, re-export the reads",
        )

    def _check_plus(self, plus: bytes, title: bytes, name: str, line: int) -> None:
        repeat = plus[1:].strip()
        if repeat and repeat != title.strip() and repeat != name.encode("utf-8"):
            raise InputError(
                f"the '+' line repeats {repeat[:60].decode('latin-1')!r}, not the title of the '@' line",
                path=self._path,
                line=line,
                record=name,
                fix="Records are out of step or mixed up; the '+' line must be empty or repeat the title",
            )

    def _not_a_header(self, raw: bytes, previous: str | None) -> InputError:
        if raw[:1] == b"+":
            problem = "found a '+' line where a new record ('@') should start"
            fix = "The record above has a duplicated '+' line or more quality than sequence"
        else:
            found = raw[:40].decode("latin-1").rstrip()
            problem = f"expected a record title starting with '@', found {found!r}"
            fix = "The record above has more quality lines than bases, or the file is not FASTQ"
        return InputError(problem, path=self._path, line=self._line, record=previous, fix=fix)

    def _truncated(self, name: str, where: str) -> InputError:
        return InputError(
            f"the file ends {where}",
            path=self._path,
            line=self._line,
            record=name,
            fix="The file is truncated; copy or download it again",
        )


def read_fastq(source: PathOrHandle, *, alphabet: str = "dna", uppercase: bool = False) -> Iterator[FastqRecord]:
    """Yield the records of a FASTQ file (see :class:`FastqReader`).

    Raises
    ------
    InputError
        As :class:`FastqReader`.
    """
    with FastqReader(source, alphabet=alphabet, uppercase=uppercase) as reader:
        yield from reader


def write_fastq(records: Iterable[FastqRecord], path: str | os.PathLike) -> int:
    """Write records to a FASTQ file atomically (gzip when ``path`` ends in ``.gz``).

    Each record takes four lines: ``@name description``, sequence, ``+``, quality.

    Returns
    -------
    int
        The number of records written.

    Raises
    ------
    InputError
        When a record is not a :class:`FastqRecord`, has an empty name or
        whitespace in it, line breaks in a field, a quality of another length
        than its sequence, or quality characters outside ``'!'`` .. ``'~'``.
        Nothing is written then.
    """
    count = 0
    compress = os.fspath(path).endswith(".gz")
    with (
        atomic_output(path) as raw,
        gzip.GzipFile(fileobj=raw, mode="wb") if compress else contextlib.nullcontext(raw) as out,
    ):
        for count, record in enumerate(records, start=1):
            out.write(_format_record(record, count))
    return count


def _format_record(record: FastqRecord, number: int) -> bytes:
    if not isinstance(record, FastqRecord):
        raise InputError(
            f"record {number} is a {type(record).__name__}, not a FastqRecord",
            fix="Build records with FastqRecord(name, description, sequence, quality)",
        )
    check_output_fields(number, record.name, record.description, record.sequence, record.quality)
    if len(record.quality) != len(record.sequence):
        raise InputError(
            f"record {number} has {len(record.quality)} quality characters for {len(record.sequence)} bases",
            record=record.name,
            fix="Give one quality character per base",
        )
    _checked_quality(record.quality, record.name)
    title = f"{record.name} {record.description}" if record.description else record.name
    return f"@{title}\n{record.sequence}\n+\n{record.quality}\n".encode()
