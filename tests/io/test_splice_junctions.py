"""Tests for bioseq.io.splice_junctions: introns from CIGAR N, strand from XS/ts/motif, BED output."""

from __future__ import annotations

from pathlib import Path

import pysam
import pytest

from bioseq.errors import InputError, MissingContigError
from bioseq.io.gff import read_gtf
from bioseq.io.reference import Reference
from bioseq.io.splice_junctions import Junction, _introns, junctions, write_junctions_bed

HEADER = {"HD": {"VN": "1.6", "SO": "coordinate"}, "SQ": [{"SN": "chr1", "LN": 80}]}
# 0-based introns: [10,20) GT..AG, [30,40) CT..AC, [45,55) AA..AA, [60,70) GC..AG
GENOME = list("A" * 80)
for _pos, _pair in ((10, "GT"), (18, "AG"), (30, "CT"), (38, "AC"), (60, "GC"), (68, "AG")):
    GENOME[_pos : _pos + 2] = _pair
GENOME = "".join(GENOME)

_R = "\t*\t0\t0\t*\t*"  # RNEXT PNEXT TLEN SEQ QUAL
TINY_SAM = [
    f"x1\t0\tchr1\t6\t60\t5M10N5M{_R}\tXS:A:+",  # [10,20), anchors 5/5
    f"x2\t16\tchr1\t4\t60\t7M10N3M{_R}\tXS:A:+",  # [10,20), anchors 7/3
    f"lowq\t0\tchr1\t8\t0\t3M10N3M{_R}",  # [10,20), MAPQ 0, untagged
    f"mm\t0\tchr1\t2\t60\t9M10N10M10N5M{_R}",  # [10,20) anchors 9/10, [30,40) anchors 10/5
    f"t1\t0\tchr1\t26\t60\t5M10N5M{_R}\tts:A:-",  # [30,40), forward read: ts '-' is '-'
    f"t2\t16\tchr1\t26\t60\t5M10N5M{_R}\tts:A:+",  # [30,40), reverse read: ts '+' means '-'
    f"m1\t0\tchr1\t41\t60\t5M10N5M{_R}",  # [45,55), no tag, no canonical motif
    f"m2\t0\tchr1\t56\t60\t5M10N5M{_R}",  # [60,70), no tag
    f"p\t0\tchr1\t56\t60\t5M10N5M{_R}\tXS:A:+",  # [60,70): one '+' vote ...
    f"n\t16\tchr1\t56\t60\t5M10N5M{_R}\tXS:A:-",  # ... and one '-' vote: a tie
    f"sec\t256\tchr1\t6\t60\t5M10N5M{_R}\tXS:A:-",  # secondary: ignored by default
    f"plain\t0\tchr1\t1\t60\t20M{_R}",  # unspliced
]


def write_bam(path: Path, lines: list[str], header=HEADER) -> Path:
    """Write SAM text records as a coordinate-sorted, indexed BAM."""
    head = pysam.AlignmentHeader.from_dict(header)
    unsorted = path.with_suffix(".unsorted.bam")
    with pysam.AlignmentFile(str(unsorted), "wb", header=head) as out:
        for line in lines:
            out.write(pysam.AlignedSegment.fromstring(line, head))
    pysam.sort("-o", str(path), str(unsorted))
    unsorted.unlink()
    pysam.index(str(path))
    return path


@pytest.fixture
def tiny_bam(tmp_path) -> Path:
    return write_bam(tmp_path / "spliced.bam", TINY_SAM)


@pytest.fixture
def tiny_fasta(tmp_path) -> Path:
    fasta = tmp_path / "genome.fa"
    fasta.write_text(">chr1\n" + GENOME + "\n")
    pysam.faidx(str(fasta))
    return fasta


def test_introns_and_overhangs_hand_checked():
    # 5M 10N 10M 2D 3M 10N 4M from 100: intron [105,115), then 10+2+3 bases -> [130,140);
    # anchors are aligned bases only: 5 | 13 (10M + 3M, the deletion adds none) | 4
    cigar = [(0, 5), (3, 10), (0, 10), (2, 2), (0, 3), (3, 10), (0, 4)]
    assert _introns(100, cigar) == [(105, 115, 5), (130, 140, 4)]
    assert _introns(0, [(4, 3), (0, 5)]) == []  # soft clip, no intron


def test_junctions_from_tags(tiny_bam):
    found = junctions(tiny_bam)
    assert found == [
        Junction("chr1", 10, 20, "+", 4, 9),  # x1, x2, lowq, mm; XS '+' twice; mm anchors min(9, 10)
        Junction("chr1", 30, 40, "-", 3, 5),  # t1, t2 (ts flipped on '-'), mm
        Junction("chr1", 45, 55, ".", 1, 5),  # no tag, no reference
        Junction("chr1", 60, 70, ".", 3, 5),  # XS tie, no reference
    ]


def test_motif_decides_untagged_and_tied_junctions(tiny_bam, tiny_fasta):
    strands = {(j.start, j.end): j.strand for j in junctions(tiny_bam, reference=tiny_fasta)}
    # GC..AG is '+'; AA..AA is no splice motif; tagged junctions keep their tags
    assert strands == {(10, 20): "+", (30, 40): "-", (45, 55): ".", (60, 70): "+"}


