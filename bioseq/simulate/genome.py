"""A deterministic synthetic genome with genes, promoters, splice sites and repeats.

Everything :func:`simulate_genome` makes is SYNTHETIC. It exists so that the
default workflow has a small genome whose annotation and RNA-seq reads agree
by construction, with real (planted) signal for promoter and splice-site
models.

Data contract
-------------
Coordinates are 0-based and half-open everywhere (a gene ``[start, end)``
covers ``end - start`` bases); the GTF writer converts to GTF's 1-based,
inclusive coordinates. Contigs are ``chr1 .. chrN``. Sequences are ``str`` of
``ACGT`` with lower-case (soft-masked) repeats and runs of ``N``.

What is planted
---------------
* Background: a 2nd-order Markov chain with about 40 % G+C, CpG depleted to
  a quarter of its expectation and TpA to 0.8, favouring poly-A/T runs.
* Repeats (about 8 % of each contig, soft-masked): diverged copies of an
  Alu-like, a 5'-truncated L1-like and a MIR-like family, and
  microsatellites; never in exons, promoters or within 60 bp of a splice site.
* N runs: 100-2,000 bp, one per started 200 kb, between genes.
* Genes on both strands, 2-6 exons (more exons more often), GC-richer exons,
  introns of 90-4,000 bp with canonical GT..AG and sampled donor, branch
  point, polypyrimidine tract and acceptor motifs; a third of the genes with
  3+ exons get a second transcript that skips one internal exon.
* A core promoter at every TSS, of class ``TATA``, ``CpG`` or ``Inr-DPE``
  (see :func:`bioseq.simulate.motifs.plant_promoter`).

:attr:`SimulatedGenome.features` lists every planted element with its
position; :meth:`SimulatedGenome.truth` is the same as JSON-ready data.

Determinism: the same arguments give the same sequences, annotation and
files, byte for byte, with a given numpy version. Each contig draws from its
own random stream, so ``chr1`` does not change when ``n_chromosomes`` does.
"""

from __future__ import annotations

import dataclasses
import json
import operator
import os
from collections.abc import Iterator
from typing import NamedTuple

import numpy as np
import pysam

from bioseq import __version__
from bioseq.checks import is_integer
from bioseq.errors import InputError
from bioseq.io.annotation import Annotation, Transcript
from bioseq.io.fasta import FastaRecord, write_fasta
from bioseq.io.handles import atomic_output, atomic_path
from bioseq.simulate import motifs

__all__ = [
    "Feature",
    "SimulatedGene",
    "SimulatedGenome",
    "simulate_genome",
    "write_genome",
    "write_gtf",
    "write_truth",
    "check_count",
]

SOURCE = "bioseq"
"""The GTF source column of simulated features."""
_UPSTREAM, _DOWNSTREAM = 600, 200  # gene-free bases kept before the TSS and after the last exon
_EDGE, _MIN_GAP = 2_000, 500  # gene-free bases at contig ends and at least between loci
_EXON_COUNTS, _EXON_WEIGHTS = (2, 3, 4, 5, 6), (0.1, 0.15, 0.2, 0.25, 0.3)
_SPLICE_GUARD = 60  # repeats stay this far from intron ends
_REPEAT_COVERAGE, _MEAN_REPEAT = 0.08, 300
_MAX_GENOME = 100_000_000  # bases; about a minute of simulation
_PLACEMENT_TRIES = 100  # random starts tried for each repeat copy or N run


class Feature(NamedTuple):
    """One planted element, 0-based half-open, on the strand it reads on.

    ``kind`` is one of ``TATA_box``, ``BRE``, ``Inr``, ``DPE``, ``GC_box``,
    ``CCAAT_box``, ``CpG_island``, ``donor_motif``, ``branch_point``,
    ``polypyrimidine_tract``, ``acceptor_motif`` (``parent`` = gene id),
    ``repeat`` (``parent`` = family) or ``N_run`` (``parent`` = ``""``).
    """

    kind: str
    chrom: str
    start: int
    end: int
    strand: str
    parent: str


