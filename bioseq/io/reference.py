"""Indexed access to reference genomes (plain or bgzip-compressed FASTA, or GenBank/EMBL).

Coordinates are 0-based and half-open everywhere: ``fetch("chr1", 10, 20)``
returns the ten bases that the 1-based, inclusive region ``chr1:11-20``
names. Windows that hang off either end of a contig (``start < 0`` or
``end > length``) are padded with N, never shortened, so a window of width
``w`` always has ``w`` bases.

Data contract
-------------
:meth:`Reference.fetch` returns a ``str`` (case as in the file unless
``soft_mask="upper"``); :meth:`Reference.fetch_codes` returns ``(L,)`` uint8
codes of :mod:`bioseq.alphabet` (padding past the ends is N, not PAD);
:meth:`Reference.windows` returns ``(N, width)`` uint8 codes.

The ``.fai`` index (and ``.gzi`` for bgzip) is built on first use, next to the
FASTA when its directory is writable and in the cache directory otherwise
(see :mod:`bioseq.io.reference_cache`). With ``cache=`` each contig is encoded
once to a memory-mapped ``.u8`` file, the fast path for training.
A GenBank or EMBL file (plain or gzip, told from its first line) is read
once into an indexed, upper-case FASTA in the cache directory
(:func:`~bioseq.io.reference_cache.genbank_fasta`); its contigs are the
records' accessions with version, and their LOCUS/ID names resolve as aliases.
A :class:`Reference` holds a pysam handle: use one per thread; it pickles
(re-opening on load), so DataLoader worker processes each get their own.
"""

from __future__ import annotations

import operator
import os
from pathlib import Path

import numpy as np
import pysam

from bioseq.alphabet import ASCII_TO_CODE_BYTES, COMPLEMENT, INVALID
from bioseq.errors import InputError, MissingFileError
from bioseq.io.contigs import ContigAliases, missing_contig
from bioseq.io.faidx import open_faidx
from bioseq.io.genbank import genbank_format
from bioseq.io.interval import Interval, parse_region
from bioseq.io.reference_cache import (
    CodeCache,
    bad_sequence_error,
    cache_root,
    default_cache_root,
    entry_dir,
    gather_windows,
    genbank_fasta,
    index_mismatch_error,
    slice_padded,
)

__all__ = ["Reference"]

_STRANDS = ("+", "-", ".")
_SOFT_MASK = ("keep", "upper")
_RC = str.maketrans("ACGTUNRYSWKMBDHVacgtunryswkmbdhv", "TGCAANYRSWMKVHDBtgcaanyrswmkvhdb")


