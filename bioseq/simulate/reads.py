"""SYNTHETIC RNA-seq reads, aligned by construction, as a sorted and indexed BAM.

Data contract
-------------
:func:`simulate_rnaseq` samples single-end reads of ``read_length`` bases
from the transcripts of a :class:`~bioseq.simulate.genome.SimulatedGenome`
and writes them with their true alignment: ``POS`` is the 0-based leftmost
base (1-based in SAM text), a read across an intron gets an ``N`` operation
whose length is the intron's, so its ``[start, end)`` is the intron exactly.

* Expression: gene abundances are log-normal (sigma 1.0), shared between a
  gene's transcripts; a transcript gets reads in proportion to its
  abundance times its number of read start positions.
* Library: unstranded; half of the reads map to the reverse strand (flag
  16). Sequences and qualities are stored in reference orientation, as in
  any BAM.
* Base qualities are Illumina-binned (2, 12, 23, 37) and fall towards the
  3' end of the read; each base is substituted with the probability its
  quality states, ``10 ** (-Q / 10)`` (about 0.5 % of bases). No indels.
* Tags: ``NH:i:1`` and ``NM:i:<substitutions>`` on every read, ``XS:A:+``
  or ``XS:A:-`` (the transcript strand) on spliced reads. MAPQ is 60.
* Header: ``@HD SO:coordinate``, one ``@SQ`` per contig, ``@PG`` and a
  ``@CO`` line that says the reads are synthetic. Reads are named
  ``r000001``... in file order.

The same genome, arguments and seed give the same BAM bytes.
"""

from __future__ import annotations

import array
import dataclasses
import os
from typing import NamedTuple

import numpy as np
import pysam

from bioseq import __version__
from bioseq.errors import InputError
from bioseq.io.annotation import Transcript
from bioseq.io.handles import atomic_path
from bioseq.simulate.genome import SimulatedGenome, check_count

__all__ = ["MAX_READS", "QUALITY_BINS", "SimulatedReads", "simulate_rnaseq"]

MAX_READS = 1_000_000
"""The most reads one call simulates (they are sorted in memory)."""
QUALITY_BINS = np.array([37, 23, 12, 2], dtype=np.uint8)
_LETTERS = np.frombuffer(b"ACGT", dtype=np.uint8)
_OTHER = np.array([[c for c in b"ACGT" if c != b] for b in b"ACGT"], dtype=np.uint8)  # (4, 3)
_CODE = np.full(256, 0, dtype=np.uint8)
_CODE[list(b"ACGT")] = range(4)
_BAM_MATCH, _BAM_SKIP = 0, 3


@dataclasses.dataclass(frozen=True)
class SimulatedReads:
    """What :func:`simulate_rnaseq` wrote.

    Attributes
    ----------
    path : str
        The BAM (its index is ``path + ".bai"`` unless another was chosen).
    read_length : int
    n_reads, n_spliced, n_substitutions : int
        Reads, reads with at least one ``N`` operation, substituted bases.
    reads_per_transcript : dict of str to int
        Reads drawn from each transcript, in the genome's transcript order.
    """

    path: str
    read_length: int
    n_reads: int
    n_spliced: int
    n_substitutions: int
    reads_per_transcript: dict[str, int]

    def summary(self) -> dict:
        """JSON-ready figures (without the path)."""
        return {
            "reads": self.n_reads,
            "read_length": self.read_length,
            "spliced": self.n_spliced,
            "substitutions": self.n_substitutions,
            "reads_per_transcript": self.reads_per_transcript,
        }


