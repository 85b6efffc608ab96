"""Tests of bioseq.io.fasta_codes: FASTA straight to (N, L) uint8 codes."""

from __future__ import annotations

import gzip
import io

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bioseq.alphabet import PAD
from bioseq.codes import encode
from bioseq.errors import InputError
from bioseq.io import fastx
from bioseq.io.fasta import read_fasta
from bioseq.io.fasta_codes import FastaCodes, read_fasta_codes

IUPAC = "ACGTNRYSWKMBDHVUacgtnryswkmbdhvu"


def codes_of(data: bytes, **kw) -> FastaCodes:
    return read_fasta_codes(io.BytesIO(data), **kw)


def expected_of(data: bytes) -> tuple[np.ndarray, np.ndarray, list[str], list[str]]:
    records = list(read_fasta(io.BytesIO(data)))
    codes, lengths = encode([r.sequence for r in records])
    return codes, lengths, [r.name for r in records], [r.description for r in records]


def assert_matches_streaming_reader(data: bytes) -> None:
    got = codes_of(data)
    codes, lengths, names, descriptions = expected_of(data)
    np.testing.assert_array_equal(got.codes, codes)
    np.testing.assert_array_equal(got.lengths, lengths)
    assert got.names == names and got.descriptions == descriptions
    assert got.codes.dtype == np.uint8 and got.lengths.dtype == np.int64
    assert got.codes.flags.c_contiguous


@pytest.fixture
def small_chunks(monkeypatch):
    """Make every chunk boundary case happen on tiny inputs."""
    monkeypatch.setattr(fastx, "CHUNK_SIZE", 16)


# --- values -----------------------------------------------------------------------------


def test_hand_checked_codes():
    out = codes_of(b">a first\nACG\nT\n>b\nacn\n>c\nRY\n")
    # A, C, G, T, N = 0..4, R = 5, Y = 6; lower case as upper case; rows padded with PAD = 15
    assert out.codes.tolist() == [[0, 1, 2, 3], [0, 1, 4, PAD], [5, 6, PAD, PAD]]
    assert out.lengths.tolist() == [4, 3, 2]
    assert out.names == ["a", "b", "c"] and out.descriptions == ["first", "", ""]


def test_u_reads_as_t():
    assert codes_of(b">r\nACGU\n").codes.tolist() == [[0, 1, 2, 3]]


def test_equal_lengths_give_a_dense_array():
    out = codes_of(b">a\nACGT\n>b\nTTTT\n")
    assert out.codes.shape == (2, 4) and (out.codes != PAD).all()


def test_names_false():
    out = codes_of(b">a x\nAC\n", names=False)
    assert out.names is None and out.descriptions is None
    assert out.codes.tolist() == [[0, 1]]


def test_fixed_length_pads():
    out = codes_of(b">a\nAC\n>b\nG\n", length=4)
    assert out.codes.tolist() == [[0, 1, PAD, PAD], [2, PAD, PAD, PAD]]
    assert out.lengths.tolist() == [2, 1]


def test_empty_sequences_and_missing_final_newline():
    out = codes_of(b">a\n>b\n\n>c")
    assert out.codes.shape == (3, 0) and out.lengths.tolist() == [0, 0, 0]
    assert out.names == ["a", "b", "c"]
    assert codes_of(b">a\n>b\nAC").codes.tolist() == [[PAD, PAD], [0, 1]]


@pytest.mark.parametrize(
    "data",
    [
        b">a b\r\nAC\r\nGT\r\n\r\n>c\r\nA\r\n",  # CRLF
        b">a>b c\nAC\n>d\nG\n",  # '>' inside a header
        b";comment\n\n>a\nAC\n\n\n>b\n\nGT\n\n",  # comments and blank lines
        b">a  two  spaces \nAC \n>b\t tab\nG\t\n",  # odd header spacing, trailing blanks
        b">  lead\nAC\n",  # leading blanks before the name
        b">a x\nAC\n>b\nG\n>c y z\nT\n",  # some headers with descriptions, some without
        b">\xc3\xa9t\xc3\xa9 caf\xc3\xa9\nAC\n",  # UTF-8 names
        b">a\x01b\nAC\n",  # Ctrl-A inside a name (NCBI nr style) is not whitespace
    ],
)
def test_odd_but_valid_files(data):
    assert_matches_streaming_reader(data)


