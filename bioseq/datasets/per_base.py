"""Per-base splice-site labels of a genome from its annotation: the targets of a per-position model.

Each base of a contig gets one class of :data:`SITE_CLASSES`: ``neither``
(0), ``acceptor`` (1) or ``donor`` (2), for the transcripts of one strand. A
donor is the first base of an intron on the transcript's strand (the ``G`` of
``GT``), an acceptor the last (the ``G`` of ``AG``); on the ``-`` strand that
is the intron's last and first base in genome coordinates. Labels are in
genome (+) orientation, 0-based: ``labels[i]`` is the class of base ``i``.
A model that reads a minus-strand gene reverse-complemented reads its labels
reversed (``labels[::-1]``).

:func:`select_transcripts` keeps the transcripts of a biotype, or one per gene;
:func:`build_per_base` writes a whole per-base training dataset (the format of
:mod:`bioseq.datasets.per_base_store`, the windows of
:mod:`bioseq.datasets.per_base_sampling`), streaming one contig at a time.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
from collections.abc import Mapping

import numpy as np

from bioseq.alphabet import COMPLEMENT, N
from bioseq.checks import integer, is_integer
from bioseq.datasets.per_base_sampling import (
    KINDS,
    TEST_SPANS,
    WindowPlan,
    design_splits,
    tile_windows,
    training_windows,
)
from bioseq.datasets.per_base_store import per_base_writer
from bioseq.errors import InputError, option
from bioseq.io.annotation import Annotation, Gene, Transcript
from bioseq.io.interval import Interval
from bioseq.io.reference import Reference

__all__ = ["SITE_CLASSES", "TRANSCRIPTS", "PerBaseOptions", "build_per_base", "select_transcripts", "site_labels"]

log = logging.getLogger(__name__)

SITE_CLASSES = ("neither", "acceptor", "donor")
"""The classes of a per-base splice label, in output order (uint8 values 0, 1, 2)."""


def site_labels(annotation: Annotation, contig: str, length: int, *, strand: str) -> np.ndarray:
    """The class of every base of ``contig`` for the annotated introns on ``strand``.

    Parameters
    ----------
    annotation : Annotation
    contig : str
        The contig's name as the annotation writes it.
    length : int
        The contig's length in bases.
    strand : {"+", "-"}

    Returns
    -------
    numpy.ndarray, shape ``(length,)``, dtype uint8
        0 neither, 1 acceptor, 2 donor (:data:`SITE_CLASSES`). A base that is
        the donor of one transcript and the acceptor of another (an exon of
        one base) is a donor; such bases are counted in a log message.

    Raises
    ------
    InputError
        On a bad strand or length, or a site past ``length`` (an annotation of
        another assembly).
    """
    if strand not in ("+", "-"):
        raise InputError(f"strand must be '+' or '-', got {strand!r}")
    if not is_integer(length) or length < 0:
        raise InputError(f"length must be an integer >= 0, got {length!r}")
    labels = np.zeros(length, dtype=np.uint8)
    positions = {}
    for value, sites, first_base in (
        (1, annotation.acceptor_sites(), strand == "-"),
        (2, annotation.donor_sites(), strand == "+"),
    ):
        mine = [site for site in sites if site.chrom == contig and site.strand == strand]
        at = np.array([site.start if first_base else site.end - 1 for site in mine], dtype=np.int64)
        if at.size and at.max() >= length:
            far = mine[int(at.argmax())]
            raise InputError(
                f"the annotation has a splice site at {far.chrom}:{far.start}-{far.end}, past the end "
                f"of the contig ({length:,} bp)",
                fix="Use the annotation of this genome assembly",
            )
        positions[value] = at
    both = np.intersect1d(positions[1], positions[2]).size
    if both:
        log.info("%s %s: %d bases are both a donor and an acceptor; labelled donor", contig, strand, both)
    labels[positions[1]] = 1
    labels[positions[2]] = 2
    return labels


TRANSCRIPTS = ("all", "canonical")
"""Values of ``transcripts`` for :func:`select_transcripts`."""


def select_transcripts(annotation: Annotation, *, transcripts: str = "all", biotype: str = "all") -> Annotation:
    """The transcripts of one biotype, all of them or one per gene.

    Parameters
    ----------
    annotation : Annotation
    transcripts : {"all", "canonical"}, default "all"
        ``"canonical"`` keeps, for each gene, the transcript with the most
        exonic bases (ties: more exons, then the smallest id); a transcript
        without a gene is kept.
    biotype : str, default "all"
        Keep transcripts whose own biotype or whose gene's biotype is this
        (case-insensitive: ``protein_coding``, or a GFF3 feature type such as
        ``mRNA``); ``"all"`` keeps every transcript.

    Returns
    -------
    Annotation
        The transcripts kept and the genes that still have one.

    Raises
    ------
    InputError
        On a bad ``transcripts``, or a biotype that no transcript has (the
        message lists the biotypes the file gives).
    """
    if transcripts not in TRANSCRIPTS:
        raise InputError(f"transcripts must be one of {', '.join(TRANSCRIPTS)}, got {transcripts!r}")
    genes = annotation.genes_by_id
    kept = list(annotation.transcripts_by_id.values())
    if not isinstance(biotype, str) or not biotype:
        raise InputError(f"biotype must be a biotype name or 'all', got {biotype!r}")
    if biotype.lower() != "all":

        def types(tx: Transcript) -> set[str]:
            gene = genes.get(tx.gene_id)
            return {tx.biotype.lower(), (gene.biotype if gene else "").lower()} - {""}

        found = set().union(*(types(tx) for tx in kept))
        kept = [tx for tx in kept if biotype.lower() in types(tx)]
        if not kept:
            listed = ", ".join(sorted(found)[:20]) or "none"
            raise InputError(
                f"no transcript has biotype {biotype!r} (the annotation's biotypes: {listed})",
                fix=f"Pass one of those, or {option('biotype', 'all')}",
            )
    if transcripts == "canonical":
        best: dict[str, Transcript] = {}
        for tx in kept:
            key = tx.gene_id or f"transcript:{tx.id}"
            if key not in best or _rank(tx) < _rank(best[key]):
                best[key] = tx
        kept = list(best.values())
    with_gene = {tx.gene_id for tx in kept}
    return Annotation(kept, [g for g in genes.values() if g.id in with_gene])


def _rank(tx: Transcript) -> tuple:
    return (-sum(e - s for s, e in tx.exons), -len(tx.exons), tx.id)


@dataclasses.dataclass(frozen=True, kw_only=True)
class PerBaseOptions:
    """How :func:`build_per_base` samples and splits (see :mod:`bioseq.datasets.per_base_sampling`).

    Parameters
    ----------
    window : int, default 400
        Labelled bases per example.
    context : int, default 400
        Extra input bases per example, even: ``context // 2`` on each side.
    intronic, genomic : float, default 0.5
        Random intronic and random genomic training windows per site window.
    site_windows : int, default 4
        Training windows around each site, each at its own random offset.
    hard : float, default 1.0
        With a ``miner`` model (:func:`build_per_base`): hard-negative
        training windows per site window, around the positions the model most
        wrongly calls sites (:mod:`bioseq.datasets.hard_negatives`).
    test_chroms, valid_chroms : tuple of str, optional
        Held-out contigs (aliases resolve against the genome).
    folds : int, optional
        Gene-disjoint folds instead of ``test_chroms``; fold ``fold`` tests.
    fold : int, default 0
    valid_fraction : float, default 0.1
        Without ``valid_chroms``: share of the training loci that validates.
    test_span : {"genes", "genome"}, default "genes"
    seed : int, default 0

    Raises
    ------
    InputError
        On a value out of range.
    """

    window: int = 400
    context: int = 400
    intronic: float = 0.5
    genomic: float = 0.5
    site_windows: int = 4
    hard: float = 1.0
    test_chroms: tuple[str, ...] | None = None
    valid_chroms: tuple[str, ...] | None = None
    folds: int | None = None
    fold: int = 0
    valid_fraction: float = 0.1
    test_span: str = "genes"
    seed: int = 0

    def __post_init__(self) -> None:
        integer(self.window, "window", 1)
        if integer(self.context, "context", 0) % 2:
            raise InputError(
                f"context must be even (half on each side), got {self.context}",
                fix=f"Pass {option('context', str(self.context + 1))}",
            )
        for name in ("intronic", "genomic", "hard", "valid_fraction"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not value >= 0:
                raise InputError(f"{name} must be a number >= 0, got {value!r}")
        if self.test_span not in TEST_SPANS:
            raise InputError(f"test_span must be one of {', '.join(TEST_SPANS)}, got {self.test_span!r}")
        integer(self.seed, "seed", 0)
        integer(self.site_windows, "site_windows", 1)
        for name in ("test_chroms", "valid_chroms"):
            value = getattr(self, name)
            if value is not None:
                object.__setattr__(self, name, tuple(value))


def build_per_base(
    reference: Reference,
    annotation: Annotation | None,
    out: str | os.PathLike,
    *,
    options: PerBaseOptions | None = None,
    bam: str | os.PathLike | None = None,
    min_support: int = 3,
    source: Mapping[str, str] | None = None,
    miner=None,
) -> dict:
    """Write a per-base splice-site dataset (``neither``, ``acceptor``, ``donor``) to the folder ``out``.

    Labels come from ``annotation`` (:func:`site_labels`, both strands) and/or
    the junctions of ``bam``; windows and splits as ``options`` say
    (:mod:`bioseq.datasets.per_base_sampling`). The genome is read one contig
    at a time: memory holds one contig's codes and labels of both strands and
    one batch of examples. ``out`` appears whole or not at all.

    Parameters
    ----------
    reference : Reference
    annotation : Annotation, optional
        Contig names may be aliases of the genome's; transcripts on contigs
        the genome lacks are left out with a warning.
    out : str or os.PathLike
    options : PerBaseOptions, optional
        Default ``PerBaseOptions()`` needs ``test_chroms`` or ``folds``, so pass one.
    bam : str or os.PathLike, optional
        Spliced RNA-seq alignments: junctions with ``min_support`` reads and a
        strand (``XS``/``ts`` tag, else the intron motif) add their sites to
        the annotation's, or are the only sites without an annotation; an
        unannotated junction counts as a gene of its own for the splits.
    min_support : int, default 3
    source : mapping of str to str, optional
        Input paths to record in ``dataset.json``.
    miner : bioseq.bundle.Bundle, optional
        A per-position splice model (trained on an earlier dataset of the same
        genome): ``options.hard`` windows per site window are added around
        the positions of the training contigs it most wrongly calls sites
        (hard negatives; predicting both strands of every training contig
        costs one annotation of them). Its false sites' count and scores go
        into ``dataset.json`` (``sampling.hard``).

    Returns
    -------
    dict
        The contents of ``dataset.json``.

    Raises
    ------
    InputError
        On bad arguments, no site, or a split that cannot be made (see
        :func:`~bioseq.datasets.per_base_sampling.design_splits`).
    """
    options = PerBaseOptions() if options is None else options
    if not isinstance(reference, Reference):
        raise InputError(f"reference must be a bioseq Reference, got {type(reference).__name__}")
    if annotation is None and bam is None:
        raise InputError(
            "per-base splice labels need an annotation, RNA-seq alignments (bam=), or both",
            fix="Pass an annotation (GTF, GFF3, GenBank or EMBL), or a BAM of spliced reads",
        )
    transcripts, genes = _renamed(reference, annotation) if annotation is not None else ([], [])
    if bam is not None:
        transcripts += _junction_transcripts(reference, bam, integer(min_support, "min_support", 1), transcripts)
    labelled = Annotation(transcripts, genes)
    lengths = dict(zip(reference.references, reference.lengths))
    resolve = {name: tuple(reference.resolve(c) for c in getattr(options, name) or ()) or None for name in _HELD}
    design = design_splits(
        labelled,
        lengths,
        **resolve,
        folds=options.folds,
        fold=options.fold,
        valid_fraction=options.valid_fraction,
        test_span=options.test_span,
        seed=options.seed,
    )
    tracks = _Tracks(labelled, lengths)
    mined: dict = {}

    def hard(count: int):
        from bioseq.datasets.hard_negatives import false_sites

        sites, mined["stats"] = false_sites(
            miner,
            reference,
            design.contigs["train"],
            tracks.labels,
            count=count,
            held=design.held_out,
        )
        return sites

    train, stats = training_windows(
        contigs=reference.references,
        lengths=lengths,
        design=design,
        sites=lambda contig, strand: np.flatnonzero(tracks.labels(contig, strand)),
        introns=labelled.introns(),
        window=options.window,
        context=options.context,
        intronic=options.intronic,
        genomic=options.genomic,
        site_windows=options.site_windows,
        hard=None if miner is None else hard,
        hard_windows=options.hard,
        seed=options.seed,
    )
    if mined:
        stats["hard"] = {**mined["stats"], "model": str(getattr(miner, "path", ""))}
    plans = {"train": train}
    for split in ("valid", "test"):
        plans[split] = tile_windows(design.spans[split], window=options.window, contigs=reference.references)
    with per_base_writer(
        out, classes=SITE_CLASSES, context=options.context, window=options.window, sizes=_sizes(plans)
    ) as writer:
        writer.metadata.update(
            source=dict(source or {}),
            sampling={"options": dataclasses.asdict(options), "how": design.how, **stats},
            splits={
                split: {"contigs": list(design.contigs[split]), "windows": plans[split].counts()}
                | ({"genes": design.genes[split]} if split in design.genes else {})
                for split in plans
            },
        )
        _write(writer, reference, tracks, plans, options)
    with open(os.path.join(out, "dataset.json"), encoding="utf-8") as handle:
        return json.load(handle)


_HELD = ("test_chroms", "valid_chroms")
_BATCH = 1024


def _sizes(plans: dict[str, WindowPlan]) -> dict[str, int]:
    return {split: len(plan) for split, plan in plans.items()}


def _renamed(reference: Reference, annotation: Annotation) -> tuple[list[Transcript], list[Gene]]:
    """The annotation's transcripts and genes on the genome's contigs, renamed to the genome's names."""
    names: dict[str, str | None] = {}

    def name(chrom: str) -> str | None:
        if chrom not in names:
            names[chrom] = reference.resolve(chrom) if chrom in reference else None
        return names[chrom]

    kept = [dataclasses.replace(t, chrom=name(t.chrom)) for t in annotation.transcripts_by_id.values() if name(t.chrom)]
    genes = [dataclasses.replace(g, chrom=name(g.chrom)) for g in annotation.genes_by_id.values() if name(g.chrom)]
    missing = sorted(c for c, found in names.items() if found is None)
    if missing and not kept:
        raise InputError(
            f"none of the annotation's contigs ({', '.join(missing[:5])}) is in the genome",
            path=reference.path,
            fix="Use the annotation of this genome assembly",
        )
    if missing:
        log.warning("transcripts on %s left out: the genome has no such contig", ", ".join(missing[:5]))
    return kept, genes