def simulate_rnaseq(
    genome: SimulatedGenome,
    path: str | os.PathLike,
    *,
    n_reads: int = 20_000,
    read_length: int = 100,
    seed: int = 0,
    index: str | os.PathLike | None = None,
) -> SimulatedReads:
    """Simulate RNA-seq reads from ``genome``'s transcripts into a sorted, indexed BAM.

    Parameters
    ----------
    genome : SimulatedGenome
    path : str or os.PathLike
        Output BAM. It and its index appear only when everything was
        written, with the usual permissions.
    n_reads : int, default 20_000
        Number of reads (0 to 1,000,000; they are sorted in memory).
    read_length : int, default 100
        Bases per read, from 20 up to the length of the shortest transcript.
    seed : int, default 0
        Seed of every random choice (0 to 2**32 - 1).
    index : str or os.PathLike, optional
        The BAM index; default ``path + ".bai"``.

    Returns
    -------
    SimulatedReads

    Raises
    ------
    InputError
        When an argument is out of range, ``genome`` is not a
        :class:`SimulatedGenome`, or a transcript is shorter than
        ``read_length``.
    """
    if not isinstance(genome, SimulatedGenome):
        raise InputError(
            f"expected a SimulatedGenome, got {type(genome).__name__}", fix="Pass what simulate_genome() returned"
        )
    n_reads = check_count(n_reads, "the number of reads", 0, MAX_READS)
    read_length = check_count(read_length, "the read length", 20, 100_000)
    shortest = min(genome.transcripts, key=_length)
    if read_length > _length(shortest):
        raise InputError(
            f"the read length ({read_length:,}) exceeds the {_length(shortest):,} bases of transcript {shortest.id}",
            fix="Use shorter reads",
        )
    seed = check_count(seed, "the seed", 0, 2**32 - 1)
    rng = np.random.default_rng([seed, 2])
    counts = _allocate(rng, genome, n_reads, read_length)
    reads = [
        read
        for tx, count in zip(genome.transcripts, counts)
        for read in _transcript_reads(rng, genome.sequences[tx.chrom], tx, int(count), read_length)
    ]
    contig = {name: i for i, name in enumerate(genome.sequences)}
    reads.sort(key=lambda r: (contig[r.chrom], r.pos))
    index = os.fspath(path) + ".bai" if index is None else os.fspath(index)
    _write_indexed(reads, genome, os.fspath(path), index, read_length)
    return SimulatedReads(
        path=os.fspath(path),
        read_length=read_length,
        n_reads=len(reads),
        n_spliced=sum(len(r.cigar) > 1 for r in reads),
        n_substitutions=sum(r.substitutions for r in reads),
        reads_per_transcript={tx.id: int(c) for tx, c in zip(genome.transcripts, counts)},
    )


def _allocate(rng: np.random.Generator, genome: SimulatedGenome, n_reads: int, read_length: int) -> np.ndarray:
    """Reads per transcript: multinomial on abundance x start positions."""
    weights = []
    for gene in genome.genes:
        abundance = rng.lognormal(0.0, 1.0)
        shares = [1.0] if len(gene.transcript_ids) == 1 else [share := rng.uniform(0.5, 0.9), 1 - share]
        weights += [abundance * s for s in shares]
    lengths = np.array([_length(tx) for tx in genome.transcripts])
    weights = np.asarray(weights) * (lengths - read_length + 1)
    return rng.multinomial(n_reads, weights / weights.sum())


def _length(tx: Transcript) -> int:
    """Bases in a transcript's exons."""
    return sum(e - s for s, e in tx.exons)


class _Read(NamedTuple):
    chrom: str
    pos: int  # 0-based leftmost aligned base
    cigar: list[tuple[int, int]]
    seq: str  # reference orientation
    qual: np.ndarray  # uint8, reference orientation
    reverse: bool
    substitutions: int
    strand: str  # of the transcript


