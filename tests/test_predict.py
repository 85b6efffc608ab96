"""Tests of bioseq.predict: fitting codes to a bundle, prediction tables from FASTA, tables and BED."""

from __future__ import annotations

import csv
import gzip

import numpy as np
import pytest
import torch

from bioseq.bundle import Bundle, load_bundle, save_bundle
from bioseq.codes import encode, encode_one
from bioseq.errors import InputError
from bioseq.inference import InferenceOptions
from bioseq.models.kmer_baseline import KmerLogisticBaseline
from bioseq.models.registry import build_model
from bioseq.predict import predict_file, predict_sequences

CNN = {"channels": [4], "kernel_sizes": [3], "dilations": [1], "pools": [1], "head_hidden": 4}
GENOME = {  # contig -> sequence (chrom1 60 bp, chrom2 12 bp)
    "chrom1": "ACGTTGCAACGGATCCTTAGCATGCATGCATTTTAAAACCGGGGCCCCATATATGCGCAA",
    "chrom2": "GATTACAGATTA",
}


@pytest.fixture(scope="module")
def bundle(tmp_path_factory) -> Bundle:
    """A binary CNN that reads exactly 10 bases."""
    torch.manual_seed(0)
    model = build_model("cnn", {**CNN, "n_outputs": 1})
    path = tmp_path_factory.mktemp("bundle") / "cnn"
    save_bundle(
        path,
        model=model,
        model_name="cnn",
        model_options={**CNN, "n_outputs": 1},
        task="binary",
        classes=("background", "site"),
        length=10,
    )
    return load_bundle(path)


@pytest.fixture()
def genome(tmp_path):
    path = tmp_path / "genome.fa"
    path.write_text("".join(f">{name}\n{seq}\n" for name, seq in GENOME.items()))
    return path


def _rows(path) -> list[list[str]]:
    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "rt") as handle:
        return list(csv.reader(handle, delimiter="\t"))


def _p(bundle: Bundle, sequences: list[str]) -> list[float]:
    """Direct predictions of sequences right-padded to the bundle's 10 bases."""
    codes, _ = encode(sequences, length=10)
    return bundle.predict_proba(codes).tolist()


def test_predict_sequences_fits_the_width(bundle):
    codes, _ = encode(["ACGTACGTAC", "ACG"])  # width 10 already
    expected = bundle.predict_proba(codes)
    wide = np.full((2, 25), 15, dtype=np.uint8)  # the same sequences with more padding
    wide[:, :10] = codes
    np.testing.assert_array_equal(predict_sequences(bundle, wide, ["a", "b"]), expected)
    narrow, _ = encode(["ACGTACGTAC"[:6], "ACG"])  # width 6: padded to 10
    np.testing.assert_array_equal(
        predict_sequences(bundle, narrow, ["a", "b"]), bundle.predict_proba(encode(["ACGTAC", "ACG"], length=10)[0])
    )


def test_predict_sequences_errors_name_the_record(bundle):
    codes, _ = encode(["ACGT", "ACGTACGTACGT"])
    with pytest.raises(
        InputError,
        match=r"record 'long': the sequence is 12 bases long, but the model reads "
        r"exactly 10. Trim or window the sequences to 10 bases",
    ):
        predict_sequences(bundle, codes, ["short", "long"])
    codes, _ = encode(["ACGT", ""])
    with pytest.raises(InputError, match="record 'empty': the sequence is empty"):
        predict_sequences(bundle, codes, ["x", "empty"])
    with pytest.raises(InputError, match="1 names were given for 2 sequences"):
        predict_sequences(bundle, codes, ["x"])


def test_fasta_table_layout_and_values(bundle, tmp_path):
    fasta = tmp_path / "in.fa"
    fasta.write_text(">s1 first\nACGTACGTAC\n>s2\nGGG\nCC\n>s3\nTTTTTTTTTT\n")
    assert predict_file(bundle, fasta, output=tmp_path / "out.tsv") == 3
    rows = _rows(tmp_path / "out.tsv")
    assert rows[0] == ["name", "p_site", "predicted"]  # binary: the positive class only
    assert [r[0] for r in rows[1:]] == ["s1", "s2", "s3"]
    expected = _p(bundle, ["ACGTACGTAC", "GGGCC", "TTTTTTTTTT"])
    np.testing.assert_allclose([float(r[1]) for r in rows[1:]], expected, rtol=1e-6)
    assert [r[2] for r in rows[1:]] == ["site" if p > 0.5 else "background" for p in expected]


