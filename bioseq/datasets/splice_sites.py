"""Splice-site datasets: windows centred on real donor/acceptor sites and on decoys.

All coordinates are 0-based and half-open. A splice site is the 2-bp
dinucleotide at an intron end, on the transcript strand (see
:mod:`bioseq.io.annotation`): the donor is the intron's first two bases
(``GT``), the acceptor its last two (``AG``).

Real sites
    From annotated introns (:meth:`~bioseq.io.annotation.Annotation.donor_sites`,
    :meth:`~bioseq.io.annotation.Annotation.acceptor_sites`) and/or from
    RNA-seq junctions (:func:`bioseq.io.splice_junctions.junctions` with
    ``min_support`` reads; strand from the ``XS``/``ts`` tags, else the
    intron motif; junctions without a strand are left out), as the union of
    both when both are given. Sites on contigs the genome lacks are left out
    with a warning.
Windows
    ``length`` (even) bases on the site's strand with the dinucleotide at
    0-based offsets ``length // 2 - 1`` and ``length // 2``: for a site
    ``[s, s + 2)`` the window is ``[s + 1 - length // 2, s + 1 + length // 2)``
    on either strand (reverse-complemented on ``-``), N-padded past the
    contig ends.
Decoys
    Positions that carry ``GT`` (donor decoys) or ``AG`` (acceptor decoys)
    on the strand read, whose window lies inside the contig with no N, and
    that are at least ``min_distance`` bp from every real site of either
    kind and strand (``|p - s| >= min_distance`` between dinucleotide
    starts). They come from the contigs holding real sites, drawn uniformly
    without repeats with a seeded random generator: ``round(decoys_per_site
    * sites)`` for each kind. The genome is scanned once, one contig at a
    time, with numpy.

The result is :class:`~bioseq.io.labels.LabelledSequences`: binary
``("decoy_donor", "donor")`` or ``("decoy_acceptor", "acceptor")``, or, for
``site="both"``, multiclass ``("acceptor", "decoy", "donor")`` with decoys of
both kinds. Real sites come first (acceptors, then donors; in genome order),
then decoys. Names are the windows, ``chrom:start-end(strand)`` (see
:mod:`bioseq.datasets.splits`); sequences are upper case.
"""

from __future__ import annotations

import logging
import os

import numpy as np

from bioseq.alphabet import A, C, G, T
from bioseq.checks import integer, positive_number
from bioseq.codes import decode
from bioseq.datasets.windows import chromosome_quotas, on_reference, window_codes
from bioseq.errors import InputError
from bioseq.io.annotation import Annotation
from bioseq.io.interval import Interval, window_name
from bioseq.io.labels import LabelledSequences
from bioseq.io.reference import Reference

__all__ = ["SITES", "splice_site_dataset"]

SITES = ("donor", "acceptor", "both")
"""Values of ``site`` for :func:`splice_site_dataset`."""

logger = logging.getLogger(__name__)

# The genome's dinucleotide (on '+') at a site of each kind read on each strand.
_MOTIFS = {("donor", "+"): (G, T), ("donor", "-"): (A, C), ("acceptor", "+"): (A, G), ("acceptor", "-"): (C, T)}
_KINDS = ("acceptor", "donor")


