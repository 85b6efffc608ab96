"""Tests of bioseq.datasets.per_base_sampling: tiles, split designs and site-aware training windows."""

from __future__ import annotations

import numpy as np
import pytest

from bioseq.datasets.per_base import site_labels
from bioseq.datasets.per_base_sampling import KINDS, design_splits, tile_windows, training_windows
from bioseq.errors import InputError
from bioseq.io.annotation import Annotation, Transcript
from bioseq.io.interval import Interval

LENGTHS = {"c1": 200_000, "c2": 120_000, "c3": 50_000}
WINDOW, CONTEXT = 500, 100


@pytest.fixture(scope="module")
def annotation() -> Annotation:
    """12 three-exon genes on c1 and c2 and 3 on c3, alternating strands, 8 kb apart (two overlap on c1)."""
    txs = []
    for chrom, n in (("c1", 12), ("c2", 12), ("c3", 3)):
        for i in range(n):
            start = 2000 + 8000 * i
            exons = ((start, start + 300), (start + 1000, start + 1200), (start + 2500, start + 3000))
            txs.append(Transcript(f"{chrom}t{i}", f"{chrom}g{i}", chrom, "+-"[i % 2], exons))
    txs.append(Transcript("c1x", "c1gx", "c1", "-", ((3000, 3100), (6000, 6100))))  # overlaps c1g0
    return Annotation(txs)


def sites_of(annotation):
    return lambda contig, strand: np.flatnonzero(site_labels(annotation, contig, LENGTHS[contig], strand=strand))


def coverage(plan, contigs, contig, minus, size, width) -> np.ndarray:
    """How many windows of ``plan`` cover each base of ``contig`` on one strand."""
    counts = np.zeros(size + width, dtype=np.int64)
    rows = (plan.contigs == contigs.index(contig)) & (plan.minus == minus)
    for start in plan.starts[rows].tolist():
        counts[start : start + width] += 1
    return counts[:size]


def test_tiles_cover_each_base_of_the_spans_once_per_strand():
    spans = [
        Interval("c1", 0, 250, "+"),
        Interval("c1", 200, 430, "+"),  # overlaps: merged to [0, 430)
        Interval("c1", 450, 460, "+"),  # inside the last tile of [0, 430): no tile of its own
        Interval("c1", 100, 120, "-"),
        Interval("c2", 5, 6, "+"),
    ]
    plan = tile_windows(spans, window=100, contigs=["c1", "c2"])
    assert plan.counts() == {"tile": 7}
    assert list(zip(plan.contigs.tolist(), plan.starts.tolist(), plan.minus.tolist())) == [
        (0, 0, False),
        (0, 100, False),
        (0, 100, True),
        (0, 200, False),
        (0, 300, False),
        (0, 400, False),
        (1, 5, False),
    ]
    plus = coverage(plan, ["c1", "c2"], "c1", False, 600, 100)
    assert plus[:500].tolist() == [1] * 500 and not plus[500:].any()
    assert plan.on(1) == slice(6, 7) and plan.on(0) == slice(0, 6)
    with pytest.raises(InputError, match="needs a strand"):
        tile_windows([Interval("c1", 0, 10, ".")], window=10, contigs=["c1"])


def test_chromosome_design_and_its_errors(annotation):
    design = design_splits(annotation, LENGTHS, test_chroms=["c3"], valid_chroms=["c2"])
    assert design.contigs == {"train": ("c1",), "valid": ("c2",), "test": ("c3",)}
    assert design.genes == {"valid": 12, "test": 3} and design.how == "chromosomes"
    assert design.spans["test"] == (
        Interval("c3", 2000, 5000, "+"),
        Interval("c3", 18000, 21000, "+"),
        Interval("c3", 10000, 13000, "-"),
    )
    whole = design_splits(annotation, LENGTHS, test_chroms=["c3"], valid_chroms=["c2"], test_span="genome")
    assert whole.spans["test"] == (Interval("c3", 0, 50_000, "+"), Interval("c3", 0, 50_000, "-"))
    with pytest.raises(InputError, match=r"'chr9', which is not a contig of the genome \(it has c1, c2, c3\)"):
        design_splits(annotation, LENGTHS, test_chroms=["chr9"])
    with pytest.raises(InputError, match="both test and valid"):
        design_splits(annotation, LENGTHS, test_chroms=["c3"], valid_chroms=["c3"])
    with pytest.raises(InputError, match="either test chromosomes or gene-disjoint folds"):
        design_splits(annotation, LENGTHS)
    with pytest.raises(InputError, match="no contig is left for training"):
        design_splits(annotation, LENGTHS, test_chroms=["c1", "c3"], valid_chroms=["c2"])
    with pytest.raises(InputError, match="test split has no gene"):
        design_splits(annotation, {**LENGTHS, "c4": 1000}, test_chroms=["c4"])


