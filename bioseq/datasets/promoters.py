"""Promoter datasets: windows around annotated TSSs against negative windows.

All coordinates are 0-based and half-open.

Positives
    One window of ``length`` bases per distinct annotated TSS
    (:meth:`~bioseq.io.annotation.Annotation.tss` with ``unique=True``), read
    on the transcript's strand, with the TSS at 0-based offset ``upstream``
    of the window (``length // 2`` by default): on ``+`` the window is
    ``[tss - upstream, tss - upstream + length)``, on ``-`` it is the
    reverse complement of ``[tss + upstream - length + 1, tss + upstream +
    1)``. Windows past a contig end are N-padded
    (:meth:`~bioseq.io.reference.Reference.windows`); windows with more than
    ``max_n_fraction`` ambiguous bases are left out (logged).
Negatives (``round(ratio * positives)`` of them)
    Each chromosome gets negatives in proportion to its positives
    (:func:`~bioseq.datasets.windows.chromosome_quotas`), so that every
    chromosome split keeps the class ratio.
    ``"gc"``: genomic windows of the same chromosome whose GC-content
    histogram matches its positives'
    (:func:`bioseq.datasets.background.sample_gc_matched`; a chromosome that
    cannot supply them draws from the whole genome, with a warning), not
    overlapping any TSS window and with every base at least ``tss_distance``
    bp from every annotated TSS (either strand: the GC-richest genomic
    windows are otherwise the flanks of real promoters), with at most ``max_n_fraction`` ambiguous
    bases, each read on a random (seeded) strand, since promoters come on
    both strands. ``"shuffle"``: dinucleotide shuffles of the positives
    (:func:`bioseq.encode.transforms.dinucleotide_shuffle`), ``ceil(ratio)``
    per positive, the first rounds kept; each is named ``<positive>_shuf<k>``
    and so falls in its positive's chromosome split. ``"genebody"``: windows
    inside stranded gene bodies, on the gene's strand, whose every base is at
    least ``tss_distance`` bp from every annotated TSS (either strand),
    not overlapping a positive window (a chromosome whose genes fall short
    gives its share to the others).

The result is a binary :class:`~bioseq.io.labels.LabelledSequences` with the
classes ``("non_promoter", "promoter")``, positives first (in genome order),
upper-case sequences, and names ``chrom:start-end(strand)`` (see
:mod:`bioseq.datasets.splits`).
"""

from __future__ import annotations

import logging
import math

import numpy as np

from bioseq.checks import integer, positive_number, share
from bioseq.codes import decode
from bioseq.datasets.windows import chromosome_quotas, on_reference, window_codes
from bioseq.encode.gc import n_fraction
from bioseq.errors import InputError
from bioseq.io.annotation import Annotation
from bioseq.io.interval import Interval, window_name
from bioseq.io.labels import LabelledSequences
from bioseq.io.reference import Reference

__all__ = ["NEGATIVES", "PROMOTER_CLASSES", "promoter_dataset"]

NEGATIVES = ("gc", "shuffle", "genebody")
"""Kinds of negative windows :func:`promoter_dataset` can make."""

PROMOTER_CLASSES = ("non_promoter", "promoter")
"""Class names in index order (``class_order`` reads ``non_promoter`` as the negative)."""

logger = logging.getLogger(__name__)

_DRAW_BATCH = 1 << 14  # candidate gene-body windows checked per batch
_CANDIDATES_PER_WINDOW = 50  # gene-body starts drawn (without repeats) per window asked for


