"""Bad input, systematically: property-based tests over the readers and the command line.

The property: a reader either returns a valid result or raises
:class:`~bioseq.errors.InputError` with a one-line message (never another
exception type, never a hang), and ``bioseq inspect`` / ``bioseq encode``
return 0 or 1 with at most one line per file on stderr and no traceback.

Inputs by kind: random bytes; near misses of each format (a byte inserted,
a slice deleted, the file cut short); truncated gzip and bgzip streams; NUL
bytes; mixed line endings (``\\n``, ``\\r\\n``) and lone ``\\r``; a byte-order
mark; a 1 MB header line and a single long sequence line; empty records,
empty files and whitespace-only lines; RNA (``U``), IUPAC letters and
lower-case (soft-masked) sequence.

Where a reader documents a behaviour the tests assert it, against a simple
model of the format: case kept (``uppercase=True`` upper-cases), ``U`` kept
by the reader and coded as T, IUPAC letters coded 5..14, empty records kept,
``\\r\\n`` and blank lines dropped, a lone ``\\r`` refused (it would glue lines
together), a byte-order mark refused by FASTA/FASTQ/BED/GTF/GFF3 and dropped
by tables. Every in-process call runs under a SIGALRM deadline; the few real
``bioseq`` subprocesses run under a timeout.
"""

from __future__ import annotations

import contextlib
import gzip
import io
import subprocess
import sys
from pathlib import Path

import numpy as np
import pysam
import pytest
from Bio import bgzf
from flatfiles import genbank_text
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st
from support import deadline

from bioseq.alphabet import ASCII_TO_CODE, LETTERS, PAD
from bioseq.cli.main import main
from bioseq.errors import InputError
from bioseq.io import fastx
from bioseq.io.alignment_source import AlignmentSource
from bioseq.io.bed import read_intervals
from bioseq.io.fasta import read_fasta
from bioseq.io.fasta_codes import read_fasta_codes
from bioseq.io.fastq import read_fastq
from bioseq.io.genbank_annotation import read_genbank_annotation
from bioseq.io.gff import read_annotation
from bioseq.io.sniff import FORMATS, sniff_format
from bioseq.io.summary import summarize
from bioseq.io.tables import read_labelled, read_table

DEADLINE_S = 20
SETTINGS = settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)
NUCLEOTIDES = "ACGTUNRYSWKMBDHVacgtunryswkmbdhv"
NAME_CHARS = "abcXYZ019_.|:-é>"
EOLS = (b"\n", b"\r\n")


@contextlib.contextmanager
def chunk_size(size: int):
    """Read in chunks of ``size`` bytes (long-record streaming starts at 2 chunks)."""
    previous = fastx.CHUNK_SIZE
    fastx.CHUNK_SIZE = size
    try:
        yield
    finally:
        fastx.CHUNK_SIZE = previous


def outcome(call):
    """``("ok", result)`` or ``("error", message)``; any other exception fails the test."""
    with deadline(DEADLINE_S):
        try:
            return "ok", call()
        except InputError as exc:
            message = str(exc)
            assert message and "\n" not in message and "\r" not in message, repr(message)
            assert "Traceback" not in message
            return "error", message


def bgzip(data: bytes) -> bytes:
    buffer = io.BytesIO()
    buffer.close = lambda: None  # BgzfWriter closes its file object
    with bgzf.BgzfWriter(fileobj=buffer) as out:
        out.write(data)
    return buffer.getvalue()


# --- inputs -------------------------------------------------------------------------------


@st.composite
def fasta_records(draw, max_records: int = 5):
    """A well-formed FASTA file and what it holds: ``(bytes, [(name, description, sequence)])``."""
    out = [draw(st.sampled_from([b"", b"\n", b";comment\n\n"]))]  # allowed before the first record
    records = []
    for _ in range(draw(st.integers(0 if out[0] else 1, max_records))):
        name = draw(st.text(NAME_CHARS, min_size=1, max_size=8))
        description = draw(st.sampled_from(["", "x", "len=3 a  b"]))
        eol = draw(st.sampled_from(EOLS))
        out.append(b">" + f"{name} {description}".strip().encode() + eol)
        lines = draw(st.lists(st.text(NUCLEOTIDES, max_size=70), max_size=4))
        for line in lines:
            out.append(line.encode() + draw(st.sampled_from([b"", b" ", b"\t"])) + draw(st.sampled_from(EOLS)))
            if draw(st.integers(0, 9)) == 0:  # a blank or whitespace-only line
                out.append(draw(st.sampled_from([b"\n", b"\r\n", b"  \n", b"\t\r\n"])))
        records.append((name, description, "".join(lines)))
    data = b"".join(out)
    if data.endswith(b"\n") and draw(st.booleans()):
        data = data.rstrip(b"\r\n")  # no line break after the last line
    return data, records