@dataclasses.dataclass(frozen=True, slots=True)
class SimulatedGene:
    """A simulated gene: span from TSS to the end of its last exon, 0-based half-open."""

    id: str
    chrom: str
    start: int
    end: int
    strand: str
    promoter: str
    transcript_ids: tuple[str, ...]

    @property
    def tss(self) -> int:
        """0-based position of the TSS (the 5' base on the gene's strand)."""
        return self.start if self.strand == "+" else self.end - 1


@dataclasses.dataclass(frozen=True)
class SimulatedGenome:
    """The output of :func:`simulate_genome` (all coordinates 0-based half-open).

    Attributes
    ----------
    sequences : dict of str to str
        Contig name to sequence, in contig order.
    genes : tuple of SimulatedGene
        By contig, then start.
    transcripts : tuple of bioseq.io.annotation.Transcript
        As :func:`bioseq.io.gff.read_gtf` reads them back from :func:`write_gtf`.
    features : tuple of Feature
        Every planted element, by contig and start.
    parameters : dict
        The arguments of :func:`simulate_genome`, seed included.
    """

    sequences: dict[str, str]
    genes: tuple[SimulatedGene, ...]
    transcripts: tuple[Transcript, ...]
    features: tuple[Feature, ...]
    parameters: dict[str, int]

    def annotation(self) -> Annotation:
        """The transcripts as an :class:`~bioseq.io.annotation.Annotation`."""
        return Annotation(self.transcripts)

    def truth(self) -> dict:
        """What was planted where, as JSON-ready data (0-based half-open)."""
        exons = {tx.id: [list(e) for e in tx.exons] for tx in self.transcripts}
        return {
            "synthetic": True,
            "generator": f"bioseq {__version__} simulate",
            "coordinates": "0-based, half-open; motif sequences read 5' to 3' on the feature's strand",
            "parameters": dict(self.parameters),
            "contigs": {name: len(seq) for name, seq in self.sequences.items()},
            "genes": [
                {
                    "id": g.id,
                    "chrom": g.chrom,
                    "start": g.start,
                    "end": g.end,
                    "strand": g.strand,
                    "tss": g.tss,
                    "promoter": g.promoter,
                    "transcripts": {t: exons[t] for t in g.transcript_ids},
                }
                for g in self.genes
            ],
            "features": [{**f._asdict(), "sequence": self._motif(f)} for f in self.features],
        }

    def _motif(self, feature: Feature) -> str | None:
        """The upper-case sequence of a planted motif on its strand; None for repeats, N runs, islands."""
        if feature.kind in ("repeat", "N_run", "CpG_island"):
            return None
        seq = self.sequences[feature.chrom][feature.start : feature.end].upper()
        return seq if feature.strand == "+" else seq.translate(str.maketrans("ACGTN", "TGCAN"))[::-1]


def check_count(value: object, what: str, low: int, high: int) -> int:
    """Return ``value`` as an ``int`` when it is an integer in ``[low, high]``.

    Parameters
    ----------
    value : object
    what : str
        What the value is, for the message (``"the read length"``).
    low, high : int
        Inclusive bounds.

    Raises
    ------
    InputError
        When ``value`` is not an integer (``bool`` included) or out of range.
    """
    if not is_integer(value) or not low <= operator.index(value) <= high:
        raise InputError(f"{what} must be an integer from {low:,} to {high:,}, got {value!r}")
    return operator.index(value)