def promoter_dataset(
    reference: Reference,
    annotation: Annotation,
    *,
    length: int = 200,
    upstream: int | None = None,
    negatives: str = "gc",
    ratio: float = 1.0,
    seed: int = 0,
    max_n_fraction: float = 0.05,
    tss_distance: int = 1000,
) -> LabelledSequences:
    """Labelled promoter windows (0-based half-open) and negatives (see the module docstring).

    Parameters
    ----------
    reference : Reference
        The genome; annotation contigs may be aliases of its names (``2L``).
    annotation : Annotation
        Transcripts whose 5' ends are the TSSs (those with
        ``five_prime_end=False``, such as the piece of a GenBank feature past
        the origin of a circular genome, have none); TSSs on contigs the
        genome lacks are left out with a warning.
    length : int, default 200
        Window width.
    upstream : int, optional
        Bases before the TSS in the window, ``0 <= upstream < length``
        (e.g. 150 for 150 up, the TSS and 49 down); default ``length // 2``.
    negatives : {"gc", "shuffle", "genebody"}, default "gc"
    ratio : float, default 1.0
        Negatives per positive.
    seed : int, default 0
        The same seed gives the same dataset.
    max_n_fraction : float, default 0.05
        Largest share of N (and other ambiguous codes) in any window.
    tss_distance : int, default 1000
        For ``negatives="gc"`` and ``"genebody"``: the least distance in bp
        between a negative window's bases and any annotated TSS.

    Returns
    -------
    LabelledSequences
        ``P`` positives then ``round(ratio * P)`` negatives; ``labels``
        ``(N,)`` int64, 1 = promoter.

    Raises
    ------
    InputError
        On bad arguments, an annotation without stranded transcripts, no
        positive left after the N filter, or too few negative windows (the
        message says which limit to relax).
    MissingContigError
        When no TSS lies on a contig of the genome.
    """
    _check_inputs(reference, annotation)
    length = integer(length, "length", 1)
    upstream = length // 2 if upstream is None else integer(upstream, "upstream", 0)
    if upstream >= length:
        raise InputError(
            f"upstream ({upstream}) must be smaller than length ({length})",
            fix="The TSS is at 0-based offset upstream inside the window",
        )
    if negatives not in NEGATIVES:
        raise InputError(f"negatives must be one of {', '.join(NEGATIVES)}, got {negatives!r}")
    ratio = positive_number(ratio, "ratio")
    max_n_fraction = share(max_n_fraction, "max_n_fraction")
    seed = integer(seed, "seed", 0)
    distance = integer(tss_distance, "tss_distance", 0)
    rng = np.random.default_rng(seed)
    tss = annotation.tss(unique=True)
    if not tss:
        raise InputError(
            "the annotation has no transcript on the '+' or '-' strand with a known 5' end, so no TSS",
            fix="Check that the GTF/GFF3 has exon lines with a strand, or the GenBank/EMBL file CDS or mRNA features",
        )
    tss = on_reference(reference, tss, what="TSSs", source="the annotation")
    every = [_tss_window(t, length, upstream) for t in tss]
    codes = window_codes(reference, every, length)
    keep = n_fraction(codes) <= max_n_fraction
    if not keep.any():
        raise InputError(
            f"all {len(every)} TSS windows hold more than {max_n_fraction:g} N",
            path=reference.path,
            fix="Raise max_n_fraction, or check the genome",
        )
    if not keep.all():
        logger.info("%d of %d TSS windows left out: more than %g N", (~keep).sum(), len(every), max_n_fraction)
    positives = [w for w, k in zip(every, keep.tolist()) if k]
    codes = codes[keep]
    n = round(ratio * len(positives))
    if n < 1:
        raise InputError(f"ratio {ratio:g} gives no negative for {len(positives)} positives", fix="Raise ratio")
    if negatives == "shuffle":
        names, negative_codes = _shuffles(positives, codes, n, rng)
    else:
        if negatives == "gc":
            # no window base closer than `distance` to a TSS (as the gene-body windows)
            near = (
                [Interval(t.chrom, max(0, t.start - distance + 1), t.start + distance) for t in tss] if distance else []
            )
            windows = _gc_matched(reference, positives, every + near, n, max_n_fraction, seed, rng)
        else:
            windows = _gene_body(reference, annotation, tss, every, positives, n, length, distance, max_n_fraction, rng)
        names, negative_codes = [window_name(w) for w in windows], window_codes(reference, windows, length)
    sequences = decode(np.concatenate([codes, negative_codes]))
    labels = np.repeat(np.array([1, 0], dtype=np.int64), [len(positives), n])
    return LabelledSequences(sequences, labels, PROMOTER_CLASSES, "binary", [window_name(w) for w in positives] + names)


