"""Tests of bioseq.io.fasta: the streaming FASTA reader and writer."""

from __future__ import annotations

import gzip
import io
import os

import pytest
from Bio import SeqIO, bgzf
from hypothesis import given, settings
from hypothesis import strategies as st

from bioseq.errors import InputError, MissingFileError
from bioseq.io import fastx
from bioseq.io.fasta import FastaReader, FastaRecord, read_fasta, write_fasta

IUPAC = "ACGTNRYSWKMBDHVUacgtnryswkmbdhvu"


def parse(data: bytes, **kw) -> list[tuple[str, str, str]]:
    return [(r.name, r.description, r.sequence) for r in read_fasta(io.BytesIO(data), **kw)]


def error_of(data: bytes, **kw) -> str:
    with pytest.raises(InputError) as err:
        list(read_fasta(io.BytesIO(data), **kw))
    return str(err.value)


# --- parsing ----------------------------------------------------------------------------


def test_multiline_records_with_descriptions():
    data = b">s1 first record\nACGT\nac\n>s2\nGGG\n"
    # lines of a record are joined; the name ends at the first space, case is kept
    assert parse(data) == [("s1", "first record", "ACGTac"), ("s2", "", "GGG")]


def test_uppercase_option():
    assert parse(b">s\nacgtn\n", uppercase=True) == [("s", "", "ACGTN")]


def test_empty_sequences_are_kept():
    # '>a' has no sequence lines, '>c' is the last line without a line break
    assert parse(b">a\n>b\nAC\n>c") == [("a", "", ""), ("b", "", "AC"), ("c", "", "")]


def test_crlf_blank_lines_and_trailing_whitespace():
    data = b">s1 d \r\nAC \r\n\r\nGT\t\r\n\r\n>s2\r\n\r\nTT\r\n"
    # CR, blank lines (inside and between records) and trailing blanks are dropped
    assert parse(data) == [("s1", "d", "ACGT"), ("s2", "", "TT")]


def test_comments_and_blank_lines_before_the_first_record():
    assert parse(b"\n;old style comment\n; another\n\n>s\nA\n") == [("s", "", "A")]


def test_header_edge_cases():
    # '>' inside a header belongs to the name; leading blanks are skipped (as Biopython does);
    # tabs separate name and description; description keeps its inner spacing
    data = b">a>b c\nA\n>  lead  x  y\nC\n>t\tdesc here\nG\n"
    assert parse(data) == [("a>b", "c", "A"), ("lead", "x  y", "C"), ("t", "desc here", "G")]


def test_no_final_newline():
    assert parse(b">s\nACGT") == [("s", "", "ACGT")]


def test_any_alphabet_reads_protein_and_gaps():
    assert parse(b">p\nMKV-LE*\n", alphabet="any") == [("p", "", "MKV-LE*")]


def test_rna_u_is_a_valid_letter():
    assert parse(b">r\nACGU\n") == [("r", "", "ACGU")]


def test_gzip_bgzip_and_handles(tmp_path):
    data = b">s1 x\nACGT\n>s2\nTT\n"
    expected = [("s1", "x", "ACGT"), ("s2", "", "TT")]
    plain = tmp_path / "a.fa"
    plain.write_bytes(data)
    gz = tmp_path / "a.fa.gz"
    gz.write_bytes(gzip.compress(data))
    bgz = tmp_path / "b.fa.gz"
    with bgzf.BgzfWriter(str(bgz)) as out:
        out.write(data)
    for source in (plain, str(plain), gz, bgz):
        assert [(r.name, r.description, r.sequence) for r in read_fasta(source)] == expected
    with open(plain, "rb") as handle:  # binary handle
        assert len(list(read_fasta(handle))) == 2
    assert len(list(read_fasta(io.StringIO(data.decode())))) == 2  # text handle


def open_files() -> int:
    return len(os.listdir("/proc/self/fd"))


@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="needs /proc")
def test_reader_closes_only_what_it_opened(tmp_path):
    path = tmp_path / "a.fa"
    path.write_bytes(b">s\nA\n>t\nC\n")
    before = open_files()
    with FastaReader(path) as reader:
        assert next(reader).sequence == "A"
        assert open_files() == before + 1
    assert open_files() == before  # closed although not read to the end
    generator = read_fasta(path)
    next(generator)
    generator.close()
    assert open_files() == before
    with open(path, "rb") as own:
        with FastaReader(own) as reader:
            list(reader)
        assert not own.closed  # a handle passed in stays open


