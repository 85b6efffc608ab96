"""Attributions of genomic windows as a bigWig track.

Data contract
-------------
Input: ``attributions`` float32 ``(N, 4, L)`` (the contribution of the observed
base, zeros elsewhere, as in ``EXP/attributions.npz``) and one window per
sequence, ``(chrom, start, end, strand)``, 0-based half-open, ``end - start ==
L``. Sequence position ``j`` of a ``+`` (or ``.``) window is genome position
``start + j``; of a ``-`` window (reverse-complemented), ``end - 1 - j``.

Output: one bigWig whose value at a genome base is the attribution summed over
the 4 bases, float32, as 1-bp entries; where windows overlap, the mean over
the windows covering the base. Bases outside their contig (windows hanging
off a contig end) are left out. The header lists the contigs that hold a
window, in the order of ``contigs``. :func:`track_file_name` names the file
after the target class (``attributions.<target>.bw``).
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from bioseq.errors import InputError, MissingContigError

__all__ = ["track_file_name", "write_attribution_track", "genome_values"]

_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]")


def track_file_name(target: str) -> str:
    """``attributions.<target>.bw``, with characters other than letters, digits, ``_.-`` replaced by ``_``."""
    return f"attributions.{_UNSAFE.sub('_', str(target))}.bw"


def genome_values(
    attributions: np.ndarray, regions: Sequence[tuple[str, int, int, str]]
) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Per contig, the covered positions and the mean summed attribution there.

    Parameters
    ----------
    attributions : numpy.ndarray, shape ``(N, 4, L)``, float
    regions : sequence of (chrom, start, end, strand), length ``N``
        0-based half-open windows of width ``L``.

    Returns
    -------
    dict of str to (numpy.ndarray int64 ``(P,)``, numpy.ndarray float32 ``(P,)``)
        Sorted genome positions (may include negative ones of windows hanging
        off a contig start) and their values.

    Raises
    ------
    InputError
        When the shapes and regions disagree.
    """
    attributions = np.asarray(attributions)
    if attributions.ndim != 3 or attributions.shape[1] != 4:
        raise InputError(f"attributions must have shape (N, 4, L), got {attributions.shape}")
    n, _, length = attributions.shape
    if len(regions) != n:
        raise InputError(f"{len(regions)} regions were given for {n} sequences", fix="Pass one region per sequence")
    per_base = attributions.sum(axis=1, dtype=np.float64)  # (N, L)
    offsets = np.arange(length)
    gathered: dict[str, tuple[list, list]] = {}
    for i, (chrom, start, end, strand) in enumerate(regions):
        if end - start != length:
            raise InputError(
                f"the region {chrom}:{start}-{end} is {end - start} bases wide, the attributions {length}",
                record=str(chrom),
            )
        positions = start + offsets if strand != "-" else end - 1 - offsets
        where = gathered.setdefault(chrom, ([], []))
        where[0].append(positions)
        where[1].append(per_base[i])
    result = {}
    for chrom, (positions, values) in gathered.items():
        unique, inverse = np.unique(np.concatenate(positions), return_inverse=True)
        sums = np.bincount(inverse, weights=np.concatenate(values), minlength=unique.size)
        counts = np.bincount(inverse, minlength=unique.size)
        result[chrom] = (unique.astype(np.int64), (sums / counts).astype(np.float32))
    return result


def write_attribution_track(
    path: str | os.PathLike,
    attributions: np.ndarray,
    regions: Sequence[tuple[str, int, int, str]],
    *,
    contigs: Sequence[tuple[str, int]],
) -> int:
    """Write the summed attributions of genomic windows as a bigWig (see the module docstring).

    Write it inside an :func:`~bioseq.io.atomic.atomic_directory` (or to an
    :func:`~bioseq.io.atomic.atomic_path`): pyBigWig writes in place.

    Parameters
    ----------
    path : str or os.PathLike
        The bigWig file.
    attributions : numpy.ndarray, shape ``(N, 4, L)``, float
    regions : sequence of (chrom, start, end, strand), length ``N``, 0-based half-open
    contigs : sequence of (str, int)
        Every contig of the genome and its length, in the order the header lists them.

    Returns
    -------
    int
        Bases written.

    Raises
    ------
    InputError
        As :func:`genome_values`, or when the file cannot be created.
    MissingContigError
        A region on a contig that ``contigs`` lacks.
    """
    import pyBigWig

    values = genome_values(attributions, regions)
    sizes = dict(contigs)
    missing = [c for c in values if c not in sizes]
    if missing:
        raise MissingContigError(f"the reference has no contig {missing[0]!r}", record=missing[0])
    header = [(name, int(size)) for name, size in contigs if name in values]
    handle = pyBigWig.open(os.fspath(Path(path)), "w")
    if handle is None:
        raise InputError("cannot create the bigWig file", path=path)
    written = 0
    try:
        handle.addHeader(header)
        for chrom, _ in header:
            positions, track = values[chrom]
            inside = (positions >= 0) & (positions < sizes[chrom])
            positions, track = positions[inside], track[inside]
            if positions.size:
                starts = positions.tolist()
                ends = (positions + 1).tolist()
                handle.addEntries([chrom] * len(starts), starts, ends=ends, values=track.tolist())
                written += int(positions.size)
    finally:
        handle.close()
    return written