class Reference:
    """A reference genome with random access by contig and 0-based half-open coordinates.

    Parameters
    ----------
    path : str or os.PathLike
        Plain or bgzip-compressed FASTA. The ``.fai`` (and ``.gzi``) index is
        built when missing or older than the FASTA. Or a GenBank/EMBL file
        (plain or gzip), whose sequences are written once to an indexed FASTA
        under the cache root (``cache=`` if given, else as for ``cache=True``).
    cache : bool, str or os.PathLike, optional
        Memory-mapped uint8 code arrays for :meth:`fetch_codes` and
        :meth:`windows`: ``True`` uses ``.bioseqcache`` beside the FASTA if
        that directory is writable, else ``$XDG_CACHE_HOME/bioseq`` or
        ``~/.cache/bioseq``; a directory uses that directory; ``None`` or
        ``False`` reads through the index every time.
    soft_mask : {"keep", "upper"}, default "keep"
        ``"keep"`` returns lower-case (soft-masked) letters as in the file,
        ``"upper"`` upper-cases them. Codes ignore case either way.
    aliases : bool, default True
        Resolve a missing name to its alias (``chr1`` <-> ``1``,
        ``chrM`` <-> ``MT`` <-> ``M``, ``chrX`` <-> ``X``, ``NC_001422`` <->
        ``NC_001422.1``, and a GenBank/EMBL record's LOCUS/ID name).

    Raises
    ------
    MissingFileError
        The FASTA does not exist.
    InputError
        The file is plain gzip (not bgzip), not FASTA, or malformed so that it
        cannot be indexed; the message names the line and the fix. For
        GenBank/EMBL: as :func:`bioseq.io.genbank.read_genbank`, and a record
        without sequence or with a letter that is not a nucleotide.

    Examples
    --------
    >>> with Reference("genome.fa") as ref:              # doctest: +SKIP
    ...     ref.fetch("chr1", 10, 20) == ref.fetch_region("chr1:11-20")
    True
    """

    def __init__(
        self,
        path: str | os.PathLike,
        *,
        cache: bool | str | os.PathLike | None = None,
        soft_mask: str = "keep",
        aliases: bool = True,
    ) -> None:
        if not isinstance(path, (str, os.PathLike)):
            raise InputError(
                f"Reference needs a file path, got {type(path).__name__}",
                fix="Indexed access cannot read from a stream; save the FASTA to a file",
            )
        if soft_mask not in _SOFT_MASK:
            raise InputError(f"soft_mask must be 'keep' or 'upper', got {soft_mask!r}")
        if not isinstance(aliases, bool):
            raise InputError(f"aliases must be True or False, got {aliases!r}")
        self._name = os.fspath(path)
        fasta = Path(path).absolute()
        if not fasta.exists():
            raise MissingFileError(
                "the FASTA file does not exist", path=self._name, fix="Check the path and the working directory"
            )
        if fasta.is_dir():
            raise InputError("this is a directory, not a FASTA file", path=self._name)
        self._source_path = fasta
        self._cache_root = cache_root(cache, fasta)
        self._soft_mask = soft_mask
        self._use_aliases = aliases
        names: dict[str, str] = {}
        if genbank_format(fasta) is not None:
            fasta, names = genbank_fasta(fasta, self._name, self._cache_root or default_cache_root(fasta))
        self._fasta_path = fasta
        self._fasta: pysam.FastaFile | None = open_faidx(fasta, self._name, self._cache_root)
        self._references = tuple(self._fasta.references)
        self._lengths = tuple(int(x) for x in self._fasta.lengths)
        self._number = {name: i for i, name in enumerate(self._references)}
        self._aliases = ContigAliases(self._references, extra=names) if aliases else None
        self._codes = None
        if self._cache_root is not None:
            self._codes = CodeCache(entry_dir(self._cache_root, fasta), self._name, self._read)

    # -- names and sizes -------------------------------------------------------------

    @property
    def path(self) -> str:
        """The FASTA (or GenBank/EMBL) path as given."""
        return self._name

    @property
    def references(self) -> tuple[str, ...]:
        """Contig names in file order."""
        return self._references

    @property
    def lengths(self) -> tuple[int, ...]:
        """Contig lengths, in the order of :attr:`references`."""
        return self._lengths

    def __len__(self) -> int:
        return len(self._references)

    def __contains__(self, name: object) -> bool:
        if not isinstance(name, str):
            return False
        return name in self._number or (self._aliases is not None and self._aliases.resolve(name) is not None)

    def resolve(self, name: str) -> str:
        """The contig name in this reference for ``name``, following aliases.

        Raises
        ------
        MissingContigError
            When neither ``name`` nor a unique alias of it is a contig; the
            message lists the closest names and the number of contigs.
        """
        if not isinstance(name, str):
            raise InputError(f"contig name must be a string, got {name!r}")
        if name in self._number:
            return name
        found = self._aliases.resolve(name) if self._aliases is not None else None
        if found is None:
            raise missing_contig(name, self._references, path=self._name, what="the reference")
        return found

    def length(self, chrom: str) -> int:
        """Length of a contig (alias-aware)."""
        return self._lengths[self._number[self.resolve(chrom)]]

    # -- sequence access -------------------------------------------------------------

    def fetch(self, chrom: str, start: int = 0, end: int | None = None, *, strand: str = "+") -> str:
        """Sequence of ``chrom[start:end]`` (0-based, half-open), N-padded past the ends.

        Parameters
        ----------
        chrom : str
            Contig name (aliases resolve, see :meth:`resolve`).
        start : int, default 0
            0-based start; may be negative (padded with N).
        end : int, optional
            0-based exclusive end, ``>= start``; may exceed the contig length
            (padded with N). Default: the contig end.
        strand : {"+", "-", "."}, default "+"
            ``"-"`` returns the reverse complement (IUPAC-aware, case kept).

        Returns
        -------
        str
            Exactly ``end - start`` characters.

        Raises
        ------
        MissingContigError
            Unknown contig.
        InputError
            Non-integer coordinates, ``start > end``, a bad strand, or a
            sequence line holding whitespace (a malformed FASTA).
        """
        name, start, end, length = self._window(chrom, start, end)
        if strand not in _STRANDS:
            _check_strand(strand)
        left = min(max(-start, 0), end - start)
        right = min(max(end - length, 0), end - start - left)
        want = end - start - left - right
        seq = self._read(name, start + left, end - right) if want else ""
        if len(seq) != want:
            raise index_mismatch_error(self._name, name, start + left, len(seq), want)
        if " " in seq or "\n" in seq or "\t" in seq or "\r" in seq:
            _raise_whitespace(seq, self._name, name, start + left)
        if self._soft_mask == "upper":
            seq = seq.upper()
        if left or right:
            seq = "N" * left + seq + "N" * right
        return seq.translate(_RC)[::-1] if strand == "-" else seq

    def fetch_codes(self, chrom: str, start: int = 0, end: int | None = None, *, strand: str = "+") -> np.ndarray:
        """uint8 codes of ``chrom[start:end]`` (0-based, half-open), N-padded past the ends.

        Same arguments as :meth:`fetch`. With ``cache=`` this slices the
        memory-mapped contig.

        Returns
        -------
        numpy.ndarray, shape ``(end - start,)``, dtype uint8

        Raises
        ------
        MissingContigError
            Unknown contig.
        InputError
            Bad arguments, or a character that is not a nucleotide letter.
        """
        name, start, end, length = self._window(chrom, start, end)
        _check_strand(strand)
        if self._codes is not None:
            codes = slice_padded(self._contig_codes(name), start, end)
        else:
            lo, hi = max(start, 0), min(end, length)
            inner = self._encode(name, lo, hi) if lo < hi else np.zeros(0, np.uint8)
            codes = slice_padded(inner, start - lo, end - lo)
        return COMPLEMENT[codes[::-1]] if strand == "-" else codes

    def fetch_interval(self, interval: Interval) -> str:
        """Sequence of an :class:`~bioseq.io.interval.Interval` on its strand ('.' reads as '+')."""
        if not isinstance(interval, Interval):
            raise InputError(f"expected an Interval, got {type(interval).__name__}")
        strand = "-" if interval.strand == "-" else "+"
        return self.fetch(interval.chrom, interval.start, interval.end, strand=strand)

    def fetch_region(self, region: str) -> str:
        """Sequence of a 1-based inclusive region string, exactly as ``samtools faidx`` gives it.

        ``"chr1:11-20"`` is ``fetch("chr1", 10, 20)``. As in samtools, a
        region that runs past the contig end is cut at the end (use
        :meth:`fetch` for N-padded windows), and a name that is itself a
        contig (even one holding ``:``) means the whole contig.

        Raises
        ------
        InputError
            A string that is not a region (see :func:`~bioseq.io.interval.parse_region`).
        MissingContigError
            Unknown contig.
        """
        if isinstance(region, str) and region in self._number:
            return self.fetch(region)
        chrom, start, end = parse_region(region)
        length = self.length(chrom)
        end = length if end is None else min(end, length)
        return self.fetch(chrom, min(start, end), end)

    def windows(self, chroms, starts, width: int, *, strands=None) -> np.ndarray:
        """Gather many equal-width windows as codes (the fast path for training).

        Parameters
        ----------
        chroms : str or sequence of str, shape ``(N,)``
            One contig for all windows, or one per window.
        starts : array-like of int, shape ``(N,)``
            0-based starts; windows past the contig ends are N-padded.
        width : int
            Window width, >= 1.
        strands : str or sequence of {"+", "-", "."}, shape ``(N,)``, optional
            Rows on ``"-"`` are reverse-complemented. Default: all ``"+"``.

        Returns
        -------
        numpy.ndarray, shape ``(N, width)``, dtype uint8
            Row ``i`` equals ``fetch_codes(chroms[i], starts[i], starts[i] + width,
            strand=strands[i])``.

        Raises
        ------
        MissingContigError
            Unknown contig.
        InputError
            Mismatched lengths, non-integer starts, bad width or strand.
        """
        starts = _int_array(starts, "starts")
        width = _coordinate(width, "width")
        if width < 1:
            raise InputError(f"width must be >= 1, got {width}")
        minus = _minus_mask(strands, starts.shape[0])
        out = np.empty((starts.shape[0], width), dtype=np.uint8)
        for name, rows in self._group(chroms, starts.shape[0]):
            if self._codes is None:
                for i in rows.tolist():
                    out[i] = self.fetch_codes(name, int(starts[i]), int(starts[i]) + width)
            else:
                out[rows] = gather_windows(self._contig_codes(name), starts[rows], width)
        if minus.any():
            out[minus] = COMPLEMENT[out[minus, ::-1]]
        return out

    # -- life cycle ------------------------------------------------------------------

    def close(self) -> None:
        """Close the FASTA handle and drop the memory maps."""
        if self._fasta is not None:
            self._fasta.close()
            self._fasta = None
        if self._codes is not None:
            self._codes.close()

    def __enter__(self) -> Reference:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __getstate__(self) -> dict:
        cache = None if self._codes is None else self._cache_root
        return {
            "path": self._source_path,
            "name": self._name,
            "cache": cache,
            "soft_mask": self._soft_mask,
            "aliases": self._use_aliases,
        }

    def __setstate__(self, state: dict) -> None:
        self.__init__(state["path"], cache=state["cache"], soft_mask=state["soft_mask"], aliases=state["aliases"])
        self._name = state["name"]

    def __repr__(self) -> str:
        return f"Reference({self._name!r}, {len(self)} contigs, {sum(self._lengths):,} bp)"

    # -- internals -------------------------------------------------------------------

    def _handle(self) -> pysam.FastaFile:
        if self._fasta is None:
            raise InputError(
                "the reference is closed",
                path=self._name,
                fix="Open a new Reference, or use it inside its 'with' block",
            )
        return self._fasta

    def _read(self, name: str, start: int, end: int) -> str:
        if self._fasta is None:
            self._handle()  # raises: closed
        try:
            return self._fasta.fetch(name, start, end)
        except (OSError, ValueError) as exc:  # htslib read past the data the index promised
            raise InputError(
                f"cannot read bases {start + 1}-{end} ({exc}); the .fai index does not match the file",
                path=self._name,
                record=name,
                fix="Delete the .fai (and .gzi) file so that bioseq rebuilds it",
            ) from exc

    def _encode(self, name: str, start: int, end: int) -> np.ndarray:
        raw = self._read(name, start, end).encode("latin-1", "replace")
        codes = raw.translate(ASCII_TO_CODE_BYTES)
        if len(codes) != end - start or INVALID in codes:
            raise bad_sequence_error(self._name, name, start, raw, codes, end - start)
        return np.frombuffer(codes, dtype=np.uint8)

    def _contig_codes(self, name: str) -> np.ndarray:
        number = self._number[name]
        self._handle()
        return self._codes.contig(number, name, self._lengths[number])

    def _window(self, chrom: str, start, end) -> tuple[str, int, int, int]:
        """Checked ``(contig, start, end, contig length)``."""
        name = chrom if type(chrom) is str and chrom in self._number else self.resolve(chrom)
        length = self._lengths[self._number[name]]
        start = start if type(start) is int else _coordinate(start, "start")
        end = length if end is None else end if type(end) is int else _coordinate(end, "end")
        if start > end:
            raise InputError(
                f"start {start} is after end {end} on {name}",
                fix="Coordinates are 0-based half-open: start <= end",
            )
        return name, start, end, length

    def _group(self, chroms, n: int):
        """Yield ``(contig, row indices)`` for each contig named in ``chroms``."""
        if isinstance(chroms, str):
            yield self.resolve(chroms), np.arange(n)
            return
        names = np.asarray(chroms)
        if names.shape != (n,):
            raise InputError(
                f"chroms has shape {names.shape} but starts has {n} entries",
                fix="Pass one contig name per start, or a single name",
            )
        if n == 0:
            return
        if names.dtype.kind not in "UO":
            raise InputError(f"chroms must hold contig names (strings), got {names.dtype} values")
        unique, inverse = np.unique(names, return_inverse=True)
        order = np.argsort(inverse, kind="stable")
        bounds = np.cumsum(np.bincount(inverse, minlength=unique.size))[:-1]
        for name, rows in zip(unique.tolist(), np.split(order, bounds)):
            yield self.resolve(name), rows


