"""Gene annotations: transcripts, genes and the sites derived from them.

An :class:`Annotation` holds :class:`Transcript` and :class:`Gene` records
read from a GTF or GFF3 file (see :mod:`bioseq.io.gff` for the readers) or
from the features of a GenBank/EMBL file (:mod:`bioseq.io.genbank_annotation`)
and derives intervals from them. Every coordinate here is 0-based and half-open
(a GTF/GFF3 feature ``start..end``, 1-based inclusive, becomes
``(start - 1, end)``).

Site conventions (all on the transcript's strand)
-------------------------------------------------
exon
    As annotated; a transcript's exons are sorted and must not overlap.
intron
    The gap ``(exons[i].end, exons[i + 1].start)`` between consecutive exons.
    Exons that touch leave no intron.
TSS
    The 1-bp interval at the 5' end: ``[start, start + 1)`` on ``+``,
    ``[end - 1, end)`` on ``-``; none for a transcript whose 5' end is not
    known (``five_prime_end=False``: a GenBank feature with a fuzzy ``<``
    start, or the piece of a feature split at the origin of a circular
    contig that continues past the origin).
donor site
    The intron's first two bases on the transcript strand (``GT`` in the
    canonical case): ``[intron.start, intron.start + 2)`` on ``+``,
    ``[intron.end - 2, intron.end)`` on ``-``.
acceptor site
    The intron's last two bases on the transcript strand (``AG`` in the
    canonical case): ``[intron.end - 2, intron.end)`` on ``+``,
    ``[intron.start, intron.start + 2)`` on ``-``.

Transcripts with strand ``.`` have no 5' end or splice direction and are left
out of :meth:`Annotation.tss`, :meth:`~Annotation.donor_sites` and
:meth:`~Annotation.acceptor_sites`; introns shorter than 2 bp give no sites.

Intervals from a circular contig keep the coordinates the file gives: a
GFF3 feature across the origin may end past the contig length. The GenBank
reader splits such a feature at the origin instead (see
:mod:`bioseq.io.genbank_annotation`).
"""

from __future__ import annotations

import dataclasses
import types
from collections.abc import Callable, Iterable, Iterator

from bioseq.errors import InputError
from bioseq.io.interval import Interval

__all__ = ["Transcript", "Gene", "Annotation"]

Span = tuple[int, int]


@dataclasses.dataclass(frozen=True, slots=True)
class Transcript:
    """One transcript: its exons on one contig and strand, 0-based half-open.

    Parameters
    ----------
    id : str
    gene_id : str
        ``""`` when the file links the transcript to no gene.
    chrom : str
    strand : {"+", "-", "."}
    exons : tuple of (int, int)
        0-based half-open ``(start, end)`` of each exon, in any order; they
        are stored sorted and must not overlap.
    gene_name, biotype, source : str, default ""
        Gene symbol, transcript biotype and the file's source column, where
        the file gives them.
    five_prime_end : bool, default True
        Whether the 5' end (``start`` on ``+``, ``end`` on ``-``) is where the
        transcript really begins; False leaves it out of
        :meth:`Annotation.tss` (see the module docstring).

    Raises
    ------
    InputError
        On no exons, an exon with ``end <= start`` or ``start < 0``,
        overlapping exons, or a bad strand.
    """

    id: str
    gene_id: str
    chrom: str
    strand: str
    exons: tuple[Span, ...]
    gene_name: str = ""
    biotype: str = ""
    source: str = ""
    five_prime_end: bool = True

    def __post_init__(self) -> None:
        if self.strand not in ("+", "-", "."):
            raise InputError(f"strand is {self.strand!r}", record=self.id, fix="Strand must be '+', '-' or '.'")
        try:
            exons = tuple(sorted((int(s), int(e)) for s, e in self.exons))
        except (TypeError, ValueError):
            raise InputError("exons must be (start, end) pairs of integers", record=self.id) from None
        if not exons:
            raise InputError("the transcript has no exons", record=self.id)
        for (s1, e1), (s2, e2) in zip(exons, exons[1:]):
            if s2 < e1:
                raise InputError(
                    f"exons {s1 + 1}-{e1} and {s2 + 1}-{e2} (1-based) overlap",
                    record=self.id,
                    fix="Give each transcript non-overlapping exons, or split it into two transcripts",
                )
        if exons[0][0] < 0 or any(e <= s for s, e in exons):
            raise InputError("an exon is empty or starts before 0", record=self.id)
        object.__setattr__(self, "exons", exons)

    @property
    def start(self) -> int:
        """0-based start of the first exon."""
        return self.exons[0][0]

    @property
    def end(self) -> int:
        """0-based exclusive end of the last exon."""
        return self.exons[-1][1]

    @property
    def introns(self) -> tuple[Span, ...]:
        """``(start, end)`` of the gaps between consecutive exons (touching exons leave none)."""
        return tuple((e1, s2) for (_, e1), (s2, _) in zip(self.exons, self.exons[1:]) if s2 > e1)

    def interval(self) -> Interval:
        """The transcript's span as an :class:`Interval` named by its id."""
        return Interval(self.chrom, self.start, self.end, self.strand, self.id)