def splice_site_dataset(
    reference: Reference,
    annotation: Annotation | None = None,
    *,
    bam: str | os.PathLike | None = None,
    min_support: int = 3,
    site: str = "donor",
    length: int = 60,
    decoys_per_site: float = 1.0,
    min_distance: int = 50,
    seed: int = 0,
) -> LabelledSequences:
    """Windows on real splice sites and on GT/AG decoys (see the module docstring).

    Parameters
    ----------
    reference : Reference
        The genome; contig names of the annotation and the BAM may be
        aliases of its names.
    annotation : Annotation, optional
        Introns give the real sites.
    bam : str or os.PathLike, optional
        Spliced RNA-seq alignments (SAM/BAM/CRAM) whose junctions give real
        sites; with ``annotation`` the two are united.
    min_support : int, default 3
        Reads a junction needs (with ``bam`` only).
    site : {"donor", "acceptor", "both"}, default "donor"
    length : int, default 60
        Window width, even and >= 2.
    decoys_per_site : float, default 1.0
        Decoys per real site of each kind.
    min_distance : int, default 50
        Least distance (bp) between a decoy and any real site; >= 1.
    seed : int, default 0
        The same seed gives the same decoys.

    Returns
    -------
    LabelledSequences
        ``labels`` ``(N,)`` int64 (see the module docstring for the classes).

    Raises
    ------
    InputError
        On bad arguments, neither ``annotation`` nor ``bam``, no real site of
        the kind asked, or fewer decoy positions than asked for (the message
        says which limit to relax); BAM errors as
        :func:`bioseq.io.splice_junctions.junctions` raises them.
    MissingContigError
        When no site lies on a contig of the genome.
    """
    _check(reference, annotation, bam, site)
    length = integer(length, "length", 2)
    if length % 2:
        raise InputError(
            f"length must be even so that the dinucleotide sits at the centre, got {length}",
            fix=f"Pass {length + 1} or {length - 1}",
        )
    decoys_per_site = positive_number(decoys_per_site, "decoys_per_site")
    min_distance = integer(min_distance, "min_distance", 1)
    rng = np.random.default_rng(integer(seed, "seed", 0))
    sites = _real_sites(reference, annotation, bam, min_support)
    kinds = _KINDS if site == "both" else (site,)
    for kind in kinds:
        if not sites[kind]:
            raise InputError(
                f"no {kind} site was found in the {_sources(annotation, bam)}",
                fix="Check that transcripts have two or more exons and a strand, "
                "or lower min_support for RNA-seq junctions",
            )
    wanted = {kind: round(decoys_per_site * len(sites[kind])) for kind in kinds}
    if min(wanted.values()) < 1:
        raise InputError(f"decoys_per_site {decoys_per_site:g} gives no decoy", fix="Raise decoys_per_site")
    decoys = _decoys(reference, sites, wanted, length, min_distance, rng)
    real = [(kind, s) for kind in kinds for s in sites[kind]]
    windows = [_window(s, length) for _, s in real] + [w for w, _ in decoys]
    if site == "both":
        classes = ("acceptor", "decoy", "donor")
        labels = [classes.index(kind) for kind, _ in real] + [1] * len(decoys)
    else:
        classes = (f"decoy_{site}", site)
        labels = [1] * len(real) + [0] * len(decoys)
    sequences = decode(window_codes(reference, windows, length))
    return LabelledSequences(
        sequences,
        np.array(labels, dtype=np.int64),
        classes,
        "multiclass" if site == "both" else "binary",
        [window_name(w) for w in windows],
    )


def _check(reference, annotation, bam, site) -> None:
    if not isinstance(reference, Reference):
        raise InputError(
            f"reference must be a bioseq Reference, got {type(reference).__name__}",
            fix="Open the genome with bioseq.io.Reference(path)",
        )
    if annotation is not None and not isinstance(annotation, Annotation):
        raise InputError(
            f"annotation must be a bioseq Annotation, got {type(annotation).__name__}",
            fix="Read the GTF, GFF3, GenBank or EMBL file with bioseq.io.read_annotation(path)",
        )
    if annotation is None and bam is None:
        raise InputError(
            "splice sites need an annotation, RNA-seq alignments (bam=), or both",
            fix="Pass an annotation (from a GTF, GFF3, GenBank or EMBL file), or a BAM of spliced reads",
        )
    if site not in SITES:
        raise InputError(f"site must be one of {', '.join(SITES)}, got {site!r}")


def _sources(annotation, bam) -> str:
    return " and ".join(
        x for x, given in (("annotation", annotation), (f"junctions of {bam}", bam)) if given is not None
    )


def _real_sites(reference, annotation, bam, min_support) -> dict[str, list[Interval]]:
    """Distinct 2-bp sites of each kind on the reference's contigs, sorted by position."""
    found: dict[str, set[Interval]] = {kind: set() for kind in _KINDS}
    if annotation is not None:
        for kind, sites in (("donor", annotation.donor_sites()), ("acceptor", annotation.acceptor_sites())):
            kept = on_reference(reference, sites, what=f"{kind} sites", source="the annotation") if sites else []
            found[kind].update(Interval(s.chrom, s.start, s.end, s.strand) for s in kept)
    if bam is not None:
        from bioseq.io.splice_junctions import junctions

        support = integer(min_support, "min_support", 1)
        stranded = [j for j in junctions(bam, min_support=support, reference=reference) if j.strand != "."]
        introns = [Interval(j.chrom, j.start, j.end, j.strand) for j in stranded]
        introns = on_reference(reference, introns, what="junctions", source=os.fspath(bam)) if introns else []
        known = {kind: set(found[kind]) for kind in _KINDS}
        for kind in _KINDS:
            new = {_junction_site(i, kind) for i in introns}
            if annotation is not None:
                logger.info(
                    "%s: %d %s sites from junctions, %d of them annotated",
                    os.fspath(bam),
                    len(new),
                    kind,
                    len(new & known[kind]),
                )
            found[kind] |= new
    rank = {c: i for i, c in enumerate(reference.references)}
    return {kind: sorted(s, key=lambda x: (rank[x.chrom], x.start, x.strand)) for kind, s in found.items()}


def _junction_site(intron: Interval, kind: str) -> Interval:
    """The 2-bp donor or acceptor site of an intron on its strand."""
    left = (kind == "donor") == (intron.strand == "+")
    start = intron.start if left else intron.end - 2
    return Interval(intron.chrom, start, start + 2, intron.strand)


