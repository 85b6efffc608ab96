"""The faidx index of a FASTA file: find it, build it, explain its failures.

:func:`open_faidx` opens a FASTA with pysam, building the ``.fai`` (and the
``.gzi`` for bgzip) when missing or older than the FASTA: next to the FASTA
when its directory is writable, else in bioseq's cache directory. htslib
reports malformed files tersely; :func:`diagnose` re-reads the file to name
the line and the fix (different line lengths within a record, empty or
duplicate records, plain gzip instead of bgzip).
"""

from __future__ import annotations

import collections
import contextlib
from collections.abc import Iterator
from pathlib import Path

import pysam

from bioseq.errors import InputError, option
from bioseq.io.atomic import atomic_path, can_write
from bioseq.io.handles import check_text, compression_of, open_input
from bioseq.io.reference_cache import entry_dir, user_cache_root

__all__ = ["open_faidx", "diagnose"]

_BLOCK = 1 << 24  # bytes read per step when scanning a FASTA for headers
_LINE = 1 << 20  # longest piece of a line read at once when diagnosing
_FIX_REWRAP = (
    "Rewrap it so that every line of a record but the last has the same length, e.g. 'seqkit seq -w 60 in.fa > out.fa'"
)
_FIX_EMPTY = "Remove the record or add its sequence; a .fai index cannot hold an empty record"


def open_faidx(fasta: Path, name: str, root: Path | None) -> pysam.FastaFile:
    """Open ``fasta`` with pysam, finding or building its ``.fai`` (and ``.gzi``).

    An index beside the FASTA is used when it is at least as new as the
    FASTA, else one in the cache entry (:func:`entry_dir`). A missing or stale
    index is built beside the FASTA if that directory is writable, else in the
    cache entry under ``root`` (default :func:`user_cache_root`). An index
    beside the FASTA that cannot be read is skipped when ``root`` is given
    (``Reference(..., cache=DIR)``): bioseq then keeps its own in the cache.
    Indexes are written with :func:`~bioseq.io.atomic.atomic_path`, so they
    have the usual permissions.

    Raises
    ------
    InputError
        When htslib cannot index or open the file, with the line and the
        problem found by re-reading it (different line lengths, blank lines
        inside a record, text before the first header, duplicate names...);
        when an index exists but cannot be read (permission denied).
    """
    bgzf = _check_compression(fasta, name) == "bgzf"
    entry = entry_dir(root or user_cache_root(), fasta)
    index = _fresh_index(fasta, fasta.parent, bgzf)
    beside_unreadable = index is not None and not _readable(index) and root is not None
    if beside_unreadable:
        index = None  # another user's private index: use the cache= the caller gave
    index = index or _fresh_index(fasta, entry, bgzf)
    if index is None:
        target = fasta.parent if can_write(fasta.parent) and not beside_unreadable else entry
        index = _build_index(fasta, name, target, bgzf)
    elif not _readable(index):
        raise _unreadable_error(index, name)
    fai, gzi = index
    try:
        return pysam.FastaFile(
            str(fasta), filepath_index=str(fai), filepath_index_compressed=None if gzi is None else str(gzi)
        )
    except (OSError, ValueError) as exc:
        raise diagnose(fasta, name, exc) from exc


def _readable(index: tuple[Path, Path | None]) -> bool:
    """False when opening the ``.fai`` or the ``.gzi`` is refused (permission denied)."""
    for path in index:
        if path is not None:
            try:
                with open(path, "rb"):
                    pass
            except PermissionError:
                return False
    return True


def _unreadable_error(index: tuple[Path, Path | None], name: str) -> InputError:
    path = next(p for p in index if p is not None and not _readable((p, None)))
    return InputError(
        f"this index of {name} exists but cannot be read (permission denied), so the FASTA cannot be opened",
        path=path,
        fix=f"Ask its owner to make it readable ('chmod a+r {path}'), or remove it so that bioseq "
        "rebuilds it"
        + option(
            "cache",
            clause=", or open the FASTA with {} a writable directory "
            "(bioseq.io.Reference(fasta, cache=DIR)), where bioseq then keeps its own index",
            otherwise=", or copy the FASTA into a directory of your own",
        ),
    )


