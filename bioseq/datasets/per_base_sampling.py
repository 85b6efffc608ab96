"""Which windows a per-base dataset takes: held-out loci, tiles over held-out genes, site-aware training windows.

Every coordinate is 0-based half-open. A *window* here is the ``window``
labelled bases of an example, ``[start, start + window)`` on one strand; the
example's input adds ``context // 2`` bases on each side (read as N past the
contig ends). Windows are planned from the annotation and the contig lengths
alone, without reading the genome, and stored compactly in a
:class:`WindowPlan` (a few bytes per window), so planning a human genome
takes little memory.

Splits (:func:`design_splits`)
    ``test``: the genes on ``test_chroms``, or fold ``fold`` of ``folds``
    gene-disjoint folds (:func:`~bioseq.datasets.gene_folds.gene_folds`) over
    every contig. ``valid``: the genes on ``valid_chroms``, else one fold in
    ``round(1 / valid_fraction)`` of the remaining genes' loci (gene-disjoint;
    ``valid_fraction=0``: no validation). ``train``: every other contig,
    clear of the valid and test genes (see training windows below).
    Genes that overlap (on either strand) are one locus and go to one split;
    with ``gap`` > 0, so are genes closer than ``gap`` bases (on a dense
    genome that makes giant loci and unbalanced folds, hence default 0).
Valid and test windows (:func:`tile_windows`)
    For each strand, the union of the spans of that strand's held-out genes
    (strand ``.`` genes have no sites and are left out), tiled left to right
    by disjoint windows: every base of the union is labelled exactly once per
    strand; a tile may run past a span's end (those bases keep their true
    labels). ``test_span="genome"`` tiles the whole test (and valid) contigs
    on both strands instead; the last tile may run past the contig end
    (N bases labelled ``neither``).
Training windows (:func:`training_windows`)
    One window per labelled site of the training contigs, the site at a
    uniformly random offset; ``round(intronic * sites)`` windows around
    uniformly random intronic bases (on the intron's strand); and
    ``round(genomic * sites)`` windows at uniformly random places of the
    training contigs, on a random strand; with ``hard``, ``round(hard_windows *
    sites)`` windows around the positions a trained model most wrongly calls
    sites (:mod:`bioseq.datasets.hard_negatives`), each at a random offset. No
    training input (window and
    context) touches a held-out gene or a valid or test tile: sites and
    intronic bases inside them are not used, the offset of a site or
    intronic window is drawn among those that keep its input clear (the
    window is dropped, and counted, when none does), and genomic windows
    are drawn from the clear places only. Every base of a window gets its
    true label, whatever made it picked. Deterministic given ``seed``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence

import numpy as np

from bioseq.checks import integer
from bioseq.datasets.gene_folds import gene_folds
from bioseq.errors import InputError, option
from bioseq.io.annotation import Annotation, Gene
from bioseq.io.interval import Interval

__all__ = ["KINDS", "TEST_SPANS", "SplitDesign", "WindowPlan", "design_splits", "tile_windows", "training_windows"]

KINDS = ("site", "intronic", "genomic", "tile", "hard")
"""Why a window was taken (the BED name of its example); ``hard``: around a model's false site."""
_TRAINING_KINDS = ("site", "intronic", "genomic", "hard")
TEST_SPANS = ("genes", "genome")
"""What the valid and test tiles cover."""


