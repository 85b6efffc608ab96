"""Text machinery shared by the FASTA and FASTQ readers.

Both formats are read from a binary stream (:func:`bioseq.io.handles.open_input`),
checked letter by letter against an alphabet, and rejected with the file,
1-based line, record and a fix. :class:`RecordReader` gives both readers the
same iterator and context-manager behaviour. Positions inside sequences are
0-based.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import BinaryIO

from bioseq.alphabet import ASCII_TO_CODE, INVALID, invalid_letter_fix
from bioseq.errors import InputError
from bioseq.io.handles import PathOrHandle, check_text, input_name, open_input

__all__ = [
    "CHUNK_SIZE", "ALPHABETS", "UPPER", "RecordReader", "check_alphabet", "first_line",
    "split_header", "clean_sequence", "chunks", "check_output_fields",
]

CHUNK_SIZE = 1 << 20
"""Bytes read per call; records are cut out of these chunks."""

ALPHABETS: dict[str, bytes] = {
    "dna": bytes(i for i in range(256) if ASCII_TO_CODE[i] != INVALID),
    "any": bytes(range(33, 127)),
}
"""The bytes each ``alphabet=`` accepts in a sequence (``any``: printable ASCII)."""

_WHITESPACE = b" \t\r\n\x0b\x0c"
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
            fix="Use alphabet='dna' for nucleotides or 'any' for protein and other text",
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
        When the file is empty, binary, or does not start with ``marker``.
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
        raise InputError(
            f"line {number} does not start a {what} record ({marker.decode()!r} expected), "
            f"it reads {line[:40].decode('latin-1').rstrip()!r}",
            path=path,
            fix=_format_hint(stripped, what),
        )
    raise InputError(
        f"the file is empty (no {what} records)", path=path,
        fix="Check that the file was written completely",
    )


def _format_hint(line: bytes, what: str) -> str:
    if line.startswith(b"\xef\xbb\xbf"):
        return "The file starts with a byte-order mark; save it as UTF-8 without BOM"
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
        When the name is empty, or the header holds a NUL byte or is not UTF-8.
    """
    if b"\x00" in header:
        raise InputError(
            "the header holds a NUL byte (the file is binary or corrupt)", path=path, line=line,
            fix="Recreate the file",
        )
    parts = header.split(None, 1)
    if not parts:
        raise InputError(
            "the header line has no name", path=path, line=line,
            fix="Write a name right after the marker, e.g. '>seq1'",
        )
    try:
        name = parts[0].decode("utf-8")
        description = parts[1].rstrip(_WHITESPACE).decode("utf-8") if len(parts) > 1 else ""
    except UnicodeDecodeError:
        raise InputError(
            "the header is not UTF-8 text", path=path, line=line,
            fix="Convert the file to UTF-8 or ASCII",
        ) from None
    return name, description


def clean_sequence(body: bytes, *, valid: bytes, alphabet: str, path: str, line: int,
                   record: str) -> bytes:
    """Join sequence lines and check their characters.

    Parameters
    ----------
    body : bytes
        The sequence lines of one record, with their line breaks.
    valid : bytes
        The accepted bytes (:data:`ALPHABETS`).
    line : int
        1-based line number of the first sequence line.

    Returns
    -------
    bytes
        The sequence without line breaks or trailing whitespace.

    Raises
    ------
    InputError
        On a character outside ``valid``, with its line and column.
    """
    seq = body.translate(None, b"\r\n")
    if not seq.translate(None, valid):
        return seq
    lines = [part.rstrip(_WHITESPACE) for part in body.split(b"\n")]
    for offset, part in enumerate(lines):
        bad = part.translate(None, valid)
        if bad:
            column = part.index(bad[:1])
            char = bad[:1].decode("latin-1")
            raise InputError(
                f"character {char!r} in column {column + 1} is not "
                + ("a nucleotide letter" if alphabet == "dna" else "a printable character"),
                path=path, line=line + offset, record=record,
                fix=invalid_letter_fix(char, alphabet=alphabet, reader=True),
            )
    return b"".join(lines)


def chunks(stream: BinaryIO, first: bytes) -> Iterator[bytes]:
    """Cut a FASTA stream into pieces of whole records, reading :data:`CHUNK_SIZE` at a time.

    Each piece starts with the ``>`` of a header and ends with the line
    break before the next ``>`` (one is added after the last line if it has
    none); ``first`` is the first header line. A record longer than a chunk
    makes its piece longer.
    """
    pending: list = [first]
    while data := stream.read(CHUNK_SIZE):
        cut = data.rfind(b"\n>") + 1
        if cut == 0 and not (data[:1] == b">" and pending[-1][-1:] == b"\n"):
            pending.append(data)
            continue
        pending.append(memoryview(data)[:cut])
        yield b"".join(pending)
        pending = [data[cut:]]
    last = b"".join(pending)
    yield last if last.endswith(b"\n") else last + b"\n"


def check_output_fields(number: int, name: str, description: str, *texts: str) -> None:
    """Reject a record that would not read back the same after writing.

    Raises
    ------
    InputError
        When ``name`` is empty or holds whitespace, or a field holds a line break.
    """
    if not isinstance(name, str) or not name or any(c.isspace() for c in name):
        raise InputError(
            f"record {number} has an empty name or whitespace in its name", record=str(name),
            fix="Use a non-empty name without spaces; put the rest in description",
        )
    for text in (description, *texts):
        if not isinstance(text, str) or "\n" in text or "\r" in text:
            raise InputError(
                f"record {number} has a field that is not a one-line string", record=name,
                fix="Remove line breaks from the description and sequence",
            )
