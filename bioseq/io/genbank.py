"""GenBank and EMBL flat files: records with their sequence and features, streamed through Biopython.

A GenBank (``LOCUS`` ... ``//``) or EMBL (``ID`` ... ``//``) file holds sequences and their
annotation together, the usual form of bacterial, plasmid and viral genomes. :func:`read_genbank`
reads it one record at a time with :func:`Bio.SeqIO.parse` (formats ``"genbank"`` and ``"embl"``)
from a path or a handle, plain, gzip or bgzip, and yields :class:`GenBankRecord`. The features
become genes, transcripts and exons in :mod:`bioseq.io.genbank_annotation`;
:class:`~bioseq.io.reference.Reference` opens a GenBank/EMBL genome through an indexed FASTA of
its sequences written once (:func:`bioseq.io.reference_cache.genbank_fasta`).

Data contract
-------------
contig
    The record's ``id``: the accession with its version (``NC_001422.1``, from the GenBank
    ``VERSION`` line or the EMBL ``AC`` and ``SV`` lines), which is how NCBI FASTA headers and
    GFF3 files name the sequence; the LOCUS/ID ``name`` when the file gives no accession. The
    LOCUS/ID name (``NC_001422``) resolves to the contig as an alias wherever contigs are looked
    up (:class:`~bioseq.io.contigs.ContigAliases`).
sequence
    ``str``, the letters upper-cased (as Biopython reads them; the file's lower case is no
    soft-masking), or ``None`` for a record without sequence lines (no ``ORIGIN``/``SQ`` block,
    e.g. a ``CONTIG`` record). Letters are not checked here: the
    :class:`~bioseq.io.reference.Reference` refuses a letter that is not a nucleotide.
features
    Biopython ``SeqFeature`` objects; their locations are 0-based and half-open
    (``[start, end)``; the file's ``12..20`` is ``[11, 20)``).

Bad input raises :class:`~bioseq.errors.InputError` naming the file, the line or record and the
fix: a first line that is neither ``LOCUS`` nor ``ID`` (or a byte-order mark, or binary data), a
LOCUS/ID line without the column layout Biopython needs (it would skip the whole record), a file
that ends inside a record (truncated), a sequence whose length differs from the LOCUS/ID line's,
two records with one contig name, anything else Biopython cannot parse (with its message), and a
file without records. A feature location that Biopython cannot parse is kept in
:attr:`GenBankRecord.unreadable`: the annotation reader refuses it for the features it uses.
"""

from __future__ import annotations

import dataclasses
import io
import logging
import re
import warnings
from collections.abc import Iterator

from bioseq.errors import InputError
from bioseq.io.handles import PathOrHandle, check_text, input_name, open_input
from bioseq.io.sniff import reject_bom

__all__ = ["FORMATS", "GenBankRecord", "genbank_format", "read_genbank"]

FORMATS = ("genbank", "embl")
"""The :mod:`Bio.SeqIO` formats read here."""

logger = logging.getLogger(__name__)

_LABEL = {"genbank": "GenBank", "embl": "EMBL"}
_FIRST_LINE = {"genbank": "LOCUS", "embl": "ID"}
_RECORD_START = {"genbank": "LOCUS       ", "embl": "ID   "}  # what Biopython's scanners look for
_SEQUENCE = {"genbank": "ORIGIN", "embl": "SQ"}
_NO_NAME = ("", ".", "<unknown id>", "<unknown name>")
_LENGTH = re.compile(r"Expected sequence length (\d+), found (\d+)")
_LOCATION = re.compile(r"location '([^']*)'")
_COSMETIC = ("LOCUS line", "locus line", "in date", "identifier over 16", "Structured comment")
_BROKEN_FEATURES = ("line too short to contain a feature", "Over indented")
_TRUNCATED_FIX = "The file looks truncated: download or copy it again"


