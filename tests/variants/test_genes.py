"""Tests of bioseq.variants.genes: overlap queries against a brute force, symbols, contig aliases."""

from __future__ import annotations

import doctest

import numpy as np
import pytest

import bioseq.variants.genes as genes_module
from bioseq.errors import InputError
from bioseq.io.annotation import Annotation, Gene
from bioseq.io.reference import Reference
from bioseq.variants.genes import GeneIndex, GeneSpan, symbol_of


def test_the_docstring_examples_hold():
    assert doctest.testmod(genes_module).failed == 0


def test_overlaps_equal_a_brute_force_search():
    rng = np.random.default_rng(3)
    spans = []
    for i in range(300):
        start = int(rng.integers(0, 10_000))
        end = start + int(rng.integers(0, 2_000 if i % 10 else 8_000))  # a few long genes
        spans.append(GeneSpan(f"g{i}", "chr1", start, end, "+-"[i % 2], f"G{i}"))
    index = GeneIndex(spans)
    assert len(index) == 300
    for _ in range(500):
        start = int(rng.integers(-10, 12_000))
        end = start + int(rng.integers(1, 20))
        want = {g.id for g in spans if g.start < end and g.end > start}  # half-open overlap
        assert {g.id for g in index.overlapping("chr1", start, end)} == want


def test_half_open_edges():
    index = GeneIndex([GeneSpan("g", "chr1", 10, 20, "+", "G")])
    assert index.overlapping("chr1", 9, 10) == ()  # ends where the gene starts
    assert index.overlapping("chr1", 20, 21) == ()  # starts at the gene's exclusive end
    assert [g.id for g in index.overlapping("chr1", 19, 20)] == ["g"]
    assert [g.id for g in index.overlapping("chr1", 5, 25)] == ["g"]  # a deletion spanning the gene


def test_from_annotation_resolves_aliases_names_symbols_and_drops_unknown_contigs(tmp_path):
    fasta = tmp_path / "g.fa"
    fasta.write_text(">chr1\n" + "A" * 50 + "\n")
    annotation = Annotation(
        [],
        [
            Gene("FBgn1", "1", 0, 30, "+", "Adh"),  # "1" is chr1's alias
            Gene("FBgn2", "chr1", 20, 40, "-", ""),  # no name: the id is the symbol
            Gene("FBgn3", "chrX", 0, 10, "+", "x"),  # not in the reference
        ],
    )
    with Reference(fasta) as ref:
        index = GeneIndex.from_annotation(annotation, ref)
    assert index.dropped == 1 and len(index) == 2
    hits = index.overlapping("chr1", 25, 26)
    assert [(g.contig, g.symbol, g.strand) for g in hits] == [("chr1", "Adh", "+"), ("chr1", "FBgn2", "-")]
    assert symbol_of("a,b;c=d|e f", "id") == "a_b_c_d_e_f"


def test_bad_input():
    with pytest.raises(InputError, match="GeneSpan"):
        GeneIndex(["chr1:1-10"])
    with pytest.raises(InputError, match="must be an Annotation"):
        GeneIndex.from_annotation({"genes": []})
