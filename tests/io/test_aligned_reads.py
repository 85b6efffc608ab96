"""Tests for bioseq.io.aligned_reads: records, filters, regions, indexes, counts, coverage, bad files."""

from __future__ import annotations

import io
import os
import shutil
from pathlib import Path

import numpy as np
import pysam
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bioseq.errors import InputError, MissingContigError, MissingFileError
from bioseq.io.aligned_reads import (
    DEFAULT_EXCLUDE_FLAGS,
    AlignmentSource,
    count_reads,
    coverage,
    coverage_many,
    read_alignments,
)
from bioseq.io.interval import Interval

HEADER = {"HD": {"VN": "1.6", "SO": "coordinate"}, "SQ": [{"SN": "chr1", "LN": 100}, {"SN": "chr2", "LN": 50}]}
# SAM POS is 1-based; the comment gives each read's 0-based half-open span [start, end).
TINY_SAM = [
    "fwd\t0\tchr1\t11\t60\t10M\t*\t0\t0\tACGTACGTAC\t!\"#$%&'()*",  # [10, 20), quals 0..9
    "rev\t16\tchr1\t16\t20\t5M2D5M\t*\t0\t0\tAACCGGTTAC\tABCDEFGHIJ",  # [15, 27): blocks [15,20) [22,27)
    "spl\t0\tchr1\t21\t60\t3M10N3M\t*\t0\t0\tGGGCCC\t*",  # [20, 36): blocks [20,23) [33,36)
    "sec\t256\tchr1\t11\t60\t10M\t*\t0\t0\t*\t*",  # secondary
    "dup\t1024\tchr1\t11\t60\t10M\t*\t0\t0\tACGTACGTAC\t*",  # duplicate
    "r2\t145\tchr1\t41\t60\t5M\t*\t0\t0\tAAAAA\t*",  # read 2, '-': fragment '+'
    "r1\t81\tchr1\t51\t60\t5M\t*\t0\t0\tCCCCC\t*",  # read 1, '-': fragment '-'
    "c2\t0\tchr2\t1\t60\t5M\t*\t0\t0\tTTTTT\t*",  # chr2 [0, 5)
    "unm\t4\t*\t0\t0\t*\t*\t0\t0\tACGT\t####",  # unmapped, unplaced
]


def write_bam(path: Path, lines: list[str], *, header=HEADER, index: bool = True) -> Path:
    """Write SAM text records as a coordinate-sorted BAM (and its index)."""
    head = pysam.AlignmentHeader.from_dict(header)
    unsorted = path.with_suffix(".unsorted.bam")
    with pysam.AlignmentFile(str(unsorted), "wb", header=head) as out:
        for line in lines:
            out.write(pysam.AlignedSegment.fromstring(line, head))
    pysam.sort("-o", str(path), str(unsorted))
    unsorted.unlink()
    if index:
        pysam.index(str(path))
    return path


@pytest.fixture
def tiny_bam(tmp_path) -> Path:
    return write_bam(tmp_path / "tiny.bam", TINY_SAM)


# -- records and filters -------------------------------------------------------------------


def test_records_are_zero_based_half_open(tiny_bam):
    records = {r.name: r for r in read_alignments(tiny_bam)}
    fwd = records["fwd"]
    # SAM POS 11 with 10M covers 1-based 11..20, i.e. 0-based [10, 20)
    assert (fwd.chrom, fwd.start, fwd.end, fwd.strand, fwd.mapq) == ("chr1", 10, 20, "+", 60)
    assert fwd.sequence == "ACGTACGTAC" and fwd.cigar == "10M" and fwd.flags == 0
    # quality characters '!'..'*' are phred 0..9 (ASCII - 33)
    assert fwd.quality.dtype == np.uint8 and fwd.quality.tolist() == list(range(10))
    # the span includes the 2-base deletion: 5 + 2 + 5 = 12 bases from 15
    assert (records["rev"].start, records["rev"].end, records["rev"].strand) == (15, 27, "-")
    # the span includes the 10-base N skip: 3 + 10 + 3 = 16 bases from 20
    assert (records["spl"].start, records["spl"].end) == (20, 36)
    assert records["spl"].quality.shape == (0,)  # '*': no qualities stored


