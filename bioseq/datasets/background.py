"""GC-matched background (negative) windows for sequence classifiers.

A classifier trained on promoters against random genomic windows can learn
GC content instead of the motif grammar. :func:`sample_gc_matched` draws
random windows from a :class:`~bioseq.io.reference.Reference` whose
GC-content histogram equals that of the positives, away from the positives
and from any ``exclude`` intervals, and with few N.

Data contract: intervals in and out are :class:`~bioseq.io.interval.Interval`
objects, 0-based half-open. GC content is
:func:`bioseq.encode.gc.gc_content` of the window's codes (G+C among the
bases of known strength); the N fraction is
:func:`bioseq.encode.gc.n_fraction` (every ambiguous code counts).
Open the reference with ``cache=True`` so that candidate windows come from
the memory-mapped fast path (:meth:`~bioseq.io.reference.Reference.windows`).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Sequence

import numpy as np

from bioseq.checks import integer, share
from bioseq.encode.gc import gc_content, n_fraction
from bioseq.errors import InputError, MissingContigError, option
from bioseq.io.interval import Interval
from bioseq.io.reference import Reference

__all__ = ["sample_gc_matched"]

_MIN_CANDIDATES = 1_000_000  # candidate windows drawn before giving up, at least ...
_CANDIDATES_PER_WINDOW = 200  # ... or this many per requested window
_BATCH_BYTES = 1 << 25  # bases gathered per batch of candidates
SHORTFALLS = ("raise", "nearest")
"""What :func:`sample_gc_matched` does when the genome cannot fill a GC bin."""

logger = logging.getLogger(__name__)


def sample_gc_matched(
    reference: Reference,
    positives: Sequence[Interval],
    *,
    n: int | None = None,
    width: int | None = None,
    n_bins: int = 20,
    max_n_fraction: float = 0.01,
    exclude: Iterable[Interval] | None = None,
    chroms: Sequence[str] | None = None,
    seed: int = 0,
    shortfall: str = "raise",
) -> list[Interval]:
    """Random genomic windows whose GC-content histogram matches the positives'.

    GC content is binned into ``n_bins`` equal bins on [0, 1]. Bin ``k`` gets
    ``count_k * n / len(positives)`` windows, rounded by largest remainder so
    that the total is exactly ``n``. Candidates are drawn uniformly over all
    window starts of the allowed contigs (all starts, shuffled, when there
    are fewer than the candidate budget), and the first ones in each bin are
    kept. Windows never overlap a positive or an ``exclude`` interval, never
    repeat, and hold at most ``max_n_fraction`` ambiguous bases; they may
    overlap each other.

    Parameters
    ----------
    reference : Reference
        The genome the positives are on (``cache=True`` makes this fast).
    positives : sequence of Interval, length P >= 1
        0-based half-open; contig names may be aliases (``1`` for ``chr1``).
    n : int, optional
        Number of windows to return; default ``P``.
    width : int, optional
        Width of the returned windows; default the positives' width (they
        must then all have the same width).
    n_bins : int, default 20
        Number of GC bins.
    max_n_fraction : float, default 0.01
        Largest share of N (and other ambiguous codes) in a window.
    exclude : iterable of Interval, optional
        Regions no window may overlap (blacklists, assembly gaps); contigs
        the reference lacks are ignored.
    chroms : sequence of str, optional
        Draw only from these contigs (e.g. the training chromosomes).
    seed : int, default 0
        Seed of the random generator; the same seed gives the same windows.
    shortfall : {"raise", "nearest"}, default "raise"
        When the genome cannot fill a GC bin (e.g. GC-rich promoters once
        the promoter flanks are excluded): ``"raise"`` an InputError;
        ``"nearest"`` fill the bin from unused candidates of the nearest
        bins (closest GC first) and log a warning that says how many
        windows were moved and how far.

    Returns
    -------
    list of Interval, length ``n``
        Unstranded windows of ``width`` bases, sorted by contig (reference
        order) and start.

    Raises
    ------
    InputError
        On bad arguments, a positive without any A/C/G/T base, or when the
        genome does not supply enough windows for some GC bin after
        ``max(1,000,000, 200 * n)`` candidates with ``shortfall="raise"``,
        or too few candidates at all with ``"nearest"`` (the message names
        the bin, the shortfall and the fixes).
    MissingContigError
        A positive or a ``chroms`` entry names a contig the reference lacks.
    """
    positives = _check_arguments(reference, positives, n_bins, max_n_fraction)
    if shortfall not in SHORTFALLS:
        raise InputError(f"shortfall must be one of {', '.join(SHORTFALLS)}, got {shortfall!r}")
    n = len(positives) if n is None else integer(n, "n", 0)
    width = _width(positives, width)
    rng = _generator(seed)
    positive_bins = _bins(_positive_gc(reference, positives), n_bins, positives)
    targets = _targets(np.bincount(positive_bins, minlength=n_bins), n)
    names = _contigs(reference, chroms)
    lengths = np.array([reference.length(c) for c in names], dtype=np.int64)
    counts = np.maximum(lengths - width + 1, 0)
    if counts.sum() == 0:
        raise InputError(
            f"no contig to sample from is at least {width} bases long",
            path=reference.path,
            fix="Lower width, or pass more contigs in chroms",
        )
    offsets = np.concatenate([[0], np.cumsum(counts)])
    blocked = _blocked(reference, positives, exclude, names, offsets, counts, width)
    budget = max(_MIN_CANDIDATES, _CANDIDATES_PER_WINDOW * n)
    missing = targets.copy()
    kept: list[np.ndarray] = []
    spare_draws: list[np.ndarray] = []
    spare_bins: list[np.ndarray] = []
    spare_room = np.full(n_bins, n) if shortfall == "nearest" else None
    drawn = 0
    for draw in _candidate_batches(rng, int(offsets[-1]), budget, width):
        if not missing.any():
            break
        drawn += draw.size
        contig = np.searchsorted(offsets, draw, side="right") - 1
        starts = draw - offsets[contig]
        codes = reference.windows(np.asarray(names)[contig], starts, width)  # (B, width)
        ok = (n_fraction(codes) <= max_n_fraction) & ~_overlaps(blocked, draw)
        gc = gc_content(codes)
        ok &= ~np.isnan(gc)
        rows = np.flatnonzero(ok)
        row_bins = _bins(gc[rows], n_bins)
        taken = _first_per_bin(row_bins, missing)
        take = rows[taken]
        missing -= np.bincount(row_bins[taken], minlength=n_bins)
        kept.append(draw[take])
        if spare_room is not None:  # up to n unused candidates per bin, so that rare bins keep theirs
            unused = np.setdiff1d(np.arange(rows.size), taken)
            unused = unused[_first_per_bin(row_bins[unused], spare_room)]
            spare_draws.append(draw[rows[unused]])
            spare_bins.append(row_bins[unused])
            spare_room -= np.bincount(row_bins[unused], minlength=n_bins)
    if missing.any() and shortfall == "nearest":
        where = ", ".join(names) if len(names) <= 3 else f"{len(names)} contigs"
        kept.append(_nearest_fill(reference, missing, spare_draws, spare_bins, targets, n_bins, where))
    elif missing.any():
        _raise_short(reference, targets, missing, drawn, int(offsets[-1]), n_bins)
    chosen = np.sort(np.concatenate(kept)) if kept else np.zeros(0, np.int64)
    contig = np.searchsorted(offsets, chosen, side="right") - 1
    starts = chosen - offsets[contig]
    return [Interval(names[c], s, s + width) for c, s in zip(contig.tolist(), starts.tolist())]


def _check_arguments(reference, positives, n_bins, max_n_fraction) -> list[Interval]:
    if not isinstance(reference, Reference):
        raise InputError(f"reference must be a bioseq Reference, got {type(reference).__name__}")
    if isinstance(positives, Interval):
        positives = [positives]
    positives = list(positives)
    if not positives:
        raise InputError("positives is empty", fix="Pass at least one positive Interval")
    for i, interval in enumerate(positives):
        if not isinstance(interval, Interval):
            raise InputError(f"positive {i} is a {type(interval).__name__}, not an Interval")
    integer(n_bins, "n_bins", 1)
    share(max_n_fraction, "max_n_fraction")
    return positives


def _width(positives: list[Interval], width) -> int:
    if width is not None:
        return integer(width, "width", 1)
    widths = {len(p) for p in positives}
    if len(widths) > 1:
        raise InputError(
            f"the positives have {len(widths)} different widths ({min(widths)} to {max(widths)} bases)",
            fix=option(
                "width",
                "N",
                clause="Pass {} for the background windows, or resize the positives first",
                otherwise="Resize the positives to one width first",
            ),
        )
    return integer(widths.pop(), "width (the positives' width)", 1)


def _generator(seed) -> np.random.Generator:
    seed = integer(seed, "seed", 0)
    return np.random.default_rng(seed)


def _positive_gc(reference: Reference, positives: list[Interval]) -> np.ndarray:
    """GC content of each positive, one :meth:`Reference.windows` call per width."""
    gc = np.empty(len(positives))
    widths = np.array([len(p) for p in positives])
    for w in np.unique(widths).tolist():
        rows = np.flatnonzero(widths == w)
        if w == 0:
            gc[rows] = np.nan
            continue
        codes = reference.windows([positives[i].chrom for i in rows], [positives[i].start for i in rows], w)
        gc[rows] = gc_content(codes)
    return gc


def _bins(gc: np.ndarray, n_bins: int, positives: list[Interval] | None = None) -> np.ndarray:
    """GC bin (0 .. n_bins - 1) of each value; NaN is an error for positives."""
    if positives is not None and np.isnan(gc).any():
        bad = positives[int(np.flatnonzero(np.isnan(gc))[0])]
        raise InputError(
            f"positive {bad.to_region()} has no A, C, G or T base, so its GC content is undefined",
            fix="Remove positives that lie in assembly gaps (all N)",
        )
    return np.minimum((gc * n_bins).astype(np.int64), n_bins - 1)


def _targets(counts: np.ndarray, n: int) -> np.ndarray:
    """Windows per bin: ``counts * n / counts.sum()`` rounded by largest remainder."""
    exact = counts * n / counts.sum()
    targets = np.floor(exact).astype(np.int64)
    short = n - int(targets.sum())
    order = np.lexsort((np.arange(counts.size), -(exact - targets)))  # largest remainder first
    targets[order[:short]] += 1
    return targets


def _contigs(reference: Reference, chroms) -> list[str]:
    if chroms is None:
        return list(reference.references)
    if isinstance(chroms, str):
        chroms = [chroms]
    names = list(dict.fromkeys(reference.resolve(c) for c in chroms))
    if not names:
        raise InputError("chroms is empty", fix="Pass at least one contig, or chroms=None for all")
    return names


def _blocked(reference, positives, exclude, names, offsets, counts, width) -> tuple[np.ndarray, np.ndarray]:
    """Global start indices whose window would overlap a positive or an excluded interval.

    Window starts of all allowed contigs are numbered consecutively
    (``offsets``); a window at ``s`` overlaps ``[a, b)`` when
    ``a - width < s < b``. Returns the sorted range starts and the running
    maximum of the range ends, for :func:`_overlaps`.
    """
    number = {name: i for i, name in enumerate(names)}
    ranges = []
    for what, intervals in (("positive", positives), ("exclude entry", exclude or ())):
        for i, interval in enumerate(intervals):
            if not isinstance(interval, Interval):
                raise InputError(f"{what} {i} is a {type(interval).__name__}, not an Interval")
            try:
                c = number.get(reference.resolve(interval.chrom))
            except MissingContigError:
                if what == "positive":
                    raise
                continue  # an excluded region on a contig the reference lacks overlaps nothing
            if c is None:
                continue  # not a contig we sample from
            lo, hi = max(interval.start - width + 1, 0), min(interval.end, int(counts[c]))
            if lo < hi:
                ranges.append((offsets[c] + lo, offsets[c] + hi))
    array = np.array(sorted(ranges), dtype=np.int64).reshape(-1, 2)
    return array[:, 0], np.maximum.accumulate(array[:, 1])


def _overlaps(blocked: tuple[np.ndarray, np.ndarray], draw: np.ndarray) -> np.ndarray:
    """Whether each global start index falls in a blocked range."""
    begin, reach = blocked
    if not begin.size:
        return np.zeros(draw.size, dtype=bool)
    before = np.searchsorted(begin, draw, side="right")  # ranges starting at or before the draw
    return (before > 0) & (reach[np.maximum(before - 1, 0)] > draw)


def _candidate_batches(rng, total: int, budget: int, width: int) -> Iterator[np.ndarray]:
    """Global start indices: all of them shuffled if few, else uniform draws without repeats."""
    size = int(min(max(_BATCH_BYTES // width, 1000), budget))
    if total <= budget:
        order = rng.permutation(total)
        for i in range(0, total, size):
            yield order[i : i + size]
        return
    seen = np.zeros(0, dtype=np.int64)
    for _ in range(0, budget, size):
        draw = rng.integers(0, total, size=size)
        _, first = np.unique(draw, return_index=True)
        draw = draw[np.sort(first)]
        draw = draw[~np.isin(draw, seen)]
        seen = np.union1d(seen, draw)
        yield draw


def _first_per_bin(bins: np.ndarray, missing: np.ndarray) -> np.ndarray:
    """Indices of the first ``missing[k]`` entries of each bin ``k``, in their original order."""
    order = np.argsort(bins, kind="stable")
    ordered = bins[order]
    rank = np.arange(ordered.size) - np.searchsorted(ordered, ordered, side="left")
    return np.sort(order[rank < missing[ordered]])


def _nearest_fill(reference, missing, spare_draws, spare_bins, targets, n_bins, where) -> np.ndarray:
    """Fill each short bin (in ``missing``) with unused candidates of the nearest bins; log what moved."""
    draws = np.concatenate(spare_draws) if spare_draws else np.zeros(0, np.int64)
    bins = np.concatenate(spare_bins) if spare_bins else np.zeros(0, np.int64)
    need = int(missing.sum())
    if draws.size < need:
        _raise_short(reference, targets, missing, draws.size, draws.size, n_bins)
    used = np.zeros(draws.size, dtype=bool)
    chosen, distances = [], []
    for k in np.flatnonzero(missing).tolist():
        distance = np.abs(bins - k) + np.where(used, n_bins + 1, 0)
        order = np.argsort(distance, kind="stable")[: int(missing[k])]
        used[order] = True
        chosen.append(draws[order])
        distances.append(distance[order])
    moved = np.concatenate(distances)
    logger.warning(
        "%s has too few windows in %d GC bin(s): %d of %d background windows come from the nearest "
        "bins instead (at most %.2f GC away; mean %.3f)",
        where,
        int((missing > 0).sum()),
        need,
        int(targets.sum()),
        moved.max() / n_bins,
        moved.mean() / n_bins,
    )
    missing[:] = 0
    return np.concatenate(chosen)


def _raise_short(reference, targets, missing, drawn: int, total: int, n_bins: int) -> None:
    short = np.flatnonzero(missing)
    k = int(short[0])
    where = "all" if drawn >= total else f"{drawn:,} random"
    others = f" ({short.size - 1} more bins are short too)" if short.size > 1 else ""
    raise InputError(
        f"GC bin {k / n_bins:.2f}-{(k + 1) / n_bins:.2f} needs {targets[k]} background windows "
        f"but {where} candidate windows gave only {targets[k] - missing[k]}{others}",
        path=reference.path,
        fix="Ask for fewer windows (n=), use fewer GC bins (n_bins=), allow more N "
        "(max_n_fraction=), or sample from more contigs (chroms=)",
    )
