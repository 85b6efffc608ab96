"""Tests of bioseq.datasets.background (GC-matched background windows)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from bioseq.datasets.background import sample_gc_matched
from bioseq.encode.gc import gc_content, n_fraction
from bioseq.errors import InputError, MissingContigError
from bioseq.io.interval import Interval
from bioseq.io.reference import Reference


def random_bases(rng, length: int, gc: float) -> str:
    strong = rng.random(length) < gc
    letters = np.where(strong, rng.choice(list("GC"), length), rng.choice(list("AT"), length))
    return "".join(letters)


def write_fasta(path: Path, contigs: dict[str, str]) -> Path:
    path.write_text("".join(f">{name}\n{seq}\n" for name, seq in contigs.items()))
    return path


@pytest.fixture(scope="module")
def gradient(tmp_path_factory) -> Reference:
    """chr1: 10 kb at 20% GC, 10 kb at 50% (with 1 kb of N inside), 10 kb at 80%; chr2: 5 kb at 50%."""
    rng = np.random.default_rng(0)
    middle = random_bases(rng, 4000, 0.5) + "N" * 1000 + random_bases(rng, 5000, 0.5)
    chr1 = random_bases(rng, 10000, 0.2) + middle + random_bases(rng, 10000, 0.8)
    folder = tmp_path_factory.mktemp("gradient")
    fasta = write_fasta(folder / "gradient.fa", {"chr1": chr1, "chr2": random_bases(rng, 5000, 0.5)})
    with Reference(fasta, cache=folder / "cache") as ref:
        yield ref


@pytest.fixture(scope="module")
def blocks(tmp_path_factory) -> Reference:
    """chrA: 1,000 bases of A/T only (GC 0) then 1,000 of G/C only (GC 1)."""
    rng = np.random.default_rng(1)
    chra = random_bases(rng, 1000, 0.0) + random_bases(rng, 1000, 1.0)
    fasta = write_fasta(tmp_path_factory.mktemp("blocks") / "blocks.fa", {"chrA": chra})
    with Reference(fasta) as ref:
        yield ref


def positives_on(ref: Reference, seed: int, count: int, width: int = 100) -> list[Interval]:
    rng = np.random.default_rng(seed)
    chrom = ref.references[0]
    grid = np.arange(0, ref.length(chrom) - width, width)
    grid = grid[(grid + width <= 14000) | (grid >= 15000)]  # keep clear of the N block of chr1
    starts = rng.choice(grid, size=count, replace=False)
    return [Interval(chrom, int(s), int(s) + width, strand="+") for s in starts]


def gc_of(ref: Reference, intervals: list[Interval]) -> np.ndarray:
    return np.array([gc_content(ref.fetch_codes(i.chrom, i.start, i.end)) for i in intervals])


def histogram(gc: np.ndarray, n_bins: int) -> np.ndarray:
    return np.bincount(np.minimum((gc * n_bins).astype(int), n_bins - 1), minlength=n_bins)


def overlaps(a: Interval, b: Interval) -> bool:
    return a.chrom == b.chrom and a.start < b.end and b.start < a.end


def test_histogram_matches_and_windows_are_clean(gradient):
    positives = positives_on(gradient, seed=2, count=60)
    exclude = [Interval("chr1", 20000, 22000), Interval("chrUn_x", 0, 10)]  # unknown contig: ignored
    negatives = sample_gc_matched(gradient, positives, n=120, exclude=exclude, seed=5)
    assert len(negatives) == 120
    # n = 2 x positives: every bin holds exactly twice the positives' count
    assert (histogram(gc_of(gradient, negatives), 20) == 2 * histogram(gc_of(gradient, positives), 20)).all()
    assert all(len(w) == 100 and w.strand == "." for w in negatives)
    assert not any(overlaps(w, p) for w in negatives for p in positives + exclude)
    codes = gradient.windows([w.chrom for w in negatives], [w.start for w in negatives], 100)
    assert (n_fraction(codes) <= 0.01).all()
    keys = [(w.chrom, w.start) for w in negatives]
    assert len(set(keys)) == len(keys)  # never the same window twice
    assert keys == sorted(keys, key=lambda k: (gradient.references.index(k[0]), k[1]))


def test_n_fraction_limit(gradient):
    # Positives at the edge of the N block have 10% to 50% N; with max_n_fraction=0.5 windows
    # that overlap the block may be drawn, but never more than half N.
    positives = [Interval("chr1", s, s + 100) for s in (13950, 13920, 14950, 14960)]
    negatives = sample_gc_matched(gradient, positives, n=40, max_n_fraction=0.5, seed=3)
    codes = gradient.windows([w.chrom for w in negatives], [w.start for w in negatives], 100)
    assert (n_fraction(codes) <= 0.5).all()
    strict = sample_gc_matched(gradient, positives, n=40, max_n_fraction=0.0, seed=3)
    codes = gradient.windows([w.chrom for w in strict], [w.start for w in strict], 100)
    assert (n_fraction(codes) == 0).all()


def test_deterministic_for_a_seed_and_cache_independent(gradient, tmp_path):
    positives = positives_on(gradient, seed=4, count=30)
    first = sample_gc_matched(gradient, positives, seed=11)
    assert sample_gc_matched(gradient, positives, seed=11) == first
    assert sample_gc_matched(gradient, positives, seed=12) != first
    with Reference(gradient.path) as uncached:  # the slow path gives the same windows
        assert sample_gc_matched(uncached, positives, seed=11) == first


def test_largest_remainder_rounding(blocks):
    # Two positives in the G/C block (GC 1, last bin) and one in the A/T block (GC 0, bin 0).
    # n=4: exact shares 2.67 and 1.33 -> floors 2 and 1, the spare window goes to the larger
    # remainder (0.67): 3 windows of GC 1 and 1 of GC 0.
    positives = [Interval("chrA", 1100, 1150), Interval("chrA", 1500, 1550), Interval("chrA", 200, 250)]
    negatives = sample_gc_matched(blocks, positives, n=4, seed=0)
    assert sorted(gc_of(blocks, negatives).tolist()) == [0.0, 1.0, 1.0, 1.0]
    assert sample_gc_matched(blocks, positives, n=0) == []


def test_not_enough_windows_names_the_bin(blocks):
    # The GC-1 bin (0.95-1.00) can be filled by the 951 windows inside the G/C block, less the
    # 99 that overlap the positive (starts 1151..1249), plus the two that reach 1 or 2 bases into
    # the A/T block (starts 999 and 998: GC 0.98 and 0.96): 854 in all. The 1,951 starts of the
    # 2 kb contig are all tried, so the message says "all".
    positives = [Interval("chrA", 1200, 1250)]
    with pytest.raises(InputError) as info:
        sample_gc_matched(blocks, positives, n=2000)
    text = str(info.value)
    assert text.startswith(blocks.path)
    assert "GC bin 0.95-1.00 needs 2000 background windows but all candidate windows gave only 854" in text
    assert "fewer windows (n=)" in text and "fewer GC bins (n_bins=)" in text


def test_nearest_fills_a_short_bin_from_the_next_bins(blocks, caplog):
    # As above, the GC-1 bin holds 854 windows; n=900 asks for 46 more, which come from the
    # windows that reach furthest into the G/C block (starts 997, 996, ...: GC 0.94, 0.92, ...).
    positives = [Interval("chrA", 1200, 1250)]
    with caplog.at_level("WARNING", logger="bioseq.datasets.background"):
        negatives = sample_gc_matched(blocks, positives, n=900, shortfall="nearest")
    assert len(negatives) == len(set(negatives)) == 900
    assert not any(overlaps(w, positives[0]) for w in negatives)
    gc = np.sort(gc_of(blocks, negatives))[::-1]
    assert (gc >= 0.95).sum() == 854
    # Bins 18 down to 1 give all 45 of theirs (GC 0.94 ... 0.06, none skipped); the last window
    # comes from bin 0 (GC below 0.05), whichever of its windows was drawn first.
    assert np.allclose(gc[854:899], np.arange(47, 2, -1) / 50) and gc[899] < 0.05
    assert "chrA has too few windows in 1 GC bin(s): 46 of 900 background windows come from the nearest" in caplog.text
    with pytest.raises(InputError, match="shortfall must be one of raise, nearest, got 'skip'"):
        sample_gc_matched(blocks, positives, shortfall="skip")


def test_chroms_and_width(gradient):
    positives = [Interval("chr1", s, s + 100) for s in range(10000, 13900, 400)]  # the 50% GC part
    negatives = sample_gc_matched(gradient, positives, chroms=["2"], width=150, n_bins=5)  # alias of chr2
    assert {w.chrom for w in negatives} == {"chr2"}
    assert all(len(w) == 150 for w in negatives)


def test_positives_of_different_widths_need_width(gradient):
    positives = [Interval("chr1", 0, 100), Interval("chr1", 500, 700)]
    with pytest.raises(InputError, match=r"2 different widths \(100 to 200 bases\).*Pass width="):
        sample_gc_matched(gradient, positives)
    assert len(sample_gc_matched(gradient, positives, width=120)) == 2


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"positives": []}, "positives is empty"),
        ({"positives": [("chr1", 0, 10)]}, "positive 0 is a tuple, not an Interval"),
        ({"n": -1}, "n must be >= 0"),
        ({"n": 2.5}, "n must be an integer"),
        ({"n_bins": 0}, "n_bins must be >= 1"),
        ({"max_n_fraction": 2}, "max_n_fraction must be a number in [0, 1]"),
        ({"seed": -3}, "seed must be >= 0"),
        ({"width": 0}, "width must be >= 1"),
        ({"width": 10**6}, "no contig to sample from is at least 1000000 bases long"),
        ({"exclude": ["chr1:1-10"]}, "exclude entry 0 is a str"),
        ({"chroms": []}, "chroms is empty"),
        ({"positives": [Interval("chr1", 14100, 14200)]}, "positive chr1:14101-14200 has no A, C, G or T"),
    ],
)
def test_bad_arguments(gradient, kwargs, message):
    args = {"positives": [Interval("chr1", 0, 100)], **kwargs}
    with pytest.raises(InputError) as info:
        sample_gc_matched(gradient, **args)
    assert message in str(info.value)


def test_missing_contigs(gradient):
    with pytest.raises(MissingContigError, match="'chr9'"):
        sample_gc_matched(gradient, [Interval("chr9", 0, 100)])
    with pytest.raises(MissingContigError, match="'chrX'"):
        sample_gc_matched(gradient, [Interval("chr1", 0, 100)], chroms=["chrX"])
    with pytest.raises(InputError, match="reference must be a bioseq Reference"):
        sample_gc_matched("genome.fa", [Interval("chr1", 0, 100)])


def test_real_genome_histogram(shared_data, tmp_path):
    fasta = shared_data / "genomes" / "dm6_small" / "dm6.small.fa"
    if not fasta.exists():
        pytest.skip(f"{fasta} is absent")
    with Reference(fasta, cache=tmp_path) as ref:
        # positives: 200 random 500 bp windows on chr2L; background from chr2R only
        rng = np.random.default_rng(9)
        positives = [Interval("chr2L", int(s), int(s) + 500) for s in rng.integers(0, 999_000, 200)]
        negatives = sample_gc_matched(ref, positives, n=300, n_bins=10, chroms=["chr2R"], seed=2)
        want = histogram(gc_of(ref, positives), 10) * 1.5
        got = histogram(gc_of(ref, negatives), 10)
        assert got.sum() == 300 and (np.abs(got - want) < 1).all()  # equal up to rounding