def _coordinate(value, what: str) -> int:
    if isinstance(value, (bool, np.bool_)):
        raise InputError(f"{what} must be an integer, got {value!r}")
    try:
        return operator.index(value)
    except TypeError:
        raise InputError(
            f"{what} must be an integer, got {value!r}", fix="Coordinates are 0-based integers; convert with int()"
        ) from None


def _int_array(values, what: str) -> np.ndarray:
    array = np.asarray(values)
    if array.ndim != 1 or not (np.issubdtype(array.dtype, np.integer) or array.size == 0):
        raise InputError(
            f"{what} must be a 1-D array of integers, got {array.dtype} of shape {array.shape}",
            fix="Coordinates are 0-based integers; convert with np.asarray(x, dtype=np.int64)",
        )
    return array.astype(np.int64, copy=False)


def _check_strand(strand: str) -> None:
    if strand not in _STRANDS:
        raise InputError(f"strand must be '+', '-' or '.', got {strand!r}")


def _minus_mask(strands, n: int) -> np.ndarray:
    if strands is None:
        return np.zeros(n, dtype=bool)
    if isinstance(strands, str):
        _check_strand(strands)
        return np.full(n, strands == "-")
    array = np.asarray(strands)
    if array.shape != (n,):
        raise InputError(f"strands has shape {array.shape} but starts has {n} entries")
    bad = ~np.isin(array, _STRANDS)
    if bad.any():
        _check_strand(array[np.flatnonzero(bad)[0]].item())
    return array == "-"


def _raise_whitespace(seq: str, path: str, contig: str, offset: int) -> None:
    """Raise for whitespace that htslib returned as if it were bases."""
    i = min(i for i in map(seq.find, " \t\r\n") if i >= 0)
    position = f"position {offset + i + 1} (1-based)"
    if seq[i] in "\r\n":
        raise InputError(
            f"a line end at {position} where the index expects a base; the .fai index does not match the file",
            path=path,
            record=contig,
            fix="Delete the .fai (and .gzi) file so that bioseq rebuilds it",
        )
    raise InputError(
        f"character {seq[i]!r} at {position} is inside a sequence line, so the index positions are wrong",
        path=path,
        record=contig,
        fix="Remove whitespace from sequence lines, e.g. 'seqkit seq -w 60 in.fa > out.fa'",
    )
