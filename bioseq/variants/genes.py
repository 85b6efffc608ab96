"""Which annotated genes a variant falls in: an interval index of gene spans, with strand and symbol.

Data contract
-------------
A :class:`GeneIndex` holds :class:`GeneSpan` records, 0-based half-open
``[start, end)`` on contigs named as the reference names them (an annotation
that writes ``2L`` for the reference's ``chr2L`` is resolved through
:meth:`Reference.resolve <bioseq.io.reference.Reference.resolve>`).
:meth:`GeneIndex.overlapping` gives the genes whose span shares at least one
base with a variant's REF ``[start, end)`` (an insertion anchored on a base of
the gene counts), in gene order (start, end, id). A gene's ``symbol`` is its
name, or its id when it has no name, with the characters that would break a
VCF INFO value (``, ; = |`` and white space) replaced by ``_``.

Lookups cost ``O(log n + k)``: per contig the starts are sorted, and only
genes that start at most the longest gene's length before the query can reach it.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable

import numpy as np

from bioseq.errors import InputError, MissingContigError
from bioseq.io.annotation import Annotation
from bioseq.io.reference import Reference

__all__ = ["GeneSpan", "GeneIndex", "symbol_of"]

_UNSAFE = re.compile(r"[,;=|\s]")


def symbol_of(name: str, gene_id: str) -> str:
    """The gene's name (or its id, without a name), safe inside a VCF INFO value.

    Examples
    --------
    >>> symbol_of("", "FBgn0031208"), symbol_of("Or22a; b", "g1")
    ('FBgn0031208', 'Or22a__b')
    """
    return _UNSAFE.sub("_", name or gene_id) or "."


@dataclasses.dataclass(frozen=True, slots=True)
class GeneSpan:
    """One gene: 0-based half-open ``[start, end)`` on ``contig`` (the reference's name), strand and symbol."""

    id: str
    contig: str
    start: int
    end: int
    strand: str
    symbol: str


class GeneIndex:
    """Gene spans indexed by contig for overlap queries (see the module docstring).

    Parameters
    ----------
    genes : iterable of GeneSpan

    Attributes
    ----------
    dropped : int
        Genes left out by :meth:`from_annotation` (contig not in the reference).
    """

    def __init__(self, genes: Iterable[GeneSpan]) -> None:
        by_contig: dict[str, list[GeneSpan]] = {}
        for gene in genes:
            if not isinstance(gene, GeneSpan):
                raise InputError(f"genes must be GeneSpan records, got {type(gene).__name__}")
            by_contig.setdefault(gene.contig, []).append(gene)
        self._genes: dict[str, tuple[GeneSpan, ...]] = {}
        self._starts: dict[str, np.ndarray] = {}
        self._longest: dict[str, int] = {}
        for contig, spans in by_contig.items():
            spans.sort(key=lambda g: (g.start, g.end, g.id))
            self._genes[contig] = tuple(spans)
            self._starts[contig] = np.array([g.start for g in spans], dtype=np.int64)
            self._longest[contig] = max(g.end - g.start for g in spans)
        self.dropped = 0

    @classmethod
    def from_annotation(cls, annotation: Annotation, reference: Reference | None = None) -> GeneIndex:
        """The genes of ``annotation``, their contigs resolved to ``reference``'s names when given.

        Genes on contigs the reference lacks are left out and counted in :attr:`dropped`.

        Raises
        ------
        InputError
            When ``annotation`` is not an :class:`~bioseq.io.annotation.Annotation`.
        """
        if not isinstance(annotation, Annotation):
            raise InputError(f"annotation must be an Annotation, got {type(annotation).__name__}")
        names: dict[str, str | None] = {}
        spans, dropped = [], 0
        for gene in annotation.genes_by_id.values():
            if gene.chrom not in names:
                names[gene.chrom] = _resolve(reference, gene.chrom)
            contig = names[gene.chrom]
            if contig is None:
                dropped += 1
                continue
            spans.append(GeneSpan(gene.id, contig, gene.start, gene.end, gene.strand, symbol_of(gene.name, gene.id)))
        index = cls(spans)
        index.dropped = dropped
        return index

    def __len__(self) -> int:
        return sum(len(genes) for genes in self._genes.values())

    def __repr__(self) -> str:
        return f"GeneIndex({len(self)} genes on {len(self._genes)} contigs)"

    def overlapping(self, contig: str, start: int, end: int) -> tuple[GeneSpan, ...]:
        """Genes on ``contig`` sharing a base with ``[start, end)`` (0-based, half-open; ``end > start``).

        Examples
        --------
        >>> index = GeneIndex([GeneSpan("g1", "chr1", 10, 20, "+", "A"), GeneSpan("g2", "chr1", 15, 40, "-", "B")])
        >>> [g.id for g in index.overlapping("chr1", 19, 20)], index.overlapping("chr1", 20, 21)[0].id
        (['g1', 'g2'], 'g2')
        >>> index.overlapping("chr2", 0, 5)
        ()
        """
        starts = self._starts.get(contig)
        if starts is None:
            return ()
        lo = int(np.searchsorted(starts, start - self._longest[contig], side="left"))
        hi = int(np.searchsorted(starts, end, side="left"))
        return tuple(g for g in self._genes[contig][lo:hi] if g.end > start)


def _resolve(reference: Reference | None, chrom: str) -> str | None:
    if reference is None:
        return chrom
    try:
        return reference.resolve(chrom)
    except MissingContigError:
        return None
