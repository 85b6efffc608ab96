"""Tests of bioseq.datasets.promoters (TSS windows against negatives)."""

from __future__ import annotations

import collections
import logging
from pathlib import Path

import numpy as np
import pytest

from bioseq.codes import encode
from bioseq.datasets.promoters import PROMOTER_CLASSES, promoter_dataset
from bioseq.encode.gc import gc_content
from bioseq.errors import InputError, MissingContigError
from bioseq.io.gff import read_gtf
from bioseq.io.interval import chromosome_of
from bioseq.io.reference import Reference

RC = str.maketrans("ACGTN", "TGCAN")


def rc(seq: str) -> str:
    return seq.translate(RC)[::-1]


def random_bases(rng, length: int, gc: float = 0.5) -> str:
    strong = rng.random(length) < gc
    return "".join(np.where(strong, rng.choice(list("GC"), length), rng.choice(list("AT"), length)))


def gtf_line(chrom, start, end, strand, gene, tx) -> str:
    """One GTF exon line; start/end are 1-based inclusive as in the file."""
    return f'{chrom}\tt\texon\t{start}\t{end}\t.\t{strand}\t.\tgene_id "{gene}"; transcript_id "{tx}";\n'


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    """chr1 (600 bp): '+' transcript tx1 with exons [100,150) and [200,260) (TSS at 100),
    '-' transcript tx2 with exons [300,340) and [380,450) (TSS at 449, its 5' end).
    chr2 (300 bp) carries no transcript."""
    rng = np.random.default_rng(7)
    genome = {"chr1": random_bases(rng, 600), "chr2": random_bases(rng, 300)}
    folder = tmp_path_factory.mktemp("tiny")
    fasta = folder / "tiny.fa"
    fasta.write_text("".join(f">{name}\n{seq}\n" for name, seq in genome.items()))
    gtf = folder / "tiny.gtf"
    gtf.write_text(
        gtf_line("chr1", 101, 150, "+", "g1", "tx1")
        + gtf_line("chr1", 201, 260, "+", "g1", "tx1")
        + gtf_line("chr1", 301, 340, "-", "g2", "tx2")
        + gtf_line("chr1", 381, 450, "-", "g2", "tx2")
    )
    with Reference(fasta) as ref:
        yield ref, read_gtf(gtf), genome, folder


def test_positive_windows_are_strand_aware_with_the_tss_at_the_offset(tiny):
    ref, annotation, genome, _ = tiny
    data = promoter_dataset(ref, annotation, length=20, negatives="shuffle")
    assert data.classes == PROMOTER_CLASSES and data.task == "binary"
    positives = [(n, s) for n, s, y in zip(data.names, data.sequences, data.labels.tolist()) if y == 1]
    # '+' TSS at 100, centred: 10 bases before it, so [90, 110); the TSS base is at offset 10.
    # '-' TSS at 449: its window's 5' end is 449 + 10 = 459, so [440, 460), reverse-complemented.
    assert positives == [("chr1:90-110(+)", genome["chr1"][90:110]), ("chr1:440-460(-)", rc(genome["chr1"][440:460]))]
    assert positives[0][1][10] == genome["chr1"][100]
    assert positives[1][1][10] == rc(genome["chr1"][449])


def test_upstream_moves_the_tss_inside_the_window(tiny):
    ref, annotation, genome, _ = tiny
    data = promoter_dataset(ref, annotation, length=20, upstream=15, negatives="shuffle")
    # 15 up, the TSS, 4 down: '+' [85, 105); '-' 5' end at 449 + 15 = 464, so [445, 465).
    assert data.names[:2] == ("chr1:85-105(+)", "chr1:445-465(-)")
    assert data.sequences[1] == rc(genome["chr1"][445:465])
    with pytest.raises(InputError, match="upstream"):
        promoter_dataset(ref, annotation, length=20, upstream=20)


def test_windows_past_the_contig_start_are_n_padded_or_dropped(tiny, tmp_path):
    ref, _, genome, _ = tiny
    gtf = tmp_path / "edge.gtf"
    gtf.write_text(gtf_line("chr1", 4, 60, "+", "g", "edge") + gtf_line("chr1", 101, 150, "+", "g1", "tx1"))
    annotation = read_gtf(gtf)
    # TSS at 3 with 10 bases upstream: window [-7, 13), 7 N of 20 (35 %).
    kept = promoter_dataset(ref, annotation, length=20, negatives="shuffle", max_n_fraction=0.4)
    assert kept.names[0] == "chr1:-7-13(+)" and kept.sequences[0] == "N" * 7 + genome["chr1"][:13]
    assert chromosome_of(kept.names[0]) == "chr1"
    dropped = promoter_dataset(ref, annotation, length=20, negatives="shuffle")
    assert "chr1:-7-13(+)" not in dropped.names and dropped.names[0] == "chr1:90-110(+)"


