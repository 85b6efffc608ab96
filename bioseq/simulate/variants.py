"""SYNTHETIC labelled control variants at annotated splice sites, written as a VCF and a label TSV.

:func:`splice_variants` draws variants whose effect on splicing is known from
a genome and its annotation; :func:`write_vcf` writes them as VCF 4.2 (plain,
or bgzipped and tabix-indexed for ``.vcf.gz``), optionally with injected test
records; :func:`write_labels` writes one TSV row per ALT allele so that a
benchmark can join scores on ``chrom pos ref alt`` and compute an AUROC.

Data contract
-------------
Coordinates are 0-based and half-open: :attr:`SimulatedVariant.start` is the
0-based start of REF (the VCF POS minus one), as in
:class:`bioseq.io.variants.Variant`. REF always comes from the genome,
upper-case, never ``N``; ALT is ``ACGT``. Splice sites follow
:mod:`bioseq.io.annotation` (donor ``GT`` = the intron's first two bases on the
transcript strand, acceptor ``AG`` its last two); :attr:`SimulatedVariant.site`
is the labelled base of :mod:`bioseq.datasets.per_base` (the ``G`` of ``GT`` or
of ``AG``): on a ``-`` strand gene the genome shows ``AC`` at the intron's end
and ``CT`` at its start, and the labelled base is the ``C``. Only canonical
sites (genome ``GT``/``AG`` on the transcript strand) are used; the others are
counted in :attr:`SpliceVariants.skipped`.

Categories (:data:`CATEGORIES`)
-------------------------------
``donor_disrupting`` / ``acceptor_disrupting``
    An SNV at one base of the site's dinucleotide (never ``GT>GC``, a
    GC-AG donor that still splices), creating no copy of the dinucleotide
    next to it.
``site_deletion``
    A 1-3 bp deletion overlapping the dinucleotide, after which no copy of it
    lies within 2 bp of the junction.
``site_insertion``
    1-3 bases inserted between the dinucleotide's two bases, the same check.
``near_preserving``
    An SNV ``near[0]``-``near[1]`` bp (default 10-30) from a site, on its
    exon or intron side, inside the site's gene, at least ``near[0]`` bp from
    every annotated site (both strands, canonical or not), creating no new
    ``GT``/``AG`` on the gene's strand: it keeps every dinucleotide.
``intergenic``
    An SNV at least ``min_gene_distance`` bp from every annotated gene; where
    the genome has too few such bases (a gene-dense genome) the distance is
    lowered to the largest that gives enough (logged, and stated in
    :attr:`SpliceVariants.intergenic_distance`).

:data:`DISRUPTING` lists the categories that destroy a site (the positives of
an AUROC against ``intergenic`` or ``near_preserving``). :func:`write_vcf`
adds the test categories ``ref_mismatch`` (REF deliberately not the genome's)
and ``multiallelic`` (a second ALT in a record).

Everything is deterministic for a given ``seed``; each category draws from
its own random stream, so changing one count leaves the other categories as
they were.
"""

from __future__ import annotations

import bisect
import contextlib
import dataclasses
import logging
import operator
import os
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence

import numpy as np
import pysam

from bioseq.checks import integer, is_integer
from bioseq.errors import InputError, option
from bioseq.io.annotation import Annotation
from bioseq.io.atomic import atomic_output, atomic_path
from bioseq.io.gff import read_annotation
from bioseq.io.reference import Reference
from bioseq.io.tabix import tabix_index_vcf

__all__ = [
    "CATEGORIES",
    "DISRUPTING",
    "INJECTED",
    "SimulatedVariant",
    "SpliceVariants",
    "chr_aliases",
    "splice_variants",
    "write_labels",
    "write_vcf",
]

log = logging.getLogger(__name__)

DISRUPTING = ("donor_disrupting", "acceptor_disrupting", "site_deletion", "site_insertion")
"""Categories whose variants destroy an annotated site's dinucleotide."""
CATEGORIES = (*DISRUPTING, "near_preserving", "intergenic")
"""Every category :func:`splice_variants` draws, in this order."""
INJECTED = ("ref_mismatch", "multiallelic")
"""Test categories that :func:`write_vcf` adds on request."""