def test_records_are_immutable_and_compare_by_value(tiny_bam):
    first, again = list(read_alignments(tiny_bam)), list(read_alignments(tiny_bam))
    assert first == again and first[0] != first[1]
    with pytest.raises(AttributeError):
        first[0].start = 3
    with pytest.raises(TypeError, match="unhashable"):
        hash(first[0])


def test_default_filter_drops_unmapped_secondary_duplicate(tiny_bam):
    assert DEFAULT_EXCLUDE_FLAGS == 0xF04
    assert [r.name for r in read_alignments(tiny_bam)] == ["fwd", "rev", "spl", "r2", "r1", "c2"]
    everything = list(read_alignments(tiny_bam, exclude_flags=0))
    assert len(everything) == len(TINY_SAM)
    unplaced = everything[-1]
    assert (unplaced.name, unplaced.chrom, unplaced.start, unplaced.end) == ("unm", "*", -1, -1)
    assert unplaced.cigar == "*"


def test_mapq_and_required_flags(tiny_bam):
    assert [r.name for r in read_alignments(tiny_bam, min_mapq=30)] == ["fwd", "spl", "r2", "r1", "c2"]
    # 0x40 = first in pair: only r1; 0x10 = reverse strand
    assert [r.name for r in read_alignments(tiny_bam, require_flags=0x40)] == ["r1"]
    assert [r.name for r in read_alignments(tiny_bam, require_flags=0x10)] == ["rev", "r2", "r1"]


@pytest.mark.parametrize(
    ("option", "value", "text"),
    [
        ("min_mapq", -1, "min_mapq must be an integer from 0 to 255"),
        ("min_mapq", 1.5, "min_mapq must be an integer"),
        ("exclude_flags", 0x10000, "exclude_flags must be an integer from 0 to 65535"),
        ("require_flags", 0x4, "flags 0x4 are both required and excluded"),
        ("as_sequenced", "yes", "as_sequenced must be True or False"),
    ],
)
def test_bad_options(tiny_bam, option, value, text):
    with pytest.raises(InputError, match=text):
        read_alignments(tiny_bam, **{option: value})


def test_as_sequenced_reverse_complements_reverse_reads(tiny_bam):
    stored = {r.name: r for r in read_alignments(tiny_bam)}
    sequenced = {r.name: r for r in read_alignments(tiny_bam, as_sequenced=True)}
    # stored AACCGGTTAC on '-': the sequencer read its reverse complement
    assert sequenced["rev"].sequence == "GTAACCGGTT"
    assert sequenced["rev"].quality.tolist() == stored["rev"].quality.tolist()[::-1]
    assert sequenced["fwd"].sequence == stored["fwd"].sequence  # '+' reads are unchanged
    rc = str.maketrans("ACGT", "TGCA")
    for name, record in stored.items():
        if record.strand == "-":
            assert sequenced[name].sequence.translate(rc)[::-1] == record.sequence


# -- regions, contigs and indexes ------------------------------------------------------------


def test_region_forms_agree(tiny_bam):
    # 1-based inclusive 'chr1:21-21' is the 0-based half-open base [20, 21)
    by_string = [r.name for r in read_alignments(tiny_bam, region="chr1:21-21")]
    assert by_string == [r.name for r in read_alignments(tiny_bam, region=Interval("chr1", 20, 21))]
    assert by_string == [r.name for r in read_alignments(tiny_bam, region=("chr1", 20, 21))]
    # fwd ends at 20 (exclusive), so it does not overlap base 20; rev and spl do
    assert by_string == ["rev", "spl"]
    assert [r.name for r in read_alignments(tiny_bam, region="chr2")] == ["c2"]


def test_missing_contig_suggests_chr_alias(tmp_path):
    bam = write_bam(
        tmp_path / "ens.bam",
        ["a\t0\t1\t1\t60\t5M\t*\t0\t0\tAAAAA\t*"],
        header={"HD": {"VN": "1.6", "SO": "coordinate"}, "SQ": [{"SN": "1", "LN": 10}]},
    )
    text = r"contig 'chr1' is not in the file's header\. Did you mean '1'\?"
    with pytest.raises(MissingContigError, match=text) as info:
        read_alignments(bam, region="chr1:1-5")
    assert str(bam) in str(info.value) and "without the 'chr' prefix" in str(info.value)
    assert isinstance(info.value, KeyError)