@dataclasses.dataclass(frozen=True, kw_only=True)
class WindowPlan:
    """Windows of one split, sorted by contig, start and strand.

    Attributes
    ----------
    contigs : numpy.ndarray, shape ``(M,)``, dtype int32
        Index of each window's contig in the reference's contig list.
    starts : numpy.ndarray, shape ``(M,)``, dtype int64
        First labelled base, 0-based, in genome coordinates.
    minus : numpy.ndarray, shape ``(M,)``, dtype bool
        Read on the ``-`` strand.
    kinds : numpy.ndarray, shape ``(M,)``, dtype uint8
        Index into :data:`KINDS`.
    """

    contigs: np.ndarray
    starts: np.ndarray
    minus: np.ndarray
    kinds: np.ndarray

    @classmethod
    def of(cls, contigs, starts, minus, kinds) -> WindowPlan:
        """A plan from array-likes, sorted by contig, start and strand."""
        contigs = np.asarray(contigs, dtype=np.int32).reshape(-1)
        starts = np.asarray(starts, dtype=np.int64).reshape(-1)
        minus = np.asarray(minus, dtype=bool).reshape(-1)
        kinds = np.asarray(kinds, dtype=np.uint8).reshape(-1)
        order = np.lexsort((kinds, minus, starts, contigs))
        return cls(contigs=contigs[order], starts=starts[order], minus=minus[order], kinds=kinds[order])

    def __len__(self) -> int:
        return int(self.starts.shape[0])

    def counts(self) -> dict[str, int]:
        """Windows of each kind that occurs."""
        found = np.bincount(self.kinds, minlength=len(KINDS))
        return {kind: int(n) for kind, n in zip(KINDS, found.tolist()) if n}

    def on(self, contig: int) -> slice:
        """The rows of contig number ``contig`` (a slice, since the plan is sorted)."""
        return slice(*np.searchsorted(self.contigs, [contig, contig + 1]).tolist())


@dataclasses.dataclass(frozen=True, kw_only=True)
class SplitDesign:
    """Which contigs and loci belong to which split.

    Attributes
    ----------
    contigs : dict of str to tuple of str
        ``train``, ``valid``, ``test`` -> the contigs each split draws from.
    spans : dict of str to tuple of Interval
        ``valid``, ``test`` -> the stranded spans their tiles cover, merged
        per contig and strand, sorted.
    held_out : tuple of Interval
        Merged spans (strand ``.``) of the valid and test genes: no
        training window's input may overlap one.
    genes : dict of str to int
        Held-out genes per split (``valid``, ``test``).
    how : str
        ``"chromosomes"``, or ``"fold I of K"``; with ``", valid: 1/K' of the
        training loci"`` when validation is a share of loci.
    """

    contigs: dict[str, tuple[str, ...]]
    spans: dict[str, tuple[Interval, ...]]
    held_out: tuple[Interval, ...]
    genes: dict[str, int]
    how: str


