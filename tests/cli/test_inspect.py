"""``bioseq inspect`` over real files and over the corpus of malformed files.

Every file of ``../shared/data/edgecases`` (test files of Biopython, htslib,
pysam, pyfaidx and bedtools) must either be summarised or be rejected with
one error line that names the file, without a traceback and within seconds.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest
from support import deadline

from bioseq.cli.main import main

CORPUS_TIMEOUT_S = 20
_RECORDS = b"".join(b">r%d\n%s\n" % (i, b"ACGT"[i % 4 :] + b"GATTACA" * (i % 13)) for i in range(3000))
TRUNCATED_GZIP = gzip.compress(_RECORDS, mtime=0)[:-40]  # cut inside the deflate stream


def inspect(capsys, *paths: str | Path, json_out: bool = True) -> tuple[int, str, str]:
    with deadline(CORPUS_TIMEOUT_S):
        status = main(["inspect", *(["--json"] if json_out else []), *map(str, paths)])
    out, err = capsys.readouterr()
    return status, out, err


def corpus_files(root: Path) -> list[Path]:
    return sorted(p for p in (root / "edgecases").rglob("*") if p.is_file() and p.name != "README")


def test_example_data_summaries(capsys, example_data):
    status, out, err = inspect(
        capsys,
        example_data / "ce_chrI.fa",
        example_data / "uci_splice.csv",
        example_data / "ce_chrI_reads.bam",
        example_data / "phiX174.gff3",
    )
    assert status == 0 and err == ""
    fasta, table, bam, gff = map(json.loads, out.splitlines())
    # ce_chrI.fa: chromosome I (1,009,800 bp) plus six 5 kb pieces.
    assert fasta["records"] == 7 and fasta["bases"] == 1_039_800 and fasta["length_max"] == 1_009_800
    assert 0.35 < fasta["gc_fraction"] < 0.39  # C. elegans is AT-rich (~35-38 % GC)
    assert table["classes"] == {"EI": 767, "IE": 765, "N": 1654} and table["length_min"] == 60
    assert bam["records"] == 1000 and bam["indexed"] and bam["sort_order"] == "coordinate"
    assert gff["transcripts"] == 14


def test_text_output_and_problem_exit_status(capsys, tmp_path):
    protein = tmp_path / "protein.fa"
    protein.write_text(">p1 kinase\nMKVLEFIQPW\n")
    status, out, err = inspect(capsys, protein, json_out=False)
    assert status == 1 and err == ""
    assert "protein letters" in out and "bioseq reads DNA/RNA only" in out


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("empty.fa", b"", "the file is empty"),
        ("blob.fa", b"\x00\x01\x02binary\xff" * 50, "binary file"),
        ("cut.fa.gz", TRUNCATED_GZIP, "truncated"),
        ("notes.txt", b"just some words\nand more\n", "cannot tell the file's format"),
        ("notes.fa", b"just some words\nand more\n", "line 1"),
    ],
)
def test_broken_files_one_error_line(capsys, tmp_path, name, content, message):
    path = tmp_path / name
    path.write_bytes(content)
    status, out, err = inspect(capsys, path)
    assert status == 1 and out == ""
    assert err.count("\n") == 1 and "Traceback" not in err
    assert err.startswith(f"bioseq inspect: error: {path}") and message in err


def test_missing_file(capsys, tmp_path):
    status, out, err = inspect(capsys, tmp_path / "nope.fa")
    assert status == 1 and "the file does not exist" in err


def test_every_corpus_file_parses_or_is_rejected_clearly(capsys, shared_data):
    files = corpus_files(shared_data)
    assert len(files) > 60
    outcomes = {}
    for path in files:
        status, out, err = inspect(capsys, path)
        assert "Traceback" not in err, path
        if out:
            assert json.loads(out)["file"] == str(path)
        else:
            assert status == 1 and err.count("\n") == 1, (path, err)
            assert err.startswith(f"bioseq inspect: error: {path}"), err
            # one sentence with a reason and (usually) a fix, not a bare exception text
            assert len(err) > len(f"bioseq inspect: error: {path}: ") + 15, err
        outcomes[path.name] = "parsed" if out else "rejected"
    # Biopython's error_*.fastq files are all malformed: every one must be rejected.
    fastq_errors = [p.name for p in files if p.parent.name == "biopython_fastq" and p.name.startswith("error_")]
    assert fastq_errors and all(outcomes[name] == "rejected" for name in fastq_errors)
    # ... and these must parse (DOS line ends, zero-length reads, tricky titles, wrapping).
    for name in (
        "tricky.fastq",
        "zero_length.fastq",
        "example_dos.fastq",
        "wrapping_original_sanger.fastq",
        "dosLineChar_a.bed",
        "example_badcomments.gtf",
    ):
        assert outcomes[name] == "parsed", name


def test_index_files_are_named_not_parsed(capsys, example_data):
    status, out, err = inspect(capsys, example_data / "ce_chrI_reads.bam.bai")
    assert status == 0 and json.loads(out)["format"] == "index"


def test_genbank_summary(capsys, tmp_path, shared_data):
    phix = shared_data / "genomes" / "phix174" / "NC_001422.gbk"
    if not phix.exists():
        pytest.skip("genomes/phix174 is absent")
    gz = tmp_path / "phix.gb.gz"
    gz.write_bytes(gzip.compress(phix.read_bytes()))
    status, out, err = inspect(capsys, gz)
    assert status == 0 and err == ""
    summary = json.loads(out)
    assert summary["format"] == "genbank" and summary["records"] == summary["circular"] == 1
    assert summary["bases"] == 5386 and 0.44 < summary["gc_fraction"] < 0.45
    # 11 CDS and 2 mRNAs, 3 CDS split at the origin: 16 transcripts, 15 distinct exons, no genes
    assert (summary["transcripts"], summary["exons"], summary["genes"], summary["split_at_origin"]) == (16, 15, 0, 3)
    assert summary["features_left_out"] == {} and summary["problems"] == []
    status, out, _ = inspect(capsys, gz, json_out=False)
    assert status == 0 and "  features left out     none\n  records no sequence   0\n" in out
