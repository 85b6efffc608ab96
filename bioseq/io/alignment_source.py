"""Opening SAM/BAM/CRAM files with bioseq's checks, indexes and error messages.

:class:`AlignmentSource` is the building block of :mod:`bioseq.io.aligned_reads`
and :mod:`bioseq.io.splice_junctions`: it checks that a file is an alignment file,
builds a missing index where it may, turns regions into checked 0-based
half-open ``(chrom, start, end)`` and translates htslib's terse errors into
one :class:`~bioseq.errors.InputError` that names the file.
"""

from __future__ import annotations

import contextlib
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pysam

from bioseq.errors import InputError, MissingFileError, option
from bioseq.io.atomic import atomic_path, can_write
from bioseq.io.contigs import missing_contig
from bioseq.io.handles import PathOrHandle, input_name, is_bgzf
from bioseq.io.interval import Interval, parse_region
from bioseq.io.sniff import sniff_format

__all__ = ["AlignmentSource", "Region", "read_filter", "quiet_htslib"]

Region = str | Interval | tuple
_CSI_MIN_LENGTH = 1 << 29  # contigs this long do not fit a .bai index
_BGZF_EOF = bytes.fromhex("1f8b08040000000000ff0600424302001b0003000000000000000000")


def read_filter(min_mapq: int, exclude_flags: int, require_flags: int):
    """A predicate ``keep(read) -> bool`` on SAM flags and mapping quality, its arguments checked.

    ``keep`` is true for a read with none of ``exclude_flags``, all of
    ``require_flags`` and a mapping quality of at least ``min_mapq`` (as
    ``samtools view -F exclude -f require -q min_mapq``).

    Raises
    ------
    InputError
        On a value out of range, or flags both required and excluded.
    """
    for label, value, top in (
        ("min_mapq", min_mapq, 255),
        ("exclude_flags", exclude_flags, 0xFFFF),
        ("require_flags", require_flags, 0xFFFF),
    ):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or not 0 <= value <= top:
            raise InputError(f"{label} must be an integer from 0 to {top}, got {value!r}")
    if exclude_flags & require_flags:
        raise InputError(
            f"flags 0x{exclude_flags & require_flags:X} are both required and excluded, so no read can pass",
            fix="Remove them from exclude_flags or from require_flags",
        )
    min_mapq, exclude_flags, require_flags = int(min_mapq), int(exclude_flags), int(require_flags)

    def keep(read: pysam.AlignedSegment) -> bool:
        flags = read.flag
        return not flags & exclude_flags and flags & require_flags == require_flags and read.mapping_quality >= min_mapq

    return keep


