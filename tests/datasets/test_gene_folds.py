"""Tests of bioseq.datasets.gene_folds: overlapping genes share a fold, folds balance, seeds reorder, real dm6."""

from __future__ import annotations

from collections import Counter

import pytest

from bioseq.datasets.gene_folds import gene_folds
from bioseq.errors import InputError
from bioseq.io.gff import read_gtf

# 0-based spans: chr1 G1 [100, 600) +, G2 [500, 900) - (overlaps G1), G3 [2000, 2500), G4 [2600, 3000) (100 bp on);
# chr2 G5 [0, 100), G6 [200, 300).
SPANS = {
    "G1": ("chr1", 100, 600, "+"),
    "G2": ("chr1", 500, 900, "-"),
    "G3": ("chr1", 2000, 2500, "+"),
    "G4": ("chr1", 2600, 3000, "+"),
    "G5": ("chr2", 0, 100, "+"),
    "G6": ("chr2", 200, 300, "-"),
}


@pytest.fixture()
def annotation(tmp_path):
    lines = [
        f'{c}\tt\texon\t{s + 1}\t{e}\t.\t{st}\t.\tgene_id "{g}"; transcript_id "{g}.1";\n'
        for g, (c, s, e, st) in SPANS.items()
    ]
    path = tmp_path / "a.gtf"
    path.write_text("".join(lines))
    return read_gtf(path)


def test_overlapping_genes_share_a_fold_and_folds_balance(annotation):
    folds = gene_folds(annotation, k=2)
    assert set(folds) == set(SPANS) and set(folds.values()) == {0, 1}
    assert folds["G1"] == folds["G2"]  # one locus: they overlap on opposite strands
    assert sorted(Counter(folds.values()).values()) == [3, 3]
    assert gene_folds(annotation, k=2) == folds  # the same seed, the same folds
    assert any(gene_folds(annotation, k=2, seed=s) != folds for s in range(1, 20))  # ties are dealt by the seed


def test_a_gap_joins_nearby_genes(annotation):
    folds = gene_folds(annotation, k=2, gap=150)
    assert folds["G3"] == folds["G4"] and folds["G5"] == folds["G6"] and folds["G1"] == folds["G2"]
    assert len(set(gene_folds(annotation, k=5, gap=100).values())) == 5  # 100 bp apart is not closer than 100
    with pytest.raises(InputError, match="3 separate gene loci"):
        gene_folds(annotation, k=4, gap=101)


def test_bad_arguments(annotation):
    with pytest.raises(InputError, match="k must be an integer >= 2"):
        gene_folds(annotation, k=1)
    with pytest.raises(InputError, match="fewer than the 6 folds"):
        gene_folds(annotation, k=6)  # five loci
    with pytest.raises(InputError, match="gap must be an integer >= 0"):
        gene_folds(annotation, k=2, gap=-1)


def test_dm6_five_folds_are_gene_disjoint_and_balanced(shared_data):
    """dm6_small: 167 genes in 100 loci (largest 15 genes) give folds of 33-34 genes; with gap=1000, 31 loci."""
    path = shared_data / "genomes" / "dm6_small" / "dm6.small.gtf"
    if not path.is_file():
        pytest.skip("genomes/dm6_small is absent")
    annotation = read_gtf(path)
    genes = sorted(annotation.genes(), key=lambda g: (g.chrom, g.start))
    for gap in (0, 1000):
        folds = gene_folds(annotation, k=5, gap=gap)
        sizes = sorted(Counter(folds.values()).values())
        assert len(sizes) == 5 and sum(sizes) == len(genes) == 167
        for a, b in zip(genes, genes[1:]):  # genes closer than the gap never sit in different folds
            if a.chrom == b.chrom and b.start < max(g.end for g in genes[: genes.index(b)] if g.chrom == b.chrom) + gap:
                assert folds[a.name] == folds[b.name], (a, b)
    assert sorted(Counter(gene_folds(annotation, k=5).values()).values()) == [33, 33, 33, 34, 34]