def test_blocks_do_not_change_the_output(bundle, tmp_path):
    rng = np.random.default_rng(0)
    fasta = tmp_path / "many.fa"
    fasta.write_text("".join(f">r{i}\n{''.join(rng.choice(list('ACGTN'), rng.integers(1, 11)))}\n" for i in range(23)))
    predict_file(bundle, fasta, output=tmp_path / "one.tsv", block_size=1000)
    predict_file(bundle, fasta, output=tmp_path / "many.tsv.gz", block_size=4, options=InferenceOptions(batch_size=3))
    one, many = _rows(tmp_path / "one.tsv"), _rows(tmp_path / "many.tsv.gz")
    assert len(one) == 24 and [r[0] for r in one] == [r[0] for r in many]  # one header, 23 records in order
    np.testing.assert_allclose([float(r[1]) for r in one[1:]], [float(r[1]) for r in many[1:]], rtol=1e-5)


def test_table_input(bundle, tmp_path):
    named = tmp_path / "named.tsv"
    named.write_text("name\tsequence\tlabel\nx\tACGTACGTAC\t1\ny\tacgt\t0\n")
    predict_file(bundle, named, output=tmp_path / "a.tsv")
    rows = _rows(tmp_path / "a.tsv")
    assert [r[0] for r in rows[1:]] == ["x", "y"]
    np.testing.assert_allclose([float(r[1]) for r in rows[1:]], _p(bundle, ["ACGTACGTAC", "ACGT"]), rtol=1e-6)
    plain = tmp_path / "plain.csv"
    plain.write_text("sequence\nACGTACGTAC\n\nACGT\n")  # the blank line is skipped
    predict_file(bundle, plain, output=tmp_path / "b.tsv")
    assert [r[0] for r in _rows(tmp_path / "b.tsv")[1:]] == ["plain.csv:2", "plain.csv:4"]  # 1-based lines