def _check_compression(fasta: Path, name: str) -> str | None:
    """The compression of ``fasta`` (``"bgzf"`` or None); raise for one that faidx cannot index."""
    try:
        with open(fasta, "rb") as handle:
            head = handle.read(32)
    except OSError as exc:
        raise InputError(f"cannot open the file ({exc.strerror})", path=name) from exc
    kind = compression_of(head)
    if kind == "gzip":
        plain = name[:-3] if name.endswith(".gz") else name
        raise InputError(
            "the FASTA is compressed with plain gzip, which cannot be indexed for random access",
            path=name,
            fix=f"Recompress it with bgzip: 'gunzip {name}' then 'bgzip {plain}'",
        )
    if kind in ("bz2", "xz", "zstd"):
        raise InputError(
            f"the FASTA is {kind}-compressed, which cannot be indexed",
            path=name,
            fix="Decompress it, then compress it with 'bgzip' (or leave it plain)",
        )
    return kind


def _fresh_index(fasta: Path, directory: Path, bgzf: bool) -> tuple[Path, Path | None] | None:
    mtime = fasta.stat().st_mtime_ns
    fai = directory / f"{fasta.name}.fai"
    gzi = directory / f"{fasta.name}.gzi" if bgzf else None
    for path in (fai, gzi):
        if path is not None and (not path.is_file() or path.stat().st_mtime_ns < mtime):
            return None
    return fai, gzi


def _build_index(fasta: Path, name: str, directory: Path, bgzf: bool) -> tuple[Path, Path | None]:
    """Build the index under temporary names (:func:`atomic_path`), check it, then rename it into place."""
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(
            f"cannot create the index directory {directory} ({exc.strerror})",
            path=name,
            fix=option(
                "cache",
                clause="Pass {} a writable directory",
                otherwise="Set XDG_CACHE_HOME to a writable directory (bioseq keeps its "
                "files in $XDG_CACHE_HOME/bioseq)",
            ),
        ) from exc
    fai = directory / f"{fasta.name}.fai"
    gzi = directory / f"{fasta.name}.gzi" if bgzf else None
    with contextlib.ExitStack() as stack:
        temp_fai = stack.enter_context(atomic_path(fai))  # entered first, so renamed last: it marks completion
        options = ["--fai-idx", str(temp_fai)]
        if gzi is not None:
            options += ["--gzi-idx", str(stack.enter_context(atomic_path(gzi)))]
        verbosity = pysam.set_verbosity(0)  # our message replaces htslib's terse one
        try:
            pysam.faidx(str(fasta), *options)
        except pysam.SamtoolsError as exc:
            raise diagnose(fasta, name, exc) from exc
        finally:
            pysam.set_verbosity(verbosity)
        _check_headers(fasta, name, temp_fai)
    return fai, gzi


def _check_headers(fasta: Path, name: str, fai: Path) -> None:
    """Reject duplicate names and empty records, which htslib drops with only a warning."""
    with open(fai, "rb") as handle:
        indexed = [line.split(b"\t", 1)[0].decode("utf-8", "replace") for line in handle]
    headers = list(_scan_headers(fasta))
    if len(headers) == len(indexed):
        return
    first: dict[str, int] = {}
    for record, line in headers:
        if record in first:
            raise InputError(
                f"the record name appears twice (lines {first[record]} and {line}); an index can hold only one",
                path=name,
                record=record,
                fix="Rename or remove the duplicate record",
            )
        first[record] = line
    missing = collections.Counter(first) - collections.Counter(indexed)
    for record, line in headers:
        if record in missing:
            raise InputError("the record has no sequence lines", path=name, line=line, record=record, fix=_FIX_EMPTY)


def _header_name(line: bytes) -> str:
    words = line[1:].split(maxsplit=1)
    return words[0].decode("utf-8", "replace") if words else ""