@st.composite
def fastq_records(draw):
    """A well-formed FASTQ file and its records ``(name, sequence, quality)``."""
    out, records = [], []
    for i in range(draw(st.integers(1, 4))):
        eol = draw(st.sampled_from(EOLS))
        seq = draw(st.text(NUCLEOTIDES, max_size=30))
        quality = draw(st.text("!#5?I~", min_size=len(seq), max_size=len(seq)))
        plus = draw(st.sampled_from([b"+", b"+r%d" % i]))
        out.append(b"@r%d d%s%s%s%s%s%s%s" % (i, eol, seq.encode(), eol, plus, eol, quality.encode(), eol))
        records.append((f"r{i}", seq, quality))
    return b"".join(out), records


def bed_text(draw) -> bytes:
    lines, width = [], draw(st.integers(3, 6))  # every line of a file has the same columns
    for _ in range(draw(st.integers(1, 4))):
        start = draw(st.integers(0, 50))
        fields = [b"chr1", b"%d" % start, b"%d" % (start + draw(st.integers(0, 30))), b"n", b"0", b"+"]
        lines.append(b"\t".join(fields[:width]))
    return b"\n".join(lines) + b"\n"


GTF = (
    b'chr1\tsrc\texon\t1\t10\t.\t+\t.\tgene_id "g"; transcript_id "t";\n'
    b'chr1\tsrc\texon\t21\t30\t.\t+\t.\tgene_id "g"; transcript_id "t";\n'
)
GFF3 = (
    b"##gff-version 3\nchr1\tsrc\tgene\t1\t30\t.\t+\t.\tID=g\n"
    b"chr1\tsrc\tmRNA\t1\t30\t.\t+\t.\tID=t;Parent=g\nchr1\tsrc\texon\t1\t10\t.\t+\t.\tParent=t\n"
)
TABLE = b"sequence,label\nACGTNacgu,pos\nRYKMacgt,neg\nTTTT,pos\n"
GENBANK = genbank_text(
    "ACGTTGCAAC" * 7,
    [
        ("gene", "5..60", {"locus_tag": "G1"}),
        ("mRNA", "join(5..20,41..60)", {"locus_tag": "G1"}),
        ("CDS", "complement(join(61..70,1..4))", {"gene": "g2"}),
    ],
    circular=True,
).encode()


@st.composite
def any_format(draw) -> bytes:
    """A valid file of one of the formats bioseq reads."""
    kind = draw(st.sampled_from(["fasta", "fastq", "bed", "gtf", "gff3", "genbank", "table"]))
    if kind == "fasta":
        return draw(fasta_records())[0]
    if kind == "fastq":
        return draw(fastq_records())[0]
    if kind == "bed":
        return bed_text(draw)
    return {"gtf": GTF, "gff3": GFF3, "genbank": GENBANK, "table": TABLE}[kind]


@st.composite
def near_miss(draw) -> bytes:
    """A valid file damaged once: a byte inserted, a slice deleted, or cut short."""
    data = draw(any_format())
    at = draw(st.integers(0, len(data)))
    how = draw(st.sampled_from(["insert", "delete", "cut"]))
    if how == "insert":
        junk = draw(
            st.sampled_from(
                [b"\x00", b"\r", b"\xff", b"\xef\xbb\xbf", b"\t", b" ", b">", b"@", b"+", b"\n", b"-", b'"', b",", b"J"]
            )
        )
        return data[:at] + junk + data[at:]
    if how == "delete":
        return data[:at] + data[at + draw(st.integers(1, 20)) :]
    return data[:at]


# --- the readers --------------------------------------------------------------------------

READERS = {
    "fasta": lambda p: list(read_fasta(p)),
    "fasta any, upper": lambda p: list(read_fasta(p, alphabet="any", uppercase=True)),
    "fasta codes": lambda p: read_fasta_codes(p),
    "fastq": lambda p: list(read_fastq(p)),
    "bed": lambda p: list(read_intervals(p)),
    "gtf/gff3": lambda p: read_annotation(p),
    "genbank": lambda p: read_genbank_annotation(p),
    "table": lambda p: read_table(p),
    "labelled": lambda p: read_labelled(p),
    "sniff": lambda p: sniff_format(p),
    "summary": lambda p: summarize(p),
}