_MOTIF = {("donor", "+"): "GT", ("donor", "-"): "AC", ("acceptor", "+"): "AG", ("acceptor", "-"): "CT"}
_BREAK = {"donor": ("ACT", "AG"), "acceptor": ("CGT", "ACT")}  # transcript-strand ALTs per dinucleotide base
_COMPLEMENT = str.maketrans("ACGT", "TGCA")
_BASES = "ACGT"
_UNSAFE = re.compile(r"[^A-Za-z0-9_.:|+-]")


@dataclasses.dataclass(frozen=True)
class SimulatedVariant:
    """One labelled variant, 0-based half-open.

    Attributes
    ----------
    chrom : str
        The reference's contig name.
    start : int
        0-based start of REF (VCF POS - 1).
    ref, alt : str
        Upper-case alleles (REF from the genome; deletions and insertions keep
        the base before them as anchor, as VCF does).
    category : str
        One of :data:`CATEGORIES` or :data:`INJECTED`.
    gene : str
        Gene id(s) of the site, comma-joined when genes share it; ``""`` for
        intergenic variants.
    strand : {"+", "-", "."}
        The site's transcript strand (``"."`` intergenic).
    site : int or None
        0-based genome position of the site's labelled base (see the module
        docstring); None for intergenic variants.
    note : str
        What was changed, in words.
    """

    chrom: str
    start: int
    ref: str
    alt: str
    category: str
    gene: str = ""
    strand: str = "."
    site: int | None = None
    note: str = ""

    def __post_init__(self) -> None:
        if self.category not in (*CATEGORIES, *INJECTED):
            raise InputError(f"category must be one of {', '.join(CATEGORIES + INJECTED)}, got {self.category!r}")
        if not is_integer(self.start) or self.start < 0 or self.strand not in ("+", "-", "."):
            raise InputError(f"variant start {self.start!r} or strand {self.strand!r} is invalid", record=self.chrom)
        if not re.fullmatch("[ACGT]+", self.ref) or not re.fullmatch("[ACGT]+", self.alt) or self.ref == self.alt:
            raise InputError(f"alleles {self.ref!r}>{self.alt!r} must be distinct strings of ACGT", record=self.chrom)

    @property
    def end(self) -> int:
        """0-based exclusive end of REF."""
        return self.start + len(self.ref)

    @property
    def pos(self) -> int:
        """The 1-based VCF POS."""
        return self.start + 1


class SpliceVariants(list):
    """The list of :class:`SimulatedVariant` of :func:`splice_variants`, sorted by contig and position.

    Attributes
    ----------
    skipped : dict of str to int
        Sites left out (``non_canonical_donor``, ``non_canonical_acceptor``)
        and sites a category found no variant for (``<category>_no_candidate``).
    intergenic_distance : int or None
        The least distance in bp from any gene that the intergenic variants
        keep (``min_gene_distance`` unless the genome is too gene-dense).
    """

    def __init__(self, variants: Iterable[SimulatedVariant], *, skipped: Mapping[str, int], distance) -> None:
        super().__init__(variants)
        self.skipped = dict(skipped)
        self.intergenic_distance = distance

    def counts(self) -> dict[str, int]:
        """Variants per category, in :data:`CATEGORIES` order."""
        return {name: sum(v.category == name for v in self) for name in CATEGORIES}


@dataclasses.dataclass(frozen=True)
class _Site:
    chrom: str
    start: int  # genome start of the 2-bp site
    strand: str
    kind: str  # "donor" or "acceptor"
    gene: str

    @property
    def motif(self) -> str:
        """The dinucleotide as the genome (+ strand) shows it."""
        return _MOTIF[self.kind, self.strand]

    def at(self, i: int) -> int:
        """Genome position of the transcript-strand base ``i`` (0 or 1) of the dinucleotide."""
        return self.start + i if self.strand == "+" else self.start + 1 - i

    @property
    def labelled(self) -> int:
        return self.at(0) if self.kind == "donor" else self.at(1)

    @property
    def intron_right(self) -> bool:
        """Whether the intron lies to the right of the site (a + donor or a - acceptor)."""
        return (self.kind == "donor") == (self.strand == "+")