class AlignmentSource:
    """An open SAM/BAM/CRAM file with bioseq's checks and error messages.

    The building block of the readers here and in :mod:`bioseq.io.splice_junctions`:
    opens ``source`` with pysam after checking that it is an alignment file,
    builds a missing index when ``indexed`` (see the module docstring), turns
    regions into checked 0-based half-open ``(chrom, start, end)`` and
    translates pysam's errors. Use it as a context manager.

    Parameters
    ----------
    source : str, os.PathLike or file object
        As in :func:`read_alignments`.
    reference : str or os.PathLike, optional
        FASTA for CRAM files.
    indexed : bool, default False
        Make sure region queries work.

    Raises
    ------
    MissingFileError, InputError
        As for :func:`read_alignments`.
    """

    def __init__(
        self, source: PathOrHandle, *, reference: str | os.PathLike | None = None, indexed: bool = False
    ) -> None:
        self.path = _source_path(source)
        self.name = input_name(source)
        self.format = _alignment_format(self.path, self.name)
        self._reference = _cram_reference(reference, self.format, self.name)
        self._file = self._open()
        self._lengths = dict(zip(self._file.references, self._file.lengths))
        if indexed and not self._file.has_index():
            order = self.sort_order
            self.close()
            self._build_index(order)
            self._file = self._open()

    def _open(self) -> pysam.AlignmentFile:
        with quiet_htslib():
            try:
                return pysam.AlignmentFile(
                    self.path,
                    "r",
                    check_sq=False,
                    reference_filename=self._reference,
                )
            except (OSError, ValueError) as exc:
                raise _translate(exc, self.name, self.format, reads=0) from exc

    @property
    def references(self) -> tuple[str, ...]:
        """Contig names in header order."""
        return tuple(self._lengths)

    @property
    def sort_order(self) -> str:
        """The header's ``@HD SO`` value (``"unknown"`` when absent).

        Raises
        ------
        InputError
            When pysam cannot parse the header text (e.g. a NUL byte inside a header line).
        """
        try:
            header = self._file.header.to_dict()
        except (AssertionError, ValueError, KeyError) as exc:  # pysam checks header lines with assert
            raise InputError(
                f"the {self.format.upper()} header cannot be parsed ({' '.join(str(exc).split())})",
                path=self.name,
                fix=f"Check it with: samtools view -H {self.name}",
            ) from None
        return header.get("HD", {}).get("SO", "unknown")

    @property
    def has_index(self) -> bool:
        """Whether an index (.bai/.csi/.crai) was found for region queries."""
        return self.format != "sam" and self._file.has_index()

    def length(self, chrom: str) -> int:
        """Length of a contig held in the header."""
        return self._lengths[chrom]

    def check_contig(self, chrom: str) -> None:
        """Raise :class:`MissingContigError` with close names when ``chrom`` is absent."""
        if chrom not in self._lengths:
            raise missing_contig(chrom, self.references, path=self.name, what="the file's header")

    def region(self, region: Region, *, clip: bool = True) -> tuple[str, int, int]:
        """A region as checked 0-based half-open ``(chrom, start, end)``.

        With ``clip`` the span is cut to the contig; without it, it is kept
        as given (a whole-contig string still ends at the contig end).
        """
        if isinstance(region, str):
            chrom, start, end = parse_region(region)
        elif isinstance(region, Interval):
            chrom, start, end = region.chrom, region.start, region.end
        elif isinstance(region, tuple) and len(region) == 3:
            interval = Interval(*region)
            chrom, start, end = interval.chrom, interval.start, interval.end
        else:
            raise InputError(
                f"cannot use {region!r} as a region",
                fix="Give 'chr1:101-150' (1-based), an Interval or ('chr1', 100, 150) (0-based half-open)",
            )
        self.check_contig(chrom)
        length = self._lengths[chrom]
        end = length if end is None else end
        if clip:
            start, end = min(max(start, 0), length), max(min(end, length), 0)
            end = max(start, end)
        return chrom, start, end

    def fetch(self, chrom: str, start: int, end: int) -> Iterator[pysam.AlignedSegment]:
        """Reads overlapping ``[start, end)`` (needs ``indexed=True``)."""
        if end <= start:
            return iter(())
        return self._guard(self._file.fetch(chrom, start, end))

    def all_reads(self) -> Iterator[pysam.AlignedSegment]:
        """Every record in file order, unplaced reads included."""
        return self._guard(self._file.fetch(until_eof=True))

    def _guard(self, reads) -> Iterator[pysam.AlignedSegment]:
        count = 0
        try:
            for read in reads:
                count += 1
                yield read
        except (OSError, ValueError) as exc:
            raise _translate(exc, self.name, self.format, reads=count, has_contigs=bool(self._lengths)) from exc

    def _build_index(self, order: str) -> None:
        path, name = Path(self.path), self.name
        if self.format == "sam":
            raise InputError(
                "region queries need a sorted, indexed BAM or CRAM file, and this is a SAM file",
                path=name,
                fix=f"Run: samtools sort -o {path.with_suffix('.bam')} {path} && "
                f"samtools index {path.with_suffix('.bam')}",
            )
        sort_fix = (
            f"Run: samtools sort -o {path.with_suffix('.sorted' + path.suffix)} {path} && "
            f"samtools index {path.with_suffix('.sorted' + path.suffix)}"
        )
        if order in ("unsorted", "queryname"):
            state = "not sorted" if order == "unsorted" else f"sorted by {order}"
            raise InputError(
                f"region queries need an index, and the header says the file is {state}, not by coordinate",
                path=name,
                fix=sort_fix,
            )
        if not can_write(path.parent):
            raise InputError(
                "region queries need an index (.bai/.csi/.crai) and the file has none; bioseq "
                "cannot build one because its folder is read-only",
                path=name,
                fix=f"Run: samtools index {path} (where you may write), or copy the file to a writable folder",
            )
        if self.format == "cram":
            suffix, options = ".crai", []
        elif max(self._lengths.values(), default=0) >= _CSI_MIN_LENGTH:
            suffix, options = ".csi", ["-c"]
        else:
            suffix, options = ".bai", []
        try:
            with atomic_path(str(path) + suffix) as tmp, quiet_htslib():
                pysam.index(*options, "-o", str(tmp), str(path))
        except pysam.SamtoolsError as exc:
            raise InputError(
                "region queries need an index, and samtools could not build one "
                "(the file is probably not sorted by coordinate)",
                path=name,
                fix=sort_fix,
            ) from exc

    def close(self) -> None:
        """Close the file; closing a damaged file does not raise."""
        with contextlib.suppress(OSError):
            self._file.close()

    def __enter__(self) -> AlignmentSource:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()