def test_table_errors(bundle, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("seq,label\nACGT,1\n")
    with pytest.raises(
        InputError,
        match=r"bad.csv, line 1: the table has no 'sequence' column; its columns are "
        r"\['seq', 'label'\]",
    ):
        predict_file(bundle, bad, output=tmp_path / "o.tsv")
    bed = tmp_path / "sites.bed"
    bed.write_text("chrom1\t10\t20\n")
    with pytest.raises(InputError, match="This looks like BED intervals: pass reference="):
        predict_file(bundle, bed, output=tmp_path / "o.tsv")
    letters = tmp_path / "letters.csv"
    letters.write_text("sequence\nACGT\nACJT\n")
    with pytest.raises(InputError, match=r"letters.csv, record 'letters.csv:3': character 'J' at position 2"):
        predict_file(bundle, letters, output=tmp_path / "o.tsv")
    assert not (tmp_path / "o.tsv").exists()


def _window(chrom: str, start: int, end: int, strand: str) -> str:
    """The sequence of a window, N past the contig ends, reverse-complemented on '-'."""
    seq = GENOME[chrom]
    text = "".join(seq[i] if 0 <= i < len(seq) else "N" for i in range(start, end))
    return text[::-1].translate(str.maketrans("ACGTN", "TGCAN")) if strand == "-" else text


def test_bed_intervals_are_centred_windows(bundle, tmp_path, genome):
    bed = tmp_path / "sites.bed"
    # BED6, 0-based half-open. Windows of 10 around each centre:
    #   chrom1 20-24 +: centre 22 -> [17, 27);  chrom1 20-24 -: [17, 27) reverse-complemented;
    #   chrom2 0-2 (name edge): centre 1 -> [-4, 6), four N then GATTAC;
    #   chrom1 55-60: centre 57.5 -> [52, 62), the last two positions N.
    bed.write_text(
        "chrom1\t20\t24\tplus\t0\t+\nchrom1\t20\t24\tminus\t0\t-\nchrom2\t0\t2\tedge\t0\t.\nchrom1\t55\t60\tend\t0\t+\n"
    )
    assert predict_file(bundle, bed, output=tmp_path / "o.tsv", reference=genome, block_size=3) == 4
    rows = _rows(tmp_path / "o.tsv")
    assert rows[0] == ["chrom", "start", "end", "strand", "name", "p_site", "predicted"]
    assert [r[:5] for r in rows[1:]] == [
        ["chrom1", "20", "24", "+", "plus"],
        ["chrom1", "20", "24", "-", "minus"],
        ["chrom2", "0", "2", ".", "edge"],
        ["chrom1", "55", "60", "+", "end"],
    ]
    windows = [
        _window("chrom1", 17, 27, "+"),
        _window("chrom1", 17, 27, "-"),
        _window("chrom2", -4, 6, "+"),
        _window("chrom1", 52, 62, "+"),
    ]
    assert windows[0] == "TAGCATGCAT" and windows[1] == "ATGCATGCTA"  # chrom1[17:27] and its reverse complement
    assert windows[2] == "NNNNGATTAC" and windows[3] == "ATGCGCAANN"
    np.testing.assert_allclose([float(r[5]) for r in rows[1:]], _p(bundle, windows), rtol=1e-6)


def test_bed_needs_a_width_for_a_variable_width_model(tmp_path, genome):
    codes, _ = encode(["ACGTACGT", "GGGGCCCC", "ATATATAT", "GCGCGCGC"])
    model = KmerLogisticBaseline(k=1).fit(codes, np.array([0, 1, 0, 1]))
    save_bundle(
        tmp_path / "k",
        model=model,
        model_name="kmer_logistic",
        model_options=None,
        task="binary",
        classes=("at", "gc"),
        length=None,
    )
    bed = tmp_path / "a.bed"
    bed.write_text("chrom1\t0\t60\n")
    with pytest.raises(InputError, match=r"the model reads sequences of any width.*Pass length="):
        predict_file(tmp_path / "k", bed, output=tmp_path / "o.tsv", reference=genome)
    predict_file(tmp_path / "k", bed, output=tmp_path / "o.tsv", reference=genome, length=20)
    value = float(_rows(tmp_path / "o.tsv")[1][5])
    window = GENOME["chrom1"][20:40]  # centre 30, width 20
    assert value == pytest.approx(float(model.predict_proba(encode_one(window)[None])[0, 1]), rel=1e-6)


def test_bad_arguments(bundle, tmp_path, genome):
    fasta = tmp_path / "in.fa"
    fasta.write_text(">a\nACGT\n")
    with pytest.raises(InputError, match="length= sets the window width of BED intervals"):
        predict_file(bundle, fasta, output=tmp_path / "o.tsv", length=10)
    with pytest.raises(InputError, match="length=12 differs from the 10 bp windows"):
        predict_file(bundle, fasta, output=tmp_path / "o.tsv", reference=genome, length=12)
    with pytest.raises(InputError, match="block_size must be a positive integer"):
        predict_file(bundle, fasta, output=tmp_path / "o.tsv", block_size=0)
    long = tmp_path / "long.fa"
    long.write_text(">ok\nACGT\n>too_long\nACGTACGTACGT\n")
    with pytest.raises(InputError, match=r"long.fa, record 'too_long': the sequence is 12 bases long"):
        predict_file(bundle, long, output=tmp_path / "o.tsv")
    (tmp_path / "nothing.fa").write_text("")
    with pytest.raises(InputError, match="nothing.fa: the file is empty"):
        predict_file(bundle, tmp_path / "nothing.fa", output=tmp_path / "o.tsv")
    empty = tmp_path / "empty.bed"
    empty.write_text("track name=x\n")
    with pytest.raises(InputError, match="the input holds no records to predict"):
        predict_file(bundle, empty, output=tmp_path / "o.tsv", reference=genome)
    assert not (tmp_path / "o.tsv").exists()


@pytest.mark.parametrize("quantile", [0.2, 0.5, 0.8])
def test_threshold_sets_the_predicted_column_only(bundle, tmp_path, quantile):
    rng = np.random.default_rng(1)
    sequences = ["".join(rng.choice(list("ACGT"), 10)) for _ in range(40)]
    fasta = tmp_path / "in.fa"
    fasta.write_text("".join(f">r{i}\n{s}\n" for i, s in enumerate(sequences)))
    expected = _p(bundle, sequences)
    threshold = float(np.quantile(expected, quantile))  # the untrained model's scores lie close together
    predict_file(bundle, fasta, output=tmp_path / "t.tsv", options=InferenceOptions(threshold=threshold))
    rows = _rows(tmp_path / "t.tsv")[1:]
    np.testing.assert_allclose([float(r[1]) for r in rows], expected, rtol=1e-6)  # probabilities unchanged
    assert [r[2] for r in rows] == ["site" if p > threshold else "background" for p in expected]
    assert {r[2] for r in rows} == {"site", "background"}


@pytest.mark.parametrize("threshold", [0, 1, 1.5, -0.1, "0.5", True])
def test_bad_threshold_writes_nothing(bundle, tmp_path, threshold):
    fasta = tmp_path / "in.fa"
    fasta.write_text(">a\nACGT\n")
    with pytest.raises(InputError, match="threshold must be a number strictly between 0 and 1"):
        predict_file(bundle, fasta, output=tmp_path / "o.tsv", options=InferenceOptions(threshold=threshold))
    assert not (tmp_path / "o.tsv").exists()


def test_formats_are_sniffed(bundle, tmp_path):
    reads = tmp_path / "reads.txt"  # the content decides, not the name
    reads.write_text("@r1\nACGT\n+\nIIII\n")
    with pytest.raises(InputError, match=r"reads.txt: this is a FASTQ file, not FASTA or a sequence table"):
        predict_file(bundle, reads, output=tmp_path / "o.tsv")
    table = tmp_path / "seqs.gz"
    table.write_bytes(gzip.compress(b"id,sequence\nx,ACGTACGTAC\n"))  # gzip, no extension: a table by its header
    assert predict_file(bundle, table, output=tmp_path / "t.tsv") == 1
    assert [r[0] for r in _rows(tmp_path / "t.tsv")[1:]] == ["seqs.gz:2"]
    assert not (tmp_path / "o.tsv").exists()