@dataclasses.dataclass(frozen=True, slots=True)
class Gene:
    """One gene: its span and the ids of its transcripts, 0-based half-open.

    Parameters
    ----------
    id, chrom : str
    start, end : int
        0-based half-open span: the gene feature's, or that of its
        transcripts when the file has no gene feature.
    strand : {"+", "-", "."}
    name, biotype, source : str, default ""
    transcript_ids : tuple of str, default ()

    Raises
    ------
    InputError
        On ``start < 0``, ``end < start`` or a bad strand.
    """

    id: str
    chrom: str
    start: int
    end: int
    strand: str
    name: str = ""
    biotype: str = ""
    source: str = ""
    transcript_ids: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not 0 <= self.start <= self.end or self.strand not in ("+", "-", "."):
            raise InputError(
                f"gene span {self.start}-{self.end} {self.strand} is not 0 <= start <= end with strand '+', '-' or '.'",
                record=self.id,
            )

    def interval(self) -> Interval:
        """The gene's span as an :class:`Interval` named by its id."""
        return Interval(self.chrom, self.start, self.end, self.strand, self.id)


class Annotation:
    """Transcripts and genes of one annotation file, with derived intervals.

    Parameters
    ----------
    transcripts : iterable of Transcript
    genes : iterable of Gene, default ()
        Genes the file declares (GTF ``gene`` lines, GFF3 gene features).
        A gene that some transcript names but that is not given here is
        derived from its transcripts' span.

    Attributes
    ----------
    transcripts_by_id : Mapping[str, Transcript]
    genes_by_id : Mapping[str, Gene]
        Both in contig order of first appearance, then by start.

    Raises
    ------
    InputError
        On two transcripts with one id, or a gene whose transcripts lie on
        two contigs or strands or on another contig than the gene.

    Notes
    -----
    Methods return lists of :class:`Interval` sorted by contig (in order of
    first appearance), start, end and strand. Intervals of a transcript are
    named by its id; deduplicated intervals by the sorted, comma-joined ids
    of the genes that share them (the transcript id for a transcript without
    a gene).
    """

    def __init__(self, transcripts: Iterable[Transcript], genes: Iterable[Gene] = ()) -> None:
        transcripts = list(transcripts)
        genes = list(genes)
        self._rank: dict[str, int] = {}
        for record in [*transcripts, *genes]:
            self._rank.setdefault(record.chrom, len(self._rank))
        by_id: dict[str, Transcript] = {}
        for tx in sorted(transcripts, key=self._key):
            if tx.id in by_id:
                raise InputError(
                    "two transcripts have this id", record=tx.id, fix="Give every transcript a distinct id"
                )
            by_id[tx.id] = tx
        self.transcripts_by_id = types.MappingProxyType(by_id)
        self.genes_by_id = types.MappingProxyType(self._link_genes(genes))

    def _key(self, record: Transcript | Gene) -> tuple:
        return (self._rank[record.chrom], record.start, record.end, record.id)

    def _link_genes(self, declared: list[Gene]) -> dict[str, Gene]:
        members: dict[str, list[Transcript]] = {}
        for tx in self.transcripts_by_id.values():
            if tx.gene_id:
                members.setdefault(tx.gene_id, []).append(tx)
        genes = {gene.id: gene for gene in declared}
        for gene_id, txs in members.items():
            places = {(tx.chrom, tx.strand) for tx in txs}
            gene = genes.get(gene_id)
            if gene is not None:
                places.add((gene.chrom, gene.strand))
            if len(places) > 1:
                where = ", ".join(f"{c} {s}" for c, s in sorted(places))
                raise InputError(
                    f"the gene's transcripts lie on more than one contig or strand ({where})",
                    record=gene_id,
                    fix="Give each copy of the gene its own gene id",
                )
            ids = tuple(tx.id for tx in txs)
            if gene is None:
                first = txs[0]
                gene = Gene(
                    gene_id,
                    first.chrom,
                    min(t.start for t in txs),
                    max(t.end for t in txs),
                    first.strand,
                    first.gene_name,
                    "",
                    first.source,
                )
            genes[gene_id] = dataclasses.replace(gene, transcript_ids=ids)
        return {gene.id: gene for gene in sorted(genes.values(), key=self._key)}

    def __len__(self) -> int:
        """The number of transcripts."""
        return len(self.transcripts_by_id)

    def __repr__(self) -> str:
        return f"Annotation({len(self.genes_by_id)} genes, {len(self.transcripts_by_id)} transcripts)"

    def genes(self) -> list[Interval]:
        """Gene spans, named by gene id, 0-based half-open."""
        return [gene.interval() for gene in self.genes_by_id.values()]

    def transcripts(self) -> list[Interval]:
        """Transcript spans (first exon start to last exon end), named by transcript id."""
        return [tx.interval() for tx in self.transcripts_by_id.values()]

    def exons(self, *, unique: bool = False) -> list[Interval]:
        """Exons of every transcript, 0-based half-open.

        Parameters
        ----------
        unique : bool, default False
            Report an exon shared by several transcripts once.
        """
        return self._collect(lambda tx: tx.exons, unique=unique, stranded_only=False)

    def tss(self, *, unique: bool = False) -> list[Interval]:
        """1-bp transcription start sites: ``[start, start+1)`` on ``+``, ``[end-1, end)`` on ``-``.

        Transcripts with ``five_prime_end=False`` give none.

        Parameters
        ----------
        unique : bool, default False
            Report a position shared by several transcripts once.
        """

        def five_prime(tx: Transcript) -> list[Span]:
            if not tx.five_prime_end:
                return []
            at = tx.start if tx.strand == "+" else tx.end - 1
            return [(at, at + 1)]

        return self._collect(five_prime, unique=unique, stranded_only=True)

    def introns(self, *, unique: bool = True) -> list[Interval]:
        """Introns, the gaps between consecutive exons of a transcript.

        Parameters
        ----------
        unique : bool, default True
            Report an intron shared by several transcripts once.
        """
        return self._collect(lambda tx: tx.introns, unique=unique, stranded_only=False)

    def donor_sites(self, *, unique: bool = True) -> list[Interval]:
        """2-bp donor sites, the intron's first two bases on the transcript strand (``GT``).

        ``[intron.start, intron.start + 2)`` on ``+``, ``[intron.end - 2,
        intron.end)`` on ``-``.

        Parameters
        ----------
        unique : bool, default True
            Report a site shared by several transcripts once.
        """
        return self._collect(lambda tx: _sites(tx, donor=True), unique=unique, stranded_only=True)

    def acceptor_sites(self, *, unique: bool = True) -> list[Interval]:
        """2-bp acceptor sites, the intron's last two bases on the transcript strand (``AG``).

        ``[intron.end - 2, intron.end)`` on ``+``, ``[intron.start,
        intron.start + 2)`` on ``-``.

        Parameters
        ----------
        unique : bool, default True
            Report a site shared by several transcripts once.
        """
        return self._collect(lambda tx: _sites(tx, donor=False), unique=unique, stranded_only=True)

    def _collect(
        self, spans: Callable[[Transcript], Iterable[Span]], *, unique: bool, stranded_only: bool
    ) -> list[Interval]:
        found: dict[tuple, set[str]] = {}
        plain: list[tuple] = []
        for tx in self.transcripts_by_id.values():
            if stranded_only and tx.strand == ".":
                continue
            for start, end in spans(tx):
                key = (self._rank[tx.chrom], start, end, tx.strand, tx.chrom)
                if unique:
                    found.setdefault(key, set()).add(tx.gene_id or tx.id)
                else:
                    plain.append((*key, tx.id))
        if unique:
            plain = [(*key, ",".join(sorted(owners))) for key, owners in found.items()]
        plain.sort()
        return [Interval(chrom, start, end, strand, name) for _, start, end, strand, chrom, name in plain]


def _sites(tx: Transcript, *, donor: bool) -> Iterator[Span]:
    """2-bp splice sites of a stranded transcript (see the module docstring)."""
    left = donor == (tx.strand == "+")  # the site at the intron's left end
    for start, end in tx.introns:
        if end - start >= 2:
            yield (start, start + 2) if left else (end - 2, end)