def splice_variants(
    reference: Reference | str | os.PathLike,
    annotation: Annotation | str | os.PathLike,
    *,
    contigs: Sequence[str] | None = None,
    n_per_category: int | None = None,
    n_intergenic: int | None = None,
    min_gene_distance: int = 5000,
    near: tuple[int, int] = (10, 30),
    seed: int = 0,
) -> SpliceVariants:
    """Labelled control variants at the annotated splice sites of a genome (see the module docstring).

    Parameters
    ----------
    reference : Reference, str or os.PathLike
        The genome (a path is opened and closed here).
    annotation : Annotation, str or os.PathLike
        GTF, GFF3 or GenBank/EMBL annotation of that genome.
    contigs : sequence of str, optional
        Contigs to draw from (aliases resolve); default every contig of the reference.
    n_per_category : int, optional
        Most variants per site category; default one per canonical site.
    n_intergenic : int, optional
        Intergenic variants; default ``n_per_category`` or, without it, the
        number of canonical sites.
    min_gene_distance : int, default 5000
        Least distance in bp between an intergenic variant and any gene.
    near : (int, int), default (10, 30)
        Distance range in bp of ``near_preserving`` variants from their site.
    seed : int, default 0

    Returns
    -------
    SpliceVariants
        A list of :class:`SimulatedVariant` sorted by contig (reference order),
        start, REF and ALT, with ``skipped`` and ``intergenic_distance``.

    Raises
    ------
    InputError
        On a bad count, distance or seed, a site past its contig's end, or no
        canonical site on the chosen contigs.
    MissingContigError
        A name in ``contigs`` that the reference lacks.
    """
    if n_per_category is not None:
        n_per_category = integer(n_per_category, "the number of variants per category", 0)
    if n_intergenic is not None:
        n_intergenic = integer(n_intergenic, "the number of intergenic variants", 0)
    min_gene_distance = integer(min_gene_distance, "the least distance from genes", 1)
    if not is_integer(seed):
        raise InputError(f"seed must be an integer, got {seed!r}")
    if not (isinstance(near, (tuple, list)) and len(near) == 2 and all(is_integer(x) for x in near)) or not (
        3 <= near[0] <= near[1]
    ):
        raise InputError(f"near must be two integers (low, high) with 3 <= low <= high, got {near!r}")
    if not isinstance(annotation, Annotation):
        annotation = read_annotation(annotation)
    with contextlib.ExitStack() as stack:
        if not isinstance(reference, Reference):
            reference = stack.enter_context(Reference(reference))
        chosen = reference.references if contigs is None else tuple(reference.resolve(c) for c in contigs)
        draw = _Draw(reference, annotation, chosen, seed)
        return draw.run(n_per_category, n_intergenic, min_gene_distance, tuple(near))