def _check_inputs(reference, annotation) -> None:
    if not isinstance(reference, Reference):
        raise InputError(
            f"reference must be a bioseq Reference, got {type(reference).__name__}",
            fix="Open the genome with bioseq.io.Reference(path)",
        )
    if not isinstance(annotation, Annotation):
        raise InputError(
            f"annotation must be a bioseq Annotation, got {type(annotation).__name__}",
            fix="Read the GTF, GFF3, GenBank or EMBL file with bioseq.io.read_annotation(path)",
        )


def _tss_window(tss: Interval, length: int, upstream: int) -> Interval:
    """The window with the TSS at 0-based offset ``upstream`` on the TSS's strand."""
    start = tss.start - upstream if tss.strand == "+" else tss.start + upstream - length + 1
    return Interval(tss.chrom, start, start + length, tss.strand)


def _shuffles(positives, codes, n, rng) -> tuple[list[str], np.ndarray]:
    from bioseq.encode.transforms import dinucleotide_shuffle  # imports torch: only when asked

    rounds = math.ceil(n / len(positives))
    shuffled = dinucleotide_shuffle(codes, n=rounds, seed=rng).reshape(rounds, *codes.shape)
    names = [f"{window_name(w)}_shuf{k + 1}" for k in range(rounds) for w in positives]
    return names[:n], shuffled.reshape(-1, codes.shape[1])[:n]


def _gc_matched(reference, positives, every, n, max_n_fraction, seed, rng) -> list[Interval]:
    """GC-matched windows not overlapping ``every``, drawn per chromosome; a shortfall is drawn genome-wide."""
    from bioseq.datasets.background import sample_gc_matched

    windows: list[Interval] = []
    short = []
    for k, (chrom, quota) in enumerate(chromosome_quotas(positives, n).items()):
        mine = [w for w in positives if w.chrom == chrom]
        try:
            windows += (
                sample_gc_matched(
                    reference,
                    mine,
                    n=quota,
                    max_n_fraction=max_n_fraction,
                    exclude=every,
                    chroms=[chrom],
                    seed=seed + k,
                    shortfall="nearest",
                )
                if quota
                else []
            )
        except InputError as exc:
            logger.warning("%s: drawing its %d background windows genome-wide (%s)", chrom, quota, exc.problem)
            short.append((mine, quota))
    for k, (mine, quota) in enumerate(short):
        windows += sample_gc_matched(
            reference,
            mine,
            n=quota,
            max_n_fraction=max_n_fraction,
            exclude=every + windows,
            seed=seed + len(positives) + k,
            shortfall="nearest",
        )
    strands = rng.choice(["+", "-"], size=len(windows)).tolist()
    rank = {c: i for i, c in enumerate(reference.references)}
    windows = sorted(windows, key=lambda w: (rank[w.chrom], w.start))
    return [Interval(w.chrom, w.start, w.end, s) for w, s in zip(windows, strands)]