def design_splits(
    annotation: Annotation,
    lengths: Mapping[str, int],
    *,
    test_chroms: Sequence[str] | None = None,
    valid_chroms: Sequence[str] | None = None,
    folds: int | None = None,
    fold: int = 0,
    valid_fraction: float = 0.1,
    test_span: str = "genes",
    gap: int = 0,
    seed: int = 0,
) -> SplitDesign:
    """The train/valid/test design of a genome (see the module docstring).

    Parameters
    ----------
    annotation : Annotation
        With the reference's contig names.
    lengths : mapping of str to int
        Every contig of the reference and its length, in reference order.
    test_chroms : sequence of str, optional
        Contigs held out for testing (reference names). Exactly one of
        ``test_chroms`` and ``folds`` is needed.
    valid_chroms : sequence of str, optional
        Contigs held out for validation; default: a gene-disjoint share of
        the training loci (``valid_fraction``).
    folds : int, optional
        Gene-disjoint folds (>= 2); fold ``fold`` is the test split.
    fold : int, default 0
    valid_fraction : float, default 0.1
        Without ``valid_chroms``: about this share of the training loci
        validates (one fold in ``round(1 / valid_fraction)``); 0 for none.
    test_span : {"genes", "genome"}, default "genes"
        Tile the held-out genes, or the whole held-out contigs (with
        ``test_chroms`` only).
    gap : int, default 0
        Genes closer than this are one locus (for folds and the valid share).
    seed : int, default 0

    Returns
    -------
    SplitDesign

    Raises
    ------
    InputError
        On an unknown contig (the message lists the contigs), a contig in
        two splits, no training contig, no gene to hold out, or bad options.
    """
    if test_span not in TEST_SPANS:
        raise InputError(f"test_span must be one of {', '.join(TEST_SPANS)}, got {test_span!r}")
    if (test_chroms is None) == (folds is None):
        raise InputError(
            "a per-base dataset needs either test chromosomes or gene-disjoint folds",
            fix=f"Pass {option('test_chroms', 'chr2R')} or {option('folds', '5')}",
        )
    if folds is None and fold != 0:
        raise InputError(f"fold {fold!r} needs folds", fix=f"Pass {option('folds', str(max(fold, 1) + 1))}")
    if not 0 <= valid_fraction < 0.5:
        raise InputError(f"valid_fraction must be in [0, 0.5), got {valid_fraction!r}")
    gap = integer(gap, "gap", 0)
    test_set = _known(test_chroms or (), lengths, "test_chroms")
    valid_set = _known(valid_chroms or (), lengths, "valid_chroms")
    if test_set & valid_set:
        raise InputError(f"{', '.join(sorted(test_set & valid_set))} cannot be both test and valid contigs")
    genes = _genes(annotation)
    rest = [g for g in genes if g.chrom not in test_set | valid_set]
    held = {"valid": [g for g in genes if g.chrom in valid_set], "test": [g for g in genes if g.chrom in test_set]}
    how = "chromosomes"
    if folds is not None:
        if test_span == "genome":
            raise InputError(
                "test_span 'genome' tiles whole test contigs, which gene-disjoint folds do not have",
                fix=f"Pass {option('test_chroms', 'chr2R')} instead of folds, or keep test_span 'genes'",
            )
        folds, fold = integer(folds, "folds", 2), integer(fold, "fold", 0)
        if fold >= folds:
            raise InputError(f"fold must be below folds ({folds}), got {fold}", fix=f"Pass a fold 0..{folds - 1}")
        of = gene_folds(Annotation((), rest), k=folds, gap=gap, seed=seed)
        held["test"] = [g for g in rest if of[g.id] == fold]
        rest = [g for g in rest if of[g.id] != fold]
        how = f"fold {fold} of {folds}"
    if valid_chroms is None and valid_fraction > 0:
        held["valid"], rest, k = _valid_share(rest, valid_fraction, gap, seed)
        how += f", valid: 1/{k} of the training loci"
    train = tuple(c for c in lengths if c not in test_set | valid_set)
    if not train:
        raise InputError("no contig is left for training", fix="Hold out fewer contigs")
    chosen = {"valid": valid_set, "test": test_set}
    held_out = _merge([dataclasses.replace(g.interval(), strand=".") for s in held.values() for g in s], lengths)
    return SplitDesign(
        contigs={
            "train": train,
            **{
                split: tuple(c for c in lengths if c in (chosen[split] or {g.chrom for g in held[split]}))
                for split in chosen
            },
        },
        spans={split: _spans(split, held[split], chosen[split], test_span, lengths) for split in chosen},
        held_out=tuple(held_out),
        genes={split: len(held[split]) for split in chosen},
        how=how,
    )


def _spans(split: str, genes: list[Gene], chosen: set[str], test_span: str, lengths: Mapping[str, int]) -> tuple:
    """The stranded spans a held-out split tiles: its genes' (merged per strand), or its whole contigs."""
    if test_span == "genome" and chosen:
        return tuple(Interval(c, 0, lengths[c], s) for c in lengths if c in chosen for s in "+-")
    spans = tuple(_merge([g.interval() for g in genes if g.strand != "."], lengths))
    if not spans and (split == "test" or chosen):
        raise InputError(
            f"the {split} split has no gene with a strand",
            fix=f"Hold out contigs with annotated genes, or pass {option('test_span', 'genome')}",
        )
    return spans


def _known(names: Sequence[str], lengths: Mapping[str, int], what: str) -> set[str]:
    for name in names:
        if name not in lengths:
            shown = ", ".join(list(lengths)[:20]) + (f" and {len(lengths) - 20} more" if len(lengths) > 20 else "")
            raise InputError(
                f"{what} names {name!r}, which is not a contig of the genome (it has {shown})",
                fix=f"Use the genome's contig names in {option(what)}",
            )
    return set(names)


def _genes(annotation: Annotation) -> list[Gene]:
    """The annotation's genes, and each transcript without a gene as a gene of its own."""
    genes = list(annotation.genes_by_id.values())
    for tx in annotation.transcripts_by_id.values():
        if not tx.gene_id:
            genes.append(Gene(f"transcript:{tx.id}", tx.chrom, tx.start, tx.end, tx.strand, transcript_ids=(tx.id,)))
    return genes


