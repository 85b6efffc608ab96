"""Files bioseq keeps for a reference: the cache directory and uint8 code arrays.

Used by :class:`bioseq.io.reference.Reference` (the index itself is
:mod:`bioseq.io.faidx`). With ``cache=`` each contig is encoded once to a ``.u8`` file (one byte per
base, the codes of :mod:`bioseq.alphabet`) and then memory-mapped read-only,
so training-time window extraction is a slice or a fancy index into the page
cache rather than a FASTA parse.

Layout: ``<cache root>/<fasta name>-<key>/<contig number>.u8``, where ``key``
hashes the FASTA's absolute path, size and modification time: a changed
FASTA gets a new directory and never reads stale codes. Files are written
atomically (:func:`bioseq.io.handles.atomic_output`), so concurrent processes
or an interrupted run never leave a partial array.

A GenBank/EMBL genome is read through an indexed FASTA of its sequences
(:func:`genbank_fasta`): ``<cache root>/<file name>-<key>/`` holds
``<stem>.fa``, its ``.fai`` and ``names.tsv`` (contig, LOCUS/ID name, length,
topology), written as one directory (:func:`bioseq.io.atomic.atomic_directory`),
so the flat file is parsed once per version and every later open, pickled
copy or DataLoader worker reuses the indexed FASTA.

Coordinates are 0-based, half-open. Positions outside a contig read as N.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from pathlib import Path

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from bioseq.alphabet import ASCII_TO_CODE_BYTES, INVALID, N
from bioseq.errors import InputError, option
from bioseq.io.handles import atomic_directory, atomic_output, can_write

__all__ = [
    "cache_root",
    "cache_key",
    "user_cache_root",
    "default_cache_root",
    "entry_dir",
    "gather_windows",
    "slice_padded",
    "CodeCache",
    "genbank_fasta",
    "bad_sequence_error",
    "index_mismatch_error",
]

_CHUNK = 1 << 23  # bases encoded per step: bounds memory while a contig is cached
_FASTA_WIDTH = 60  # bases per line of the FASTA written for a GenBank/EMBL genome


# -- cache locations ------------------------------------------------------------------


def cache_root(cache, fasta: Path) -> Path | None:
    """The cache root directory that a ``cache=`` argument names (None: no cache)."""
    if cache is None or cache is False:
        return None
    if cache is True:
        return default_cache_root(fasta)
    if isinstance(cache, (str, os.PathLike)):
        return Path(cache)
    raise InputError(f"cache must be True, None or a directory, got {cache!r}")


def cache_key(fasta: Path) -> str:
    """A 16-hex-digit key of the FASTA's absolute path, size and mtime."""
    stat = fasta.stat()
    text = f"{fasta.resolve()}\0{stat.st_size}\0{stat.st_mtime_ns}"
    return hashlib.sha256(text.encode("utf-8", "surrogateescape")).hexdigest()[:16]


