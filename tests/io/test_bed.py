"""Tests for bioseq.io.bed: BED3-6, BED12 and narrowPeak readers and write_bed."""

from __future__ import annotations

import gzip
import io
import pickle

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bioseq.errors import InputError
from bioseq.io.bed import (
    Bed12,
    NarrowPeak,
    read_bed,
    read_bed12,
    read_intervals,
    read_narrowpeak,
    write_bed,
)
from bioseq.io.interval import Interval, parse_region


def _write(tmp_path, text: str, name: str = "x.bed"):
    path = tmp_path / name
    path.write_bytes(text.encode())
    return path


def _error(reader, path) -> str:
    with pytest.raises(InputError) as info:
        list(reader(path))
    return str(info.value)


# ---------------------------------------------------------------- BED3-6


def test_bed6_values_are_kept_as_0_based_half_open(tmp_path):
    path = _write(tmp_path, "chr1\t10\t20\tr1\t960\t-\nchr2\t0\t5\t.\t.\t.\n")
    first, second = read_bed(path)
    # BED stores 0-based half-open coordinates, so nothing shifts: 10..20 is
    # the 1-based region chr1:11-20 and holds 10 bases.
    assert first == Interval("chr1", 10, 20, "-", "r1", 960.0)
    assert first.to_region() == "chr1:11-20"
    assert parse_region("chr1:11-20") == (first.chrom, first.start, first.end)
    assert len(first) == 10
    # '.' means no name, no score, no strand
    assert second == Interval("chr2", 0, 5, ".", "", None)


def test_bed3_to_bed5_fill_defaults(tmp_path):
    assert list(read_bed(_write(tmp_path, "c\t1\t2\n"))) == [Interval("c", 1, 2)]
    assert list(read_bed(_write(tmp_path, "c\t1\t2\tn\n"))) == [Interval("c", 1, 2, name="n")]
    assert list(read_bed(_write(tmp_path, "c\t1\t2\tn\t3.5\n"))) == [Interval("c", 1, 2, ".", "n", 3.5)]


def test_headers_comments_blank_lines_are_skipped(tmp_path):
    text = "browser position chr1:1-100\ntrack name=x\n# comment\n\nchr1\t1\t2\n\ntrackless\t3\t4\n"
    # a contig whose name merely starts with "track" is data
    assert list(read_bed(_write(tmp_path, text))) == [Interval("chr1", 1, 2), Interval("trackless", 3, 4)]


def test_zero_length_interval_is_legal(tmp_path):
    (record,) = read_bed(_write(tmp_path, "chr1\t7\t7\tins\n"))
    assert (record.start, record.end, len(record)) == (7, 7, 0)


def test_empty_file_yields_nothing(tmp_path):
    assert list(read_bed(_write(tmp_path, ""))) == []
    assert list(read_intervals(_write(tmp_path, "track name=x\n# only headers\n"))) == []


def test_crlf_and_trailing_tab(tmp_path):
    path = _write(tmp_path, "chr1\t1\t789\r\nchr1\t18746\t18972\t\r\n")
    assert list(read_intervals(path)) == [Interval("chr1", 1, 789), Interval("chr1", 18746, 18972)]


def test_handles_and_gzip(tmp_path):
    text = "chr1\t1\t2\tn\t0\t+\n"
    expected = [Interval("chr1", 1, 2, "+", "n", 0.0)]
    assert list(read_bed(io.BytesIO(text.encode()))) == expected
    assert list(read_bed(io.StringIO(text))) == expected
    gz = tmp_path / "x.bed.gz"
    gz.write_bytes(gzip.compress(text.encode()))
    assert list(read_bed(gz)) == expected
    with open(gz, "rb") as handle:
        assert list(read_bed(handle)) == expected


def test_read_bed_ignores_columns_after_the_sixth(tmp_path):
    path = _write(tmp_path, "chr1\t0\t10\tg\t0\t+\t2\t8\t0\t1\t10,\t0,\n")
    assert list(read_bed(path)) == [Interval("chr1", 0, 10, "+", "g", 0.0)]


# ---------------------------------------------------------------- errors