def _valid_share(genes: list[Gene], fraction: float, gap: int, seed: int) -> tuple[list[Gene], list[Gene], int]:
    """``(valid, train, k)``: fold 0 of ``k = round(1 / fraction)`` gene-disjoint folds (fewer if loci are few)."""
    loci = len(_merge([dataclasses.replace(g.interval(), strand=".").flank(0, gap) for g in genes], None))
    if loci < 2:
        raise InputError(
            f"the training contigs hold {loci} gene locus, too few to set some aside for validation",
            fix=f"Pass {option('valid_chroms', 'CHROM')}, or {option('valid_fraction', '0')} for no validation",
        )
    k = min(max(round(1 / fraction), 2), loci)
    folds = gene_folds(Annotation((), genes), k=k, gap=gap, seed=seed)
    return [g for g in genes if folds[g.id] == 0], [g for g in genes if folds[g.id] != 0], k


def _merge(spans: Sequence[Interval], lengths: Mapping[str, int] | None) -> list[Interval]:
    """Overlapping or touching spans of one contig and strand merged; sorted by contig order, strand, start."""
    rank = {c: i for i, c in enumerate(lengths)} if lengths is not None else {}
    merged: list[Interval] = []
    for span in sorted(spans, key=lambda s: (rank.get(s.chrom, 0), s.chrom, s.strand, s.start, s.end)):
        last = merged[-1] if merged else None
        if last is not None and (last.chrom, last.strand) == (span.chrom, span.strand) and span.start <= last.end:
            merged[-1] = Interval(last.chrom, last.start, max(last.end, span.end), last.strand)
        else:
            merged.append(Interval(span.chrom, max(span.start, 0), span.end, span.strand))
    return merged


def tile_windows(spans: Sequence[Interval], *, window: int, contigs: Sequence[str]) -> WindowPlan:
    """Disjoint windows covering every base of ``spans`` exactly once per strand.

    Parameters
    ----------
    spans : sequence of Interval
        Stranded (``+``/``-``); merged here per contig and strand.
    window : int
        Labelled bases per window, >= 1.
    contigs : sequence of str
        The reference's contigs (the plan stores indices into it).

    Returns
    -------
    WindowPlan
        Kind ``tile``. Tiles run left to right from a span's start; a span
        that starts inside the previous span's last tile continues after it.

    Raises
    ------
    InputError
        On a bad window, an unstranded span or a span on an unknown contig.
    """
    window = integer(window, "window", 1)
    index = {c: i for i, c in enumerate(contigs)}
    rows: list[np.ndarray] = []
    starts: list[np.ndarray] = []
    minus: list[bool] = []
    end = None
    for span in _merge(spans, index):
        if span.strand not in "+-" or span.chrom not in index:
            raise InputError(f"cannot tile {span.to_region()} ({span.strand}): it needs a strand and a known contig")
        cursor = span.start if end is None or end[0] != (span.chrom, span.strand) else max(span.start, end[1])
        tiles = np.arange(cursor, span.end, window, dtype=np.int64)
        if tiles.size:
            starts.append(tiles)
            rows.append(np.full(tiles.size, index[span.chrom], dtype=np.int32))
            minus += [span.strand == "-"] * tiles.size
            end = ((span.chrom, span.strand), int(tiles[-1]) + window)
    if not starts:
        return WindowPlan.of([], [], [], [])
    return WindowPlan.of(np.concatenate(rows), np.concatenate(starts), minus, np.full(len(minus), KINDS.index("tile")))