@dataclasses.dataclass(frozen=True, slots=True)
class GenBankRecord:
    """One GenBank/EMBL record (see the module docstring).

    Attributes
    ----------
    contig : str
        Accession with version (``record.id``), or the LOCUS/ID name without one.
    name : str
        The LOCUS/ID name (``record.name``).
    length : int
        Bases, as the LOCUS/ID line and the sequence agree.
    circular : bool
        The LOCUS/ID line says ``circular``.
    sequence : str or None
        The letters, upper case; None for a record without sequence lines.
    features : tuple of Bio.SeqFeature.SeqFeature
        In file order; 0-based half-open locations, ``None`` where Biopython could not parse one.
    unreadable : tuple of str
        The text of each location Biopython could not parse, in the order of those features.
    line : int
        1-based line of the record's LOCUS/ID line.
    format : {"genbank", "embl"}
    """

    contig: str
    name: str
    length: int
    circular: bool
    sequence: str | None
    features: tuple
    unreadable: tuple[str, ...]
    line: int
    format: str


def genbank_format(source: PathOrHandle) -> str | None:
    """``"genbank"`` or ``"embl"`` when the first non-blank line starts a GenBank or EMBL record.

    Reads only the first bytes (after gzip decompression). Returns None for anything else,
    including a file that cannot be opened (the reader of the other format then says why).

    Parameters
    ----------
    source : str, os.PathLike or binary handle with ``peek``
    """
    try:
        with open_input(source) as stream:
            return _format_of(stream.peek(4096)[:4096])
    except (InputError, OSError):
        return None


def _format_of(head: bytes) -> str | None:
    first = head.lstrip(b" \t\r\n").split(b"\n", 1)[0]
    if first.startswith(b"LOCUS ") or first.startswith(b"LOCUS\t"):
        return "genbank"
    if first.startswith(b"ID   "):
        return "embl"
    return None


def read_genbank(source: PathOrHandle, *, fmt: str | None = None) -> Iterator[GenBankRecord]:
    """Stream the records of a GenBank or EMBL file.

    Parameters
    ----------
    source : str, os.PathLike or file object
        Path or open handle; gzip/BGZF is decompressed. Lines may end in CRLF.
    fmt : {"genbank", "embl"}, optional
        Default: told from the first line (``LOCUS`` or ``ID``).

    Yields
    ------
    GenBankRecord
        One at a time, in file order.

    Raises
    ------
    InputError
        On a file that is not GenBank/EMBL, a malformed or truncated record, or two records
        with one contig name (see the module docstring).
    """
    if fmt is not None and fmt not in FORMATS:
        raise InputError(f"fmt must be one of {', '.join(FORMATS)}, got {fmt!r}")
    path = input_name(source)
    with open_input(source) as stream:
        head = stream.peek(4096)[:4096]
        what = _LABEL.get(fmt, "GenBank/EMBL")
        check_text(head, path=path, what=what)
        reject_bom(head, path=path, what=what)
        found = _format_of(head)
        if fmt is None and found is None:
            raise InputError(
                "the file does not start with a GenBank LOCUS line or an EMBL ID line",
                path=path,
                line=1,
                fix="Pass a GenBank (.gb, .gbk) or EMBL (.embl) flat file, plain or gzip",
            )
        text = io.TextIOWrapper(stream, encoding="utf-8", errors="replace", newline=None)
        try:
            yield from _records(_Lines(text, fmt or found, path), fmt or found, path)
        finally:
            if not text.closed:  # a generator collected late may find its stream closed already
                text.detach()  # leave a caller's handle open


class _Lines:
    """The text handle Biopython reads: counts lines and checks each record's first line."""

    def __init__(self, text: io.TextIOBase, fmt: str, path: str) -> None:
        self._text, self._fmt, self._path = text, fmt, path
        self.number = 0
        self.starts: list[int] = []  # 1-based lines of the LOCUS/ID lines

    def read(self, size: int = -1) -> str:
        return self._text.read(size)

    def readline(self, size: int = -1) -> str:
        line = self._text.readline(size)
        if not line:
            return line
        self.number += 1
        first = _FIRST_LINE[self._fmt]
        if line.startswith(first) and line[len(first) : len(first) + 1] in ("", " ", "\t", "\r", "\n"):
            if not line.startswith(_RECORD_START[self._fmt]):
                raise InputError(
                    f"the {first} line does not have the {_LABEL[self._fmt]} layout, so its record would be skipped",
                    path=self._path,
                    line=self.number,
                    fix=f"Start it with {_RECORD_START[self._fmt]!r} ({first} and spaces up to column "
                    f"{len(_RECORD_START[self._fmt]) + 1}), the name after them",
                )
            self.starts.append(self.number)
        return line


