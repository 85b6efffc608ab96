"""Streaming VCF/BCF variant reader: one :class:`Variant` per ALT allele, checked against a genome.

Data contract
-------------
:func:`read_variants` reads VCF (plain, gzip or bgzip) and BCF with
``pysam.VariantFile`` and yields one frozen :class:`Variant` per ALT allele:
a multi-allelic record gives one variant per ALT, each keeping its 1-based
``allele`` index. Coordinates are 0-based and half-open: the VCF line
``chr1  3  .  GT  G`` becomes ``start=2``, ``end=4`` (``end = start +
len(ref)``), the bases ``fetch("chr1", 2, 4)`` of a
:class:`~bioseq.io.reference.Reference`. Alleles are upper-case ``str``.

What is skipped (each counted in :class:`VariantCounts`, never silently):

* ALTs that are not a sequence change: symbolic (``<DEL>``, ``<*>``,
  ``<NON_REF>``), breakends (``G]chr2:5]``, ``.G``), the spanning deletion
  ``*``, a missing ALT ``.``, and an ALT equal to REF;
* letters other than ``ACGTN`` in ALT; REF may also hold the IUPAC codes
  ``RYSWKMBDHV`` (some callers copy them from the genome), and, when a
  reference is given, must then match the genome letter for letter;
* with a ``reference``: a REF that differs from the genome (case-insensitive,
  so soft-masked lower case matches; ``ref_mismatch``), a contig the
  reference lacks (``unknown_contig``), and a variant outside its contig.

Contig names are kept as written (``Variant.chrom``) and resolved to the
reference's name (``Variant.contig``) through the reference's own aliases
(:meth:`Reference.resolve <bioseq.io.reference.Reference.resolve>`:
``chr1``/``1``, ``chrM``/``MT``, accession versions).

htslib's own messages are silenced; damaged input raises one
:class:`~bioseq.errors.InputError` that names the file and the line.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import re
import shutil
import tempfile
from collections.abc import Iterator

import pysam

from bioseq.errors import InputError, MissingContigError, option
from bioseq.io.alignment_source import quiet_htslib
from bioseq.io.contigs import missing_contig
from bioseq.io.handles import PathOrHandle, compression_of, input_name, open_input
from bioseq.io.reference import Reference
from bioseq.io.sniff import sniff_format

__all__ = ["Variant", "VariantCounts", "VariantReader", "read_variants"]

_MODES = ("skip", "error", "keep")
_ALT_LETTERS = re.compile(r"[ACGTN]+")
_REF_LETTERS = re.compile(r"[ACGTNRYSWKMBDHV]+")
_BCF_MAGIC = b"BCF\x02"


@dataclasses.dataclass(frozen=True)
class Variant:
    """One ALT allele of a VCF record, in 0-based half-open coordinates.

    Attributes
    ----------
    chrom : str
        The contig as written in the VCF.
    contig : str
        The reference's name for it (``chrom`` itself without a reference).
    start : int
        0-based start of REF (the VCF POS minus one).
    ref, alt : str
        The alleles, upper-case.
    id : str or None
        The ID column (``None`` for ``.``).
    allele : int
        1-based index of ``alt`` among the record's ALT alleles.
    record : int
        1-based number of the record in the file.
    line : int or None
        1-based line of the record in a text VCF (``None`` for BCF).
    """

    chrom: str
    contig: str
    start: int
    ref: str
    alt: str
    id: str | None
    allele: int
    record: int
    line: int | None

    @property
    def end(self) -> int:
        """0-based exclusive end of REF: ``start + len(ref)``."""
        return self.start + len(self.ref)

    @property
    def pos(self) -> int:
        """The 1-based VCF POS."""
        return self.start + 1

    @property
    def kind(self) -> str:
        """``"snv"``, ``"mnv"``, ``"insertion"``, ``"deletion"`` or ``"complex"``.

        Insertions and deletions keep REF (or ALT) as an anchor at either end
        (``A>AT``, ``AT>A``); other changes of length are ``"complex"``.
        """
        ref, alt = self.ref, self.alt
        if len(ref) == len(alt):
            return "snv" if len(ref) == 1 else "mnv"
        if len(ref) < len(alt):
            return "insertion" if alt.startswith(ref) or alt.endswith(ref) else "complex"
        return "deletion" if ref.startswith(alt) or ref.endswith(alt) else "complex"

    def __str__(self) -> str:
        return f"{self.chrom}:{self.pos} {self.ref}>{self.alt}"


@dataclasses.dataclass
class VariantCounts:
    """What a :class:`VariantReader` read, yielded and skipped (one count per ALT allele).

    ``alleles == yielded + skipped`` once the reader is exhausted.
    """

    records: int = 0
    alleles: int = 0
    yielded: int = 0
    missing_alt: int = 0
    symbolic: int = 0
    breakend: int = 0
    spanning_deletion: int = 0
    same_as_ref: int = 0
    bad_letters: int = 0
    unknown_contig: int = 0
    outside_contig: int = 0
    ref_mismatch: int = 0
    kept_mismatch: int = 0  # with ref_mismatch="keep": yielded although REF differs

    _REASONS = (
        ("missing_alt", "missing ALT"),
        ("symbolic", "symbolic"),
        ("breakend", "breakend"),
        ("spanning_deletion", "'*' spanning deletion"),
        ("same_as_ref", "ALT equal to REF"),
        ("bad_letters", "not ACGTN"),
        ("unknown_contig", "contig not in the reference"),
        ("outside_contig", "outside the contig"),
        ("ref_mismatch", "REF differs from the genome"),
    )

    @property
    def skipped(self) -> int:
        """Alleles skipped for any reason."""
        return sum(getattr(self, name) for name, _ in self._REASONS)

    def summary(self) -> str:
        """One line: what was read, yielded and skipped, e.g. for a command's log."""
        text = f"{self.records:,} records, {self.alleles:,} ALT alleles: {self.yielded:,} variants"
        reasons = [f"{getattr(self, name):,} {label}" for name, label in self._REASONS if getattr(self, name)]
        if reasons:
            text += f"; skipped {self.skipped:,} (" + ", ".join(reasons) + ")"
        if self.kept_mismatch:
            text += f"; kept {self.kept_mismatch:,} whose REF differs from the genome"
        return text