def test_missing_contig_lists_close_names(tiny_bam):
    with pytest.raises(MissingContigError, match="Closest of its 2 contigs: 'chr1'"):
        count_reads(tiny_bam, [("chr11", 0, 5)])


def test_missing_index_is_built_next_to_a_sorted_bam(tmp_path):
    bam = write_bam(tmp_path / "noindex.bam", TINY_SAM, index=False)
    assert [r.name for r in read_alignments(bam, region="chr2:1-5")] == ["c2"]
    assert (tmp_path / "noindex.bam.bai").is_file()
    assert not list(tmp_path.glob("*.part"))  # the temporary index was renamed, not left behind


def test_missing_index_in_read_only_folder(tmp_path):
    folder = tmp_path / "ro"
    folder.mkdir()
    bam = write_bam(folder / "x.bam", TINY_SAM, index=False)
    folder.chmod(0o555)
    try:
        with pytest.raises(InputError, match=r"its folder is read-only\. Run: samtools index .*x\.bam"):
            count_reads(bam, [("chr1", 0, 10)])
    finally:
        folder.chmod(0o755)
    assert not (folder / "x.bam.bai").exists()


def test_unsorted_bam_needs_samtools_sort(tmp_path):
    bam = write_bam(tmp_path / "s.bam", TINY_SAM, index=False)
    byname = tmp_path / "byname.bam"
    pysam.sort("-n", "-o", str(byname), str(bam))
    with pytest.raises(
        InputError,
        match=r"header says the file is sorted by queryname.*"
        r"Run: samtools sort -o .*byname\.sorted\.bam .*byname\.bam && samtools index",
    ):
        read_alignments(byname, region="chr1")


def test_region_query_on_sam_text(tmp_path):
    sam = tmp_path / "t.sam"
    sam.write_text("@SQ\tSN:chr1\tLN:100\n" + TINY_SAM[0] + "\n")
    assert [r.name for r in read_alignments(sam)] == ["fwd"]  # whole-file reading needs no index
    with pytest.raises(InputError, match=r"this is a SAM file\. Run: samtools sort -o .*t\.bam .*t\.sam"):
        read_alignments(sam, region="chr1")


def test_open_handle_is_read_by_name(tiny_bam):
    with open(tiny_bam, "rb") as handle:
        assert len(list(read_alignments(handle))) == 6
        assert not handle.closed


@pytest.mark.parametrize("source", ["-", io.BytesIO(b"BAM\x01")])
def test_streams_are_refused(source):
    with pytest.raises(InputError, match="standard input|files on disk only"):
        read_alignments(source)


# -- counts and coverage -------------------------------------------------------------------


def test_count_reads_hand_checked(tiny_bam):
    counts = count_reads(
        tiny_bam,
        [
            ("chr1", 20, 21),  # rev [15,27) and spl [20,36) overlap; fwd [10,20) ends before
            ("chr1", 27, 33),  # only spl, whose intron spans it (as samtools view -c)
            ("chr1", 10, 10),  # empty interval
            ("chr1", 36, 40),  # nothing
            "chr1:11-20",  # fwd, rev (dup and sec are filtered out)
            Interval("chr2", 0, 500),  # past the contig end: c2 only
        ],
    )
    assert counts.dtype == np.int64 and counts.tolist() == [2, 1, 0, 0, 2, 1]


def test_count_reads_by_fragment_strand(tiny_bam):
    plus, minus = Interval("chr1", 40, 60, "+"), Interval("chr1", 40, 60, "-")
    # r2 is read 2 on '-', so its fragment is '+'; r1 is read 1 on '-', fragment '-'
    assert count_reads(tiny_bam, [plus, minus], strand="same").tolist() == [1, 1]
    assert count_reads(tiny_bam, [plus], strand="opposite").tolist() == [1]
    assert count_reads(tiny_bam, [plus, minus]).tolist() == [2, 2]
    with pytest.raises(InputError, match=r"interval 1 \(chr1:41-60\) has no strand"):
        count_reads(tiny_bam, [("chr1", 40, 60)], strand="same")
    with pytest.raises(InputError, match="strand must be None, 'same' or 'opposite'"):
        count_reads(tiny_bam, [plus], strand="+")
    with pytest.raises(InputError, match="a list of intervals, got a single one"):
        count_reads(tiny_bam, plus)