class _Draw:
    """The state of one :func:`splice_variants` call."""

    def __init__(self, reference: Reference, annotation: Annotation, contigs: tuple[str, ...], seed: int) -> None:
        self.ref, self.seed, self.contigs = reference, operator.index(seed), contigs
        self.rank = {name: i for i, name in enumerate(reference.references)}
        self.skipped: dict[str, int] = {}
        records = [*annotation.genes_by_id.values(), *annotation.transcripts_by_id.values()]
        self.names = {c: self._resolve(c) for c in {r.chrom for r in records}}
        # gene spans by id; a transcript without a gene names its sites by its own id
        self.spans = {r.id: (self.names[r.chrom], r.start, r.end) for r in reversed(records)}
        self.sites, self.blocked = self._sites(annotation)

    def _resolve(self, name: str) -> str | None:
        return self.ref.resolve(name) if name in self.ref else None

    def _count(self, key: str, n: int = 1) -> None:
        self.skipped[key] = self.skipped.get(key, 0) + n

    def seq(self, chrom: str, start: int, end: int) -> str:
        return self.ref.fetch(chrom, start, end).upper()

    def _sites(self, annotation: Annotation) -> tuple[list[_Site], dict[str, list[int]]]:
        sites, blocked = [], {c: set() for c in self.contigs}
        for kind, found in (("donor", annotation.donor_sites()), ("acceptor", annotation.acceptor_sites())):
            for s in found:
                chrom = self.names.get(s.chrom)
                if chrom is None:
                    self._count(f"{kind}_contig_not_in_reference")
                if chrom not in blocked:
                    continue
                if s.end > self.ref.length(chrom):
                    raise InputError(
                        f"the annotation has a {kind} site at {s.chrom}:{s.start}-{s.end} (0-based), past the end "
                        f"of the contig ({self.ref.length(chrom):,} bp)",
                        fix="Use the annotation of this genome assembly",
                    )
                blocked[chrom].update((s.start, s.start + 1))
                site = _Site(chrom, s.start, s.strand, kind, s.name)
                if self.seq(chrom, s.start, s.end) == site.motif:
                    sites.append(site)
                else:
                    self._count(f"non_canonical_{kind}")
        if not sites:
            raise InputError(
                f"the annotation has no canonical GT/AG splice site on {', '.join(self.contigs)}",
                fix="Check the contig names and that the annotation belongs to this genome"
                + option("contigs", "CHROM", clause=", or choose other contigs with {}"),
            )
        return sites, {c: sorted(v) for c, v in blocked.items()}

    def rng(self, category: str) -> np.random.Generator:
        return np.random.default_rng([self.seed, CATEGORIES.index(category)])

    def run(self, n: int | None, n_intergenic: int | None, distance: int, near: tuple[int, int]) -> SpliceVariants:
        donors = [s for s in self.sites if s.kind == "donor"]
        acceptors = [s for s in self.sites if s.kind == "acceptor"]
        out = []
        out += self._take("donor_disrupting", donors, n, self._snv_at_site)
        out += self._take("acceptor_disrupting", acceptors, n, self._snv_at_site)
        out += self._take("site_deletion", self.sites, n, self._deletion)
        out += self._take("site_insertion", self.sites, n, self._insertion)
        used: set[tuple[str, int]] = set()
        out += self._take("near_preserving", self.sites, n, lambda s, r: self._near(s, r, near, used))
        if n_intergenic is None:
            n_intergenic = len(self.sites) if n is None else n
        intergenic, reached = self._intergenic(n_intergenic, distance)
        out += intergenic
        out.sort(key=lambda v: (self.rank[v.chrom], v.start, v.ref, v.alt))
        return SpliceVariants(out, skipped=self.skipped, distance=reached)

    def _take(self, category: str, sites: list[_Site], n: int | None, make) -> list[SimulatedVariant]:
        """Up to ``n`` variants of ``category``, one per site in random order; ``make`` gives
        ``(start, ref, alt, note)`` for a site, or None when the site has no candidate."""
        rng, out = self.rng(category), []
        for i in rng.permutation(len(sites)):
            if n is not None and len(out) >= n:
                break
            site, made = sites[i], make(sites[i], rng)
            if made is None:
                self._count(f"{category}_no_candidate")
            else:
                out.append(
                    SimulatedVariant(site.chrom, *made[:3], category, site.gene, site.strand, site.labelled, made[3])
                )
        return out

    def _creates(self, chrom: str, a: int, b: int, inserted: str, motifs: Iterable[str], context: int) -> bool:
        """Whether replacing ``[a, b)`` by ``inserted`` leaves a motif within ``context`` bp of the change."""
        alt = self.seq(chrom, a - context, a) + inserted + self.seq(chrom, b, b + context)
        return any(m in alt for m in motifs)

    def _snv_at_site(self, site: _Site, rng: np.random.Generator) -> tuple | None:
        plus = "GT" if site.kind == "donor" else "AG"
        choices = [(i, b) for i in (0, 1) for b in _BREAK[site.kind][i]]
        for k in rng.permutation(len(choices)):
            i, base = choices[k]
            at, alt = site.at(i), base if site.strand == "+" else base.translate(_COMPLEMENT)
            if not self._creates(site.chrom, at, at + 1, alt, (site.motif,), 1):
                changed = plus[:i] + base + plus[i + 1 :]
                note = f"{site.kind} {plus}>{changed} on the {site.strand} strand"
                return at, self.seq(site.chrom, at, at + 1), alt, note
        return None

    def _deletion(self, site: _Site, rng: np.random.Generator) -> tuple | None:
        windows = [(d, k) for k in (1, 2, 3) for d in range(site.start - k + 1, site.start + 2) if d >= 1]
        for j in rng.permutation(len(windows)):
            d, k = windows[j]
            ref = self.seq(site.chrom, d - 1, d + k)
            if "N" in ref or self._creates(site.chrom, d, d + k, "", (site.motif,), 2):
                continue
            note = f"{k} bp deleted at the {site.strand} strand {site.kind} (genome {site.motif})"
            return d - 1, ref, ref[0], note
        return None

    def _insertion(self, site: _Site, rng: np.random.Generator) -> tuple | None:
        for _ in range(20):
            inserted = "".join(_BASES[i] for i in rng.integers(0, 4, size=int(rng.integers(1, 4))))
            if not self._creates(site.chrom, site.start + 1, site.start + 1, inserted, (site.motif,), 2):
                anchor = self.seq(site.chrom, site.start, site.start + 1)
                note = f"{inserted} inserted inside the {site.strand} strand {site.kind} (genome {site.motif})"
                return site.start, anchor, anchor + inserted, note
        return None

    def _near(self, site: _Site, rng: np.random.Generator, near: tuple[int, int], used: set) -> tuple | None:
        low, high = near
        span = [self.spans[g] for g in site.gene.split(",")]
        left, right = min(s for _, s, _ in span), max(e for _, _, e in span)
        where = [*range(site.start - high, site.start - low + 1), *range(site.start + 1 + low, site.start + 2 + high)]
        where = [
            p for p in where if left <= p < right and (site.chrom, p) not in used and self._clear(site.chrom, p, low)
        ]
        motifs = ("GT", "AG") if site.strand == "+" else ("AC", "CT")
        for j in rng.permutation(len(where)):
            p = where[j]
            ref = self.seq(site.chrom, p, p + 1)
            for alt in (str(b) for b in rng.permutation(list(_BASES)) if b != ref and ref != "N"):
                if self._creates(site.chrom, p, p + 1, alt, motifs, 1):
                    continue  # a GT or AG next to the change: a possible new site
                used.add((site.chrom, p))
                side = "intron" if (p >= site.start) == site.intron_right else "exon"
                gap = site.start - p if p < site.start else p - site.start - 1
                return p, ref, alt, f"{gap} bp from the {site.kind} on its {side} side; keeps every site"
        return None

    def _clear(self, chrom: str, p: int, low: int) -> bool:
        """Whether ``p`` is at least ``low`` bp from every annotated site base of ``chrom``."""
        bases = self.blocked[chrom]
        i = bisect.bisect_left(bases, p)
        return all(abs(bases[j] - p) >= low for j in (i - 1, i) if 0 <= j < len(bases))

    def _intergenic(self, n: int, distance: int) -> tuple[list[SimulatedVariant], int | None]:
        gaps = self._gaps()
        rng, out, seen = self.rng("intergenic"), [], set()
        reached = None
        while len(out) < n and distance >= 1:
            t = _largest_distance(gaps, n - len(out), distance)
            if t < distance:
                log.info("too few bases %d bp from any gene for %d intergenic variants: using %d bp", distance, n, t)
            reached, distance = t, t
            ranges = [(c, s, e) for c, s, e in _eligible(gaps, t) if e > s]
            total = sum(e - s for _, s, e in ranges)
            picks = rng.choice(total, size=min(total, 2 * (n - len(out)) + 16), replace=False) if total else []
            edges = np.cumsum([e - s for _, s, e in ranges])
            for offset in picks:
                r = int(np.searchsorted(edges, offset, side="right"))
                chrom, s, _ = ranges[r]
                p = s + int(offset) - (int(edges[r - 1]) if r else 0)
                ref = self.seq(chrom, p, p + 1)
                if ref == "N" or (chrom, p) in seen or len(out) >= n:
                    continue
                seen.add((chrom, p))
                alt = str(rng.choice([b for b in _BASES if b != ref]))
                out.append(SimulatedVariant(chrom, p, ref, alt, "intergenic", note=f">= {t:,} bp from any gene"))
            distance = t // 2 if len(out) < n else t
        return out, reached

    def _gaps(self) -> list[tuple[str, int | None, int | None, int]]:
        """Gene-free stretches ``(chrom, last gene end, next gene start, contig length)``; None at contig ends."""
        spans: dict[str, list[tuple[int, int]]] = {c: [] for c in self.contigs}
        for chrom, start, end in self.spans.values():
            if chrom in spans:
                spans[chrom].append((start, end))
        gaps = []
        for chrom, found in spans.items():
            merged: list[list[int]] = []
            for s, e in sorted(found):
                if merged and s <= merged[-1][1]:
                    merged[-1][1] = max(merged[-1][1], e)
                else:
                    merged.append([s, e])
            length = self.ref.length(chrom)
            bounds = [None, *(x for s, e in merged for x in (s, e)), None]
            for end, start in zip(bounds[::2], bounds[1::2]):
                gaps.append((chrom, end, start, length))
        return gaps