class VariantReader:
    """Iterate over the variants of a VCF/BCF file; :attr:`counts` says what was skipped.

    Parameters are those of :func:`read_variants`. Use it as a context
    manager, or iterate it to the end (which closes the file). It can be
    iterated once.
    """

    def __init__(
        self,
        source: PathOrHandle,
        *,
        reference: Reference | str | os.PathLike | None = None,
        ref_mismatch: str = "skip",
        unknown_contig: str = "skip",
    ) -> None:
        if ref_mismatch not in _MODES:
            raise InputError(f"ref_mismatch must be 'skip', 'error' or 'keep', got {ref_mismatch!r}")
        if unknown_contig not in ("skip", "error"):
            raise InputError(f"unknown_contig must be 'skip' or 'error', got {unknown_contig!r}")
        self.name = input_name(source)
        self.counts = VariantCounts()
        self._ref_mismatch, self._unknown_contig = ref_mismatch, unknown_contig
        self._stack = contextlib.ExitStack()
        try:
            self.path = self._stack.enter_context(_on_disk(source))
            self._text, self._header_lines = _check_vcf(self.path, self.name)
            self._reference = _open_reference(reference, self._stack)
            self._contigs: dict[str, str | None] = {}
            self._file = self._stack.enter_context(_open_vcf(self.path, self.name))
        except BaseException:
            self._stack.close()
            raise

    def __iter__(self) -> Iterator[Variant]:
        try:
            yield from self._variants()
        finally:
            self.close()

    def _variants(self) -> Iterator[Variant]:
        records = iter(self._file)
        while True:
            with quiet_htslib():
                try:
                    rec = next(records)
                except StopIteration:
                    return
                except (OSError, ValueError) as exc:
                    raise self._damaged(exc) from exc
            self.counts.records += 1
            number = self.counts.records
            line = self._header_lines + number if self._text else None
            alts = rec.alts or (".",)
            for index, alt in enumerate(alts, start=1):
                self.counts.alleles += 1
                variant = self._variant(rec, alt.upper(), index, number, line)
                if variant is not None:
                    self.counts.yielded += 1
                    yield variant

    def _variant(self, rec, alt: str, index: int, number: int, line: int | None) -> Variant | None:
        ref = (rec.ref or "").upper()
        reason = _skip_reason(ref, alt)
        if reason is not None:
            setattr(self.counts, reason, getattr(self.counts, reason) + 1)
            return None
        variant = Variant(rec.chrom, rec.chrom, rec.start, ref, alt, rec.id, index, number, line)
        if self._reference is None:
            return variant
        return self._checked(variant)

    def _checked(self, variant: Variant) -> Variant | None:
        contig = self._contig(variant)
        if contig is None:
            self.counts.unknown_contig += 1
            return None
        length = self._reference.length(contig)
        if variant.start < 0 or variant.end > length:
            self.counts.outside_contig += 1
            return None
        genome = self._reference.fetch(contig, variant.start, variant.end).upper()
        if genome != variant.ref:
            if self._ref_mismatch == "error":
                raise self._mismatch(variant, contig, genome)
            if self._ref_mismatch == "skip":
                self.counts.ref_mismatch += 1
                return None
            self.counts.kept_mismatch += 1
        return dataclasses.replace(variant, contig=contig)

    def _contig(self, variant: Variant) -> str | None:
        chrom = variant.chrom
        if chrom not in self._contigs:
            try:
                self._contigs[chrom] = self._reference.resolve(chrom)
            except MissingContigError:
                if self._unknown_contig == "error":
                    raise self._unknown(variant) from None
                self._contigs[chrom] = None
        return self._contigs[chrom]

    def _unknown(self, variant: Variant) -> MissingContigError:
        hint = missing_contig(variant.chrom, self._reference.references, path=None, what="the reference")
        return MissingContigError(
            f"variant {variant} is on contig {variant.chrom!r}, which the reference {self._reference.path} lacks",
            path=self.name,
            line=variant.line,
            record=None if variant.line else f"record {variant.record}",
            fix=f"{hint.fix}. Or pass {option('unknown_contig', repr('skip'))} to skip such variants",
        )

    def _mismatch(self, variant: Variant, contig: str, genome: str) -> InputError:
        return InputError(
            f"variant {variant}: REF {variant.ref!r} differs from the genome, which has {genome!r} at "
            f"{contig}:{variant.start}-{variant.end} (0-based, half-open) in {self._reference.path}",
            path=self.name,
            line=variant.line,
            record=None if variant.line else f"record {variant.record}",
            fix="Check that the VCF was called against this genome assembly, or pass "
            f"{option('ref_mismatch', repr('skip'))} to skip such variants",
        )

    def _damaged(self, exc: Exception) -> InputError:
        line = self._header_lines + self.counts.records + 1
        if self._text:
            text = _line_text(self.path, self.name, line)  # raises the gzip error when the file is cut
            if text is not None:
                shown = " | ".join(text.rstrip("\r\n").split("\t")[:5])[:120]
                return InputError(
                    f"cannot parse this VCF record ({shown})",
                    path=self.name,
                    line=line,
                    fix="POS must be a positive integer and the columns separated by tabs; "
                    f"check it with: bcftools view {self.name} > /dev/null",
                )
        return InputError(
            f"the {'VCF' if self._text else 'BCF'} file is truncated or corrupt after record "
            f"{self.counts.records} ({' '.join(str(exc).split())})",
            path=self.name,
            fix="Copy or download it again, or recreate it",
        )

    def close(self) -> None:
        """Close the file (and a reference opened here)."""
        self._stack.close()

    def __enter__(self) -> VariantReader:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()