def _window(site: Interval, length: int) -> Interval:
    start = site.start + 1 - length // 2
    return Interval(site.chrom, start, start + length, site.strand)


def _decoys(reference, sites, wanted, length, min_distance, rng) -> list[tuple[Interval, str]]:
    """``(window, kind)`` of ``wanted[kind]`` decoys of each kind, in genome order.

    Each chromosome gets decoys of a kind in proportion to its real sites of
    that kind (:func:`~bioseq.datasets.windows.chromosome_quotas`), drawn
    uniformly without repeats: every candidate gets a random key and the
    smallest keys win. Where a chromosome has too few candidates, the
    shortfall goes to the smallest keys left on any chromosome. One pass,
    one contig at a time.
    """
    starts_on: dict[str, list[int]] = {}
    for kind in _KINDS:
        for s in sites[kind]:
            starts_on.setdefault(s.chrom, []).append(s.start)
    quotas = {kind: chromosome_quotas(sites[kind], n) for kind, n in wanted.items()}
    picked: dict[str, list[Interval]] = {kind: [] for kind in wanted}
    spare = {kind: _Smallest(n) for kind, n in wanted.items()}
    available = dict.fromkeys(wanted, 0)
    for chrom, site_starts in starts_on.items():
        codes = reference.fetch_codes(chrom)
        allowed = _allowed(codes, site_starts, length, min_distance)
        for kind in wanted:
            plus, minus = (
                np.flatnonzero(
                    (codes[:-1] == _MOTIFS[kind, strand][0]) & (codes[1:] == _MOTIFS[kind, strand][1]) & allowed[:-1]
                )
                for strand in ("+", "-")
            )
            hits = np.concatenate([plus, minus])
            available[kind] += hits.size
            keys = rng.random(hits.size)
            quota = quotas[kind].get(chrom, 0)
            order = _smallest(keys, quota + wanted[kind])
            windows = [
                _window(Interval(chrom, p, p + 2, "-" if i >= plus.size else "+"), length)
                for i, p in zip(order.tolist(), hits[order].tolist())
            ]
            picked[kind] += windows[:quota]
            spare[kind].add(keys[order[quota:]], windows[quota:])
    for kind, n in wanted.items():
        if available[kind] < n:
            motif = "GT" if kind == "donor" else "AG"
            raise InputError(
                f"only {available[kind]:,} {motif} positions are at least {min_distance} bp from every "
                f"real site with an N-free window, but {n:,} {kind} decoys were asked for",
                path=reference.path,
                fix="Lower decoys_per_site or min_distance",
            )
        picked[kind] += spare[kind].windows[: n - len(picked[kind])]
    rank = {c: i for i, c in enumerate(reference.references)}
    decoys = [(w, kind) for kind in wanted for w in picked[kind]]
    return sorted(decoys, key=lambda d: (rank[d[0].chrom], d[0].start, d[0].strand, d[1]))


def _smallest(keys: np.ndarray, k: int) -> np.ndarray:
    """Indices of the ``k`` smallest keys, smallest first."""
    if k < keys.size:
        keys_part = np.argpartition(keys, k)[:k]
        return keys_part[np.argsort(keys[keys_part], kind="stable")]
    return np.argsort(keys, kind="stable")


class _Smallest:
    """The windows with the ``size`` smallest keys seen so far, smallest first."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.keys = np.zeros(0)
        self.windows: list[Interval] = []

    def add(self, keys: np.ndarray, windows: list[Interval]) -> None:
        keys = np.concatenate([self.keys, keys])
        windows = self.windows + windows
        order = _smallest(keys, self.size)
        self.keys, self.windows = keys[order], [windows[i] for i in order.tolist()]


def _allowed(codes: np.ndarray, site_starts: list[int], length: int, min_distance: int) -> np.ndarray:
    """``(L,)`` bool: dinucleotide starts ``p`` on this contig that may be decoys.

    The window of a dinucleotide at ``p`` starts at ``w = p + 1 - length // 2``.
    """
    size, half = codes.size, length // 2
    ok = np.zeros(size, dtype=bool)
    if size < length:
        return ok
    ok[half - 1 : size - length + half] = True  # windows inside the contig
    ambiguous = np.diff((codes >= 4).view(np.int8), prepend=np.int8(0), append=np.int8(0))
    for a, b in np.flatnonzero(ambiguous).reshape(-1, 2).tolist():  # runs [a, b) of N and other IUPAC codes
        ok[max(a - length + half, 0) : max(b + half - 1, 0)] = False  # windows overlapping the run
    for s in site_starts:
        ok[max(s - min_distance + 1, 0) : max(s + min_distance, 0)] = False
    return ok
