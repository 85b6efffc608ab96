"""Genomic windows for the dataset builders: their codes, their contigs, their per-chromosome quotas.

Windows are :class:`~bioseq.io.interval.Interval` objects, 0-based half-open;
a window may hang off a contig end (its outer bases read as N). Examples are
named by their window with :func:`bioseq.io.interval.window_name`.
"""

from __future__ import annotations

import dataclasses
import logging
from collections import Counter
from collections.abc import Sequence

import numpy as np

from bioseq.checks import integer
from bioseq.errors import InputError, MissingContigError
from bioseq.io.contigs import missing_contig
from bioseq.io.interval import Interval
from bioseq.io.reference import Reference

__all__ = ["window_codes", "on_reference", "chromosome_quotas"]

logger = logging.getLogger(__name__)


def window_codes(reference: Reference, windows: Sequence[Interval], length: int) -> np.ndarray:
    """Codes of equal-width windows, each read on its strand (``"-"`` reverse-complemented).

    Parameters
    ----------
    reference : Reference
    windows : sequence of Interval, length ``N``
        0-based half-open, each ``length`` bases; N-padded past contig ends.
    length : int

    Returns
    -------
    numpy.ndarray, shape ``(N, length)``, dtype uint8

    Raises
    ------
    InputError
        A window of another width.
    MissingContigError
        A window on a contig the reference lacks.
    """
    if any(len(w) != length for w in windows):
        raise InputError(f"every window must have {length} bases", fix="Resize the windows first")
    if not windows:
        return np.zeros((0, length), dtype=np.uint8)
    return reference.windows(
        [w.chrom for w in windows], [w.start for w in windows], length, strands=[w.strand for w in windows]
    )


def on_reference(reference: Reference, intervals: Sequence[Interval], *, what: str, source: str) -> list[Interval]:
    """The intervals on contigs of ``reference``, renamed to its contig names.

    Aliases resolve (``2L`` finds ``chr2L``). Intervals on contigs the
    reference lacks are left out with a warning naming those contigs; when
    no interval is left, that is an error.

    Parameters
    ----------
    reference : Reference
    intervals : sequence of Interval
    what : str
        What the intervals are, for messages (``"TSS"``, ``"splice sites"``).
    source : str
        Where they come from (a file name), for messages.

    Returns
    -------
    list of Interval
        In the given order, with ``chrom`` as the reference names it.

    Raises
    ------
    MissingContigError
        When none of the intervals' contigs is in the reference; the message
        names the first one and suggests its alias or the closest names.
    """
    found: dict[str, str | None] = {}
    kept = []
    for interval in intervals:
        if interval.chrom not in found:
            found[interval.chrom] = reference.resolve(interval.chrom) if interval.chrom in reference else None
        name = found[interval.chrom]
        if name is not None:
            kept.append(interval if name == interval.chrom else dataclasses.replace(interval, chrom=name))
    missing = [c for c, name in found.items() if name is None]
    if missing and not kept:
        hint = missing_contig(missing[0], reference.references, path=None, what="the genome").fix
        raise MissingContigError(
            f"none of the contigs of the {what} in {source} ({_listed(missing)}) is in the genome",
            path=reference.path,
            fix=hint,
        )
    if missing:
        logger.warning("%s: %s on %s left out: the genome has no such contig", source, what, _listed(missing))
    return kept


def _listed(names: Sequence[str], limit: int = 5) -> str:
    shown = ", ".join(repr(n) for n in names[:limit])
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")


def chromosome_quotas(windows: Sequence[Interval], n: int) -> dict[str, int]:
    """Share ``n`` among the chromosomes of ``windows`` in proportion to their counts.

    Builders give each chromosome negatives in proportion to its positives,
    so that every chromosome split keeps the class ratio. Rounding is by
    largest remainder (ties to the chromosome seen first), so the quotas
    add up to ``n``.

    Parameters
    ----------
    windows : sequence of Interval
        At least one.
    n : int
        The total to share, >= 0.

    Returns
    -------
    dict of str to int
        Chromosome -> quota, in order of first appearance.

    Raises
    ------
    InputError
        On no window or a bad ``n``.

    Examples
    --------
    >>> chromosome_quotas([Interval("a", 0, 1), Interval("a", 5, 6), Interval("b", 0, 1)], 4)
    {'a': 3, 'b': 1}
    """
    n = integer(n, "n", 0)
    chroms = Counter(w.chrom for w in windows)
    if not chroms:
        raise InputError("no window to share the quota by", fix="Pass at least one window")
    counts = np.array(list(chroms.values()), dtype=np.int64)
    exact = counts * n / counts.sum()
    quota = np.floor(exact).astype(np.int64)
    order = np.lexsort((np.arange(counts.size), -(exact - quota)))
    quota[order[: n - int(quota.sum())]] += 1
    return dict(zip(chroms, quota.tolist()))
