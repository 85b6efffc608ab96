"""GenBank/EMBL records (bioseq.io.genbank) and GenBank/EMBL genomes opened as a Reference."""

from __future__ import annotations

import gzip
import io
import pickle
import shutil

import pytest
from flatfiles import embl_text, genbank_text

from bioseq.errors import InputError
from bioseq.io.genbank import genbank_format, read_genbank
from bioseq.io.reference import Reference

SEQ = "ATGGCGTACG" * 12  # 120 bp
TOY = genbank_text(SEQ, [("CDS", "11..40", {"locus_tag": "G1"})])


def fasta_sequence(path) -> str:
    return "".join(line.strip() for line in path.read_text().splitlines()[1:])


def test_real_records_match_their_fasta(phix):
    for name, fasta, circular in (("NC_001422.gbk", "phiX174.fa", True), ("NC_005816.gb", "pPCP1_Yersinia.fa", True)):
        (record,) = read_genbank(phix / name)
        # contig = accession.version as the FASTA and GFF3 derived from the file name it; LOCUS name = accession
        assert record.contig == (phix / fasta).read_text().split()[0][1:]
        assert record.name == record.contig.split(".")[0] and record.circular is circular
        assert record.sequence.upper() == fasta_sequence(phix / fasta) and record.length == len(record.sequence)
        assert record.line == 1 and record.format == "genbank"


def test_reference_from_genbank_equals_the_fasta(phix, tmp_path):
    with Reference(phix / "NC_001422.gbk", cache=tmp_path) as gb, Reference(phix / "phiX174.fa") as fa:
        assert gb.references == fa.references == ("NC_001422.1",) and gb.lengths == fa.lengths == (5386,)
        assert gb.fetch("NC_001422.1") == fa.fetch("NC_001422.1")
        # 0-based half-open against the 1-based region; the LOCUS name is an alias; N past the end
        assert gb.fetch("NC_001422", 0, 10) == gb.fetch_region("NC_001422.1:1-10") == fa.fetch("NC_001422.1", 0, 10)
        assert gb.fetch("NC_001422.1", 5380, 5390) == fa.fetch("NC_001422.1", 5380, 5386) + "NNNN"
        assert (gb.windows("NC_001422", [0, 100], 50) == fa.windows("NC_001422.1", [0, 100], 50)).all()
        assert gb.path == str(phix / "NC_001422.gbk")
        copy = pickle.loads(pickle.dumps(gb))  # DataLoader workers re-open from the cached FASTA
        assert copy.fetch("NC_001422", 100, 120) == fa.fetch("NC_001422.1", 100, 120)
        copy.close()


def test_genbank_reference_is_written_once_beside_the_file(tmp_path, monkeypatch):
    path = tmp_path / "toy.gb"
    path.write_text(TOY)
    with Reference(path) as ref:
        assert ref.fetch("TOY1.1", 0, 12) == SEQ[:12] and ref.fetch("TOY1", 0, 3) == "ATG"
    (entry,) = (tmp_path / ".bioseqcache").iterdir()
    assert sorted(p.name for p in entry.iterdir()) == ["names.tsv", "toy.fa", "toy.fa.fai"]
    monkeypatch.setattr("bioseq.io.genbank.read_genbank", None)  # a second open does not parse the file again
    with Reference(path) as ref:
        assert ref.length("TOY1") == 120


def test_gzip_multi_record_stream_and_embl():
    two = TOY + genbank_text("ACGT" * 5, [], name="TOY3", version=None, circular=True)
    records = list(read_genbank(io.BytesIO(gzip.compress(two.encode()))))
    assert [(r.contig, r.name, r.length, r.circular, r.line) for r in records] == [
        ("TOY1.1", "TOY1", 120, False, 1),
        ("TOY3", "TOY3", 20, True, 13),
    ]
    (embl,) = read_genbank(io.StringIO(embl_text(SEQ, [("mRNA", "join(5..10,31..40)", {"locus_tag": "E1"})])))
    assert (embl.contig, embl.name, embl.format, embl.sequence.upper()) == ("TOY2.1", "TOY2", "embl", SEQ)
    assert [(f.type, int(f.location.start), int(f.location.end)) for f in embl.features] == [
        ("source", 0, 120),
        ("mRNA", 4, 40),
    ]
    assert genbank_format(io.BytesIO(TOY.encode())) == "genbank" and genbank_format(io.BytesIO(b">a\nAC\n")) is None


