"""bioseq.interpret.inputs: FASTA, labelled tables (one class kept) and BED windows, a block at a time."""

from __future__ import annotations

import numpy as np
import pytest

from bioseq.alphabet import PAD
from bioseq.codes import decode_one as decode
from bioseq.errors import InputError
from bioseq.interpret.inputs import fit_width, input_kind, read_blocks

GENOME = "ACGTTGCAAC" + "GGGGATCCCC" + "TTTTAAAACC"  # chr1, 30 bases


@pytest.fixture
def genome(tmp_path):
    path = tmp_path / "genome.fa"
    path.write_text(f">chr1\n{GENOME}\n>chr2\nACGTACGTAC\n")
    return path


def _all(blocks):
    blocks = list(blocks)
    names = [n for b in blocks for n in b.names]
    return blocks, names


def test_fasta_blocks_keep_order_and_pad(tmp_path):
    path = tmp_path / "x.fa"
    path.write_text(">a\nACGT\n>b\nAC\n>c\nGGGTT\n")
    blocks, names = _all(read_blocks(path, block_size=2))
    assert names == ["a", "b", "c"] and [len(b.names) for b in blocks] == [2, 1]
    assert blocks[0].codes.dtype == np.uint8 and blocks[0].codes.shape == (2, 4)
    assert blocks[0].codes[1, 2:].tolist() == [PAD, PAD]  # "AC" right-padded
    assert blocks[0].regions is None


def test_table_with_label_keeps_one_class_and_names_rows_by_line(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("label,sequence\nEI,ACGT\nN,GGGG\nEI,TTTT\n")
    _, names = _all(read_blocks(path, label="EI"))
    assert names == ["t.csv:2", "t.csv:4"]  # 1-based lines
    _, every = _all(read_blocks(path))
    assert len(every) == 3
    with pytest.raises(InputError, match="no row of the table has the label 'IE'"):
        list(read_blocks(path, label="IE"))


def test_multilabel_table_by_indicator_column(tmp_path):
    path = tmp_path / "m.tsv"
    path.write_text("name\tsequence\tctcf\tyy1\nx\tACGT\t1\t0\ny\tACGA\t0\t1\n")
    _, names = _all(read_blocks(path, label="yy1"))
    assert names == ["y"]


def test_labelled_fasta_with_label(tmp_path):
    path = tmp_path / "l.fa"
    path.write_text(">s1 label=pos\nACGT\n>s2 label=neg\nAAAA\n>s3 label=pos\nCCCC\n")
    blocks, names = _all(read_blocks(path, label="pos"))
    assert names == ["s1", "s3"]
    with pytest.raises(InputError, match="no sequence has the label 'other'"):
        list(read_blocks(path, label="other"))


def test_bed_windows_are_centred_strand_aware_and_recorded(tmp_path, genome):
    bed = tmp_path / "r.bed"
    bed.write_text("chr1\t10\t20\tplus\t0\t+\nchr1\t10\t20\tminus\t0\t-\nchr1\t0\t2\tedge\t0\t+\n")
    blocks, names = _all(read_blocks(bed, reference=genome, width=6))
    codes = np.concatenate([b.codes for b in blocks])
    regions = [r for b in blocks for r in b.regions]
    assert names == ["plus", "minus", "edge"]
    assert regions[0] == ("chr1", 12, 18, "+") and regions[1] == ("chr1", 12, 18, "-")
    assert decode(codes[0]) == GENOME[12:18]
    complement = str.maketrans("ACGT", "TGCA")
    assert decode(codes[1]) == GENOME[12:18].translate(complement)[::-1]  # reverse complement
    assert regions[2] == ("chr1", -2, 4, "+") and decode(codes[2]) == "NN" + GENOME[:4]  # hangs off the start


def test_bed_needs_a_reference_and_takes_no_label(tmp_path, genome):
    bed = tmp_path / "r.bed"
    bed.write_text("chr1\t10\t20\n")
    assert input_kind(bed, reference=genome) == "bed"
    with pytest.raises(InputError, match="intervals, not sequences"):
        input_kind(bed)
    with pytest.raises(InputError, match="carry no labels"):
        list(read_blocks(bed, reference=genome, width=4, label="pos"))


def test_missing_and_empty_inputs(tmp_path):
    with pytest.raises(InputError, match="does not exist"):
        input_kind(tmp_path / "nope.fa")
    (tmp_path / "empty.fa").write_text("")
    with pytest.raises(InputError, match="empty"):
        input_kind(tmp_path / "empty.fa")


def test_fit_width_pads_and_refuses_longer():
    codes = np.array([[0, 1, PAD]], dtype=np.uint8)
    assert fit_width(codes, 5, ["a"]).tolist() == [[0, 1, PAD, PAD, PAD]]
    assert fit_width(codes, 2, ["a"]).tolist() == [[0, 1]]
    assert fit_width(codes, None, ["a"]) is codes
    with pytest.raises(InputError, match="record 'a'.*2 bases long, but the model reads exactly 1"):
        fit_width(codes, 1, ["a"])