def _eligible(gaps, t: int) -> Iterator[tuple[str, int, int]]:
    """Ranges ``(chrom, start, end)`` of bases at least ``t`` bp from every gene (1 = next to it)."""
    for chrom, left, right, length in gaps:
        start = 0 if left is None else left + t - 1
        end = length if right is None else right - t + 1
        yield chrom, max(start, 0), min(end, length)


def _largest_distance(gaps, n: int, limit: int) -> int:
    """The largest ``t <= limit`` with at least ``n`` eligible bases (1 when even that has fewer)."""

    def size(t: int) -> int:
        return sum(max(0, e - s) for _, s, e in _eligible(gaps, t))

    low, high = 1, limit
    while low < high:
        mid = (low + high + 1) // 2
        low, high = (mid, high) if size(mid) >= n else (low, mid - 1)
    return low


def chr_aliases(names: Iterable[str]) -> dict[str, str]:
    """The other naming of each contig: ``chr2L -> 2L``, ``2L -> chr2L`` (what :meth:`Reference.resolve` follows).

    Examples
    --------
    >>> chr_aliases(["chr2L", "X"])
    {'chr2L': '2L', 'X': 'chrX'}
    """
    return {name: name[3:] if name.startswith("chr") and len(name) > 3 else f"chr{name}" for name in names}