def user_cache_root() -> Path:
    """``$XDG_CACHE_HOME/bioseq``, else ``~/.cache/bioseq``."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "bioseq"


def default_cache_root(fasta: Path) -> Path:
    """``.bioseqcache`` beside the FASTA if that directory is writable, else :func:`user_cache_root`."""
    return fasta.parent / ".bioseqcache" if can_write(fasta.parent) else user_cache_root()


def entry_dir(root: Path, fasta: Path) -> Path:
    """The directory under ``root`` that holds the files of this version of ``fasta``."""
    return Path(root) / f"{fasta.name}-{cache_key(fasta)}"


def slice_padded(codes: np.ndarray, start: int, end: int) -> np.ndarray:
    """Copy ``codes[start:end]``, filling positions outside ``0..len(codes)`` with N.

    Returns
    -------
    numpy.ndarray, shape ``(end - start,)``, dtype uint8
    """
    out = np.full(end - start, N, dtype=np.uint8)
    lo, hi = max(start, 0), min(end, codes.shape[0])
    if lo < hi:
        out[lo - start : hi - start] = codes[lo:hi]
    return out


def gather_windows(codes: np.ndarray, starts: np.ndarray, width: int) -> np.ndarray:
    """Gather windows ``codes[s:s + width]`` for many starts at once.

    Parameters
    ----------
    codes : numpy.ndarray, shape ``(L,)``, dtype uint8
        One contig (typically a read-only memmap).
    starts : numpy.ndarray, shape ``(n,)``, dtype int64
        0-based starts; may be negative or run past ``L``.
    width : int
        Window width, >= 1.

    Returns
    -------
    numpy.ndarray, shape ``(n, width)``, dtype uint8
        Positions outside the contig are N.
    """
    length = codes.shape[0]
    inside = (starts >= 0) & (starts <= length - width)
    if starts.size and inside.all():
        return sliding_window_view(codes, width)[starts]
    out = np.full((starts.shape[0], width), N, dtype=np.uint8)
    if inside.any():
        out[inside] = sliding_window_view(codes, width)[starts[inside]]
    edge = np.flatnonzero(~inside & (starts < length) & (starts + width > 0))
    if edge.size and length:
        pos = starts[edge, None] + np.arange(width)  # (n_edge, width)
        valid = (pos >= 0) & (pos < length)
        out[edge] = np.where(valid, codes[np.clip(pos, 0, length - 1)], N)
    return out


class CodeCache:
    """Memory-mapped uint8 codes of the contigs of one FASTA.

    Parameters
    ----------
    directory : pathlib.Path
        The cache entry (see :func:`entry_dir`); created on first write.
    fasta_name : str
        The FASTA's path, for error messages.
    read : callable ``(contig, start, end) -> str``
        Reads raw sequence from the indexed FASTA.
    """

    def __init__(self, directory: Path, fasta_name: str, read: Callable[[str, int, int], str]) -> None:
        self.directory = Path(directory)
        self._fasta_name = fasta_name
        self._read = read
        self._maps: dict[str, np.ndarray] = {}

    def contig(self, number: int, name: str, length: int) -> np.ndarray:
        """The codes of one contig, encoding it to disk on first use.

        Returns
        -------
        numpy.ndarray, shape ``(length,)``, dtype uint8, read-only

        Raises
        ------
        InputError
            When the contig holds a character that is not a nucleotide letter,
            or the cache directory cannot be written.
        """
        codes = self._maps.get(name)
        if codes is not None:
            return codes
        if length == 0:
            codes = np.zeros(0, dtype=np.uint8)
        else:
            path = self.directory / f"{number}.u8"
            if not path.is_file() or path.stat().st_size != length:
                self._encode(path, name, length)
            codes = np.memmap(path, dtype=np.uint8, mode="r", shape=(length,))
        self._maps[name] = codes
        return codes

    def _encode(self, path: Path, name: str, length: int) -> None:
        try:
            with atomic_output(path) as handle:
                for start in range(0, length, _CHUNK):
                    end = min(start + _CHUNK, length)
                    raw = self._read(name, start, end).encode("latin-1", "replace")
                    codes = raw.translate(ASCII_TO_CODE_BYTES)
                    if len(codes) != end - start or INVALID in codes:
                        raise bad_sequence_error(self._fasta_name, name, start, raw, codes, end - start)
                    handle.write(codes)
        except OSError as exc:
            raise InputError(
                f"cannot write the code cache {path} ({exc.strerror or exc})",
                path=self._fasta_name,
                fix=option(
                    "cache",
                    clause="Pass {} a writable directory, or cache=None",
                    otherwise="Make that directory writable, or set XDG_CACHE_HOME to a writable "
                    "directory (bioseq keeps its files in $XDG_CACHE_HOME/bioseq)",
                ),
            ) from exc

    def close(self) -> None:
        """Drop the memory maps (arrays handed out stay valid while referenced)."""
        self._maps.clear()


def genbank_fasta(source: Path, name: str, root: Path) -> tuple[Path, dict[str, str]]:
    """The indexed FASTA of the sequences of a GenBank/EMBL file, written under ``root`` on first use.

    The FASTA names each contig as :mod:`bioseq.io.genbank` does (the accession with its version)
    and holds its letters upper-cased (GenBank's lower case is no soft-masking), 60 per line.

    Parameters
    ----------
    source : pathlib.Path
        The GenBank or EMBL file (plain or gzip).
    name : str
        Its path as given, for error messages.
    root : pathlib.Path
        The cache root (see :func:`cache_root`, :func:`default_cache_root`).

    Returns
    -------
    (pathlib.Path, dict of str to str)
        The FASTA (with its ``.fai`` beside it), and ``{LOCUS/ID name: contig}`` for the records
        whose name differs from their contig, for :class:`~bioseq.io.contigs.ContigAliases`.

    Raises
    ------
    InputError
        As :func:`bioseq.io.genbank.read_genbank`; on a record without sequence or bases, a letter
        that is not a nucleotide, or a cache directory that cannot be written.
    """
    entry = entry_dir(root, source)
    fasta = entry / (source.name.removesuffix(".gz").rsplit(".", 1)[0] + ".fa")
    if not (fasta.is_file() and (entry / "names.tsv").is_file()):
        try:
            with atomic_directory(entry) as staged:
                _write_genbank_fasta(name, staged / fasta.name, staged / "names.tsv")
        except InputError as exc:
            if exc.path != str(entry):
                raise
            raise InputError(
                f"cannot write the FASTA of the genome to {entry}",
                path=name,
                fix=option(
                    "cache",
                    clause="Pass {} a writable directory",
                    otherwise="Make that directory writable, or set XDG_CACHE_HOME to a writable directory",
                ),
            ) from exc
    aliases = {}
    for line in (entry / "names.tsv").read_text(encoding="utf-8").splitlines()[1:]:
        contig, locus = line.split("\t")[:2]
        if locus != contig:
            aliases[locus] = contig
    return fasta, aliases


def _write_genbank_fasta(name: str, fasta: Path, names: Path) -> None:
    import pysam

    from bioseq.io.genbank import read_genbank

    table = ["contig\tname\tlength\ttopology"]
    with open(fasta, "w", encoding="ascii") as out:
        for record in read_genbank(name):  # the path as given (and valid here), for the messages
            if not record.sequence:
                raise InputError(
                    f"the record has no sequence{' lines' if record.length else ''}",
                    path=name,
                    line=record.line,
                    record=record.contig,
                    fix="Download the record with its sequence (NCBI: 'GenBank (full)', with "
                    "'Show sequence'), or pass the genome as FASTA and this file as the annotation",
                )
            raw = record.sequence.upper().encode("latin-1", "replace")
            codes = raw.translate(ASCII_TO_CODE_BYTES)
            if INVALID in codes:
                raise bad_sequence_error(name, record.contig, 0, raw, codes, len(raw))
            out.write(f">{record.contig}\n")
            for start in range(0, len(raw), _FASTA_WIDTH):
                out.write(raw[start : start + _FASTA_WIDTH].decode("ascii") + "\n")
            table.append(
                f"{record.contig}\t{record.name}\t{record.length}\t{'circular' if record.circular else 'linear'}"
            )
    pysam.faidx(str(fasta))
    names.write_text("\n".join(table) + "\n", encoding="utf-8")


def index_mismatch_error(fasta: str, contig: str, offset: int, got: int, expected: int) -> InputError:
    """The error for a read at 0-based ``offset`` that returned ``got`` of ``expected`` bases."""
    return InputError(
        f"reading {expected} bases from position {offset + 1} gave {got}; the .fai index does not match the file",
        path=fasta,
        record=contig,
        fix="Delete the .fai (and .gzi) file so that bioseq rebuilds it",
    )


def bad_sequence_error(fasta: str, contig: str, offset: int, raw: bytes, codes: bytes, expected: int) -> InputError:
    """The error for sequence read at 0-based ``offset`` that did not encode cleanly.

    ``raw`` is what the index returned, ``codes`` its translation through
    :data:`~bioseq.alphabet.ASCII_TO_CODE_BYTES`, ``expected`` the number of
    bases asked for.
    """
    if len(codes) != expected:
        return index_mismatch_error(fasta, contig, offset, len(codes), expected)
    pos = codes.index(bytes([INVALID]))
    return InputError(
        f"character {chr(raw[pos])!r} at position {offset + pos + 1} (1-based) is not a nucleotide letter",
        path=fasta,
        record=contig,
        fix="Use A, C, G, T, N or other IUPAC letters; remove gaps and whitespace",
    )