def _gene_body(
    reference, annotation, tss, every, positives, n, length, distance, max_n_fraction, rng
) -> list[Interval]:
    """``n`` random gene-body windows (see the module docstring), sorted by position.

    Each chromosome gets negatives in proportion to its positives where its
    genes allow; the shortfall comes from the other chromosomes.
    """
    ranges, where = _gene_body_starts(reference, annotation, tss, every, length, distance)
    offsets = np.concatenate([[0], np.cumsum(ranges[:, 1] - ranges[:, 0])])
    total = int(offsets[-1])
    budget = max(_CANDIDATES_PER_WINDOW * n, _DRAW_BATCH)
    order = rng.permutation(total) if total <= budget else rng.choice(total, size=budget, replace=False)
    quota = chromosome_quotas(positives, n)
    fillable = {chrom for chrom, _ in where}
    chosen: list[Interval] = []
    spare: list[Interval] = []
    for begin in range(0, order.size, _DRAW_BATCH):
        draw = order[begin : begin + _DRAW_BATCH]
        r = np.searchsorted(offsets, draw, side="right") - 1
        starts = (ranges[r, 0] + draw - offsets[r]).tolist()
        candidates = [Interval(where[i][0], s, s + length, where[i][1]) for i, s in zip(r.tolist(), starts)]
        ok = np.flatnonzero(n_fraction(window_codes(reference, candidates, length)) <= max_n_fraction)
        for window in (candidates[i] for i in ok.tolist()):
            if quota.get(window.chrom, 0) > 0:
                quota[window.chrom] -= 1
                chosen.append(window)
            elif len(spare) < n:
                spare.append(window)
        if len(chosen) + len(spare) >= n and not any(quota[c] for c in quota if c in fillable):
            break
    chosen += spare[: n - len(chosen)]
    if len(chosen) < n:
        raise InputError(
            f"only {len(chosen)} of the {n} gene-body windows asked for were found among {order.size:,} "
            f"window starts inside stranded genes at least {distance} bp from every TSS (at most "
            f"{max_n_fraction:g} N)",
            path=reference.path,
            fix="Lower ratio or tss_distance, or use negatives='gc'",
        )
    rank = {c: i for i, c in enumerate(reference.references)}
    return sorted(chosen, key=lambda w: (rank[w.chrom], w.start, w.strand))


def _gene_body_starts(reference, annotation, tss, every, length, distance) -> tuple[np.ndarray, list]:
    """Allowed gene-body window starts: ``(K, 2)`` half-open start ranges and their (contig, strand)."""
    genes = [g for g in annotation.genes() if g.strand != "."]
    genes = on_reference(reference, genes, what="genes", source="the annotation") if genes else []
    blocked: dict[str, list[tuple[int, int]]] = {}
    for t in tss:  # starts whose window has a base closer than `distance` to a TSS
        blocked.setdefault(t.chrom, []).append((t.start - distance - length + 2, t.start + distance))
    for w in every:  # starts whose window overlaps a positive window
        blocked.setdefault(w.chrom, []).append((w.start - length + 1, w.end))
    spans: dict[tuple[str, str], list[tuple[int, int]]] = {}
    for g in genes:
        if len(g) >= length:
            spans.setdefault((g.chrom, g.strand), []).append((g.start, g.end - length + 1))
    pools = [
        (chrom, strand, _subtract(_merge(ranges), _merge(blocked.get(chrom, []))))
        for (chrom, strand), ranges in spans.items()
    ]
    where = [(chrom, strand) for chrom, strand, r in pools for _ in range(len(r))]  # per start range
    ranges = np.concatenate([r for _, _, r in pools] + [np.zeros((0, 2), np.int64)])
    return ranges, where


def _merge(ranges: list[tuple[int, int]]) -> np.ndarray:
    """Sorted, disjoint ``(K, 2)`` int64 half-open ranges covering the given ones."""
    merged: list[list[int]] = []
    for start, end in sorted(r for r in ranges if r[1] > r[0]):
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return np.array(merged, dtype=np.int64).reshape(-1, 2)


def _subtract(ranges: np.ndarray, blocked: np.ndarray) -> np.ndarray:
    """``ranges`` minus ``blocked`` (both as :func:`_merge` returns them)."""
    out = []
    j = 0
    for start, end in ranges.tolist():
        while j < len(blocked) and blocked[j, 1] <= start:
            j += 1
        k = j
        while start < end and k < len(blocked) and blocked[k, 0] < end:
            if blocked[k, 0] > start:
                out.append((start, int(blocked[k, 0])))
            start = max(start, int(blocked[k, 1]))
            k += 1
        if start < end:
            out.append((start, end))
    return np.array(out, dtype=np.int64).reshape(-1, 2)