def test_shuffles_keep_dinucleotides_and_the_source_coordinates(tiny):
    ref, annotation, _, _ = tiny
    data = promoter_dataset(ref, annotation, length=40, negatives="shuffle", ratio=2, seed=3)
    by_name = dict(zip(data.names, data.sequences))
    assert sorted(n for n, y in zip(data.names, data.labels.tolist()) if y == 0) == sorted(
        ["chr1:80-120(+)_shuf1", "chr1:80-120(+)_shuf2", "chr1:430-470(-)_shuf1", "chr1:430-470(-)_shuf2"]
    )
    for name, seq in by_name.items():
        if "_shuf" in name:
            source = by_name[name.split("_shuf")[0]]
            pairs = collections.Counter(seq[i : i + 2] for i in range(len(seq) - 1))
            assert pairs == collections.Counter(source[i : i + 2] for i in range(len(source) - 1))
            assert chromosome_of(name) == "chr1"
    again = promoter_dataset(ref, annotation, length=40, negatives="shuffle", ratio=2, seed=3)
    assert again.sequences == data.sequences  # same seed, same dataset


def test_fractional_ratio_keeps_the_first_rounds(tiny):
    ref, annotation, _, _ = tiny
    data = promoter_dataset(ref, annotation, length=20, negatives="shuffle", ratio=1.5)
    # round(1.5 * 2) = 3 negatives: both first shuffles and the first positive's second one.
    assert [n for n, y in zip(data.names, data.labels.tolist()) if y == 0] == [
        "chr1:90-110(+)_shuf1",
        "chr1:440-460(-)_shuf1",
        "chr1:90-110(+)_shuf2",
    ]


def test_gene_body_negatives_lie_in_genes_on_their_strand_far_from_tss(tmp_path):
    rng = np.random.default_rng(2)
    chrom = random_bases(rng, 20000)
    fasta = tmp_path / "g.fa"
    fasta.write_text(f">chr1\n{chrom}\n")
    gtf = tmp_path / "g.gtf"  # gene g1 '+' over [1000, 9000), gene g2 '-' over [11000, 19000)
    gtf.write_text(
        gtf_line("chr1", 1001, 1100, "+", "g1", "a")
        + gtf_line("chr1", 8901, 9000, "+", "g1", "a")
        + gtf_line("chr1", 11001, 11100, "-", "g2", "b")
        + gtf_line("chr1", 18901, 19000, "-", "g2", "b")
    )
    with Reference(fasta) as ref:
        data = promoter_dataset(ref, read_gtf(gtf), length=100, negatives="genebody", ratio=20, tss_distance=1000)
    negatives = [n for n, y in zip(data.names, data.labels.tolist()) if y == 0]
    assert len(negatives) == 40 and len(set(negatives)) == 40
    for name in negatives:
        span, strand = name[5:-3].split("-"), name[-2]
        start, end = int(span[0]), int(span[1])
        # '+' gene: TSS 1000, so the first base is >= 2000; '-' gene: TSS 18999, so the last base
        # is <= 17999 (end <= 18000).
        assert (strand == "+" and 2000 <= start and end <= 9000) or (strand == "-" and 11000 <= start and end <= 18000)


def test_gc_negatives_match_the_positives_gc(tmp_path):
    """Positives sit in the GC-rich half, so matched negatives must be GC-rich too (random ones average 0.5)."""
    rng = np.random.default_rng(5)
    chroms = {c: random_bases(rng, 5000, 0.3) + random_bases(rng, 5000, 0.7) for c in ("chr1", "chr2")}
    fasta = tmp_path / "gc.fa"
    fasta.write_text("".join(f">{c}\n{s}\n" for c, s in chroms.items()))
    gtf = tmp_path / "gc.gtf"
    gtf.write_text(
        "".join(gtf_line(c, s, s + 50, "+", f"g{c}{s}", f"t{c}{s}") for c in chroms for s in range(5500, 9500, 400))
    )
    with Reference(fasta, cache=tmp_path / "cache") as ref:
        # tss_distance=0: here the GC-rich half is all promoters (see the next test for the distance)
        data = promoter_dataset(ref, read_gtf(gtf), length=100, negatives="gc", seed=1, tss_distance=0)
    codes, _ = encode(list(data.sequences))
    gc = gc_content(codes)
    labels = data.labels
    assert (labels == 0).sum() == (labels == 1).sum() == 20
    assert abs(gc[labels == 0].mean() - gc[labels == 1].mean()) < 0.05
    positives = [n for n, y in zip(data.names, labels.tolist()) if y == 1]
    starts = {(n.split(":")[0], int(n.split(":")[1].split("-")[0])) for n in positives}
    for name in (n for n, y in zip(data.names, labels.tolist()) if y == 0):
        chrom, start = name.split(":")[0], int(name.split(":")[1].split("-")[0])
        assert all(c != chrom or abs(s - start) >= 100 for c, s in starts)  # no overlap with a positive
    # each chromosome gets negatives in proportion to its positives (10 and 10)
    assert collections.Counter(n.split(":")[0] for n in data.names) == {"chr1": 20, "chr2": 20}