@pytest.mark.parametrize(
    "line, expected",
    [
        ("chr1\t5\n", ["line 1", "2 column(s), BED needs 3", "chromStart, chromEnd"]),
        ("chr1 5 10\n", ["line 1", "separated by spaces", "Use tabs"]),
        ("chr1\tabc\t10\n", ["line 1", "column 2 (chromStart) is 'abc', not an integer"]),
        ("chr1\t1.5\t10\n", ["column 2 (chromStart) is '1.5'"]),
        ("chr1\t-5\t10\n", ["column 2 (chromStart) is negative (-5)", "0-based and >= 0"]),
        (
            "chr1\t20\t10\n",
            ["column 3 (chromEnd, 10) is less than column 2 (chromStart, 20)", "chromStart <= chromEnd"],
        ),
        ("chr1\t1\t10\tn\t0\tx\n", ["column 6 (strand) is 'x'", "'+', '-' or '.'"]),
        ("chr1\t1\t10\tn\thigh\t+\n", ["column 5 (score) is 'high', not a number", "'.' for no score"]),
        ("\t1\t10\n", ["column 1 (chrom) is empty"]),
    ],
)
def test_bad_lines_are_rejected_with_file_line_column_and_fix(tmp_path, line, expected):
    path = _write(tmp_path, line)
    message = _error(read_intervals, path)
    assert message.startswith(str(path))
    for part in expected:
        assert part in message


def test_error_gives_the_1_based_line_after_headers(tmp_path):
    path = _write(tmp_path, "track name=x\nchr1\t0\t1\n\nchr1\t5\t2\n")
    assert f"{path}, line 4: column 3 (chromEnd, 2)" in _error(read_bed, path)


def test_mixed_column_counts_name_both_lines(tmp_path):
    path = _write(tmp_path, "#h\nchr1\t0\t1\tn\t0\t+\nchr1\t0\t1\n")
    message = _error(read_intervals, path)
    assert "line 3: the line has 3 columns but line 2 has 6" in message


def test_column_count_that_is_no_flavour(tmp_path):
    path = _write(tmp_path, "chr1\t0\t10\tg\t0\t+\t2\t8\n")
    assert "8 columns, which is no BED flavour" in _error(read_intervals, path)


def test_binary_and_bam_files_are_rejected(tmp_path):
    raw = tmp_path / "x.bin"
    raw.write_bytes(b"chr1\x00\x01\x02")
    assert "binary file, not BED" in _error(read_bed, raw)
    bam = tmp_path / "x.bam"
    bam.write_bytes(gzip.compress(b"BAM\x01" + b"\x00" * 20))
    assert "this is a BAM file, not BED" in _error(read_bed, bam)


# ---------------------------------------------------------------- BED12

GENE12 = "chr1\t100\t200\tg\t0\t-\t110\t190\t255,0,0\t3\t10,20,30,\t0,40,70,\n"


def test_bed12_blocks_are_genomic_half_open(tmp_path):
    (record,) = read_bed12(_write(tmp_path, GENE12))
    assert isinstance(record, Interval) and isinstance(record, Bed12)
    # blockStarts are relative to chromStart=100: 100+0, 100+40, 100+70, and
    # each block ends blockSize later; the last ends at 170+30 = 200 = chromEnd.
    assert record.blocks == ((100, 110), (140, 160), (170, 200))
    assert (record.thick_start, record.thick_end, record.item_rgb) == (110, 190, (255, 0, 0))
    assert record.interval == Interval("chr1", 100, 200, "-", "g", 0.0)
    # geometry drops the blocks: a resized window is a plain Interval
    assert type(record.resize(10)) is Interval
    # records survive pickling (DataLoader workers) and stay hashable
    assert pickle.loads(pickle.dumps(record)) == record and hash(record)


@pytest.mark.parametrize(
    "count, sizes, starts, expected",
    [
        ("2", "10,20,30,", "0,40,70,", "blockCount) is 2 but blockSizes has 3"),
        ("3", "10,20,", "0,40,70,", "blockSizes has 2 and blockStarts 3"),
        ("3", "10,20,30", "5,40,70", "first block starts 5 bases after chromStart"),
        ("3", "10,20,20", "0,40,70", "last block ends at 190, not at chromEnd (200)"),
        ("3", "10,20,40", "0,40,70", "last block ends at 210"),
        ("3", "50,20,30", "0,40,70", "block 2 (140..160) overlaps the block before it"),
        ("3", "10,20,30", "0,70,40", "block 3 (140..170) overlaps the block before it"),
        ("3", "10,20,30", "0,a,70", "column 12 (blockStarts) is 'a'"),
        ("0", ",", ",", "needs at least one block"),
        ("3", "10,,30", "0,40,70", "column 11 (blockSizes) is ''"),
    ],
)
def test_bed12_inconsistent_blocks_are_rejected(tmp_path, count, sizes, starts, expected):
    line = f"chr1\t100\t200\tg\t0\t-\t110\t190\t0\t{count}\t{sizes}\t{starts}\n"
    message = _error(read_bed12, _write(tmp_path, line))
    assert "line 1" in message and expected in message