def test_gzip_and_handles(tmp_path):
    data = b">a\nACGT\n>b\nTT\n"
    path = tmp_path / "a.fa.gz"
    path.write_bytes(gzip.compress(data))
    plain = tmp_path / "a.fa"
    plain.write_bytes(data)
    for source in (path, str(plain), io.StringIO(data.decode())):
        out = read_fasta_codes(source)
        assert out.lengths.tolist() == [4, 2] and out.names == ["a", "b"]


def test_records_longer_than_a_chunk(small_chunks):
    # one record of 1,000 bases spans many 16-byte chunks; the buffer grows for it
    data = b">long\n" + b"ACGTACGTAC\n" * 100 + b">short\nA\n"
    out = codes_of(data)
    assert out.lengths.tolist() == [1000, 1]
    assert out.codes[0, :4].tolist() == [0, 1, 2, 3]
    assert_matches_streaming_reader(data)


def test_width_grows_across_chunks(small_chunks):
    # lengths rise record after record, so the array widens many times
    data = b"".join(b">r%d\n%s\n" % (i, b"ACGT"[i % 4 : i % 4 + 1] * i) for i in range(60))
    assert_matches_streaming_reader(data)


def test_result_is_trimmed_to_what_was_read(tmp_path):
    # the row estimate comes from the first chunk; short records later leave spare rows
    path = tmp_path / "a.fa"
    path.write_bytes(b">a\n" + b"A" * 2_000_000 + b"\n" + b"".join(b">r%d\nC\n" % i for i in range(10)))
    out = read_fasta_codes(path)
    assert out.codes.shape == (11, 2_000_000) and out.lengths.shape == (11,)
    assert out.codes[1:, 1:].max() == PAD


records = st.lists(
    st.tuples(
        st.text(alphabet="abXZ09_|>", min_size=1, max_size=6).filter(lambda n: n[0] != ">"),
        st.sampled_from(["", " d", " two words", "\tx", "  spaced ", " "]),
        st.text(alphabet=IUPAC, max_size=50),
    ),
    min_size=1,
    max_size=10,
)


@settings(max_examples=80, deadline=None)
@given(
    records=records,
    width=st.integers(1, 60),
    crlf=st.booleans(),
    blank=st.booleans(),
    chunk=st.sampled_from([8, 64, 1 << 20]),
)
def test_same_as_encode_of_streaming_reader(records, width, crlf, blank, chunk):
    end = "\r\n" if crlf else "\n"
    text = "".join(
        f">{n}{d}{end}" + "".join(s[i : i + width] + end for i in range(0, len(s), width)) + (end if blank else "")
        for n, d, s in records
    )
    fastx.CHUNK_SIZE, saved = chunk, fastx.CHUNK_SIZE
    try:
        assert_matches_streaming_reader(text.encode())
    finally:
        fastx.CHUNK_SIZE = saved


@settings(max_examples=60, deadline=None)
@given(
    data=st.data(),
    n=st.integers(1, 12),
    size=st.integers(1, 70),
    width=st.integers(1, 80),
    chunk=st.sampled_from([8, 100, 1 << 20]),
)
def test_equal_length_records_wrapped_alike(data, n, size, width, chunk):
    # the layout ML data sets have; read by copying rows around the line breaks
    seqs = [data.draw(st.text(alphabet=IUPAC, min_size=size, max_size=size)) for _ in range(n)]
    text = "".join(
        f">s{i} d\n" + "".join(s[j : j + width] + "\n" for j in range(0, size, width)) for i, s in enumerate(seqs)
    )
    fastx.CHUNK_SIZE, saved = chunk, fastx.CHUNK_SIZE
    try:
        assert_matches_streaming_reader(text.encode())
    finally:
        fastx.CHUNK_SIZE = saved


@pytest.mark.parametrize(
    "data",
    [
        b">a\nACG\nTAC\n>b\nACGT\nAC\n",  # equal lengths, wrapped differently
        b">a\nACGTAC\n\n>b\nACGTAC\n",  # a blank line after one record only
        b">a\nACGTAC\n>b\nACG\r\nTAC\r\n",  # one record with CRLF
        b">a\nAC\n>b\nGT\n" * 3 + b">c\nACGTACGT\n" * 3,  # the width grows later on
    ],
)
@pytest.mark.parametrize("chunk", [16, 1 << 20])
def test_equal_lengths_laid_out_unevenly(monkeypatch, data, chunk):
    monkeypatch.setattr(fastx, "CHUNK_SIZE", chunk)
    assert_matches_streaming_reader(data)


