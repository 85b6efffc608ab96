"""Tests of bioseq.io.fastq: the streaming FASTQ reader and writer."""

from __future__ import annotations

import gzip
import io
import re

import numpy as np
import pytest
from Bio import SeqIO
from hypothesis import given, settings
from hypothesis import strategies as st

from bioseq.errors import InputError
from bioseq.io.fastq import FastqReader, FastqRecord, read_fastq, write_fastq


def parse(data: bytes, **kw) -> list[tuple[str, str, str, str]]:
    return [(r.name, r.description, r.sequence, r.quality) for r in read_fastq(io.BytesIO(data), **kw)]


def error_of(data: bytes) -> str:
    with pytest.raises(InputError) as err:
        list(read_fastq(io.BytesIO(data)))
    return str(err.value)


# --- parsing ----------------------------------------------------------------------------


def test_four_line_records_and_phred():
    data = b"@r1 lane=1\nACGT\n+\nI#!~\n@r2\nGG\n+r2\nII\n"
    assert parse(data) == [("r1", "lane=1", "ACGT", "I#!~"), ("r2", "", "GG", "II")]
    with FastqReader(io.BytesIO(data)) as reader:
        record = next(reader)
    # Phred+33: 'I' = 73 - 33 = 40, '#' = 35 - 33 = 2, '!' = 0, '~' = 126 - 33 = 93
    assert record.phred.tolist() == [40, 2, 0, 93]
    assert record.phred.dtype == np.uint8


def test_multiline_records():
    # quality lines are read until they hold as many characters as the sequence,
    # so quality lines may start with '@' or '+'
    data = b"@r1\nACG\nTA\n+\n@@+\nII\n@r2\nA\n+\n@\n"
    assert parse(data) == [("r1", "", "ACGTA", "@@+II"), ("r2", "", "A", "@")]


def test_zero_length_reads_crlf_and_blank_lines():
    data = b"@e\r\n\r\n+\r\n\r\n\r\n@r\r\nAC\r\n+r\r\nII\r\n\r\n"
    assert parse(data) == [("e", "", "", ""), ("r", "", "AC", "II")]


def test_zero_length_read_without_quality_line():
    assert parse(b"@e\n+\n@r\nA\n+\nI\n") == [("e", "", "", ""), ("r", "", "A", "I")]


def test_dots_need_alphabet_any():
    data = b"@r\nAC.T\n+\nIIII\n"
    assert "column 3" in error_of(data) and "Remove alignment gaps" in error_of(data)
    assert parse(data, alphabet="any") == [("r", "", "AC.T", "IIII")]


def test_uppercase_and_gzip(tmp_path):
    path = tmp_path / "r.fq.gz"
    path.write_bytes(gzip.compress(b"@r\nacgu\n+\nIIII\n"))
    assert [r.sequence for r in read_fastq(path, uppercase=True)] == ["ACGU"]


reads = st.lists(
    st.tuples(st.text("abc123:_", min_size=1, max_size=6), st.text("ACGTNacgtn", max_size=40)).flatmap(
        lambda nr: st.tuples(
            st.just(nr[0]),
            st.just(nr[1]),
            st.text(st.characters(min_codepoint=33, max_codepoint=126), min_size=len(nr[1]), max_size=len(nr[1])),
        )
    ),
    min_size=1,
    max_size=8,
)


@settings(max_examples=50, deadline=None)
@given(reads=reads, width=st.integers(1, 50))
def test_wrapped_files_round_trip(reads, width):
    text = "".join(
        f"@{n}\n"
        + "".join(s[i : i + width] + "\n" for i in range(0, len(s), width))
        + "+\n"
        + ("".join(q[i : i + width] + "\n" for i in range(0, len(q), width)) or "\n")
        for n, s, q in reads
    )
    assert parse(text.encode()) == [(n, "", s, q) for n, s, q in reads]