def test_streaming_reads_only_a_chunk_ahead(monkeypatch):
    monkeypatch.setattr(fastx, "CHUNK_SIZE", 1000)

    class Counting(io.BytesIO):
        consumed = 0

        def read(self, size=-1):
            data = super().read(size)
            Counting.consumed += len(data)
            return data

    big = b"".join(b">r%d\n%s\n" % (i, b"ACGT" * 25) for i in range(40_000))  # ~4.5 MB
    reader = FastaReader(Counting(big))
    assert next(reader).name == "r0"
    # constant memory: one buffer (1 MiB, open_input's) was read, not the whole file
    assert Counting.consumed <= 1 << 20
    assert sum(1 for _ in reader) == 39_999


records = st.lists(
    st.tuples(
        st.text(alphabet="abcXYZ019_.|", min_size=1, max_size=8),
        st.text(alphabet="abc =;", max_size=10).map(str.strip),
        st.text(alphabet=IUPAC, max_size=70),
    ),
    min_size=1,
    max_size=12,
)


@settings(max_examples=60, deadline=None)
@given(records=records, width=st.integers(1, 80), crlf=st.booleans(), chunk=st.integers(1, 200))
def test_round_trip_any_wrapping_and_chunk_size(records, width, crlf, chunk):
    fastx.CHUNK_SIZE, saved = chunk, fastx.CHUNK_SIZE
    try:
        end = "\r\n" if crlf else "\n"
        text = "".join(
            f">{n} {d}{end}" + "".join(s[i : i + width] + end for i in range(0, len(s), width)) for n, d, s in records
        )
        assert parse(text.encode()) == [(n, d, s) for n, d, s in records]
    finally:
        fastx.CHUNK_SIZE = saved


# --- errors -----------------------------------------------------------------------------


def test_missing_file():
    with pytest.raises(MissingFileError, match="does not exist"):
        FastaReader("/no/such/file.fa")


@pytest.mark.parametrize(
    ("data", "fragments"),
    [
        (b"", ["the file is empty"]),
        (b"\n\n  \n", ["the file is empty"]),
        (b"@r1\nACGT\n+\nIIII\n", ["line 1 does not start a FASTA record", "looks like FASTQ"]),
        (b"ACGT\n>s\nA\n", ["line 1", "'ACGT'", "add a header line such as '>seq1'"]),
        (b"BAM\x01\x00\x00", ["this is a BAM file"]),
        (b"\x00\x01binary\n", ["binary file"]),
        (b"LOCUS  X 10 bp\n", ["GenBank/EMBL"]),
        (b"\xef\xbb\xbf>s\nA\n", ["byte-order mark"]),
    ],
)
def test_not_fasta_is_rejected_on_open(data, fragments):
    with pytest.raises(InputError) as err:
        FastaReader(io.BytesIO(data))
    for fragment in fragments:
        assert fragment in str(err.value)


def test_invalid_character_names_line_column_record_and_fix():
    message = error_of(b">s1\nACGT\n>s2 d\nACGT\nACJT\n")
    # 'J' is on line 5, column 3, in record s2; J is a protein-only letter
    assert message.startswith("<stream>, line 5, record 's2': character 'J' in column 3")
    assert "looks like a protein sequence; read it with alphabet='any'" in message


@pytest.mark.parametrize(
    ("line", "fix"),
    [
        (b"AC-GT", "Remove alignment gaps"),
        (b"AC GT", "Remove whitespace"),
        (b"1 acgt", "position numbers"),
        (b";comment", "Comment lines (';') are only allowed before the first record"),
        (b"AC\x00GT", "a NUL byte in column 3 (the file is binary or corrupt). Recreate the file"),
    ],
)
def test_invalid_character_fixes(line, fix):
    message = error_of(b">s\n" + line + b"\n")
    assert "line 2, record 's'" in message and fix in message


def test_any_alphabet_still_rejects_control_characters():
    message = error_of(b">p\nMK\x07V\n", alphabet="any")
    assert "character '\\x07' in column 3 is not a printable character" in message


def test_header_errors():
    assert "line 3: the header line has no name" in error_of(b">a\nAC\n>\nGG\n")
    assert "line 1: the header line has no name" in error_of(b">   \nAC\n")
    assert "NUL byte" in error_of(b">a\x00b\nAC\n")
    assert "not UTF-8" in error_of(b">a\xff\nAC\n")


def test_error_line_numbers_are_right_across_chunks(monkeypatch):
    monkeypatch.setattr(fastx, "CHUNK_SIZE", 50)
    data = b"".join(b">r%d\nACGT\nACGT\n" % i for i in range(40)) + b">bad\nACGT\nAXGT\n"
    # 40 records of 3 lines, then '>bad' on line 121; 'X' is on line 123, column 2
    assert "line 123, record 'bad': character 'X' in column 2" in error_of(data)


def test_truncated_gzip(tmp_path):
    path = tmp_path / "cut.fa.gz"
    path.write_bytes(gzip.compress(b">s\n" + b"ACGT" * 50_000)[:-100])
    with pytest.raises(InputError, match="truncated"):
        list(read_fasta(path))