def simulate_genome(
    *, n_chromosomes: int = 4, chromosome_length: int = 250_000, genes_per_chromosome: int = 30, seed: int = 0
) -> SimulatedGenome:
    """Simulate a genome with genes, promoters, splice sites and repeats (SYNTHETIC).

    Parameters
    ----------
    n_chromosomes : int, default 4
        Contigs ``chr1 .. chrN`` (1 to 50).
    chromosome_length : int, default 250_000
        Bases per contig (10,000 to 10,000,000; at most 100 Mb in all).
    genes_per_chromosome : int, default 30
        Genes per contig (1 to 10,000); each takes about 4 kb with its
        promoter and spacing.
    seed : int, default 0
        Seed of every random choice (0 to 2**32 - 1).

    Returns
    -------
    SimulatedGenome
        Sequences, genes, transcripts and planted features, 0-based half-open.

    Raises
    ------
    InputError
        When an argument is out of range, the genome would exceed 100 Mb, or
        the genes do not fit on a contig.
    """
    n_chromosomes = check_count(n_chromosomes, "the number of chromosomes", 1, 50)
    length = check_count(chromosome_length, "the chromosome length", 10_000, 10_000_000)
    if n_chromosomes * length > _MAX_GENOME:
        raise InputError(
            f"{n_chromosomes} chromosomes of {length:,} bp make {n_chromosomes * length:,} bp, "
            f"more than the simulator's limit of {_MAX_GENOME:,}",
            fix="Use fewer or shorter chromosomes",
        )
    n_genes = check_count(genes_per_chromosome, "the number of genes per chromosome", 1, 10_000)
    seed = check_count(seed, "the seed", 0, 2**32 - 1)
    consensus = motifs.repeat_consensus(np.random.default_rng([seed, 0]))
    sequences, genes, transcripts, features = {}, [], [], []
    for index in range(n_chromosomes):
        chrom = f"chr{index + 1}"
        rng = np.random.default_rng([seed, 1, index])
        seq, chrom_genes, chrom_transcripts, chrom_features = _chromosome(rng, chrom, length, n_genes, consensus)
        sequences[chrom] = seq
        genes += chrom_genes
        transcripts += chrom_transcripts
        features += sorted(chrom_features, key=lambda f: (f.start, f.end, f.kind))
    parameters = {
        "n_chromosomes": n_chromosomes,
        "chromosome_length": length,
        "genes_per_chromosome": n_genes,
        "seed": seed,
    }
    return SimulatedGenome(sequences, tuple(genes), tuple(transcripts), tuple(features), parameters)


@dataclasses.dataclass(frozen=True)
class _Plan:
    """A gene before placement: strand, promoter class and exon/intron lengths."""

    strand: str
    promoter: str
    exons: tuple[int, ...]
    introns: tuple[int, ...]
    skipped: int | None  # the internal exon the second transcript skips

    @property
    def span(self) -> int:
        return _UPSTREAM + sum(self.exons) + sum(self.introns) + _DOWNSTREAM


def _plan(rng: np.random.Generator) -> _Plan:
    n = int(rng.choice(_EXON_COUNTS, p=_EXON_WEIGHTS))
    internal = np.clip(rng.lognormal(np.log(130), 0.35, n - 2), 50, 300).astype(int).tolist()
    exons = (int(rng.integers(150, 400)), *internal, int(rng.integers(250, 800)))
    introns = tuple(np.clip(rng.lognormal(np.log(450), 0.8, n - 1), 90, 4000).astype(int).tolist())
    strand = "+" if rng.random() < 0.5 else "-"
    promoter = str(rng.choice(list(motifs.PROMOTER_CLASSES), p=list(motifs.PROMOTER_CLASSES.values())))
    skipped = int(rng.integers(1, n - 1)) if n >= 3 and rng.random() < 1 / 3 else None
    return _Plan(strand, promoter, exons, introns, skipped)


def _chromosome(rng: np.random.Generator, chrom: str, length: int, n_genes: int, consensus: dict):
    """One contig: background, genes placed left to right with random gaps, then N runs and repeats."""
    seq = motifs.markov_sequence(rng, length)
    plans = [_plan(rng) for _ in range(n_genes)]
    free = length - sum(p.span for p in plans) - 2 * _EDGE - (n_genes + 1) * _MIN_GAP
    if free < 0:
        raise InputError(
            f"{n_genes:,} gene(s) per chromosome need about {length - free:,} bp on {chrom}, "
            f"but a chromosome has {length:,}",
            fix="Use fewer genes per chromosome or longer chromosomes (about 4 kb per gene)",
        )
    gaps = _MIN_GAP + np.floor(rng.dirichlet(np.ones(n_genes + 1)) * free).astype(int)
    protected = np.zeros(length, dtype=bool)
    genes, transcripts, features = [], [], []
    position = _EDGE + int(gaps[0])
    for number, (plan, gap) in enumerate(zip(plans, gaps[1:].tolist()), start=1):
        gene, txs, found = _gene(rng, seq, protected, plan, chrom, position, f"{chrom}_g{number:03d}")
        genes.append(gene)
        transcripts += txs
        features += found
        position += plan.span + gap
    features += _mask(rng, seq, protected, chrom, consensus)
    return seq.tobytes().decode("ascii"), genes, transcripts, features