def test_gc_negatives_keep_away_from_every_tss(tmp_path):
    rng = np.random.default_rng(6)
    fasta = tmp_path / "far.fa"
    fasta.write_text(f">chr1\n{random_bases(rng, 30000)}\n")
    gtf = tmp_path / "far.gtf"  # TSSs at 0-based 2000 ('+'), 12999 ('-') and 20000 ('+')
    gtf.write_text(
        gtf_line("chr1", 2001, 2500, "+", "a", "a")
        + gtf_line("chr1", 12501, 13000, "-", "b", "b")
        + gtf_line("chr1", 20001, 20500, "+", "c", "c")
    )
    with Reference(fasta) as ref:
        data = promoter_dataset(ref, read_gtf(gtf), length=100, negatives="gc", ratio=10, seed=2, tss_distance=1500)
    negatives = [n for n, y in zip(data.names, data.labels.tolist()) if y == 0]
    assert len(negatives) == 30
    for name in negatives:
        start, end = (int(x) for x in name.split(":")[1].split("(")[0].split("-"))
        for tss in (2000, 12999, 20000):  # every base of the window is >= 1500 bp from every TSS
            assert start - tss >= 1500 or tss - (end - 1) >= 1500, (name, tss)


def test_aliases_resolve_and_missing_contigs_are_named(tiny, tmp_path, caplog):
    ref, _, genome, _ = tiny
    gtf = tmp_path / "alias.gtf"
    gtf.write_text(gtf_line("1", 101, 150, "+", "g1", "tx1") + gtf_line("chrUn", 101, 150, "+", "g9", "tx9"))
    with caplog.at_level(logging.WARNING, logger="bioseq"):
        data = promoter_dataset(ref, read_gtf(gtf), length=20, negatives="shuffle")
    assert data.names == ("chr1:90-110(+)", "chr1:90-110(+)_shuf1")  # the genome's name for contig '1'
    assert "TSSs on 'chrUn' left out: the genome has no such contig" in caplog.text
    gtf.write_text(gtf_line("chrX", 101, 150, "+", "g1", "tx1"))
    with pytest.raises(MissingContigError, match=r"contigs of the TSSs in the annotation \('chrX'\) is in the genome"):
        promoter_dataset(ref, read_gtf(gtf), length=20)


def test_bad_input_raises_one_clear_error(tiny, tmp_path):
    ref, annotation, _, folder = tiny
    gtf = tmp_path / "unstranded.gtf"
    gtf.write_text(gtf_line("chr1", 101, 150, ".", "g1", "tx1"))
    with pytest.raises(InputError, match="no TSS"):
        promoter_dataset(ref, read_gtf(gtf))
    with pytest.raises(InputError, match="negatives must be one of gc, shuffle, genebody"):
        promoter_dataset(ref, annotation, negatives="random")
    with pytest.raises(InputError, match="ratio must be a positive number"):
        promoter_dataset(ref, annotation, ratio=0)
    with pytest.raises(InputError, match="bioseq Reference"):
        promoter_dataset(str(folder / "tiny.fa"), annotation)
    with pytest.raises(InputError, match="gene-body windows.*Lower ratio or tss_distance"):
        promoter_dataset(ref, annotation, length=20, negatives="genebody")


def test_dm6_promoters(shared_data: Path, tmp_path):
    folder = shared_data / "genomes" / "dm6_small"
    if not (folder / "dm6.small.fa").exists():
        pytest.skip("dm6_small is absent")
    with Reference(folder / "dm6.small.fa") as ref:
        data = promoter_dataset(ref, read_gtf(folder / "dm6.small.gtf"), negatives="genebody")
    labels = data.labels.tolist()
    # 356 transcripts start at 229 distinct TSS positions (226 on chr2L, 3 on chr2R); none is N-rich.
    assert labels.count(1) == labels.count(0) == 229
    assert {chromosome_of(n) for n in data.names} == {"chr2L", "chr2R"}
    assert all(len(s) == 200 and "N" not in s for s in data.sequences)