@pytest.mark.parametrize("bad", [{"alphabet": "protein"}, {"uppercase": "yes"}])
def test_bad_options(bad):
    with pytest.raises(InputError):
        FastaReader(io.BytesIO(b">s\nA\n"), **bad)


# --- writing ----------------------------------------------------------------------------


def test_write_wraps_and_reads_back(tmp_path):
    recs = [FastaRecord("a", "x y", "ACGTACG"), FastaRecord("b", "", ""), FastaRecord("c", "", "T")]
    path = tmp_path / "out.fa"
    assert write_fasta(recs, path, width=3) == 3
    # 7 letters at width 3 take lines of 3, 3, 1; the empty sequence writes no line
    assert path.read_text() == ">a x y\nACG\nTAC\nG\n>b\n>c\nT\n"
    assert list(read_fasta(path)) == recs
    write_fasta(recs, path, width=None)
    assert path.read_text().splitlines()[1] == "ACGTACG"


def test_write_gzip(tmp_path):
    recs = [FastaRecord("a", "", "ACGT")]
    path = tmp_path / "out.fa.gz"
    write_fasta(recs, path)
    assert gzip.decompress(path.read_bytes()) == b">a\nACGT\n"
    assert list(read_fasta(path)) == recs


@pytest.mark.parametrize(
    ("record", "fragment"),
    [
        (FastaRecord("a b", "", "A"), "whitespace in its name"),
        (FastaRecord("", "", "A"), "empty name"),
        (FastaRecord("a", "x\ny", "A"), "not a one-line string"),
        (FastaRecord("a", "", "AC\nGT"), "not a one-line string"),
        (("a", "ACGT"), "not a FastaRecord"),
    ],
)
def test_write_rejects_bad_records_and_leaves_no_file(tmp_path, record, fragment):
    path = tmp_path / "out.fa"
    path.write_text(">old\nA\n")
    with pytest.raises(InputError, match=fragment):
        write_fasta([FastaRecord("ok", "", "A"), record], path)
    assert path.read_text() == ">old\nA\n"  # the old file is untouched
    assert [p.name for p in tmp_path.iterdir()] == ["out.fa"]  # no partial file left


def test_write_rejects_bad_width(tmp_path):
    with pytest.raises(InputError, match="width"):
        write_fasta([], tmp_path / "x.fa", width=0)


# --- real files -------------------------------------------------------------------------

VALID_FILES = [
    "edgecases/biopython_fasta/dups.fasta",
    "edgecases/biopython_fasta/f002",
    "edgecases/biopython_fasta/lupine.nu",
    "edgecases/pyfaidx/genes.fasta.lower",
    "edgecases/pyfaidx/issue_141.fasta",
    "edgecases/pyfaidx/issue_83.fasta",
    "edgecases/htslib/fastq/multiline.fa",
    "edgecases/htslib/fastq/name2.fa",
    "genomes/phix174/phiX174.fa",
    "genomes/dm6_small/yeast_chrI.fa",
    "promoters/cnnprom/Bacillus_prom.fa",
    "splice/splice42/dm.n1don.fa.gz",
]


@pytest.mark.parametrize("name", VALID_FILES)
def test_real_files_match_biopython(shared_data, name):
    path = shared_data / name
    if not path.exists():
        pytest.skip(f"{name} is absent")
    opener = gzip.open if name.endswith(".gz") else open
    with opener(path, "rt") as handle:
        expected = [(r.id, str(r.seq)) for r in SeqIO.parse(handle, "fasta")]
    assert [(r.name, r.sequence) for r in read_fasta(path)] == expected


def test_real_protein_files_need_alphabet_any(shared_data):
    path = shared_data / "edgecases/biopython_fasta/fa01"
    if not path.exists():
        pytest.skip("fa01 is absent")
    with pytest.raises(InputError, match="line 2, record 'AK1H_ECOLI/1-378'.*protein"):
        list(read_fasta(path))
    records = list(read_fasta(path, alphabet="any"))
    assert [r.name for r in records] == ["AK1H_ECOLI/1-378", "AKH_HAEIN/1-382"]
    assert "-" in records[0].sequence


@pytest.mark.parametrize(
    ("name", "fragment"),
    [
        ("edgecases/htslib/faidx.fa", "faidx.fa, line 1: the header line has no name"),
        ("edgecases/htslib/emptyfile", "the file is empty"),
        ("edgecases/htslib/fastqs.fq", "looks like FASTQ"),
        ("edgecases/pysam/ex9_fail.bam", "this is a BAM file"),
        ("edgecases/biopython_fasta/README", "does not start a FASTA record"),
    ],
)
def test_real_bad_files_are_rejected(shared_data, name, fragment):
    path = shared_data / name
    if not path.exists():
        pytest.skip(f"{name} is absent")
    with pytest.raises(InputError) as err:
        list(read_fasta(path))
    assert fragment in str(err.value)