def test_invalid_letter_in_evenly_wrapped_records():
    data = b">a\nACG\nT\n>b\nACG\nN\n>c\nACG\nJ\n"
    assert "line 9, record 'c': character 'J' in column 1" in same_error(data)


# --- errors -----------------------------------------------------------------------------


def same_error(data: bytes, **kw) -> str:
    with pytest.raises(InputError) as fast:
        codes_of(data, **kw)
    with pytest.raises(InputError) as slow:
        list(read_fasta(io.BytesIO(data)))
    assert str(fast.value) == str(slow.value)
    return str(fast.value)


@pytest.mark.parametrize("chunk", [16, 1 << 20])
def test_invalid_character_error_matches_streaming_reader(monkeypatch, chunk):
    monkeypatch.setattr(fastx, "CHUNK_SIZE", chunk)
    data = b"".join(b">r%d\nACGT\n" % i for i in range(30)) + b">bad\nACGT\nAC-T\n"
    # 30 records of 2 lines, so '>bad' is line 61 and the gap on line 63, column 3
    message = same_error(data)
    assert message == (
        "<stream>, line 63, record 'bad': character '-' in column 3 is not a "
        "nucleotide letter. Remove alignment gaps (e.g. with 'seqkit seq -g'), "
        "or read with alphabet='any'."
    )


@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        (b">a\nAC\n>\nGG\n", "line 3: the header line has no name"),
        (b">a\x00\nAC\n", "NUL byte"),
        (b">a\nA\x00C\n", "a NUL byte in column 2"),
        (b">a\nMKVL\n", "protein"),
        (b"@r\nAC\n+\nII\n", "looks like FASTQ"),
        (b"", "the file is empty"),
    ],
)
def test_bad_files_error_like_the_streaming_reader(data, fragment):
    assert fragment in same_error(data)


def test_non_utf8_header():
    assert "not UTF-8" in same_error(b">a\xff\nAC\n")
    # without names the headers are not decoded, so this is not an error
    assert codes_of(b">a\xff\nAC\n", names=False).lengths.tolist() == [2]


def test_record_longer_than_length_names_record_and_line():
    with pytest.raises(InputError) as err:
        codes_of(b">a\nAC\n>b x\nACG\nT\n", length=3)
    assert str(err.value) == (
        "<stream>, line 3, record 'b': the sequence is 4 bases long, "
        "longer than length=3. Set length=N to at least the longest sequence, or trim "
        "or window the sequences first."
    )


@pytest.mark.parametrize("bad", [{"length": -1}, {"length": 2.5}, {"names": "yes"}])
def test_bad_options(bad):
    with pytest.raises(InputError):
        codes_of(b">a\nAC\n", **bad)


# --- real files -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        "splice/splice42/dm.n1don.fa.gz",
        "promoters/cnnprom/Bacillus_prom.fa",
        "genomes/dm6_small/dm6.small.fa",
        "genomes/hs_chr17/chr17.hg19.part.fa",
        "edgecases/biopython_fasta/lupine.nu",
        "edgecases/pyfaidx/issue_83.fasta",
        "edgecases/htslib/fastq/name2.fa",
    ],
)
def test_real_files_match_streaming_reader(shared_data, name):
    path = shared_data / name
    if not path.exists():
        pytest.skip(f"{name} is absent")
    got = read_fasta_codes(path)
    records = list(read_fasta(path))
    codes, lengths = encode([r.sequence for r in records])
    np.testing.assert_array_equal(got.codes, codes)
    np.testing.assert_array_equal(got.lengths, lengths)
    assert got.names == [r.name for r in records]
    assert got.descriptions == [r.description for r in records]


def test_real_splice_windows_are_42_bp(shared_data):
    path = shared_data / "splice/splice42/dm.n1don.fa.gz"
    if not path.exists():
        pytest.skip("splice42 is absent")
    out = read_fasta_codes(path, length=42)
    # the README: 19,886 D. melanogaster decoy donor windows of 42 bp, GT at the centre
    assert out.codes.shape == (19_886, 42) and (out.lengths == 42).all()
    assert (out.codes[:, 20:22] == [2, 3]).all()


def test_real_bad_file(shared_data):
    path = shared_data / "edgecases/htslib/faidx.fa"
    if not path.exists():
        pytest.skip("faidx.fa is absent")
    with pytest.raises(InputError, match="faidx.fa, line 1: the header line has no name"):
        read_fasta_codes(path)