# --- errors -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        (b"", "the file is empty"),
        (b">s\nACGT\n", "looks like FASTA"),
        (b"@r\nACGT\n+\nIII\n@s\nA\n+\nI\n", "line 5, record 'r': the quality has 3 characters but the sequence has 4"),
        (b"@r\nACG\n+\nIIII\n", "line 4, record 'r': the quality has at least 4 characters but the sequence has 3"),
        (b"@r\nACGT\n+\nII", "line 4, record 'r': the file ends inside the quality (2 of 4 characters)"),
        (b"@r\nACGT\n", "line 2, record 'r': the file ends before the '+' line"),
        (b"@r\nAC\n@s\nAC\n+\nII\n", "line 3, record 'r': a new record starts before the '+' line"),
        (b"@r\nAC\n+s\nII\n", "line 3, record 'r': the '+' line repeats 's'"),
        (b"@r\nAC\n+\nII\n+\nII\n", "line 5, record 'r': found a '+' line where a new record"),
        (b"@r\nAC\n+\nII\nxyz\n", "line 5, record 'r': expected a record title starting with '@'"),
        (b"@r\nAC\n+\nI\x7f\n", "line 4, record 'r': quality character '\\x7f' in column 2"),
        (b"@r\nAJ\n+\nII\n", "line 2, record 'r': character 'J' in column 2 is not a nucleotide"),
        (b"@\nAC\n+\nII\n", "line 1: the header line has no name"),
    ],
)
def test_malformed_records(data, fragment):
    assert fragment in error_of(data)


def test_phred_rejects_bad_quality_in_user_records():
    with pytest.raises(InputError, match="record 'x': quality character ' ' at position 1"):
        _ = FastqRecord("x", "", "AC", "I ").phred


# Every Biopython error file, with the line and problem a user should be pointed to.
BIOPYTHON_ERRORS = {
    "error_diff_ids.fastq": (11, "the '+' line repeats"),
    "error_double_qual.fastq": (13, "found a '+' line where a new record"),
    "error_double_seq.fastq": (15, "a new record starts before the '+' line"),
    "error_long_qual.fastq": (16, "the quality has at least 26 characters but the sequence has 25"),
    "error_no_qual.fastq": (5, "the quality has 0 characters but the sequence has 25"),
    "error_qual_del.fastq": (16, "quality character '\\x7f'"),
    "error_qual_escape.fastq": (20, "quality character '\\x1b'"),
    "error_qual_null.fastq": (4, "quality character '\\x00'"),
    "error_qual_space.fastq": (16, "quality character ' '"),
    "error_qual_tab.fastq": (20, "quality character '\\t'"),
    "error_qual_unit_sep.fastq": (12, "quality character '\\x1f'"),
    "error_qual_vtab.fastq": (4, "quality character '\\x0b'"),
    "error_short_qual.fastq": (13, "the quality has 24 characters but the sequence has 25"),
    "error_spaces.fastq": (2, "character ' ' in column 10 is not a nucleotide letter"),
    "error_tabs.fastq": (2, "character '\\t' in column 10 is not a nucleotide letter"),
    "error_trunc_at_plus.fastq": (19, "the file ends before the '+' line"),
    "error_trunc_at_qual.fastq": (19, "the file ends inside the quality (0 of 25 characters)"),
    "error_trunc_at_seq.fastq": (18, "the file ends before the '+' line"),
    "error_trunc_in_plus.fastq": (19, "the file ends inside the quality"),
    "error_trunc_in_qual.fastq": (20, "the file ends inside the quality (24 of 25 characters)"),
    "error_trunc_in_seq.fastq": (18, "the file ends before the '+' line"),
    "error_trunc_in_title.fastq": (17, "the file ends before the '+' line"),
}


def test_every_biopython_error_file_is_covered(shared_data):
    folder = shared_data / "edgecases/biopython_fastq"
    if not folder.is_dir():
        pytest.skip("biopython_fastq is absent")
    assert sorted(p.name for p in folder.glob("error_*.fastq")) == sorted(BIOPYTHON_ERRORS)