def test_bed12_thick_part_outside_is_rejected(tmp_path):
    line = GENE12.replace("\t110\t190\t", "\t90\t190\t")
    assert "thickStart..thickEnd (90..190) is not inside" in _error(read_bed12, _write(tmp_path, line))


def test_bed12_reader_needs_12_columns(tmp_path):
    message = _error(read_bed12, _write(tmp_path, "chr1\t0\t1\n"))
    assert "3 column(s), BED12 needs 12" in message


def test_real_bed12_gene(shared_data):
    (gene,) = read_intervals(shared_data / "genomes/hs_chr17/gene.bed12")
    # line: chr17 6010 31420 uc010vpx.1 0 - 6012 31270 0 6
    #       158,127,110,75,80,523, 0,5195,5861,7910,16317,24887,
    assert gene.blocks[0] == (6010, 6010 + 158)
    assert gene.blocks[1] == (6010 + 5195, 6010 + 5195 + 127)
    assert gene.blocks[-1] == (6010 + 24887, 31420)
    assert (gene.strand, gene.thick_start, gene.thick_end) == ("-", 6012, 31270)


# ---------------------------------------------------------------- narrowPeak


def test_narrowpeak_fields_and_summit(tmp_path):
    text = "chr1\t100\t200\tp1\t500\t.\t12.5\t8.2\t6.1\t40\nchr1\t300\t350\tp2\t0\t.\t3\t-1\t-1\t-1\n"
    first, second = read_intervals(_write(tmp_path, text, "x.narrowPeak"))
    assert isinstance(first, NarrowPeak)
    assert (first.signal_value, first.p_value, first.q_value, first.peak) == (12.5, 8.2, 6.1, 40)
    # the summit is the base at offset 40 from chromStart 100
    assert first.summit == Interval("chr1", 140, 141, ".", "p1", 500.0)
    assert second.summit is None and second.p_value == -1.0


@pytest.mark.parametrize(
    "tail, expected",
    [
        ("12.5\t8.2\t6.1\t100", "peak offset 100 is outside the peak of length 100"),
        ("high\t8.2\t6.1\t40", "column 7 (signalValue) is 'high', not a number"),
        ("1\t2\t3\t-4", "column 10 (peak) is negative"),
    ],
)
def test_narrowpeak_bad_fields(tmp_path, tail, expected):
    path = _write(tmp_path, f"chr1\t100\t200\tp\t0\t.\t{tail}\n")
    assert expected in _error(read_narrowpeak, path)


def test_narrowpeak_reader_rejects_other_column_counts(tmp_path):
    assert "12 columns, narrowPeak has 10" in _error(read_narrowpeak, _write(tmp_path, GENE12))


# ---------------------------------------------------------------- real files


def test_every_bedtools_edge_case_parses_or_is_rejected_clearly(shared_data):
    folder = shared_data / "edgecases/bedtools"
    assert [r.end for r in read_intervals(folder / "a_testZeroLen.bed")] == [15, 12, 25]
    assert list(read_intervals(folder / "empty.bed")) == []
    dos = list(read_intervals(folder / "dosLineChar_a.bed"))
    assert dos[0] == Interval("chr1", 11323785, 11617177)
    tab = list(read_intervals(folder / "dosLineCharWithExtraTab_b.bed"))
    assert tab[-1] == Interval("chr1", 18746, 18972) and len(tab) == 4
    assert "this is a BAM file, not BED" in _error(read_intervals, folder / "empty.bam")


def test_pyfaidx_malformed_bed_is_rejected(shared_data):
    path = shared_data / "edgecases/pyfaidx/malformed.bed"
    message = _error(read_intervals, path)
    # its first line is "gi|...|\t0": two columns
    assert f"{path}, line 1: the line has 2 column(s), BED needs 3" in message