def training_windows(
    *,
    contigs: Sequence[str],
    lengths: Mapping[str, int],
    design: SplitDesign,
    sites: Callable[[str, str], np.ndarray],
    introns: Sequence[Interval],
    window: int,
    context: int,
    intronic: float = 0.5,
    genomic: float = 0.5,
    site_windows: int = 1,
    hard: Callable[[int], Mapping[str, tuple[np.ndarray, np.ndarray]]] | None = None,
    hard_windows: float = 0.0,
    seed: int = 0,
) -> tuple[WindowPlan, dict]:
    """Site, intronic and genomic windows of the training contigs (see the module docstring).

    Parameters
    ----------
    contigs : sequence of str
        The reference's contigs, in order (the plan stores indices into it).
    lengths : mapping of str to int
    design : SplitDesign
        Training contigs and the held-out loci to keep away from.
    sites : callable ``(contig, strand) -> numpy.ndarray``
        Sorted 0-based positions of the labelled sites of a contig on a strand.
    introns : sequence of Interval
        Stranded introns; their union gives the intronic bases.
    window, context : int
        Labelled bases and total extra input bases of an example.
    intronic, genomic : float, default 0.5
        Windows of each kind per site window (>= 0).
    site_windows : int, default 1
        Windows around each site, each at its own random offset (more views of
        the few sites of a small genome).
    hard : callable ``(count) -> {contig: (positions, minus)}``, optional
        At most ``count`` positions to centre hard-negative windows on (their
        offset is random, as for sites), e.g. a bound
        :func:`~bioseq.datasets.hard_negatives.false_sites`.
    hard_windows : float, default 0
        Hard-negative windows per site window (with ``hard``).
    seed : int, default 0

    Returns
    -------
    plan : WindowPlan
    stats : dict
        ``sites`` (site windows kept), ``held_out_sites`` (sites inside
        held-out genes, not used), ``dropped`` (windows of each kind whose
        input touched a held-out locus) and ``windows`` (kept, per kind).

    Raises
    ------
    InputError
        On bad numbers, or no site on the training contigs.
    """
    window, flank = integer(window, "window", 1), integer(context, "context", 0) // 2
    site_windows = integer(site_windows, "site_windows", 1)
    for name, value in (("intronic", intronic), ("genomic", genomic), ("hard_windows", hard_windows)):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not value >= 0:
            raise InputError(f"{name} must be a number >= 0, got {value!r}")
    rng = np.random.default_rng(integer(seed, "seed", 0))
    index = {c: i for i, c in enumerate(contigs)}
    tiles = [tile_windows(design.spans[split], window=window, contigs=contigs) for split in design.spans]
    extents = [
        Interval(contigs[c], s, s + window) for t in tiles for c, s in zip(t.contigs.tolist(), t.starts.tolist())
    ]
    held = _by_contig(_merge([*design.held_out, *extents], None))
    train = design.contigs["train"]
    parts: list[tuple] = []
    stats = {"sites": 0, "held_out_sites": 0, "dropped": dict.fromkeys(_TRAINING_KINDS, 0)}

    def keep(kind: str, chrom: str, starts: np.ndarray, minus: np.ndarray) -> None:
        ok = ~_overlaps(held.get(chrom), starts - flank, starts + window + flank) & (starts > _NONE)
        stats["dropped"][kind] += int((~ok).sum())
        parts.append((np.full(int(ok.sum()), index[chrom]), starts[ok], minus[ok], KINDS.index(kind)))

    for chrom in train:
        for strand in "+-":
            at = np.asarray(sites(chrom, strand), dtype=np.int64)
            inside = _inside(held.get(chrom), at)
            stats["held_out_sites"] += int(inside.sum())
            at = at[~inside]
            for _ in range(site_windows):
                offsets = _offsets(held.get(chrom), at, window, flank, rng)
                keep("site", chrom, at - offsets, np.full(at.size, strand == "-"))
    stats["sites"] = n_sites = sum(p[1].size for p in parts)
    if not n_sites:
        raise InputError(
            "no splice site is left on the training contigs",
            fix="Check that the annotation's transcripts have introns, and hold out fewer contigs",
        )
    pool = _subtract(_merge([i for i in introns if i.chrom in train and i.strand in "+-"], index), held)
    for chrom, (at, minus) in _draw(pool, round(intronic * n_sites), rng).items():
        keep("intronic", chrom, at - _offsets(held.get(chrom), at, window, flank, rng), minus)
    away = {c: (s - window - flank + 1, e + flank) for c, (s, e) in held.items()}  # starts that would touch
    starts = _subtract([Interval(c, 0, max(lengths[c] - window + 1, 1)) for c in train], away)
    for chrom, (at, _) in _draw(starts, round(genomic * n_sites), rng).items():
        keep("genomic", chrom, at, rng.random(at.size) < 0.5)
    if hard is not None and round(hard_windows * n_sites):
        for chrom, (at, minus) in hard(round(hard_windows * n_sites)).items():
            if chrom in train:
                at = np.asarray(at, dtype=np.int64)
                keep("hard", chrom, at - _offsets(held.get(chrom), at, window, flank, rng), np.asarray(minus, bool))
    plan = WindowPlan.of(
        np.concatenate([p[0] for p in parts]),
        np.concatenate([p[1] for p in parts]),
        np.concatenate([p[2] for p in parts]),
        np.concatenate([np.full(p[1].size, p[3]) for p in parts]),
    )
    stats["windows"] = plan.counts()
    return plan, stats