def test_coverage_hand_checked(tiny_bam):
    depth = coverage(tiny_bam, ("chr1", 8, 38))
    expected = np.zeros(30, dtype=np.int32)
    for start, end in [(10, 20), (15, 20), (22, 27), (20, 23), (33, 36)]:  # aligned blocks
        expected[start - 8 : end - 8] += 1
    assert depth.dtype == np.int32 and depth.tolist() == expected.tolist()
    # 20 and 21 are rev's deleted bases: covered only when deletions count
    with_deletions = coverage(tiny_bam, Interval("chr1", 8, 38), deletions=True)
    assert (with_deletions - depth).tolist() == [1 if p in (20, 21) else 0 for p in range(8, 38)]
    # the intron [23, 33) of spl never counts
    assert depth[23 - 8 : 33 - 8].tolist() == [1, 1, 1, 1, 0, 0, 0, 0, 0, 0]


def test_coverage_outside_the_contig_is_zero(tiny_bam):
    # chr2 is 50 bases; c2 covers [0, 5)
    assert coverage(tiny_bam, Interval("chr2", -3, 3)).tolist() == [0, 0, 0, 1, 1, 1]
    assert coverage(tiny_bam, ("chr2", 48, 52)).tolist() == [0, 0, 0, 0]
    assert coverage(tiny_bam, "chr2").shape == (50,)


def test_coverage_many_matches_coverage(tiny_bam):
    windows = [Interval("chr1", s, s + 12) for s in (0, 9, 18, 30)] + [Interval("chr2", -4, 8)]
    batch = coverage_many(tiny_bam, windows, min_mapq=30)
    assert batch.shape == (5, 12) and batch.dtype == np.int32
    for row, window in zip(batch, windows):
        assert row.tolist() == coverage(tiny_bam, window, min_mapq=30).tolist()
    with pytest.raises(InputError, match=r"interval 2 is 5 bases long but the first is 12.*resize"):
        coverage_many(tiny_bam, [("chr1", 0, 12), ("chr1", 0, 5)])


# -- CRAM ----------------------------------------------------------------------------------


def test_cram_needs_reference(tmp_path, shared_data):
    folder = shared_data / "genomes" / "ex1_ncbi36"
    cram = tmp_path / "ex1.cram"
    pysam.view("-C", "-T", str(folder / "ex1.fa"), "-o", str(cram), str(folder / "ex1.sorted.bam"), catch_stdout=False)
    with pytest.raises(InputError, match=r"ex1\.cram: reading a CRAM file needs the reference FASTA.*ref"):
        read_alignments(cram)
    cram_reads = read_alignments(cram, reference=folder / "ex1.fa")
    from_cram = [(r.name, r.start, r.cigar, r.sequence) for r in cram_reads]
    from_bam = [(r.name, r.start, r.cigar, r.sequence) for r in read_alignments(folder / "ex1.sorted.bam")]
    assert from_cram == from_bam and len(from_bam) == 3235
    windows = [("chr1", 100, 400), ("chr2", 0, 1584)]
    assert (
        count_reads(cram, windows, reference=folder / "ex1.fa").tolist()
        == count_reads(folder / "ex1.sorted.bam", windows).tolist()
    )
    assert (tmp_path / "ex1.cram.crai").is_file()
    with pytest.raises(MissingFileError, match="the reference FASTA does not exist"):
        read_alignments(cram, reference=tmp_path / "none.fa")


# -- malformed and edge-case files --------------------------------------------------------

EDGE_FILES = [
    "pysam/empty.bam",
    "pysam/example_empty_header.bam",
    "pysam/example_empty_with_header.bam",
    "pysam/example_empty_with_header.sam",
    "pysam/ex9_fail.bam",
    "pysam/issue100.bam",
    "bedtools/empty.bam",
    "htslib/c1#bounds.sam",
    "htslib/c1#unknown.sam",
    "htslib/index_dos.sam",
    "htslib/longref.sam",
    "htslib/xx#blank.sam",
    "htslib/xx#minimal.sam",
]