def _junction_transcripts(reference: Reference, bam, min_support: int, known: list[Transcript]) -> list[Transcript]:
    """A two-exon (1 bp each) transcript per stranded, unannotated junction: its intron gives its two sites."""
    from bioseq.io.splice_junctions import junctions

    seen = {(t.chrom, t.strand, intron) for t in known for intron in t.introns}
    new, stranded = [], 0
    for j in junctions(bam, min_support=min_support, reference=reference):
        chrom = reference.resolve(j.chrom) if j.chrom in reference else None
        if j.strand == "." or chrom is None or j.start < 1 or j.end >= reference.length(chrom):
            continue
        stranded += 1
        if (chrom, j.strand, (j.start, j.end)) in seen:
            continue
        seen.add((chrom, j.strand, (j.start, j.end)))
        exons = ((j.start - 1, j.start), (j.end, j.end + 1))
        new.append(Transcript(f"junction:{chrom}:{j.start}-{j.end}({j.strand})", "", chrom, j.strand, exons))
    log.info(
        "%s: %d stranded junctions with >= %d reads, %d of them new", os.fspath(bam), stranded, min_support, len(new)
    )
    return new


class _Tracks:
    """Per-base labels of both strands of one contig at a time, from the transcripts of that contig only."""

    def __init__(self, annotation: Annotation, lengths: Mapping[str, int]) -> None:
        self._lengths = lengths
        self._by_contig: dict[str, list[Transcript]] = {}
        for tx in annotation.transcripts_by_id.values():
            self._by_contig.setdefault(tx.chrom, []).append(tx)
        self._cached: tuple[str, dict[str, np.ndarray]] | None = None

    def labels(self, contig: str, strand: str) -> np.ndarray:
        """``(length,)`` uint8 labels of ``contig`` on ``strand``, genome orientation (the last contig is kept)."""
        if self._cached is None or self._cached[0] != contig:
            txs = self._by_contig.get(contig)
            length = self._lengths[contig]
            mine = Annotation(txs) if txs else None
            self._cached = (
                contig,
                {s: site_labels(mine, contig, length, strand=s) if mine else np.zeros(length, np.uint8) for s in "+-"},
            )
        return self._cached[1][strand]