def write_vcf(
    variants: Iterable[SimulatedVariant],
    path: str | os.PathLike,
    *,
    reference: Reference,
    contig_alias: Mapping[str, str] | None = None,
    mismatch: int = 0,
    multiallelic: int = 0,
    seed: int = 0,
) -> list[SimulatedVariant]:
    """Write variants as VCF 4.2, atomically; ``.gz`` is bgzipped and tabix-indexed (``path + ".tbi"``).

    The header has a ``##contig`` line per reference contig (its length) and
    ``INFO`` keys ``CATEGORY``, ``GENE``, ``STRAND`` and ``SITE`` (the 1-based
    labelled base), each ``Number=A``: one value per ALT, ``.`` when missing
    (intergenic). Variants at one position with one REF share a record, one
    ALT each. Records are sorted by contig (reference order) and position.

    Parameters
    ----------
    variants : iterable of SimulatedVariant
        With the genome's REF (:func:`splice_variants` gives such).
    path : str or os.PathLike
        ``.vcf`` (plain) or ``.vcf.gz`` (bgzip + tabix).
    reference : Reference
        The genome the variants were drawn from.
    contig_alias : mapping of str to str, optional
        Names to write instead of the reference's (``{"chr2L": "2L"}``, see
        :func:`chr_aliases`); they should be aliases the reference resolves.
    mismatch : int, default 0
        Add this many SNV records (copies of drawn SNVs) whose REF is a base
        the genome does not have, category ``ref_mismatch``.
    multiallelic : int, default 0
        Give this many drawn SNVs a second ALT (category ``multiallelic``).
    seed : int, default 0
        Chooses the SNVs and bases of ``mismatch`` and ``multiallelic``.

    Returns
    -------
    list of SimulatedVariant
        Every ALT written, in file order (added test variants included).

    Raises
    ------
    InputError
        A variant on a contig the reference lacks, past its end, with a REF
        that differs from the genome, or given twice; more ``mismatch`` or
        ``multiallelic`` than there are SNVs.
    """
    if not isinstance(reference, Reference):
        raise InputError(f"reference must be a Reference, got {type(reference).__name__}")
    variants = list(variants)
    alias = dict(contig_alias or {})
    rank = {name: i for i, name in enumerate(reference.references)}
    _check_variants(variants, reference, rank)
    variants += _injected(variants, reference, mismatch, multiallelic, seed)
    variants.sort(key=lambda v: (rank[v.chrom], v.start, v.ref, v.category in INJECTED, v.alt))
    records: dict[tuple, list[SimulatedVariant]] = {}
    for v in variants:
        records.setdefault((v.chrom, v.start, v.ref), []).append(v)
    lines = _header(reference, alias) + [_record(group, alias) for group in records.values()]
    text = "".join(line + "\n" for line in lines).encode()
    if os.fspath(path).endswith(".gz"):
        _write_indexed(text, path)
    else:
        with atomic_output(path) as handle:
            handle.write(text)
    return [v for group in records.values() for v in group]