@pytest.fixture(scope="module")
def scratch(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("bad_input")


def every_reader(path: Path) -> dict[str, tuple]:
    results = {name: outcome(lambda read=read: read(path)) for name, read in READERS.items()}
    status, fmt = results["sniff"]
    assert status == "error" or fmt in FORMATS
    return results


@SETTINGS
@given(data=st.binary(max_size=600), name=st.sampled_from(["x.fa", "x.fq", "x.bed", "x.gtf", "x.csv", "x"]))
def test_random_bytes(scratch, data, name):
    path = scratch / name
    path.write_bytes(data)
    every_reader(path)


@SETTINGS
@given(data=near_miss(), name=st.sampled_from(["x.fa", "x.fq", "x.bed", "x.gff3", "x.gb", "x.tsv", "x.txt"]))
def test_near_misses(scratch, data, name):
    path = scratch / name
    path.write_bytes(data)
    every_reader(path)


@SETTINGS
@given(data=any_format(), compress=st.sampled_from([gzip.compress, bgzip]), cut=st.floats(0, 1))
def test_truncated_gzip_and_bgzip(scratch, data, compress, cut):
    whole = compress(data)
    plain, packed = scratch / "whole.txt", scratch / "cut.txt.gz"
    plain.write_bytes(data)
    packed.write_bytes(whole[: int(cut * len(whole))])
    expected = every_reader(plain)
    got = every_reader(packed)
    if cut == 1:  # the whole stream reads like the plain file
        assert [status for status, _ in got.values()] == [status for status, _ in expected.values()]
    elif got["fasta"][0] == "error" and len(whole) - int(cut * len(whole)) > 8:
        # cut inside the stream: named as a truncated/corrupt gzip stream (or the text is bad)
        assert any(word in got["fasta"][1] for word in ("truncated", "corrupt", "empty", "line")), got["fasta"]


# --- FASTA: the documented behaviour -------------------------------------------------------


def expected_codes(sequences: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """The documented codes: ASCII_TO_CODE per letter (U as T, IUPAC 5..14, any case), PAD after."""
    width = max(map(len, sequences), default=0)
    codes = np.full((len(sequences), width), PAD, dtype=np.uint8)
    for row, seq in zip(codes, sequences):
        row[: len(seq)] = ASCII_TO_CODE[np.frombuffer(seq.encode(), dtype=np.uint8)]
    return codes, np.array([len(s) for s in sequences], dtype=np.int64)


@SETTINGS
@given(fasta=fasta_records(), chunk=st.sampled_from([1 << 20, 64, 7]))
def test_fasta_reads_as_documented(fasta, chunk):
    data, records = fasta
    with chunk_size(chunk):  # small chunks stream every record as a long one
        status, got = outcome(lambda: [(r.name, r.description, r.sequence) for r in read_fasta(io.BytesIO(data))])
        if not records:
            assert status == "error" and "the file is empty" in got
            return
        assert (status, got) == ("ok", records)  # case, U and IUPAC letters kept; CR, blanks dropped
        upper = [r.sequence for r in read_fasta(io.BytesIO(data), uppercase=True)]
        assert upper == [s.upper() for _, _, s in records]
        codes = read_fasta_codes(io.BytesIO(data))
    expected, lengths = expected_codes([s for _, _, s in records])
    assert np.array_equal(codes.codes, expected) and np.array_equal(codes.lengths, lengths)
    assert codes.names == [n for n, _, _ in records] and codes.descriptions == [d for _, d, _ in records]
    assert set(np.unique(codes.codes[codes.codes != PAD])) <= set(range(len(LETTERS)))


@SETTINGS
@given(fasta=fasta_records(), where=st.floats(0, 1), chunk=st.sampled_from([1 << 20, 16]))
def test_lone_carriage_return_is_refused(fasta, where, chunk):
    data, _ = fasta
    lines = data.split(b"\n")
    candidates = [i for i, line in enumerate(lines) if line.rstrip(b"\r \t") and not line.startswith(b";")]
    assume(candidates)
    i = candidates[int(where * (len(candidates) - 1))]
    text = lines[i].rstrip(b"\r")
    lines[i] = text[:1] + b"\r" + text[1:] + b"A"  # a '\r' inside the line, not at its end
    broken = b"\n".join(lines)
    with chunk_size(chunk):
        streamed = outcome(lambda: list(read_fasta(io.BytesIO(broken), alphabet="any")))
        coded = outcome(lambda: read_fasta_codes(io.BytesIO(broken)))
    assert streamed[0] == coded[0] == "error"
    assert f"line {i + 1}" in streamed[1] and "carriage return ('\\r')" in streamed[1]
    assert "tr '\\r' '\\n'" in streamed[1] and coded[1] == streamed[1]


@st.composite
def damaged_fasta(draw) -> bytes:
    data = draw(fasta_records())[0]
    at = draw(st.integers(0, len(data)))
    junk = draw(st.sampled_from([b"\x00", b"\r", b"\xff", b"J", b"-", b" ", b">", b"\n>", b"\n\n", b";"]))
    return data[:at] + junk + data[at:]


def fasta_outcomes(data: bytes) -> tuple:
    records = outcome(lambda: [tuple(r) for r in read_fasta(io.BytesIO(data))])
    codes = outcome(lambda: read_fasta_codes(io.BytesIO(data)))
    if codes[0] == "ok":
        codes = ("ok", (codes[1].codes.tolist(), codes[1].lengths.tolist(), codes[1].names))
    return records, codes


@SETTINGS
@given(data=damaged_fasta(), chunk=st.sampled_from([64, 9]))
def test_chunking_and_streaming_do_not_change_the_outcome(data, chunk):
    """Records, codes and every error message (line, column) are the same however the file is cut."""
    whole = fasta_outcomes(data)
    with chunk_size(chunk):  # records longer than 2 chunks are streamed in pieces
        assert fasta_outcomes(data) == whole
    (status, value), (coded, _) = whole
    assert status == coded  # the fast code reader accepts and refuses what the streaming one does
    if status == "ok":
        assert [r[2] for r in value] == [r[2] for r in read_fasta(io.BytesIO(data))]


@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        (b"", "the file is empty"),
        (b"\n \n\t\r\n", "the file is empty"),
        (b"\xef\xbb\xbf>a\nACGT\n", "byte-order mark"),
        (b">a\nAC\x00GT\n", "a NUL byte in column 3"),
        (b">a\x00\nACGT\n", "NUL byte"),
        (b"\x00\x01>a\nACGT\n", "binary file"),
        (b">a\rACGT\r>b\rTT\r", "carriage return"),  # classic Mac line ends: one line, refused
        (b">a\nAC-GT\n", "Remove alignment gaps"),
    ],
)
def test_fasta_refusals_name_the_cause(data, fragment):
    for read in (lambda: list(read_fasta(io.BytesIO(data))), lambda: read_fasta_codes(io.BytesIO(data))):
        status, message = outcome(read)
        assert status == "error" and fragment in message, message