def _scan_headers(fasta: Path) -> Iterator[tuple[str, int]]:
    """Yield ``(name, 1-based line)`` of each header, reading in large blocks."""
    lines_before, at_line_start, partial = 0, True, None
    with open_input(fasta) as stream:
        while block := stream.read(_BLOCK):
            if partial is not None:
                end = block.find(b"\n")
                partial = (partial[0] + block[: _BLOCK if end < 0 else end][:4096], partial[1])
                if end >= 0:
                    yield _header_name(partial[0]), partial[1]
                    partial = None
            starts = [0] if at_line_start and block.startswith(b">") else []
            hit = block.find(b"\n>")
            while hit >= 0:
                starts.append(hit + 1)
                hit = block.find(b"\n>", hit + 1)
            counted, line = 0, lines_before
            for start in starts:
                line += block.count(b"\n", counted, start)
                counted = start
                end = block.find(b"\n", start)
                if end < 0:
                    partial = (block[start:][:4096], line + 1)
                else:
                    yield _header_name(block[start:end]), line + 1
            lines_before += block.count(b"\n")
            at_line_start = block.endswith(b"\n")
    if partial is not None:
        yield _header_name(partial[0]), partial[1]


def diagnose(fasta: Path, name: str, exc: Exception) -> InputError:
    """Re-read a FASTA that htslib rejected and describe its first problem.

    Returns
    -------
    InputError
        Naming the file, the 1-based line, the record and the fix; a generic
        message quoting htslib when no layout problem is found.

    Raises
    ------
    InputError
        When the file is binary (a BAM, CRAM or other non-text file).
    """
    with open_input(fasta) as stream:
        head = stream.peek(4096)[:4096]
        if not head:
            return InputError("the file is empty", path=name, fix="Pass a FASTA file with at least one '>name' record")
        check_text(head, path=name, what="FASTA")
        problem = _layout_problem(_lines(stream))
    if problem is not None:
        text, line, record, fix = problem
        return InputError(text, path=name, line=line, record=record, fix=fix)
    return InputError(
        f"htslib cannot index this FASTA file ({exc})",
        path=name,
        fix="Check that it is a plain or bgzip-compressed FASTA file",
    )


def _lines(stream) -> Iterator[tuple[int, bytes, int, bool]]:
    """Yield ``(line number, first bytes, length without line end, has inner whitespace)``."""
    number, head, length, spaced = 0, None, 0, False
    while piece := stream.readline(_LINE):
        ended = piece.endswith(b"\n")
        body = piece.rstrip(b"\r\n") if ended else piece
        head = body[:4096] if head is None else head
        length += len(body)
        spaced = spaced or b" " in body or b"\t" in body
        if ended:
            number += 1
            yield number, head, length, spaced
            head, length, spaced = None, 0, False
    if head is not None:
        yield number + 1, head, length, spaced


def _layout_problem(lines) -> tuple[str, int, str | None, str] | None:
    """The first violation of the layout a .fai index needs, as (problem, line, record, fix)."""
    record, header_line, width, short, blank, filled = None, 0, None, None, None, False
    for number, head, length, spaced in lines:
        if head.startswith(b">"):
            if record is not None and not filled:
                return "the record has no sequence lines", header_line, record, _FIX_EMPTY
            record, header_line, width, short, blank, filled = _header_name(head), number, None, None, None, False
        elif length == 0:
            blank = blank or (number if record is not None else None)
        elif record is None:
            return (
                "sequence before the first '>' header line",
                number,
                None,
                "Every FASTA record starts with a '>name' line; check that this is a FASTA file",
            )
        elif blank is not None:
            return (
                f"blank line {blank} inside the record is followed by more sequence",
                number,
                record,
                "Remove blank lines inside records",
            )
        elif spaced:
            return "the sequence line holds whitespace", number, record, _FIX_REWRAP
        elif short is not None:
            return (
                f"the line is shorter ({short[1]} bases) than the record's first line "
                f"({width}) but is not its last line",
                short[0],
                record,
                _FIX_REWRAP,
            )
        elif width is not None and length > width:
            return (
                f"the line has {length} bases, more than the {width} of the record's first line",
                number,
                record,
                _FIX_REWRAP,
            )
        else:
            width = length if width is None else width
            short = (number, length) if length < width else None
            filled = True
    if record is not None and not filled:
        return "the record has no sequence lines", header_line, record, _FIX_EMPTY
    return None