def _gene(rng, seq: np.ndarray, protected: np.ndarray, plan: _Plan, chrom: str, lo: int, gene_id: str):
    """Write one gene into ``seq`` at locus ``[lo, lo + span)``; return gene, transcripts, features."""
    hi = lo + plan.span
    minus = plan.strand == "-"
    locus = motifs.reverse_complement(seq[lo:hi]) if minus else seq[lo:hi].copy()
    exons, cursor = [], _UPSTREAM
    for k, size in enumerate(plan.exons):
        exons.append((cursor, cursor + size))
        locus[cursor : cursor + size] = motifs.markov_sequence(rng, size, gc=motifs.EXON_GC)
        cursor += size + (plan.introns[k] if k < len(plan.introns) else 0)
    planted = motifs.plant_promoter(rng, locus, _UPSTREAM, plan.promoter)
    for (_, intron_start), (intron_end, _) in zip(exons, exons[1:]):
        planted += motifs.plant_intron(rng, locus, intron_start, intron_end)
    seq[lo:hi] = motifs.reverse_complement(locus) if minus else locus

    def place(start: int, end: int) -> tuple[int, int]:  # locus offsets -> genome, 0-based half-open
        return (hi - end, hi - start) if minus else (lo + start, lo + end)

    protected[lo:hi] = True
    for (_, intron_start), (intron_end, _) in zip(exons, exons[1:]):
        inner = place(intron_start + _SPLICE_GUARD, intron_end - _SPLICE_GUARD)
        protected[inner[0] : inner[1]] = False
    features = [Feature(name, chrom, *place(s, e), plan.strand, gene_id) for name, s, e in planted]
    isoforms = [exons] if plan.skipped is None else [exons, exons[: plan.skipped] + exons[plan.skipped + 1 :]]
    transcripts = [
        Transcript(f"{gene_id}.t{i}", gene_id, chrom, plan.strand, tuple(place(s, e) for s, e in iso), source=SOURCE)
        for i, iso in enumerate(isoforms, start=1)
    ]
    start, end = place(_UPSTREAM, exons[-1][1])
    gene = SimulatedGene(gene_id, chrom, start, end, plan.strand, plan.promoter, tuple(t.id for t in transcripts))
    return gene, transcripts, features