def test_empty_records_rna_iupac_and_soft_masking():
    data = b">a\n>b\nACGT\n>c rna\nacgu\n>d\nRYKMswbdhvn\n"
    records = [(r.name, r.sequence) for r in read_fasta(io.BytesIO(data))]
    assert records == [("a", ""), ("b", "ACGT"), ("c", "acgu"), ("d", "RYKMswbdhvn")]
    codes = read_fasta_codes(io.BytesIO(data))
    assert codes.lengths.tolist() == [0, 4, 4, 11]
    assert codes.codes[2, :4].tolist() == [0, 1, 2, 3]  # lower case and U: the codes of ACGT
    assert codes.codes[3].tolist() == [5, 6, 9, 10, 7, 8, 11, 12, 13, 14, 4]


def test_huge_header_and_long_line(scratch):
    name = "n" * (1 << 20)  # a 1 MB name line
    seq = "ACGT" * 800_000  # one 3.2 MB line: read as a long record, in pieces
    path = scratch / "huge.fa"
    path.write_bytes(f">{name} d\n{seq}\n>short\nAC\n".encode())
    with deadline(DEADLINE_S):
        records = list(read_fasta(path))
        codes = read_fasta_codes(path)
        summary = summarize(path)
    assert [(r.name, r.description, len(r.sequence)) for r in records] == [(name, "d", len(seq)), ("short", "", 2)]
    assert records[0].sequence == seq and codes.names == [name, "short"]
    assert codes.lengths.tolist() == [len(seq), 2] and codes.codes[0, :8].tolist() == [0, 1, 2, 3] * 2
    assert summary["records"] == 2 and summary["bases"] == len(seq) + 2


