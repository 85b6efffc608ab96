"""Gene-disjoint folds: k-fold cross-validation for a genome too small to hold out whole chromosomes.

Genes are grouped into *loci*: genes whose spans overlap or lie within ``gap``
bases of each other on the same contig (either strand) form one locus, so no
base of one fold's genes lies in or near another fold's genes. Loci are dealt
to ``k`` folds, largest first, each to the fold with the fewest genes so far
(ties broken by a seeded shuffle), which balances the folds to within one
locus. Coordinates are 0-based, half-open.
"""

from __future__ import annotations

import numpy as np

from bioseq.checks import is_integer
from bioseq.errors import InputError, option
from bioseq.io.annotation import Annotation
from bioseq.io.interval import Interval

__all__ = ["gene_folds"]


def gene_folds(annotation: Annotation, *, k: int, gap: int = 0, seed: int = 0) -> dict[str, int]:
    """The fold (0 .. k - 1) of every gene, with overlapping or nearby genes in one fold.

    Parameters
    ----------
    annotation : Annotation
    k : int
        Number of folds, >= 2.
    gap : int, default 0
        Genes closer than this many bases are one locus (0: only overlapping genes).
    seed : int, default 0
        Seeds the order in which loci of equal size are dealt.

    Returns
    -------
    dict of str to int
        Gene id -> fold.

    Raises
    ------
    InputError
        On ``k`` < 2, a negative ``gap``, or fewer loci than folds.
    """
    if not is_integer(k) or k < 2:
        raise InputError(f"k must be an integer >= 2, got {k!r}")
    if not is_integer(gap) or gap < 0:
        raise InputError(f"gap must be an integer >= 0, got {gap!r}")
    loci = _loci(annotation.genes(), gap)
    if len(loci) < k:
        raise InputError(
            f"the annotation has {len(loci)} separate gene loci, fewer than the {k} folds asked for",
            fix=f"Ask for fewer folds ({option('k', str(max(len(loci), 2)))})",
        )
    order = np.random.default_rng(seed).permutation(len(loci))
    order = sorted(order, key=lambda i: -len(loci[i]))  # largest first; the shuffle breaks ties
    sizes = [0] * k
    folds: dict[str, int] = {}
    for i in order:
        fold = min(range(k), key=lambda f: (sizes[f], f))
        sizes[fold] += len(loci[i])
        folds.update(dict.fromkeys(loci[i], fold))
    return folds


def _loci(genes: list[Interval], gap: int) -> list[list[str]]:
    """Gene ids grouped by contig into runs of spans that overlap or lie within ``gap`` bases."""
    loci: list[list[str]] = []
    end_of_locus: dict[str, int] = {}
    for gene in sorted(genes, key=lambda g: (g.chrom, g.start, g.end)):
        if gene.chrom in end_of_locus and gene.start < end_of_locus[gene.chrom] + gap:
            loci[-1].append(gene.name)
            end_of_locus[gene.chrom] = max(end_of_locus[gene.chrom], gene.end)
        else:
            loci.append([gene.name])
            end_of_locus[gene.chrom] = gene.end
    return loci