def _source_path(source: PathOrHandle) -> str:
    if isinstance(source, (str, os.PathLike)):
        path = os.fspath(source)
        if path == "-":
            raise InputError(
                "reading alignments from standard input ('-') is not supported",
                fix="Write them to a file and pass its path",
            )
        return path
    name = getattr(source, "name", None)
    fileno = getattr(source, "fileno", None)
    try:
        regular = callable(fileno) and stat.S_ISREG(os.fstat(fileno()).st_mode)
    except (OSError, ValueError):
        regular = False
    if not regular or not isinstance(name, str) or not os.path.isfile(name):
        raise InputError(
            "pysam reads SAM/BAM/CRAM from files on disk only, not from this stream",
            path=input_name(source),
            fix="Write the data to a file and pass its path",
        )
    return name


def _alignment_format(path: str, name: str) -> str:
    if not os.path.exists(path):
        raise MissingFileError("the file does not exist", path=name, fix="Check the path and the working directory")
    with open(path, "rb") as handle:
        bgzf = is_bgzf(handle.read(18))
        handle.seek(max(os.fstat(handle.fileno()).st_size - len(_BGZF_EOF), 0))
        if bgzf and handle.read() != _BGZF_EOF:
            raise InputError(
                "the BAM file is truncated (no EOF marker)", path=name, fix="Copy or download it again, or recreate it"
            )
    try:
        kind = sniff_format(path)
    except InputError as exc:
        if bgzf and "gzip" in exc.problem:
            raise InputError(
                "the BAM file is truncated or corrupt (a compressed block is cut short)",
                path=name,
                fix="Copy or download it again, or recreate it",
            ) from exc
        if any(word in exc.problem for word in ("empty", "compress", "gzip")):
            raise
        kind = "unknown"
    if kind not in ("sam", "bam", "cram"):
        problem = (
            "this is not a SAM, BAM or CRAM file (its format is not recognised)"
            if kind == "unknown"
            else f"this is a {kind.upper()} file, not SAM, BAM or CRAM"
        )
        raise InputError(problem, path=name, fix="Pass the alignment file (.bam, .cram or .sam)")
    return kind


def _cram_reference(reference, kind: str, name: str) -> str | None:
    if reference is None:
        if kind == "cram":
            raise InputError(
                "reading a CRAM file needs the reference FASTA it was compressed against",
                path=name,
                fix=option(
                    "reference",
                    repr("genome.fa"),
                    clause="Pass {} (indexed with samtools faidx)",
                    otherwise=f"Convert it to BAM first: samtools view -b -T genome.fa -o reads.bam {name}",
                ),
            )
        return None
    if not isinstance(reference, (str, os.PathLike)):
        raise InputError(f"reference must be the path of a FASTA file, got {type(reference).__name__}")
    if not os.path.isfile(reference):
        raise MissingFileError("the reference FASTA does not exist", path=os.fspath(reference))
    return os.fspath(reference)


@contextlib.contextmanager
def quiet_htslib() -> Iterator[None]:
    """Silence htslib's own stderr messages inside the block; bioseq raises its own errors instead.

    The verbosity in force before is restored on exit.
    """
    level = pysam.set_verbosity(0)
    try:
        yield
    finally:
        pysam.set_verbosity(level)


def _translate(exc: Exception, name: str, kind: str, *, reads: int, has_contigs: bool = True) -> InputError:
    """One InputError for pysam's terse OSError/ValueError messages."""
    text = str(exc)
    label = kind.upper()
    where = f" after {reads} reads" if reads else ""
    if "EOF marker" in text or "truncated" in text:
        if not has_contigs and kind == "sam":
            return InputError(
                "the SAM file has no @SQ header lines, so its reads cannot be placed on contigs",
                path=name,
                fix=f"Add a header from the reference index: samtools view -h -t genome.fa.fai -o fixed.sam {name}",
            )
        problem = (
            f"the {label} file is truncated (no EOF marker)"
            if "EOF marker" in text
            else f"the {label} file is truncated or corrupt{where}"
        )
        return InputError(problem, path=name, fix="Copy or download it again, or recreate it")
    if "does not contain alignment data" in text or "is it SAM/BAM" in text:
        return InputError(f"this is not a SAM, BAM or CRAM file ({text})", path=name)
    return InputError(
        f"pysam cannot read this {label} file{where}: {text}",
        path=name,
        fix=f"Check it with: samtools quickcheck -v {name}",
    )