def test_folds_are_gene_disjoint_and_tiles_cover_the_held_out_genes(annotation):
    design = design_splits(annotation, LENGTHS, folds=3, fold=1, seed=2)
    assert design.how == "fold 1 of 3, valid: 1/10 of the training loci"
    assert design.genes["test"] > 0 and design.genes["valid"] > 0
    contigs = list(LENGTHS)
    plan, stats = training_windows(
        contigs=contigs,
        lengths=LENGTHS,
        design=design,
        sites=sites_of(annotation),
        introns=annotation.introns(),
        window=WINDOW,
        context=CONTEXT,
        seed=0,
    )
    flank = CONTEXT // 2
    for span in design.held_out:  # no training input touches a held-out gene
        rows = plan.contigs == contigs.index(span.chrom)
        starts = plan.starts[rows] - flank
        assert not ((starts < span.end) & (starts + WINDOW + CONTEXT > span.start)).any()
    assert stats["held_out_sites"] > 0 and stats["sites"] == plan.counts()["site"]
    assert stats["dropped"]["genomic"] == 0 and stats["windows"]["genomic"] == round(0.5 * stats["sites"])
    for split in ("valid", "test"):  # every held-out base, once per strand; no training input touches a tile
        tiles = tile_windows(design.spans[split], window=WINDOW, contigs=contigs)
        for contig, tile in zip(tiles.contigs.tolist(), tiles.starts.tolist()):
            starts = plan.starts[plan.contigs == contig] - flank
            assert not ((starts < tile + WINDOW) & (starts + WINDOW + CONTEXT > tile)).any()
        for span in design.spans[split]:
            cover = coverage(tiles, contigs, span.chrom, span.strand == "-", LENGTHS[span.chrom], WINDOW)
            assert (cover[span.start : span.end] == 1).all()
            assert cover.max() == 1
    test_genes = sum(len(s) for s in design.spans["test"])
    assert test_genes > 0 and not (set(design.spans["test"]) & set(design.spans["valid"]))


def test_training_windows_hold_every_site_in_stated_proportions_and_repeat_by_seed(annotation):
    design = design_splits(annotation, LENGTHS, test_chroms=["c3"], valid_chroms=["c2"])
    args = dict(
        contigs=list(LENGTHS),
        lengths=LENGTHS,
        design=design,
        sites=sites_of(annotation),
        introns=annotation.introns(),
        window=WINDOW,
        context=CONTEXT,
        intronic=1.0,
        genomic=0.5,
    )
    plan, stats = training_windows(**args, seed=7)
    n = stats["sites"]
    assert n == sum(sites_of(annotation)("c1", s).size for s in "+-") == 50  # 12 genes x 4 sites + 2 (c1x)
    assert stats["windows"] == {"site": n, "intronic": n, "genomic": n // 2}
    assert set(plan.contigs.tolist()) == {0}
    assert stats["dropped"] == dict.fromkeys(("site", "intronic", "genomic", "hard"), 0)
    site_rows = plan.kinds == KINDS.index("site")
    for strand in "+-":  # each site lies in its own window, on its strand, at any offset
        rows = site_rows & (plan.minus == (strand == "-"))
        for p in sites_of(annotation)("c1", strand).tolist():
            assert ((plan.starts[rows] <= p) & (p < plan.starts[rows] + WINDOW)).sum() >= 1
    intronic = plan.kinds == KINDS.index("intronic")
    introns = [i for i in annotation.introns() if i.chrom == "c1"]
    for start, minus in zip(plan.starts[intronic].tolist(), plan.minus[intronic].tolist()):
        assert any(i.strand == "-+"[not minus] and start < i.end and start + WINDOW > i.start for i in introns)
    genomic = plan.kinds == KINDS.index("genomic")
    assert 0 < plan.minus[genomic].sum() < genomic.sum()  # random strands
    again, _ = training_windows(**args, seed=7)
    other, _ = training_windows(**args, seed=8)
    np.testing.assert_array_equal(again.starts, plan.starts)
    np.testing.assert_array_equal(again.minus, plan.minus)
    assert not np.array_equal(other.starts, plan.starts)
    with pytest.raises(InputError, match="intronic must be a number"):
        training_windows(**{**args, "intronic": -1})
    many, stats3 = training_windows(**args, site_windows=3, seed=7)
    assert stats3["windows"] == {"site": 3 * n, "intronic": 3 * n, "genomic": 3 * n // 2}  # proportions per window
    site_rows = many.kinds == KINDS.index("site")
    for p in sites_of(annotation)("c1", "+").tolist():  # three windows around each site, at their own offsets
        around = many.starts[site_rows & ~many.minus & (many.starts <= p) & (p < many.starts + WINDOW)]
        assert around.size >= 3
    with pytest.raises(InputError, match="site_windows"):
        training_windows(**{**args, "site_windows": 0})


def test_hard_negative_windows_surround_the_given_positions(annotation):
    design = design_splits(annotation, LENGTHS, test_chroms=["c3"], valid_chroms=["c2"])
    asked = []

    def hard(count):
        asked.append(count)
        return {"c1": (np.array([500, 150_000, 199_990]), np.array([False, True, False])), "c2": (np.array([10]), [0])}

    args = dict(
        contigs=list(LENGTHS), lengths=LENGTHS, design=design, sites=sites_of(annotation),
        introns=annotation.introns(), window=WINDOW, context=CONTEXT, intronic=0.0, genomic=0.0,
    )  # fmt: skip
    plan, stats = training_windows(**args, hard=hard, hard_windows=0.5, seed=3)
    assert asked == [round(0.5 * stats["sites"])]
    rows = plan.kinds == KINDS.index("hard")
    assert stats["windows"]["hard"] == 3 == rows.sum()  # c2 is a valid contig: not a training one
    for p, minus in ((500, False), (150_000, True), (199_990, False)):
        around = rows & (plan.minus == minus) & (plan.starts <= p) & (p < plan.starts + WINDOW)
        assert around.sum() == 1
    plain, _ = training_windows(**args, seed=3)
    assert "hard" not in plain.counts()
    assert training_windows(**args, hard=hard, hard_windows=0.0, seed=3)[1]["windows"] == plain.counts()
    with pytest.raises(InputError, match="hard_windows must be a number"):
        training_windows(**args, hard=hard, hard_windows=-1)