def test_contig_falls_back_to_the_locus_name():
    text = TOY.replace("ACCESSION   TOY1\nVERSION     TOY1.1\n", "ACCESSION   .\n")
    (record,) = read_genbank(io.StringIO(text))
    assert (record.contig, record.name) == ("TOY1", "TOY1")


ORIGIN_AT = TOY.index("ORIGIN")
BROKEN_SOURCE = (
    "LOCUS       TOY1                      70 bp    DNA     circular SYN 01-JAN-2000\n"
    "DEFINITION  a test record.\nACCESSION   TOY1\nVERSION     TOY1.1\n"
    "FEATURES             Location/Qualifiers\n"
    "     s\rource          1..70\n"
    "     gene            5..60\n"
    '                     /locus_tag="G1"\n'
    "ORIGIN\n        1 " + " ".join(["acgttgcaac"] * 6) + "\n       61 acgttgcaac\n//\n"
)


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        (">chr1\nACGT\n", "line 1: the file does not start with a GenBank LOCUS line"),
        ("\ufeff" + TOY, "byte-order mark"),
        (TOY.replace("LOCUS       TOY1", "LOCUS TOY1"), "line 1: the LOCUS line does not have the GenBank layout"),
        (TOY + TOY.replace("LOCUS       TOY1", "LOCUS  TOY1"), "line 13: the LOCUS line does not have"),
        (TOY[: ORIGIN_AT + 30], "line 10: the file ends inside the sequence of record 'TOY1.1' (from line 1)"),
        (
            TOY[: TOY.index("/locus_tag")],
            "line 8: cannot read the GenBank record (Premature end of line during features table). "
            "The file looks trunc",
        ),
        (TOY.replace("120 bp", "130 bp"), "the LOCUS line says 130 bp but the sequence has 120"),
        (TOY + TOY, "line 13, record 'TOY1.1': two records are named 'TOY1.1' (lines 1 and 13)"),
        (TOY[:ORIGIN_AT] + "//\n", "Premature end of features table"),
        (  # a carriage return inside a feature line (found by tests/test_bad_input.py): both halves were dropped
            BROKEN_SOURCE,
            "line 1, record 'TOY1.1': the feature table is damaged: line too short to contain a feature: ' s'. "
            "Repair its FEATURES lines",
        ),
    ],
)
def test_malformed_files_name_line_or_record(text, fragment):
    with pytest.raises(InputError) as caught:
        list(read_genbank(io.BytesIO(text.encode()), fmt=None))
    message = str(caught.value)
    assert message.startswith("<stream>") and fragment in message and "\n" not in message, message


def test_reference_refuses_records_without_sequence_or_with_bad_letters(tmp_path):
    empty = tmp_path / "contig_only.gb"
    empty.write_text(TOY[:ORIGIN_AT] + "ORIGIN\n//\n")
    with pytest.raises(InputError, match=r"record 'TOY1.1': the record has no sequence lines\. Download the record"):
        Reference(empty, cache=tmp_path / "c")
    bad = tmp_path / "bad.gb"
    bad.write_text(TOY.replace("atggcgtacg atggcgtacg", "atggcgtacg atgg!gtacg", 1))
    with pytest.raises(InputError, match=r"record 'TOY1.1': character '!' at position 15 \(1-based\) is not a nucl"):
        Reference(bad, cache=tmp_path / "c")
    assert not any((tmp_path / "c").glob("*/*.fa"))  # nothing half-written


def test_fasta_references_are_not_taken_for_genbank(tmp_path):
    fasta = tmp_path / "LOCUS.fa"  # a FASTA named oddly is still a FASTA
    fasta.write_text(">LOCUS x\nACGT\n")
    with Reference(fasta) as ref:
        assert ref.references == ("LOCUS",)
    shutil.rmtree(tmp_path / ".bioseqcache", ignore_errors=True)