def test_bad_letter_deep_in_a_long_line_is_placed_exactly():
    seq = bytearray(b"ACGT" * 700_000)
    seq[2_500_001] = ord("J")
    data = b">x\n" + bytes(seq) + b"\n"
    message = outcome(lambda: list(read_fasta(io.BytesIO(data))))[1]
    assert "line 2, record 'x': character 'J' in column 2500002" in message
    assert outcome(lambda: read_fasta_codes(io.BytesIO(data)))[1] == message


# --- FASTQ, tables, BED, GTF/GFF3 ----------------------------------------------------------


@SETTINGS
@given(fastq=fastq_records())
def test_fastq_reads_as_documented(fastq):
    data, records = fastq
    status, got = outcome(lambda: [(r.name, r.sequence, r.quality) for r in read_fastq(io.BytesIO(data))])
    assert (status, got) == ("ok", records)
    upper = [r.sequence for r in read_fastq(io.BytesIO(data), uppercase=True)]
    assert upper == [s.upper() for _, s, _ in records]


@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        (b"@r\rAC\r+\rII\r", "carriage return"),
        (b"@r\nAC\n+\nI\rI\n", "carriage return"),
        (b"\xef\xbb\xbf@r\nAC\n+\nII\n", "byte-order mark"),
        (b"@r\nAC\n+\nII\n@s\nAC\n", "the file ends before the '+' line"),
        (b"@r\nA\x00C\n+\nIII\n", "NUL byte"),
    ],
)
def test_fastq_refusals_name_the_cause(data, fragment):
    status, message = outcome(lambda: list(read_fastq(io.BytesIO(data))))
    assert status == "error" and fragment in message, message


def test_table_keeps_case_rna_and_iupac_and_drops_a_bom():
    data = b"\xef\xbb\xbfsequence,label\nacgu,pos\nRYKMN,neg\r\nACGT,pos\n"
    table = read_table(io.BytesIO(data))
    assert table.sequences == ("acgu", "RYKMN", "ACGT") and table.classes == ("neg", "pos")
    status, message = outcome(lambda: read_table(io.BytesIO(b"sequence,label\nAC-GT,pos\nACGT,neg\n")))
    assert status == "error" and "line 2" in message


def test_table_with_a_long_sequence_field():
    seq = "ACGT" * 100_000  # longer than csv's default field limit (128 kB)
    data = f'sequence,label\n{seq},pos\n"AC",neg\n'.encode()
    table = read_table(io.BytesIO(data))
    assert table.sequences == (seq, "AC")


@pytest.mark.parametrize(
    ("reader", "data", "fragment"),
    [
        (read_intervals, b"chr1\t1\t2\rchr1\t3\t4\r", "carriage return"),
        (read_intervals, b"track name=x\rchr1\t1\t2\r", "carriage return"),  # not swallowed as a track line
        (read_intervals, b"\xef\xbb\xbfchr1\t1\t2\n", "byte-order mark"),
        (read_intervals, b"chr1 \t1\t2\n", "column 1 (chrom) 'chr1 ' holds a space"),
        (read_annotation, b"#!genome-build x\r" + GTF.replace(b"\n", b"\r"), "carriage return"),
        (read_annotation, b"\xef\xbb\xbf" + GFF3, "byte-order mark"),
    ],
)
def test_bed_and_annotation_refusals(reader, data, fragment):
    status, message = outcome(
        lambda: list(reader(io.BytesIO(data))) if reader is read_intervals else reader(io.BytesIO(data))
    )
    assert status == "error" and fragment in message and "line 1" in message, message


@pytest.mark.parametrize("data", [TABLE, GTF, GFF3, b">a\nAC\n", b"@r\nA\n+\nI\n", b"chr1\t1\t2\n"])
def test_sniffing_sees_through_a_bom(scratch, data):
    plain, marked = scratch / "plain.txt", scratch / "marked.txt"
    plain.write_bytes(data)
    marked.write_bytes(b"\xef\xbb\xbf" + data)
    assert sniff_format(marked) == sniff_format(plain)


# --- SAM/BAM ------------------------------------------------------------------------------

SAM = b"@HD\tVN:1.6\tSO:coordinate\n@SQ\tSN:chr1\tLN:100\n" + b"".join(
    b"r%d\t0\tchr1\t%d\t60\t4M\t*\t0\t0\tACGT\tIIII\n" % (i, i + 1) for i in range(30)
)