_NONE = np.iinfo(np.int64).min // 4  # the start of a window that cannot be placed


def _offsets(
    held: tuple[np.ndarray, np.ndarray] | None, at: np.ndarray, window: int, flank: int, rng: np.random.Generator
) -> np.ndarray:
    """A random offset in ``[0, window)`` for a window around each position, keeping its input clear of ``held``.

    Offsets are uniform among those whose input ``[p - o - flank, p - o + window + flank)``
    touches no held-out span; where none does, the offset makes the start :data:`_NONE` (dropped).
    """
    u = rng.random(at.size)
    low, high = np.zeros(at.size, dtype=np.int64), np.full(at.size, window - 1, dtype=np.int64)
    if held is not None and held[0].size:
        after = np.searchsorted(held[0], at, side="right")  # the first held-out span starting after p
        right = np.where(
            after < held[0].size, held[0][np.minimum(after, held[0].size - 1)], np.iinfo(np.int64).max // 4
        )
        left = np.where(after > 0, held[1][np.maximum(after - 1, 0)], np.iinfo(np.int64).min // 4)
        low = np.maximum(low, at + window + flank - right)
        high = np.minimum(high, at - flank - left)
    offsets = low + np.floor(u * (high - low + 1)).astype(np.int64)
    return np.where(low <= high, offsets, at - _NONE)


def _by_contig(spans: Sequence[Interval]) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Sorted, disjoint spans as ``contig -> (starts, ends)``."""
    found: dict[str, tuple[list[int], list[int]]] = {}
    for span in spans:
        starts, ends = found.setdefault(span.chrom, ([], []))
        starts.append(span.start)
        ends.append(span.end)
    return {c: (np.array(s, dtype=np.int64), np.array(e, dtype=np.int64)) for c, (s, e) in found.items()}


def _overlaps(held: tuple[np.ndarray, np.ndarray] | None, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """``(n,)`` bool: whether ``[starts, ends)`` overlaps one of the sorted, disjoint ``held`` spans."""
    if held is None or not held[0].size:
        return np.zeros(starts.shape, dtype=bool)
    first = np.searchsorted(held[1], starts, side="right")  # the first held span ending after the start
    inside = first < held[0].size
    hit = np.zeros(starts.shape, dtype=bool)
    hit[inside] = held[0][first[inside]] < ends[inside]
    return hit


def _inside(held: tuple[np.ndarray, np.ndarray] | None, positions: np.ndarray) -> np.ndarray:
    return _overlaps(held, positions, positions + 1)


def _subtract(spans: Sequence[Interval], held: dict[str, tuple[np.ndarray, np.ndarray]]) -> list[Interval]:
    """The parts of sorted ``spans`` outside the held-out spans of their contig (either strand)."""
    left = []
    for span in spans:
        start = span.start
        starts, ends = held.get(span.chrom, (np.zeros(0, np.int64), np.zeros(0, np.int64)))
        for i in range(int(np.searchsorted(ends, start, side="right")), starts.size):
            if starts[i] >= span.end:
                break
            if starts[i] > start:
                left.append(Interval(span.chrom, start, int(starts[i]), span.strand))
            start = max(start, int(ends[i]))
        if start < span.end:
            left.append(Interval(span.chrom, start, span.end, span.strand))
    return left


def _draw(spans: Sequence[Interval], n: int, rng: np.random.Generator) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """``n`` bases drawn uniformly from the union of ``spans``: ``contig -> (positions, minus)``."""
    sizes = np.array([len(s) for s in spans], dtype=np.int64)
    if n <= 0 or not sizes.sum():
        return {}
    ends = np.cumsum(sizes)
    u = np.sort(rng.integers(0, int(ends[-1]), n))
    which = np.searchsorted(ends, u, side="right")
    offset = u - (ends[which] - sizes[which])
    picks: dict[str, tuple[list, list]] = {}
    for i, at in zip(which.tolist(), offset.tolist()):
        span = spans[i]
        positions, minus = picks.setdefault(span.chrom, ([], []))
        positions.append(span.start + at)
        minus.append(span.strand == "-")
    return {c: (np.array(p, dtype=np.int64), np.array(m, dtype=bool)) for c, (p, m) in picks.items()}