@pytest.mark.parametrize("name", sorted(BIOPYTHON_ERRORS))
def test_biopython_error_files_are_rejected(shared_data, name):
    path = shared_data / "edgecases/biopython_fastq" / name
    if not path.exists():
        pytest.skip(f"{name} is absent")
    line, problem = BIOPYTHON_ERRORS[name]
    with pytest.raises(InputError) as err:
        list(read_fastq(path))
    message = str(err.value)
    assert message.startswith(f"{path}, line {line}, record '")  # file, line and record
    assert problem in message
    assert message.count(". ") >= 1  # a fix follows the problem


VALID_FILES = [
    "biopython_fastq/example.fastq",
    "biopython_fastq/example_dos.fastq",
    "biopython_fastq/tricky.fastq",
    "biopython_fastq/zero_length.fastq",
    "biopython_fastq/wrapping_original_sanger.fastq",
    "biopython_fastq/illumina_full_range_original_illumina.fastq",
    "biopython_fastq/sanger_full_range_original_sanger.fastq",
    "biopython_fastq/solexa_full_range_original_solexa.fastq",
    "biopython_fastq/misc_dna_original_sanger.fastq",
    "biopython_fastq/misc_rna_original_sanger.fastq",
    "biopython_fastq/longreads_original_sanger.fastq.gz",
    "htslib/fastqs.fq",
    "htslib/fastq/filter_casava.fq",
    "htslib/fastq/interleaved.fq",
    "htslib/fastq/interleaved_casava.fq",
    "htslib/fastq/longline.fq",
    "htslib/fastq/minimal.fq",
    "htslib/fastq/multiline.fq",
    "htslib/fastq/name2.fq",
    "htslib/fastq/r1.fq",
    "htslib/fastq/r2.fq",
    "htslib/fastq/single.fq",
]


@pytest.mark.parametrize("name", VALID_FILES)
def test_valid_files_match_biopython(shared_data, name):
    path = shared_data / "edgecases" / name
    if not path.exists():
        pytest.skip(f"{name} is absent")
    opener = gzip.open if name.endswith(".gz") else open
    with opener(path, "rt") as handle:
        expected = [(r.id, str(r.seq), r.letter_annotations["phred_quality"]) for r in SeqIO.parse(handle, "fastq")]
    got = [(r.name, r.sequence, r.phred.tolist()) for r in read_fastq(path)]
    assert got == expected and got


def test_bam_is_rejected(shared_data):
    path = shared_data / "edgecases/pysam/empty.bam"
    if not path.exists():
        pytest.skip("empty.bam is absent")
    with pytest.raises(InputError, match="this is a BAM file, not FASTQ"):
        FastqReader(path)


# --- writing ----------------------------------------------------------------------------


def test_write_round_trip(tmp_path):
    recs = [FastqRecord("r1", "x y", "ACGT", "II#!"), FastqRecord("e", "", "", "")]
    path = tmp_path / "out.fq"
    assert write_fastq(recs, path) == 2
    assert path.read_text() == "@r1 x y\nACGT\n+\nII#!\n@e\n\n+\n\n"
    assert list(read_fastq(path)) == recs
    gz = tmp_path / "out.fq.gz"
    write_fastq(recs, gz)
    assert list(read_fastq(gz)) == recs


@pytest.mark.parametrize(
    ("record", "fragment"),
    [
        (FastqRecord("r", "", "ACG", "II"), "2 quality characters for 3 bases"),
        (FastqRecord("r", "", "AC", "I\t"), "quality character '\\t'"),
        (FastqRecord("r s", "", "A", "I"), "whitespace in its name"),
        (FastqRecord("r", "", "A\nC", "II"), "not a one-line string"),
        (("r", "A", "I"), "not a FastqRecord"),
    ],
)
def test_write_rejects_bad_records(tmp_path, record, fragment):
    path = tmp_path / "out.fq"
    with pytest.raises(InputError, match=re.escape(fragment)):
        write_fastq([FastqRecord("ok", "", "A", "I"), record], path)
    assert not list(tmp_path.iterdir())  # nothing written, no partial file