@pytest.mark.parametrize("name", EDGE_FILES)
def test_edge_case_files_read_like_htslib(shared_data, name):
    path = shared_data / "edgecases" / name
    if path.suffix == ".sam":  # every non-header line is one record
        expected = sum(1 for line in path.read_text().splitlines() if line and not line.startswith("@"))
    else:
        with pysam.AlignmentFile(str(path), check_sq=False) as bam:
            expected = sum(1 for _ in bam.fetch(until_eof=True))
    records = list(read_alignments(path, exclude_flags=0))
    assert len(records) == expected
    assert all(r.end >= r.start for r in records)


def test_edge_case_unindexed_bam_in_read_only_folder(shared_data):
    path = shared_data / "edgecases" / "pysam" / "ex9_fail.bam"
    if os.stat(path.parent).st_mode & 0o222:  # never build an index inside the shared data
        pytest.skip("the shared data folder is writable here")
    with pytest.raises(InputError, match=r"ex9_fail\.bam: region queries need an index.*read-only"):
        count_reads(path, [("CUTC000001", 0, 100)])


def test_edge_case_unsorted_bam_region(shared_data):
    path = shared_data / "edgecases" / "bedtools" / "empty.bam"  # @HD SO:unsorted
    with pytest.raises(InputError, match=r"empty\.bam: .*header says the file is not sorted.*samtools sort"):
        coverage(path, ("1", 0, 10))


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("htslib/emptyfile", "emptyfile: the file is empty"),
        ("genomes/ex1_ncbi36/ex1.fa", r"ex1\.fa: this is a FASTA file, not SAM, BAM or CRAM"),
        ("htslib/fastqs.fq", r"fastqs\.fq: this is a FASTQ file, not SAM, BAM or CRAM"),
        ("pysam/gtf_toofew_fields.gtf", r"gtf_toofew_fields\.gtf: this is not a SAM, BAM or CRAM file \(its format"),
        (
            "genomes/ex1_ncbi36/ex1_noheader.sam",
            r"ex1_noheader\.sam: the SAM file has no @SQ header lines.*samtools view -h -t",
        ),
    ],
)
def test_wrong_files_are_rejected(shared_data, name, text):
    base = shared_data if name.startswith("genomes") else shared_data / "edgecases"
    with pytest.raises(InputError, match=text):
        list(read_alignments(base / name))


def test_missing_file(tmp_path):
    with pytest.raises(MissingFileError, match=r"nope\.bam: the file does not exist\. Check the path"):
        read_alignments(tmp_path / "nope.bam")