def read_variants(
    source: PathOrHandle,
    *,
    reference: Reference | str | os.PathLike | None = None,
    ref_mismatch: str = "skip",
    unknown_contig: str = "skip",
) -> VariantReader:
    """Read the variants of a VCF (plain, gzip, bgzip) or BCF file, one per ALT allele.

    Parameters
    ----------
    source : str, os.PathLike or file object
        The VCF/BCF. A handle that is not a file on disk (a pipe, ``BytesIO``)
        is copied to a temporary file first: htslib reads files.
    reference : Reference, str or os.PathLike, optional
        The genome to check REF against and resolve contig aliases with; a
        path is opened (and closed) here.
    ref_mismatch : {"skip", "error", "keep"}, default "skip"
        A REF that differs from the genome (case-insensitive): count and
        skip it, raise, or yield it anyway (counted as ``kept_mismatch``).
    unknown_contig : {"skip", "error"}, default "skip"
        A variant on a contig the reference lacks: count and skip it, or raise.

    Returns
    -------
    VariantReader
        Iterable of :class:`Variant`, 0-based half-open, in file order; its
        ``counts`` (:class:`VariantCounts`) say what was skipped and why.

    Raises
    ------
    MissingFileError
        The file does not exist.
    InputError
        The file is not VCF/BCF (e.g. FASTA or BED), has no ``#CHROM`` line,
        holds a record that cannot be parsed (a bad POS) or is truncated;
        a REF mismatch with ``ref_mismatch="error"``.
    MissingContigError
        A contig the reference lacks, with ``unknown_contig="error"``.

    Examples
    --------
    >>> reader = read_variants("calls.vcf.gz", reference="genome.fa")  # doctest: +SKIP
    >>> [v.kind for v in reader], reader.counts.summary()              # doctest: +SKIP
    """
    return VariantReader(source, reference=reference, ref_mismatch=ref_mismatch, unknown_contig=unknown_contig)


