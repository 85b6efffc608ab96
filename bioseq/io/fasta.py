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
files or open handles, reads about 1 MB at a time and keeps memory constant
(it holds one chunk of records, or one record when that is longer). It
tolerates CRLF line ends, blank lines, trailing
whitespace and ``;`` comment lines before the first record, and rejects
everything else with an :class:`~bioseq.errors.InputError` that names the
file, line, record, the offending character and a fix.

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


from bioseq.alphabet import ASCII_TO_CODE, INVALID, invalid_letter_fix
from bioseq.errors import InputError
from bioseq.io.handles import PathOrHandle, atomic_output, check_text, input_name, open_input

__all__ = ["FastaRecord", "FastaReader", "read_fasta", "write_fasta"]

CHUNK_SIZE = 1 << 20
"""Bytes read per call; records are cut out of these chunks."""

ALPHABETS: dict[str, bytes] = {
    "dna": bytes(i for i in range(256) if ASCII_TO_CODE[i] != INVALID),
    "any": bytes(range(33, 127)),
}
"""The bytes each ``alphabet=`` accepts in a sequence (``any``: printable ASCII)."""

_WHITESPACE = b" \t\r\n\x0b\x0c"
_UPPER = bytes(range(256)).upper()


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


_make_record = functools.partial(tuple.__new__, FastaRecord)  # FastaRecord from a 3-tuple, in C
_partition_line = operator.methodcaller("partition", b"\n")
# Name: the header up to the first whitespace (leading blanks skipped, as Biopython does);
# description: the rest, stripped. One match per header line, or none for an empty name.
_NAME = re.compile(r"^[ \t\r\f\v]*(\S+)", re.MULTILINE)
_DESCRIPTION = re.compile(r"^[ \t\r\f\v]*\S+[ \t\r\f\v]*(.*)$", re.MULTILINE)
_TRAILING_BLANK = re.compile(r"[ \t\r\f\v]$", re.MULTILINE)


class FastaReader:
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

    def __init__(self, source: PathOrHandle, *, alphabet: str = "dna", uppercase: bool = False) -> None:
        self._valid = check_alphabet(alphabet)
        if not isinstance(uppercase, bool):
            raise InputError(f"uppercase must be True or False, got {uppercase!r}")
        self._alphabet = alphabet
        self._valid_or_separator = self._valid + b"\x00"
        self._table = _UPPER if uppercase else None
        self._path = input_name(source)
        self._stack = contextlib.ExitStack()
        try:
            stream = self._stack.enter_context(open_input(source))
            head, number = first_line(stream, self._path, marker=b">", what="FASTA")
        except BaseException:
            self._stack.close()
            raise
        # chain runs the per-record loop in C; _chunks yields once per ~1 MB.
        self._pieces = self._chunks(stream, head, number)
        self._records = itertools.chain.from_iterable(self._pieces)

    def _chunks(self, stream: BinaryIO, head: bytes, line: int) -> Iterator[Iterator[FastaRecord]]:
        """The records of each chunk, as an iterator per chunk; closes the file at the end."""
        for buf in chunks(stream, head):
            texts = buf[1:-1].split(b"\n>")
            records = self._fast(texts)
            yield self._precise(texts, line) if records is None else records
            line += buf.count(b"\n")
        self._stack.close()

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
            seq = clean_sequence(text[end + 1:], valid=valid, alphabet=alphabet, path=path,
                                 line=line + 1, record=name)
            yield FastaRecord(name, description, seq.translate(self._table).decode("ascii"))
            line += text.count(b"\n") + 1

    def __iter__(self) -> Iterator[FastaRecord]:
        return self._records

    def __next__(self) -> FastaRecord:
        return next(self._records)

    def close(self) -> None:
        """Close the file if this reader opened it."""
        self._pieces.close()
        self._stack.close()

    def __enter__(self) -> FastaReader:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()


def read_fasta(
    source: PathOrHandle, *, alphabet: str = "dna", uppercase: bool = False
) -> FastaReader:
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
    with atomic_output(path) as raw, (
        gzip.GzipFile(fileobj=raw, mode="wb") if compress else contextlib.nullcontext(raw)
    ) as out:
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
        body = "".join(seq[i:i + width] + "\n" for i in range(0, len(seq), width))
    return (header + body).encode("utf-8")


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