def _mask(rng, seq: np.ndarray, protected: np.ndarray, chrom: str, consensus: dict) -> list[Feature]:
    """Write N runs, then soft-masked repeat copies, outside ``protected`` bases (in place)."""
    features = []
    for _ in range(len(seq) // 200_000 + 1):
        size = int(rng.integers(100, 2001))
        for start in _free_spots(rng, protected, size):
            seq[start : start + size] = ord("N")
            protected[start : start + size] = True
            features.append(Feature("N_run", chrom, start, start + size, ".", ""))
            break
    families = list(motifs.REPEAT_FAMILIES)
    weights = list(motifs.REPEAT_FAMILIES.values())
    for _ in range(round(_REPEAT_COVERAGE * len(seq) / _MEAN_REPEAT)):
        family = str(rng.choice(families, p=weights))
        copy, strand = motifs.repeat_copy(rng, family, consensus)
        for start in _free_spots(rng, protected, len(copy)):
            seq[start : start + len(copy)] = copy
            protected[start : start + len(copy)] = True
            features.append(Feature("repeat", chrom, start, start + len(copy), strand, family))
            break
    return features


def _free_spots(rng, protected: np.ndarray, size: int) -> Iterator[int]:
    """Up to ``_PLACEMENT_TRIES`` random starts where ``size`` bases are all unprotected."""
    for _ in range(_PLACEMENT_TRIES):
        start = int(rng.integers(0, len(protected) - size))
        if not protected[start : start + size].any():
            yield start


def write_genome(genome: SimulatedGenome, path: str | os.PathLike, *, index: str | os.PathLike | None = None) -> None:
    """Write the sequences as FASTA (60 letters a line) and index it.

    Both files appear whole or not at all, with the usual permissions.

    Parameters
    ----------
    genome : SimulatedGenome
    path : str or os.PathLike
        The FASTA.
    index : str or os.PathLike, optional
        The ``.fai`` index; default ``path + ".fai"``.

    Raises
    ------
    InputError
        When ``genome`` is not a :class:`SimulatedGenome`.
    """
    _check_genome(genome)
    path = os.fspath(path)
    seed = genome.parameters["seed"]
    write_fasta(
        (FastaRecord(name, f"SYNTHETIC bioseq simulate seed={seed}", seq) for name, seq in genome.sequences.items()),
        path,
        width=60,
    )
    with atomic_path(path + ".fai" if index is None else index) as tmp:
        pysam.faidx(path, "--fai-idx", str(tmp))


def write_gtf(genome: SimulatedGenome, path: str | os.PathLike) -> None:
    """Write genes, transcripts and exons as GTF (1-based inclusive), sorted by contig and start.

    Lines carry ``gene_id`` and ``transcript_id`` (and ``exon_number`` on
    exons, counted 5' to 3'); gene lines carry ``promoter_class``. The file
    appears whole or not at all.

    Raises
    ------
    InputError
        When ``genome`` is not a :class:`SimulatedGenome`.
    """
    _check_genome(genome)
    by_id = {tx.id: tx for tx in genome.transcripts}
    with atomic_output(path, "w") as out:
        out.write(f"#!description SYNTHETIC annotation from bioseq simulate (seed={genome.parameters['seed']})\n")
        for gene in genome.genes:
            head = f"{gene.chrom}\t{SOURCE}\t"
            tail = f'\t.\t{gene.strand}\t.\tgene_id "{gene.id}";'
            out.write(f'{head}gene\t{gene.start + 1}\t{gene.end}{tail} promoter_class "{gene.promoter}";\n')
            for tid in gene.transcript_ids:
                tx = by_id[tid]
                out.write(f'{head}transcript\t{tx.start + 1}\t{tx.end}{tail} transcript_id "{tid}";\n')
                order = range(len(tx.exons)) if tx.strand == "+" else range(len(tx.exons) - 1, -1, -1)
                for number, (start, end) in zip(order, tx.exons):
                    out.write(
                        f'{head}exon\t{start + 1}\t{end}{tail} transcript_id "{tid}"; exon_number "{number + 1}";\n'
                    )


def write_truth(genome: SimulatedGenome, path: str | os.PathLike, *, extra: dict | None = None) -> None:
    """Write :meth:`SimulatedGenome.truth` (plus ``extra`` keys) as JSON, one gene or feature a line.

    Raises
    ------
    InputError
        When ``genome`` is not a :class:`SimulatedGenome`.
    """
    _check_genome(genome)
    truth = {**genome.truth(), **(extra or {})}
    parts = []
    for key, value in truth.items():
        if isinstance(value, list):
            value_text = "[\n" + ",\n".join("  " + json.dumps(v) for v in value) + "\n ]"
        else:
            value_text = json.dumps(value)
        parts.append(f" {json.dumps(key)}: {value_text}")
    with atomic_output(path, "w") as out:
        out.write("{\n" + ",\n".join(parts) + "\n}\n")


def _check_genome(genome: object) -> None:
    if not isinstance(genome, SimulatedGenome):
        raise InputError(
            f"expected a SimulatedGenome, got {type(genome).__name__}", fix="Pass what simulate_genome() returned"
        )