@pytest.fixture(scope="module")
def bam_bytes(scratch) -> bytes:
    sam, bam = scratch / "v.sam", scratch / "v.bam"
    sam.write_bytes(SAM)
    pysam.view("-b", "-o", str(bam), str(sam), catch_stdout=False)
    return bam.read_bytes()


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    cut=st.floats(0, 1),
    flip=st.integers(-1, 400),
    sam_edit=st.integers(0, len(SAM) - 1),
    junk=st.sampled_from(b"\t\n\x00A-9:*"),
)
def test_sam_and_bam_damage(scratch, bam_bytes, cut, flip, sam_edit, junk):
    bam = bytearray(bam_bytes[: max(1, int(cut * len(bam_bytes)))])
    if 0 <= flip < len(bam):
        bam[flip] ^= 0xFF
    sam = bytearray(SAM)
    sam[sam_edit] = junk
    for name, data in (("x.bam", bytes(bam)), ("x.sam", bytes(sam))):
        path = scratch / name
        path.write_bytes(data)
        outcome(lambda path=path: summarize(path))
        outcome(lambda path=path: _count_reads(path))


def _count_reads(path: Path) -> int:
    with AlignmentSource(path) as source:
        return sum(1 for _ in source.all_reads())


# --- the command line ----------------------------------------------------------------------


def run_cli(capsys, *argv: str) -> tuple[int, str, str]:
    with deadline(DEADLINE_S):
        status = main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


def check_cli(status: int, out: str, err: str, command: str, files: int = 1) -> None:
    assert status in (0, 1) and "Traceback" not in err
    lines = err.splitlines()
    assert len(lines) <= files and all(line.startswith(f"bioseq {command}: error: ") for line in lines), err
    if status == 1 and command == "encode":
        assert len(lines) == 1


@SETTINGS
@given(
    data=st.one_of(near_miss(), st.binary(max_size=300)),
    name=st.sampled_from(["x.fa", "x.fq", "x.bed", "x.gtf", "x.csv", "x"]),
    compress=st.sampled_from([None, gzip.compress, bgzip]),
    cut=st.integers(0, 30),
)
@example(  # a carriage return inside a GenBank feature line: Biopython dropped both halves with a warning (stop 27)
    data=b"LOCUS       TOY1                      70 bp    DNA     circular SYN 01-JAN-2000\nDEFINITION  a test record."
    b"\nACCESSION   TOY1\nVERSION     TOY1.1\nFEATURES             Location/Qualifiers\n     s\rource          1..70\n"
    b'     gene            5..60\n                     /locus_tag="G1"\nORIGIN\n        1 acgttgcaac acgttgcaac '
    b"acgttgcaac acgttgcaac acgttgcaac acgttgcaac\n       61 acgttgcaac\n//\n",
    name="x.fa",
    compress=None,
    cut=0,
)
def test_cli_inspect_and_encode(scratch, capsys, data, name, compress, cut):
    if compress is not None:
        data = compress(data)
        data = data[: len(data) - cut]  # cut=0: whole
    path = scratch / name
    path.write_bytes(data)
    for argv in (["inspect", str(path)], ["inspect", "--json", str(path), str(path)]):
        status, out, err = run_cli(capsys, *argv)
        check_cli(status, out, err, "inspect", files=argv.count(str(path)))
        if "--json" in argv and out:
            assert all(line.startswith("{") for line in out.splitlines())
    output = scratch / "out.npz"
    output.unlink(missing_ok=True)
    status, out, err = run_cli(capsys, "encode", str(path), "-o", str(output))
    check_cli(status, out, err, "encode")
    assert output.exists() == (status == 0)  # atomic: no output after an error


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("cut.fa.gz", gzip.compress(b">a\nACGT\n" * 5000, mtime=0)[:-30]),
        ("noise.fa", bytes(range(256)) * 4),
        ("mac.fa", b">a\rACGT\r>b\rTT\r"),
        ("bom.bed", b"\xef\xbb\xbfchr1\t1\t2\n"),
    ],
)
def test_real_command_one_line_no_traceback(scratch, name, content):
    path = scratch / name
    path.write_bytes(content)
    for argv in (["inspect", str(path)], ["encode", str(path), "-o", str(scratch / "sub.npz")]):
        done = subprocess.run(
            [sys.executable, "-m", "bioseq.cli.main", *argv], capture_output=True, text=True, timeout=120, check=False
        )
        assert done.returncode == 1 and "Traceback" not in done.stderr
        assert done.stderr.count("\n") == 1 and done.stderr.startswith(f"bioseq {argv[0]}: error: {path}")