def _write(writer, reference: Reference, tracks: _Tracks, plans: dict[str, WindowPlan], options) -> None:
    """Fill every split, contig by contig, in batches of examples."""
    flank = options.context // 2
    width = options.window + options.context
    for number, contig in enumerate(reference.references):
        rows = {split: plan.on(number) for split, plan in plans.items()}
        if all(r.start == r.stop for r in rows.values()):
            continue
        codes = reference.fetch_codes(contig)
        labels = {strand: tracks.labels(contig, strand) for strand in "+-"}
        for split, plan in plans.items():
            for at in range(rows[split].start, rows[split].stop, _BATCH):
                batch = slice(at, min(at + _BATCH, rows[split].stop))
                starts, minus = plan.starts[batch], plan.minus[batch]
                x = _gather(codes, starts - flank, width, N)
                y = np.where(minus[:, None], 0, _gather(labels["+"], starts, options.window, 0))
                if minus.any():
                    x[minus] = COMPLEMENT[x[minus, ::-1]]
                    y[minus] = _gather(labels["-"], starts[minus], options.window, 0)[:, ::-1]
                regions = [
                    Interval(contig, s - flank, s - flank + width, "-" if m else "+", KINDS[k])
                    for s, m, k in zip(starts.tolist(), minus.tolist(), plan.kinds[batch].tolist())
                ]
                writer.append(split, x, y.astype(np.uint8), regions)


def _gather(track: np.ndarray, starts: np.ndarray, width: int, fill: int) -> np.ndarray:
    """``(n, width)`` slices ``track[s:s + width]``, ``fill`` outside the track."""
    index = starts[:, None] + np.arange(width, dtype=np.int64)
    inside = (index >= 0) & (index < track.size)
    out = track[np.clip(index, 0, max(track.size - 1, 0))] if track.size else np.zeros(index.shape, track.dtype)
    out[~inside] = fill
    return out
