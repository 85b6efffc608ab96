"""Format recognition from content (extension only as a last resort)."""

from __future__ import annotations

import gzip

import pysam
import pytest

from bioseq.errors import InputError
from bioseq.io.sniff import sniff_format


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b">chr1\nACGT\n", "fasta"),
        (b"@r1\nACGT\n+\nIIII\n", "fastq"),
        (b"@HD\tVN:1.6\n", "sam"),
        (b"r1\t0\tchr1\t1\t60\t4M\t*\t0\t0\tACGT\tIIII\n", "sam"),
        (b"track name=x\nchr1\t0\t10\n", "bed"),
        (b'chr1\tsrc\texon\t1\t10\t.\t+\t.\tgene_id "g"; transcript_id "t";\n', "gtf"),
        (b"##gff-version 3\nchr1\tsrc\tgene\t1\t10\t.\t+\t.\tID=g\n", "gff3"),
        (b"chr1\tsrc\tgene\t1\t10\t.\t+\t.\tID=g;Name=x\n", "gff3"),
        (b"sequence,label\nACGT,1\n", "table"),
        (b"label\tseq\n1\tACGT\n", "table"),
        (b"LOCUS       NC_001422               5386 bp ss-DNA     circular PHG 09-JUL-2002\n", "genbank"),
        (b"ID   X56734; SV 1; linear; mRNA; STD; PLN; 1859 BP.\nXX\n", "embl"),
    ],
)
def test_text_formats(tmp_path, content, expected):
    path = tmp_path / "file.txt"
    path.write_bytes(content)
    assert sniff_format(path) == expected
    zipped = tmp_path / "file.txt.gz"
    zipped.write_bytes(gzip.compress(content))
    assert sniff_format(zipped) == expected


def test_bam_and_cram_magic(tmp_path):
    header = {"HD": {"VN": "1.6"}, "SQ": [{"SN": "chr1", "LN": 100}]}
    bam = tmp_path / "x.bam"
    with pysam.AlignmentFile(str(bam), "wb", header=header):
        pass
    assert sniff_format(bam) == "bam"
    cram = tmp_path / "x.cram"
    cram.write_bytes(b"CRAM\x03\x00" + b"\x00" * 30)
    assert sniff_format(cram) == "cram"


def test_spaces_instead_of_tabs_is_named(tmp_path):
    path = tmp_path / "x.gtf"
    path.write_bytes(b'chr1 src exon 1 10 . + . gene_id "g"; transcript_id "t";\n')
    with pytest.raises(InputError, match=r"line 1: this line looks like GTF but its columns are separated by spaces"):
        sniff_format(path)


def test_extension_is_the_last_resort(tmp_path):
    odd = tmp_path / "odd.bed"
    odd.write_bytes(b"chr1\t5\n")  # two columns: not recognisable, but it says BED
    assert sniff_format(odd) == "bed"
    unknown = tmp_path / "odd.txt"
    unknown.write_bytes(b"chr1\t5\n")
    with pytest.raises(InputError, match="cannot tell the file's format"):
        sniff_format(unknown)


def test_empty_and_binary(tmp_path):
    empty = tmp_path / "e.fa"
    empty.write_bytes(b"  \n")
    with pytest.raises(InputError, match="the file is empty"):
        sniff_format(empty)
    blob = tmp_path / "b.dat"
    blob.write_bytes(b"\x00\x01" * 100)
    with pytest.raises(InputError, match="binary file"):
        sniff_format(blob)