def write_labels(variants: Iterable[SimulatedVariant], path: str | os.PathLike, *, contig_alias=None) -> None:
    """Write one tab-separated row per variant, atomically, for joining scores on ``chrom pos ref alt``.

    Columns: ``chrom pos ref alt category gene strand site note``, ``pos``
    and ``site`` 1-based as in the VCF (``site`` empty for intergenic),
    ``chrom`` as :func:`write_vcf` wrote it with the same ``contig_alias``.
    """
    alias = dict(contig_alias or {})
    rows = ["chrom\tpos\tref\talt\tcategory\tgene\tstrand\tsite\tnote"]
    for v in variants:
        site = "" if v.site is None else str(v.site + 1)
        fields = (alias.get(v.chrom, v.chrom), str(v.pos), v.ref, v.alt, v.category, v.gene, v.strand, site, v.note)
        rows.append("\t".join(fields))
    with atomic_output(path, "w") as handle:
        handle.write("\n".join(rows) + "\n")


def _check_variants(variants: list, reference: Reference, rank: Mapping[str, int]) -> None:
    seen = set()
    for v in variants:
        if not isinstance(v, SimulatedVariant):
            raise InputError(f"variants must be SimulatedVariant, got {type(v).__name__}")
        if v.chrom not in rank or v.end > reference.length(v.chrom):
            raise InputError(f"variant {v.chrom}:{v.pos} is not on a contig of the reference or past its end")
        genome = reference.fetch(v.chrom, v.start, v.end).upper()
        if genome != v.ref:
            raise InputError(
                f"variant {v.chrom}:{v.pos} has REF {v.ref!r} but the genome has {genome!r}",
                fix=f"Draw the variants from this genome; add REF mismatches on purpose with {option('mismatch', 'N')}",
            )
        key = (v.chrom, v.start, v.ref, v.alt)
        if key in seen:
            raise InputError(f"variant {v.chrom}:{v.pos} {v.ref}>{v.alt} is given twice")
        seen.add(key)