def test_reference_objects_with_fetch(tiny_bam, tiny_fasta):
    class Genome:
        def fetch(self, chrom, start, end):
            return {"chr1": GENOME.lower()}[chrom][start:end]  # soft-masked letters still match

    expected = junctions(tiny_bam, reference=tiny_fasta)
    assert junctions(tiny_bam, reference=Genome()) == expected
    with pysam.FastaFile(str(tiny_fasta)) as fasta:
        assert junctions(tiny_bam, reference=fasta) == expected
        assert fasta.fetch("chr1", 0, 2) == "AA"  # not closed by junctions()
    with pytest.raises(InputError, match="reference must be a FASTA path or have fetch"):
        junctions(tiny_bam, reference=42)


def test_reference_missing_contig(tiny_bam, tmp_path):
    fasta = tmp_path / "ens.fa"
    fasta.write_text(">1\n" + GENOME + "\n")
    text = r"ens\.fa: contig 'chr1' is not in the reference\. Did you mean '1'"
    with pytest.raises(MissingContigError, match=text):
        junctions(tiny_bam, reference=fasta)


def test_filters_and_region(tiny_bam):
    assert junctions(tiny_bam, min_mapq=1)[0].reads == 3  # lowq (MAPQ 0) drops out
    assert [(j.start, j.reads) for j in junctions(tiny_bam, min_support=2)] == [(10, 4), (30, 3), (60, 3)]
    with_secondary = junctions(tiny_bam, exclude_flags=0)
    assert with_secondary[0].reads == 5 and with_secondary[0].strand == "+"  # sec votes '-': 2 to 1
    # 1-based chr1:46-50 is [45, 50): only the intron [45, 55) overlaps it
    assert [(j.start, j.end) for j in junctions(tiny_bam, region="chr1:46-50")] == [(45, 55)]
    assert [(j.start, j.end) for j in junctions(tiny_bam, region=("chr1", 20, 30))] == []
    with pytest.raises(InputError, match="min_support must be an integer >= 1"):
        junctions(tiny_bam, min_support=0)


def test_write_junctions_bed(tiny_bam, tmp_path):
    out = tmp_path / "out" / "junctions.bed"
    write_junctions_bed(junctions(tiny_bam, min_support=3), out)
    assert out.read_text().splitlines() == [
        "chr1\t10\t20\tJUNC00000001\t4\t+",  # BED6: 0-based half-open intron, score = reads
        "chr1\t30\t40\tJUNC00000002\t3\t-",
        "chr1\t60\t70\tJUNC00000003\t3\t.",
    ]


def test_write_junctions_bed_leaves_no_partial_file(tmp_path):
    out = tmp_path / "bad.bed"
    with pytest.raises(InputError, match=r"bad\.bed: item 2 is a tuple, not a Junction"):
        write_junctions_bed([Junction("chr1", 1, 5, "+", 1, 1), ("chr1", 1, 5)], out)
    assert list(tmp_path.iterdir()) == []


# -- real data: dm6 RNA-seq (HISAT2, XS tags) against the FlyBase annotation --------------------


@pytest.fixture(scope="module")
def dm6(shared_data):
    folder = shared_data / "genomes" / "dm6_small"
    introns = {(i.chrom, i.start, i.end): i.strand for i in read_gtf(folder / "dm6.small.gtf").introns()}
    return folder / "sample1.tiny.paired.dm6small.bam", folder / "dm6.small.fa", introns


def test_real_junctions_match_annotated_introns(dm6):
    bam, _, introns = dm6
    found = junctions(bam)
    matched = [j for j in found if (j.chrom, j.start, j.end) in introns]
    # measured: 51 of 54 junctions (94.4%), 314 of 317 supporting reads (99.1%) are annotated introns
    assert len(found) == 54 and len(introns) == 557
    assert len(matched) / len(found) > 0.9
    assert sum(j.reads for j in matched) / sum(j.reads for j in found) > 0.98
    assert all(j.strand == introns[(j.chrom, j.start, j.end)] for j in matched)
    assert sum(j.reads for j in found) == 317  # HISAT2 wrote XS on 322 spliced records; 5 are filtered


def test_real_motif_and_ts_strands_agree_with_xs(dm6, tmp_path):
    bam, fasta, _ = dm6
    untagged, minimap_style = tmp_path / "noxs.bam", tmp_path / "ts.bam"
    with (
        pysam.AlignmentFile(str(bam)) as source,
        pysam.AlignmentFile(str(untagged), "wb", template=source) as out,
        pysam.AlignmentFile(str(minimap_style), "wb", template=source) as out_ts,
    ):
        for read in source.fetch(until_eof=True):
            xs = read.get_tag("XS") if read.has_tag("XS") else None
            read.set_tag("XS", None)
            out.write(read)
            if xs:  # minimap2's ts is relative to the read: flipped on reverse reads
                read.set_tag("ts", {"+": "-", "-": "+"}[xs] if read.is_reverse else xs, "A")
            out_ts.write(read)
    expected = [(j.start, j.end, j.strand) for j in junctions(bam)]
    assert [(j.start, j.end, j.strand) for j in junctions(untagged, reference=fasta)] == expected
    assert [(j.start, j.end, j.strand) for j in junctions(untagged, reference=Reference(fasta))] == expected
    assert [(j.start, j.end, j.strand) for j in junctions(minimap_style)] == expected
    assert {j.strand for j in junctions(untagged)} == {"."}  # no tag and no reference