def test_truncated_bam_without_eof_marker(tmp_path, shared_data):
    data = (shared_data / "genomes" / "ex1_ncbi36" / "ex1.sorted.bam").read_bytes()
    cut = tmp_path / "cut.bam"
    cut.write_bytes(data[: len(data) * 2 // 3])
    with pytest.raises(InputError, match=r"cut\.bam: the BAM file is truncated \(no EOF marker\)\. Copy"):
        read_alignments(cut)


def test_bam_cut_inside_a_block(tmp_path, shared_data):
    # an EOF marker appended after a cut mid-file: htslib notices only while reading
    data = (shared_data / "genomes" / "dm6_small" / "sample1.tiny.paired.dm6small.bam").read_bytes()
    cut = tmp_path / "cut.bam"
    cut.write_bytes(data[: len(data) // 2] + data[-28:])
    reads = read_alignments(cut)
    with pytest.raises(InputError, match=r"cut\.bam: the BAM file is truncated or corrupt after \d+ reads"):
        list(reads)
    # cut inside the first blocks: found while checking the format
    small = (shared_data / "genomes" / "ex1_ncbi36" / "ex1.sorted.bam").read_bytes()
    cut.write_bytes(small[: len(small) // 2] + small[-28:])
    with pytest.raises(InputError, match=r"cut\.bam: the BAM file is truncated or corrupt \(a compressed"):
        read_alignments(cut)


# -- real data -----------------------------------------------------------------------------


def _filtered(read) -> bool:
    return not read.flag & DEFAULT_EXCLUDE_FLAGS


def _pileup_depth(path, chrom, start, end) -> np.ndarray:
    """Depth from htslib's pileup engine, an independent check of coverage()."""
    depth = np.zeros(end - start, dtype=np.int32)
    with pysam.AlignmentFile(str(path)) as bam:
        for column in bam.pileup(
            chrom,
            start,
            end,
            truncate=True,
            stepper="nofilter",
            max_depth=1 << 20,
            ignore_overlaps=False,
            min_base_quality=0,
        ):
            depth[column.reference_pos - start] = sum(
                1 for p in column.pileups if not p.is_del and not p.is_refskip and _filtered(p.alignment)
            )
    return depth


@pytest.mark.parametrize(
    ("folder", "name"),
    [
        ("ex1_ncbi36", "ex1.sorted.bam"),
        ("celegans_chrI", "ce_1000.sorted.bam"),
        ("dm6_small", "sample1.tiny.paired.dm6small.bam"),
    ],
)
def test_real_counts_and_coverage_match_pysam(shared_data, folder, name):
    path = shared_data / "genomes" / folder / name
    with pysam.AlignmentFile(str(path)) as bam:
        chrom, length = bam.references[0], bam.lengths[0]
        first = next(bam.fetch(chrom)).reference_start
        windows = [(chrom, s, s + 400) for s in range(first, min(first + 4000, length - 400), 500)]
        expected = [bam.count(*w, read_callback=_filtered) for w in windows]
    assert count_reads(path, windows).tolist() == expected
    assert sum(expected) > 0
    chrom, start, _ = windows[0]
    window = (chrom, start, start + 2000)
    depth = coverage(path, window)
    assert depth.tolist() == _pileup_depth(path, *window).tolist()
    assert depth.max() > 0


def test_real_whole_file_matches_pysam(shared_data):
    path = shared_data / "genomes" / "ex1_ncbi36" / "ex1.sorted.bam"
    with pysam.AlignmentFile(str(path)) as bam:
        expected = [(r.query_name, r.reference_start, r.flag) for r in bam.fetch(until_eof=True)]
    got = [(r.name, r.start, r.flags) for r in read_alignments(path, exclude_flags=0)]
    assert got == expected and len(got) == 3270  # readme: 3,270 reads


def test_real_chr_naming_mismatch(shared_data):
    path = shared_data / "genomes" / "hs_chr17" / "mpileup.1.bam"
    text = r"mpileup\.1\.bam: contig 'chr17' is not in the file's header\. Did you mean '17'"
    with pytest.raises(MissingContigError, match=text):
        coverage(path, ("chr17", 0, 4200))
    with pysam.AlignmentFile(str(path)) as bam:
        expected = bam.count("17", 0, 4200, read_callback=_filtered)
    assert count_reads(path, [("17", 0, 4200)]).tolist() == [expected] and expected > 500
    assert coverage(path, ("17", 1000, 1500)).tolist() == _pileup_depth(path, "17", 1000, 1500).tolist()


@settings(max_examples=25, deadline=None)
@given(starts=st.lists(st.integers(-50, 1600), min_size=1, max_size=6), width=st.integers(0, 300))
def test_batched_coverage_equals_single(shared_data, starts, width):
    path = shared_data / "genomes" / "ex1_ncbi36" / "ex1.sorted.bam"
    windows = [Interval("chr1", s, s + width) for s in starts]
    batch = coverage_many(path, windows)
    assert batch.shape == (len(windows), width)
    for row, window in zip(batch, windows):
        assert row.tolist() == coverage(path, window).tolist()
    assert count_reads(path, windows).tolist() == [count_reads(path, [w])[0] for w in windows]


def test_source_closes_on_exit(tiny_bam):
    with AlignmentSource(tiny_bam, indexed=True) as bam:
        assert bam.references == ("chr1", "chr2") and bam.length("chr2") == 50
        assert bam.region("chr1:5-9") == ("chr1", 4, 9)
        assert bam.region(("chr1", -5, 500)) == ("chr1", 0, 100)
    with AlignmentSource(tiny_bam) as bam, pytest.raises(InputError, match="cannot use 5 as a region"):
        bam.region(5)


def test_copy_of_shared_bam_gets_index(tmp_path, shared_data):
    source = shared_data / "genomes" / "celegans_chrI" / "ce_1000.sorted.bam"
    copy = tmp_path / "ce.bam"
    shutil.copy(source, copy)
    assert count_reads(copy, ["CHROMOSOME_I"]).tolist() == count_reads(source, ["CHROMOSOME_I"]).tolist()
    assert os.path.exists(str(copy) + ".bai")