def _injected(variants: list, reference: Reference, mismatch: int, multiallelic: int, seed: int) -> list:
    """The ``ref_mismatch`` and ``multiallelic`` test variants (see :func:`write_vcf`)."""
    mismatch = integer(mismatch, "the number of REF mismatches", 0)
    multiallelic = integer(multiallelic, "the number of multi-allelic records", 0)
    if not is_integer(seed):
        raise InputError(f"seed must be an integer, got {seed!r}")
    snvs = [v for v in variants if len(v.ref) == len(v.alt) == 1]
    taken = {(v.chrom, v.start, v.alt) for v in snvs}
    for n, what in ((mismatch, "REF mismatches"), (multiallelic, "multi-allelic records")):
        if n > len(snvs):
            raise InputError(
                f"{n:,} {what} asked for, but there are only {len(snvs):,} SNVs to copy",
                fix=f"Ask for at most {len(snvs):,}",
            )
    rng = np.random.default_rng([operator.index(seed), 99])
    out = []
    for i in rng.choice(len(snvs), size=mismatch, replace=False) if mismatch else []:
        v = snvs[int(i)]
        wrong = str(rng.choice([b for b in _BASES if b != v.ref]))
        alt = str(rng.choice([b for b in _BASES if b not in (v.ref, wrong)]))
        note = f"REF {wrong} but the genome has {v.ref}"
        out.append(dataclasses.replace(v, ref=wrong, alt=alt, category="ref_mismatch", note=note))
    for i in rng.choice(len(snvs), size=multiallelic, replace=False) if multiallelic else []:
        v = snvs[int(i)]
        free = [b for b in _BASES if b != v.ref and (v.chrom, v.start, b) not in taken]
        if free:
            alt = str(rng.choice(free))
            taken.add((v.chrom, v.start, alt))
            note = f"second ALT of the {v.category} {v.ref}>{v.alt}"
            out.append(dataclasses.replace(v, alt=alt, category="multiallelic", note=note))
    return out


def _header(reference: Reference, alias: Mapping[str, str]) -> list[str]:
    lines = [
        "##fileformat=VCFv4.2",
        "##source=bioseq simulate variants (SYNTHETIC labelled splice-site controls)",
        f"##reference=file://{os.path.abspath(reference.path)}",
    ]
    lines += [f"##contig=<ID={alias.get(c, c)},length={n}>" for c, n in zip(reference.references, reference.lengths)]
    info = (
        ("CATEGORY", "String", "Simulated category: " + ", ".join(CATEGORIES + INJECTED)),
        ("GENE", "String", "Gene id(s) of the splice site, joined by '|'"),
        ("STRAND", "String", "Transcript strand of the splice site"),
        ("SITE", "Integer", "1-based position of the site's labelled base (the G of GT or AG on its strand)"),
    )
    lines += [f'##INFO=<ID={key},Number=A,Type={kind},Description="{text}">' for key, kind, text in info]
    return [*lines, "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO"]


def _record(group: list[SimulatedVariant], alias: Mapping[str, str]) -> str:
    first = group[0]

    def values(get) -> str:
        return ",".join(_UNSAFE.sub("_", str(get(v))).replace(",", "|") or "." for v in group)

    info = ";".join(
        (
            "CATEGORY=" + values(lambda v: v.category),
            "GENE=" + values(lambda v: v.gene.replace(",", "|")),
            "STRAND=" + values(lambda v: "" if v.strand == "." else v.strand),
            "SITE=" + values(lambda v: "" if v.site is None else v.site + 1),
        )
    )
    alts = ",".join(v.alt for v in group)
    return "\t".join((alias.get(first.chrom, first.chrom), str(first.pos), ".", first.ref, alts, ".", ".", info))


def _write_indexed(text: bytes, path: str | os.PathLike) -> None:
    """``text`` bgzipped to ``path`` and tabix-indexed to ``path.tbi``, the data renamed first."""
    with atomic_path(f"{os.fspath(path)}.tbi") as index, atomic_path(path) as data:
        with pysam.BGZFile(str(data), "wb") as handle:
            handle.write(text)
        tabix_index_vcf(data, index, out=path)