def _transcript_reads(rng, contig: str, tx: Transcript, count: int, read_length: int) -> list[_Read]:
    """``count`` reads drawn uniformly along the spliced transcript ``tx``."""
    mrna = np.frombuffer("".join(contig[s:e] for s, e in tx.exons).upper().encode(), dtype=np.uint8)
    offsets = np.cumsum([0] + [e - s for s, e in tx.exons])  # exon starts in transcript coordinates
    starts = rng.integers(0, len(mrna) - read_length + 1, size=count)
    reverse = rng.random(count) < 0.5
    quals = _qualities(rng, count, read_length)
    quals[reverse] = quals[reverse, ::-1]  # sequenced from the other end
    errors = rng.random((count, read_length)) < 10.0 ** (-quals.astype(float) / 10.0)
    reads = []
    for i, start in enumerate(starts.tolist()):
        seq = mrna[start : start + read_length].copy()
        hits = np.flatnonzero(errors[i])
        seq[hits] = _OTHER[_CODE[seq[hits]], rng.integers(3, size=len(hits))]
        cigar, pos = _cigar(tx.exons, offsets, start, read_length)
        reads.append(
            _Read(tx.chrom, pos, cigar, seq.tobytes().decode(), quals[i], bool(reverse[i]), len(hits), tx.strand)
        )
    return reads


def _qualities(rng: np.random.Generator, count: int, read_length: int) -> np.ndarray:
    """(count, read_length) uint8 binned qualities, worse towards the 3' end of the read."""
    tail = (np.arange(read_length) / max(read_length - 1, 1)) ** 2
    p23, p12, p2 = 0.05 + 0.15 * tail, 0.01 + 0.04 * tail, 0.002 + 0.006 * tail
    cumulative = np.stack([1 - p23 - p12 - p2, 1 - p12 - p2, 1 - p2], axis=1)  # (L, 3)
    u = rng.random((count, read_length, 1))
    return QUALITY_BINS[(u >= cumulative).sum(axis=2)]


def _cigar(exons, offsets: np.ndarray, start: int, read_length: int) -> tuple[list[tuple[int, int]], int]:
    """CIGAR (``M`` blocks joined by ``N`` introns) and 0-based genome position of a read."""
    first = int(np.searchsorted(offsets, start, side="right")) - 1
    pos = exons[first][0] + start - int(offsets[first])
    cigar, left, k, at = [], read_length, first, pos
    while left:
        take = min(left, exons[k][1] - at)
        cigar.append((_BAM_MATCH, take))
        left -= take
        if left:
            cigar.append((_BAM_SKIP, exons[k + 1][0] - exons[k][1]))
            k += 1
            at = exons[k][0]
    return cigar, pos


def _write_indexed(reads: list[_Read], genome: SimulatedGenome, path: str, index: str, read_length: int) -> None:
    """Write the sorted reads and the index under temporary names, then rename the BAM, then the index."""
    header = {
        "HD": {"VN": "1.6", "SO": "coordinate"},
        "SQ": [{"SN": name, "LN": len(seq)} for name, seq in genome.sequences.items()],
        "PG": [{"ID": "bioseq", "PN": "bioseq", "VN": __version__}],
        "CO": [
            f"SYNTHETIC RNA-seq reads from bioseq simulate (seed={genome.parameters['seed']}, "
            f"read_length={read_length})"
        ],
    }
    with atomic_path(index) as bai, atomic_path(path) as bam:  # the BAM is renamed first
        with pysam.AlignmentFile(str(bam), "wb", header=header) as out:
            for number, read in enumerate(reads, 1):
                out.write(_segment(out.header, f"r{number:06d}", read))
        pysam.index(str(bam), str(bai))


def _segment(header: pysam.AlignmentHeader, name: str, read: _Read) -> pysam.AlignedSegment:
    segment = pysam.AlignedSegment(header)
    segment.query_name = name
    segment.flag = 16 if read.reverse else 0
    segment.reference_name = read.chrom
    segment.reference_start = read.pos
    segment.mapping_quality = 60
    segment.cigartuples = read.cigar
    segment.query_sequence = read.seq
    segment.query_qualities = array.array("B", read.qual.tobytes())
    tags = [("NH", 1), ("NM", read.substitutions)]
    if len(read.cigar) > 1:
        tags.append(("XS", read.strand, "A"))
    segment.set_tags(tags)
    return segment