def _records(lines: _Lines, fmt: str, path: str) -> Iterator[GenBankRecord]:
    from Bio import BiopythonWarning, SeqIO

    label = _LABEL[fmt]
    parsed = SeqIO.parse(lines, fmt)
    seen: dict[str, int] = {}
    while True:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", BiopythonWarning)
            try:
                record = next(parsed)
            except StopIteration:
                break
            except InputError:
                raise
            except Exception as exc:  # Biopython's parser raises ValueError, AssertionError, IndexError...
                text = _one_line(exc)
                fix = (
                    f"The file looks truncated, or a record lacks its sequence ({_SEQUENCE[fmt]} lines) before "
                    "'//': download it again"
                    if "Premature end" in text
                    else f"Check that the file is a complete {label} flat file"
                )
                raise InputError(
                    f"cannot read the {label} record ({text})", path=path, line=lines.number, fix=fix
                ) from None
        line = lines.starts[len(seen)] if len(lines.starts) > len(seen) else lines.number
        item = _record(record, [str(w.message) for w in caught], fmt, path, (line, lines.number))
        if item.contig in seen:
            raise InputError(
                f"two records are named {item.contig!r} (lines {seen[item.contig]} and {line})",
                path=path,
                line=line,
                record=item.contig,
                fix="Give every record its own accession (VERSION line) or LOCUS name",
            )
        seen[item.contig] = line
        yield item
    if not seen:
        raise InputError(
            f"the file holds no {label} record",
            path=path,
            fix=f"Check that it is a complete {label} flat file ending in '//'",
        )


def _record(record, messages: list[str], fmt: str, path: str, lines: tuple[int, int]) -> GenBankRecord:
    """The record, checked; ``lines`` are the 1-based first and last line read for it."""
    from Bio.Seq import UndefinedSequenceError

    line, last = lines
    contig = record.id if record.id not in _NO_NAME else record.name
    if contig in _NO_NAME:
        raise InputError(
            "the record has neither an accession nor a LOCUS/ID name",
            path=path,
            line=line,
            fix="Put a name on its LOCUS/ID line",
        )
    unreadable = []
    for message in messages:
        if "Premature end of file" in message:
            raise InputError(
                f"the file ends inside the sequence of record {contig!r} (from line {line}), before its '//' line",
                path=path,
                line=last,
                fix=_TRUNCATED_FIX,
            )
        if length := _LENGTH.search(message):
            raise InputError(
                f"the {_FIRST_LINE[fmt]} line says {length.group(1)} bp but the sequence has {length.group(2)}",
                path=path,
                line=line,
                record=contig,
                fix=f"{_TRUNCATED_FIX}, or correct the length on the {_FIRST_LINE[fmt]} line",
            )
        if any(word in message for word in _BROKEN_FEATURES):  # the parser would drop or merge a feature line
            raise InputError(
                f"the feature table is damaged: {_one_line(message)}",
                path=path,
                line=line,
                record=contig,
                fix="Repair its FEATURES lines (a key at column 6, its location at column 22); a stray line break "
                "or carriage return inside a feature line does this",
            )
        if "feature location to None" in message:
            found = _LOCATION.search(message)
            unreadable.append(found.group(1) if found else "?")
        elif not any(word in message for word in _COSMETIC):
            logger.warning("%s, record %r: %s", path, contig, _one_line(message))
    try:
        sequence = str(record.seq)
    except UndefinedSequenceError:
        sequence = None
    return GenBankRecord(
        contig,
        record.name,
        len(record.seq),
        record.annotations.get("topology") == "circular",
        sequence,
        tuple(record.features),
        tuple(unreadable),
        line,
        fmt,
    )


def _one_line(value) -> str:
    return " ".join(str(value).split())