def test_real_bed6_files(shared_data):
    genes = list(read_intervals(shared_data / "genomes/dm6_small/dm6.small.genes.bed"))
    assert len(genes) == 167
    assert genes[0] == Interval("chr2L", 7528, 9484, "+", "FBgn0031208", 0.0)
    regions = list(read_intervals(shared_data / "genomes/dm6_small/region.bed"))
    assert regions == [Interval("chr2L", 0, 1_000_000), Interval("chr2R", 0, 1_000_000)]
    phix = list(read_intervals(shared_data / "genomes/phix174/phiX174.genes.bed"))
    # gene A runs across the origin of the 5,386-bp circle, stored as two lines
    assert phix[:2] == [
        Interval("NC_001422.1", 3980, 5386, "+", "NP_040703.1", 0.0),
        Interval("NC_001422.1", 0, 136, "+", "NP_040703.1", 0.0),
    ]


# ---------------------------------------------------------------- writing


def test_write_bed_round_trips_each_flavour(tmp_path):
    source = _write(tmp_path, GENE12 + GENE12.replace("\t255,0,0\t", "\t0\t"))
    records = list(read_bed12(source))
    assert write_bed(records, tmp_path / "o12.bed", columns=12) == 2
    assert list(read_bed12(tmp_path / "o12.bed")) == records
    assert (tmp_path / "o12.bed").read_text() == source.read_text()
    peaks = [NarrowPeak("c", 0, 10, ".", "", None, signal_value=1.5, peak=3)]
    write_bed(peaks, tmp_path / "o.narrowPeak", columns=10)
    assert (tmp_path / "o.narrowPeak").read_text() == "c\t0\t10\t.\t.\t.\t1.5\t-1\t-1\t3\n"
    assert list(read_narrowpeak(tmp_path / "o.narrowPeak")) == peaks
    write_bed(records, tmp_path / "o3.bed", columns=3)
    assert (tmp_path / "o3.bed").read_text() == "chr1\t100\t200\n" * 2


def test_write_bed_gzip(tmp_path):
    items = [Interval("chr1", 1, 5, "+", "a", 2.0)]
    write_bed(items, tmp_path / "o.bed.gz")
    assert gzip.decompress((tmp_path / "o.bed.gz").read_bytes()) == b"chr1\t1\t5\ta\t2\t+\n"
    assert list(read_bed(tmp_path / "o.bed.gz")) == items


def test_write_bed_is_atomic(tmp_path):
    target = tmp_path / "o.bed"
    target.write_text("old\n")
    items = [Interval("chr1", 1, 5), Interval("chr1", -3, 5)]
    with pytest.raises(InputError, match=r"item 2 \(chr1:-3-5\) starts before 0.*Clip windows"):
        write_bed(items, target)
    assert target.read_text() == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["o.bed"]  # no temporary file left


def test_write_bed_rejects_wrong_items(tmp_path):
    with pytest.raises(InputError, match="item 1 is of type Interval, not Bed12"):
        write_bed([Interval("c", 0, 1)], tmp_path / "o.bed", columns=12)
    with pytest.raises(InputError, match="columns must be"):
        write_bed([], tmp_path / "o.bed", columns=7)
    with pytest.raises(InputError, match="item 1 has a tab or line break"):
        write_bed([Interval("c", 0, 1, name="a\tb")], tmp_path / "o.bed")
    assert not (tmp_path / "o.bed").exists()


names = st.text(alphabet="abcXYZ_.-0123456789", min_size=1, max_size=8).filter(lambda s: s != ".")
intervals = st.builds(
    lambda chrom, start, length, strand, name, score: Interval(chrom, start, start + length, strand, name, score),
    names,
    st.integers(0, 10**9),
    st.integers(0, 10**6),
    st.sampled_from("+-."),
    st.one_of(st.just(""), names),
    st.one_of(st.none(), st.integers(-1000, 1000).map(float), st.floats(-1e6, 1e6, allow_nan=False)),
)


@settings(max_examples=50, deadline=None)
@given(st.lists(intervals, max_size=20))
def test_write_then_read_is_identity(tmp_path_factory, items):
    path = tmp_path_factory.mktemp("rt") / "x.bed"
    assert write_bed(items, path) == len(items)
    assert list(read_bed(path)) == items