def _skip_reason(ref: str, alt: str) -> str | None:
    """The :class:`VariantCounts` field an allele is skipped under, or None to keep it."""
    if alt == ".":
        return "missing_alt"
    if alt.startswith("<"):
        return "symbolic"
    if "[" in alt or "]" in alt or alt.startswith(".") or alt.endswith("."):
        return "breakend"
    if alt == "*":
        return "spanning_deletion"
    if not _ALT_LETTERS.fullmatch(alt) or not _REF_LETTERS.fullmatch(ref):
        return "bad_letters"
    if alt == ref:
        return "same_as_ref"
    return None


@contextlib.contextmanager
def _on_disk(source: PathOrHandle) -> Iterator[str]:
    """A path htslib can open: the file itself, or a temporary, decompressed copy.

    The copy is made for a stream that is not a file on disk and for plain
    (not bgzip) gzip, in which htslib cannot seek.
    """
    if isinstance(source, (str, os.PathLike)):
        path = os.fspath(source)
    else:
        name = getattr(source, "name", None)
        at_start = getattr(source, "tell", lambda: 0)() == 0
        path = name if isinstance(name, str) and os.path.isfile(name) and at_start else None
    if path is not None and not _plain_gzip(path):
        yield path
        return
    with tempfile.TemporaryDirectory(prefix="bioseq-vcf-") as folder:
        copy = os.path.join(folder, "input.vcf")
        with open_input(source) as stream, open(copy, "wb") as out:  # a truncated gzip raises here
            shutil.copyfileobj(stream, out)
        yield copy


def _plain_gzip(path: str) -> bool:
    if not os.path.isfile(path):
        return False  # open_input names the problem
    with open(path, "rb") as handle:
        return compression_of(handle.read(32)) == "gzip"


def _check_vcf(path: str, name: str) -> tuple[bool, int]:
    """``(is_text, header_lines)`` of a VCF/BCF; raises when it is something else or has no ``#CHROM``."""
    with open_input(path) as stream:  # MissingFileError, unreadable gzip
        head = stream.peek(1 << 16)[: 1 << 16]
        if head.startswith(_BCF_MAGIC):
            return False, 0
        if not head.startswith(b"##fileformat=VCF"):
            raise _not_vcf(path, name, head)
        lines = 0
        for raw in stream:
            if not raw.startswith(b"#"):
                break
            lines += 1
            if raw.startswith(b"#CHROM"):
                return True, lines
    raise InputError(
        "the VCF header has no '#CHROM POS ID REF ALT ...' line",
        path=name,
        line=lines + 1,
        fix="Add the column header line after the '##' lines (tab-separated), e.g. with: bcftools view",
    )


def _not_vcf(path: str, name: str, head: bytes) -> InputError:
    if not head.strip():
        return InputError("the file is empty", path=name, fix="Check that it was written completely")
    try:
        kind = sniff_format(path)
    except InputError:
        kind = None
    what = f"this is a {kind.upper()} file, not VCF or BCF" if kind else "this is not a VCF or BCF file"
    return InputError(
        f"{what} (a VCF starts with '##fileformat=VCF')",
        path=name,
        line=1,
        fix="Pass the variant file (.vcf, .vcf.gz or .bcf)",
    )


def _open_reference(reference, stack: contextlib.ExitStack) -> Reference | None:
    if reference is None or isinstance(reference, Reference):
        return reference
    if not isinstance(reference, (str, os.PathLike)):
        raise InputError(f"reference must be a Reference or a FASTA path, got {type(reference).__name__}")
    return stack.enter_context(Reference(reference))


@contextlib.contextmanager
def _open_vcf(path: str, name: str) -> Iterator[pysam.VariantFile]:
    with quiet_htslib():
        try:
            vcf = pysam.VariantFile(path)
        except (OSError, ValueError) as exc:
            raise InputError(
                f"pysam cannot read this VCF/BCF file ({' '.join(str(exc).split())})",
                path=name,
                fix=f"Check it with: bcftools view -h {name}",
            ) from exc
    try:
        yield vcf
    finally:
        with contextlib.suppress(OSError):
            vcf.close()


def _line_text(path: str, name: str, number: int) -> str | None:
    """The text of 1-based line ``number`` of a (possibly gzipped) text file, None past its end."""
    with open_input(path) as stream:
        for i, raw in enumerate(stream, start=1):
            if i == number:
                return raw.decode("utf-8", "replace")
    return None
