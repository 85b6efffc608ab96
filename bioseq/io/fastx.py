"""Text machinery shared by the FASTA and FASTQ readers.

Both formats are read from a binary stream (:func:`bioseq.io.handles.open_input`),
checked letter by letter against an alphabet, and rejected with the file,
1-based line, record and a fix. :class:`RecordReader` gives both readers the
same iterator and context-manager behaviour. Positions inside sequences are
0-based.

Line ends are ``\n`` or ``\r\n`` (mixed freely); a ``\r`` that is not part of
``\r\n`` (classic Mac line ends) is refused, since reading on would glue
lines and records together.

Memory: :func:`chunks` cuts a FASTA stream into pieces of whole records
about :data:`CHUNK_SIZE` long. A record longer than :data:`LONG_RECORD`
chunks (a chromosome, or any single very long line) comes out as a
:class:`LongRecord` instead, whose sequence is read in pieces of about
:data:`CHUNK_SIZE` bytes, and :class:`SequenceCleaner` checks and joins those
pieces with the same messages :func:`clean_sequence` gives, so no step
holds more than one piece besides the sequence being built.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import BinaryIO, NamedTuple

import numpy as np

from bioseq.alphabet import ASCII_TO_CODE, INVALID, invalid_letter_fix
from bioseq.errors import InputError, option
from bioseq.io.handles import PathOrHandle, check_text, input_name, open_input
from bioseq.io.sniff import lone_carriage_return, reject_bom

__all__ = [
    "CHUNK_SIZE",
    "LONG_RECORD",
    "ALPHABETS",
    "UPPER",
    "RecordReader",
    "LongRecord",
    "SequenceCleaner",
    "check_alphabet",
    "first_line",
    "split_header",
    "clean_sequence",
    "has_lone_cr",
    "outside",
    "chunks",
    "long_record",
    "check_output_fields",
]

CHUNK_SIZE = 1 << 20
"""Bytes read per call; records are cut out of these chunks."""

LONG_RECORD = 2
"""A record longer than this many chunks is streamed as a :class:`LongRecord`."""

ALPHABETS: dict[str, bytes] = {
    "dna": bytes(i for i in range(256) if ASCII_TO_CODE[i] != INVALID),
    "any": bytes(range(33, 127)),
}
"""The bytes each ``alphabet=`` accepts in a sequence (``any``: printable ASCII)."""

_WHITESPACE = b" \t\r\n\x0b\x0c"
_SLICE = 1 << 20
_CR, _LF = 13, 10
UPPER = bytes(range(256)).upper()


class RecordReader:
    """Base of the streaming readers: open, check the first line, iterate, close.

    Subclasses set ``marker`` (``b">"``, ``b"@"``) and ``what`` (the format
    name) and implement :meth:`_iterate`. A handle passed in is left open; a
    path opened here is closed by :meth:`close`, at the end of a ``with``
    block, or when the records run out.
    """

    marker: bytes
    what: str

    def __init__(self, source: PathOrHandle, *, alphabet: str = "dna", uppercase: bool = False) -> None:
        self._valid = check_alphabet(alphabet)
        if not isinstance(uppercase, bool):
            raise InputError(f"uppercase must be True or False, got {uppercase!r}")
        self._alphabet = alphabet
        self._uppercase = uppercase
        self._path = input_name(source)
        self._stack = contextlib.ExitStack()
        try:
            stream = self._stack.enter_context(open_input(source))
            head, number = first_line(stream, self._path, marker=self.marker, what=self.what)
        except BaseException:
            self._stack.close()
            raise
        self._generator = self._iterate(stream, head, number)
        self._records = self._flatten(self._generator)

    def _iterate(self, stream: BinaryIO, head: bytes, line: int) -> Iterator:
        raise NotImplementedError

    def _flatten(self, generator: Iterator) -> Iterator:
        """How records come out of :meth:`_iterate` (as they are, by default)."""
        return generator

    def __iter__(self) -> Iterator:
        return self._records

    def __next__(self):
        return next(self._records)

    def close(self) -> None:
        """Close the file if this reader opened it."""
        self._generator.close()
        self._stack.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()


def check_alphabet(alphabet: str) -> bytes:
    """Return the accepted bytes of ``alphabet`` or raise :class:`InputError`."""
    try:
        return ALPHABETS[alphabet]
    except (KeyError, TypeError):
        raise InputError(
            f"alphabet must be one of {sorted(ALPHABETS)}, got {alphabet!r}",
            fix=option("alphabet", repr("dna"), clause="Use {} for nucleotides or 'any' for protein and other text"),
        ) from None


def first_line(stream: BinaryIO, path: str, *, marker: bytes, what: str) -> tuple[bytes, int]:
    """Skip blank lines and leading ``;`` comments and check the first record line.

    Returns
    -------
    line : bytes
        The first header line (with its line break).
    number : int
        Its 1-based line number.

    Raises
    ------
    InputError
        When the file is empty, binary, starts with a byte-order mark, or does
        not start with ``marker``.
    """
    head = stream.peek(4096)[:4096]
    number = 0
    for line in stream:
        number += 1
        stripped = line.strip()
        if not stripped or (marker == b">" and stripped.startswith(b";")):
            continue
        if line.startswith(marker):
            return line, number
        check_text(head, path=path, what=what)
        if number == 1:
            reject_bom(line, path=path, what=what)
        raise InputError(
            f"line {number} does not start a {what} record ({marker.decode()!r} expected), "
            f"it reads {line[:40].decode('latin-1').rstrip()!r}",
            path=path,
            fix=_format_hint(stripped, what),
        )
    raise InputError(
        f"the file is empty (no {what} records)",
        path=path,
        fix="Check that the file was written completely",
    )


def _format_hint(line: bytes, what: str) -> str:
    if line.startswith(b"@") and what == "FASTA":
        return "This looks like FASTQ; read it with bioseq.io.fastq.read_fastq"
    if line.startswith(b">") and what == "FASTQ":
        return "This looks like FASTA; read it with bioseq.io.fasta.read_fasta"
    if line.startswith(b"LOCUS") or line.startswith(b"ID "):
        return "This looks like GenBank/EMBL; convert it to FASTA first"
    return (
        f"If this is plain sequence text, add a header line such as '>seq1' above it; "
        f"otherwise check that the file really is {what}"
    )


def split_header(header: bytes, *, path: str, line: int) -> tuple[str, str]:
    """Split a header line (without the marker) into name and description.

    Raises
    ------
    InputError
        When the name is empty, or the header holds a NUL byte, a lone ``\r``
        or is not UTF-8.
    """
    if b"\x00" in header:
        raise InputError(
            "the header holds a NUL byte (the file is binary or corrupt)",
            path=path,
            line=line,
            fix="Recreate the file",
        )
    if b"\r" in header and b"\r" in header.rstrip(_WHITESPACE):
        raise lone_carriage_return(path=path, line=line, column=header.rstrip(_WHITESPACE).index(b"\r") + 2)
    parts = header.split(None, 1)
    if not parts:
        raise InputError(
            "the header line has no name",
            path=path,
            line=line,
            fix="Write a name right after the marker, e.g. '>seq1'",
        )
    try:
        name = parts[0].decode("utf-8")
        description = parts[1].rstrip(_WHITESPACE).decode("utf-8") if len(parts) > 1 else ""
    except UnicodeDecodeError:
        raise InputError(
            "the header is not UTF-8 text",
            path=path,
            line=line,
            fix="Convert the file to UTF-8 or ASCII",
        ) from None
    return name, description


def clean_sequence(
    body: bytes, *, valid: bytes, alphabet: str, path: str, line: int, record: str, column: int = 0
) -> bytes:
    """Join sequence lines and check their characters.

    Parameters
    ----------
    body : bytes
        The sequence lines of one record, with their line breaks.
    valid : bytes
        The accepted bytes (:data:`ALPHABETS`).
    line : int
        1-based line number of the first sequence line.
    column : int, default 0
        Characters of the first line that came before ``body`` (when a long
        line arrives in pieces), for the column in messages.

    Returns
    -------
    bytes
        The sequence without line breaks or trailing whitespace.

    Raises
    ------
    InputError
        On a character outside ``valid`` or a lone ``\r``, with its line and
        1-based column.
    """
    seq = body.translate(None, b"\r\n")
    if not outside(seq, valid) and not has_lone_cr(body):
        return seq
    lines = [part.rstrip(_WHITESPACE) for part in body.split(b"\n")]
    for offset, part in enumerate(lines):
        bad = part.translate(None, valid)
        if bad:
            at = part.index(bad[:1]) + 1 + (column if offset == 0 else 0)
            raise _letter_error(
                bad[:1].decode("latin-1"), alphabet, path=path, line=line + offset, column=at, record=record
            )
    return b"".join(lines)


def _letter_error(char: str, alphabet: str, *, path: str, line: int, column: int, record: str) -> InputError:
    if char == "\r":
        return lone_carriage_return(path=path, line=line, column=column, record=record)
    if char == "\x00":
        return InputError(
            f"a NUL byte in column {column} (the file is binary or corrupt)",
            path=path,
            line=line,
            record=record,
            fix="Recreate the file, or check how it was copied",
        )
    return InputError(
        f"character {char!r} in column {column} is not "
        + ("a nucleotide letter" if alphabet == "dna" else "a printable character"),
        path=path,
        line=line,
        record=record,
        fix=_reader_fix(char, alphabet),
    )


def _reader_fix(char: str, alphabet: str) -> str:
    """The fix for a bad letter; ``alphabet='any'`` is offered to Python callers only (no command has it)."""
    fix = invalid_letter_fix(char, alphabet=alphabet, reader=True)
    if "alphabet='any'" not in fix:
        return fix
    return option(
        "alphabet",
        repr("any"),
        clause=fix.replace("alphabet='any'", "{}"),
        otherwise=invalid_letter_fix(char, alphabet=alphabet),
    )


def outside(data: bytes, valid: bytes) -> bytes:
    """The bytes of ``data`` that are not in ``valid`` (of the first 1 MB slice that has any).

    Checked a slice at a time, so that a long line needs no second copy of itself.
    """
    if len(data) <= _SLICE:
        return data.translate(None, valid)
    view = memoryview(data)
    for start in range(0, len(data), _SLICE):
        bad = bytes(view[start : start + _SLICE]).translate(None, valid)
        if bad:
            return bad
    return b""


def has_lone_cr(data: bytes | bytearray, start: int = 0, end: int | None = None) -> bool:
    """True when ``data[start:end]`` holds a ``\r`` that is not followed by ``\n`` (or ends it)."""
    end = len(data) if end is None else end
    if data.find(b"\r", start, end) < 0:
        return False  # the usual case: one memchr
    text = np.frombuffer(data, dtype=np.uint8, count=end)[start:]  # no copy
    after = np.flatnonzero(text == _CR) + 1
    return bool(after[-1] == text.size or (text[after] != _LF).any())


class SequenceCleaner:
    """Check and join the sequence lines of one record that arrive in pieces.

    :meth:`feed` takes the raw bytes in any cut (a piece may end inside a
    line, even between ``\r`` and ``\n``) and returns the letters it can
    already vouch for; :meth:`finish` returns the rest. Together they give
    what :func:`clean_sequence` gives for the whole body, and raise the same
    errors with the same line and column, so a long record never has to be
    held twice.

    Parameters
    ----------
    valid, alphabet, path, line, record
        As for :func:`clean_sequence` (``line``: of the first sequence line).
    table : bytes, optional
        A ``bytes.translate`` table applied to the letters (e.g. :data:`UPPER`).
    """

    def __init__(
        self, *, valid: bytes, alphabet: str, path: str, line: int, record: str, table: bytes | None = None
    ) -> None:
        self._check = {"valid": valid, "alphabet": alphabet, "path": path, "record": record}
        self._table = table
        self.line = line  # of the line being read
        self._column = 0  # letters of that line already returned
        self._carry = b""  # its trailing whitespace, held back until the line goes on or ends
        self.length = 0  # letters returned so far

    def feed(self, piece: bytes) -> bytes:
        """The checked letters of ``piece`` (and of what was held back before it)."""
        data = self._carry + piece if self._carry else piece
        cut = data.rfind(b"\n") + 1
        out = b""
        if cut:
            out = clean_sequence(data[:cut], line=self.line, column=self._column, **self._check)
            self.line += data.count(b"\n", 0, cut)
            self._column = 0
            data = data[cut:]
        keep = len(data.rstrip(_WHITESPACE))
        if keep:
            out += clean_sequence(data[:keep], line=self.line, column=self._column, **self._check)
            self._column += keep
        self._carry = data[keep:]
        self.length += len(out)
        return out if self._table is None else out.translate(self._table)

    def finish(self) -> bytes:
        """The letters held back at the end (none: only trailing whitespace is held)."""
        if not self._carry:
            return b""
        line = self.line
        out = self.feed(b"\n")
        self.line = line
        return out


class LongRecord(NamedTuple):
    """A FASTA record longer than :data:`LONG_RECORD` chunks, read piece by piece.

    ``header`` is the header line without the ``>`` and the line break;
    ``pieces`` yields the sequence lines with their line breaks, cut
    anywhere, about :data:`CHUNK_SIZE` bytes each. Read the pieces before
    asking :func:`chunks` for the next item.
    """

    header: bytes
    pieces: Iterator[bytes]


def chunks(stream: BinaryIO, first: bytes) -> Iterator[bytes | LongRecord]:
    """Cut a FASTA stream into pieces of whole records, reading :data:`CHUNK_SIZE` at a time.

    Each piece starts with the ``>`` of a header and ends with the line
    break before the next ``>`` (one is added after the last line if it has
    none); ``first`` is the first header line. A record longer than
    :data:`LONG_RECORD` chunks comes as a :class:`LongRecord` instead.
    """
    pending: list = [first]
    size = len(first)
    while data := stream.read(CHUNK_SIZE):
        cut = data.rfind(b"\n>") + 1
        if cut == 0 and not (data[:1] == b">" and pending[-1][-1:] == b"\n"):
            pending.append(data)
            size += len(data)
            if size <= LONG_RECORD * CHUNK_SIZE:
                continue
            rest: list[bytes] = []  # pending holds the start of one record only
            record = long_record(stream, b"".join(pending), rest)
            yield record
            for _ in record.pieces:  # the consumer stopped early: skip the rest of the record
                pass
            if not rest:
                return  # the file ends with this record
            cut = rest[0].rfind(b"\n>") + 1
            if cut:  # whole records after the long one
                yield rest[0][:cut]
            pending = [rest[0][cut:]]
            size = len(pending[0])
            continue
        pending.append(memoryview(data)[:cut])
        yield b"".join(pending)
        pending = [data[cut:]]
        size = len(pending[0])
    last = b"".join(pending)
    yield last if last.endswith(b"\n") else last + b"\n"


def long_record(stream: BinaryIO, start: bytes, rest: list[bytes]) -> LongRecord:
    """Continue reading the record that ``start`` begins (with its ``>``) as a :class:`LongRecord`.

    ``start`` holds no other record start. When the pieces are read out,
    ``rest`` holds the bytes from the next record's ``>`` on (empty at the
    end of the file).
    """
    end = start.find(b"\n")
    if end < 0:  # a header longer than what was read: read on to its end
        header = bytearray(start)
        while end < 0 and (data := stream.read(CHUNK_SIZE)):
            end = data.find(b"\n")
            header += data
        end = header.find(b"\n") if end >= 0 else len(header)
        start = bytes(header)
    return LongRecord(start[1:end], _pieces(stream, start[end + 1 :], rest))


def _pieces(stream: BinaryIO, data: bytes, rest: list[bytes]) -> Iterator[bytes]:
    """The sequence bytes of one record, up to the next ``>`` at a line start (then put in ``rest``)."""
    line_start = True  # the header's line break came just before ``data``
    while True:
        if data:
            cut = 0 if line_start and data[:1] == b">" else data.find(b"\n>") + 1
            if cut or data[:1] == b">" and line_start:
                if cut:
                    yield data[:cut]
                rest.append(data[cut:])
                return
            yield data
            line_start = data[-1:] == b"\n"
        data = stream.read(CHUNK_SIZE)
        if not data:
            return


def check_output_fields(number: int, name: str, description: str, *texts: str) -> None:
    """Reject a record that would not read back the same after writing.

    Raises
    ------
    InputError
        When ``name`` is empty or holds whitespace, or a field holds a line break.
    """
    if not isinstance(name, str) or not name or any(c.isspace() for c in name):
        raise InputError(
            f"record {number} has an empty name or whitespace in its name",
            record=str(name),
            fix="Use a non-empty name without spaces; put the rest in description",
        )
    for text in (description, *texts):
        if not isinstance(text, str) or "\n" in text or "\r" in text:
            raise InputError(
                f"record {number} has a field that is not a one-line string",
                record=name,
                fix="Remove line breaks from the description and sequence",
            )
