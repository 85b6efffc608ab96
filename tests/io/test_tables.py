"""Tests for bioseq.io.tables (readers, writer) and bioseq.io.labels (LabelledSequences, classes)."""

from __future__ import annotations

import dataclasses
import gzip
import io
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bioseq.alphabet import PAD
from bioseq.errors import InputError, MissingFileError
from bioseq.io.labels import LabelledSequences, check_sequences, class_order, labelled_from_rows
from bioseq.io.tables import (
    open_table,
    read_fasta_classes,
    read_fasta_labelled,
    read_folder,
    read_labelled,
    read_table,
    write_table,
)


def write(path: Path, text: str | bytes) -> Path:
    path.write_bytes(text.encode() if isinstance(text, str) else text)
    return path


# ---------------------------------------------------------------- read_table


def test_binary_table_with_header(tmp_path):
    path = write(tmp_path / "t.csv", "sequence,label\nACGT,1\nttga,0\nCCGG,1\n")
    data = read_table(path)
    assert data.task == "binary"
    assert data.classes == ("0", "1")  # numeric order: "0" is the negative class
    assert data.labels.tolist() == [1, 0, 1]
    assert data.labels.dtype == np.int64
    assert data.sequences == ("ACGT", "ttga", "CCGG")  # case kept
    assert data.names == ("t.csv:2", "t.csv:3", "t.csv:4")  # file name and 1-based line
    assert data.source == str(path)
    assert len(data) == 3
    assert data.class_counts() == {"0": 1, "1": 2}


def test_three_classes_label_first(tmp_path):
    # UCI splice layout: label,sequence with EI, IE, N.
    path = write(tmp_path / "s.csv", "label,sequence\nN,ACGT\nEI,CCCC\nIE,GGGG\nN,TTTT\n")
    data = read_table(path)
    assert data.task == "multiclass"
    assert data.classes == ("EI", "IE", "N")  # text order
    assert data.labels.tolist() == [2, 0, 1, 2]


def test_headerless_columns_by_number(tmp_path):
    # UCI E. coli promoters layout: label, name, sequence after tabs.
    path = write(tmp_path / "p.data", "+,S10,\t\ttactagcaat\n-,867,\t\tatatgaacgt\n")
    data = read_table(path, header=False, label_column=0, name_column=1, sequence_column=2)
    assert data.sequences == ("tactagcaat", "atatgaacgt")  # leading tabs stripped
    assert data.names == ("S10", "867")
    assert data.classes == ("-", "+")  # "-" is the negative, index 0
    assert data.labels.tolist() == [1, 0]


@pytest.mark.parametrize(
    ("name", "text", "delimiter"),
    [
        ("t.tsv", "sequence\tlabel\nACGT\ta\nCC\tb\n", None),  # tab by extension
        ("t.txt", "sequence\tlabel\nACGT\ta\nCC\tb\n", None),
        ("t.dat", "sequence;label\nACGT;a\nCC;b\n", None),  # sniffed
        ("t.dat", "sequence|label\nACGT|a\nCC|b\n", None),
        ("t.csv", "sequence;label\nACGT;a\nCC;b\n", ";"),  # explicit beats the extension
    ],
)
def test_delimiters(tmp_path, name, text, delimiter):
    data = read_table(write(tmp_path / name, text), delimiter=delimiter)
    assert data.sequences == ("ACGT", "CC")
    assert data.labels.tolist() == [0, 1]


def test_gzip_path_and_crlf_and_blank_lines(tmp_path):
    text = b"sequence,label\r\nACGT,pos\r\n\r\nCCCC,neg\r\n\r\n"
    data = read_table(write(tmp_path / "t.csv.gz", gzip.compress(text)))
    assert data.sequences == ("ACGT", "CCCC")
    assert data.classes == ("neg", "pos")
    assert data.labels.tolist() == [1, 0]
    assert data.names == ("t.csv.gz:2", "t.csv.gz:4")  # blank line 3 skipped


def test_handles_binary_and_text_left_open():
    binary = io.BytesIO(b"sequence,label\nACGT,1\nCC,0\n")
    assert read_table(binary).labels.tolist() == [1, 0]
    assert not binary.closed
    text = io.StringIO("sequence,label\nACGT,1\nCC,0\n")
    assert read_table(text).sequences == ("ACGT", "CC")


def test_quoted_fields_and_bom(tmp_path):
    path = write(tmp_path / "t.csv", '\ufeffname,sequence,label\n"a,1",ACGT,x\n"b",CC,y\n'.encode())
    data = read_table(path, name_column="name")
    assert data.names == ("a,1", "b")  # quoted comma kept, BOM dropped from 'name'


def test_iupac_and_rna_letters_load(tmp_path):
    # UCI splice has D, N, S, R in a few rows of some versions: IUPAC letters are valid.
    data = read_table(write(tmp_path / "t.csv", "sequence,label\nACDNSR,1\nACGU,0\n"))
    codes, lengths = data.codes()
    assert codes[0].tolist() == [0, 1, 12, 4, 7, 5]  # A C D N S R
    assert codes[1].tolist() == [0, 1, 2, 3, PAD, PAD]  # U reads as T, then padding
    assert lengths.tolist() == [6, 4]


def test_multilabel_separator(tmp_path):
    path = write(tmp_path / "t.csv", "sequence,label\nACGT,a;b\nCCCC,c\nGGGG, b ; c \n")
    data = read_table(path, label_separator=";")
    assert data.task == "multilabel"
    assert data.classes == ("a", "b", "c")
    assert data.labels.dtype == np.uint8
    # row 0 carries a and b, row 1 c, row 2 b and c (spaces stripped)
    assert data.labels.tolist() == [[1, 1, 0], [0, 0, 1], [0, 1, 1]]
    assert data.class_counts() == {"a": 1, "b": 2, "c": 2}


def test_multilabel_columns(tmp_path):
    path = write(tmp_path / "t.csv", "sequence,a,b,c\nACGT,1,1,0\nCCCC,0,0,0\nGGGG,0,1,1\n")
    data = read_table(path, label_column=["a", "b", "c"])
    assert data.task == "multilabel"
    assert data.classes == ("a", "b", "c")
    assert data.labels.tolist() == [[1, 1, 0], [0, 0, 0], [0, 1, 1]]  # a row may carry none


def test_multilabel_columns_by_number_with_names(tmp_path):
    path = write(tmp_path / "t.tsv", "ACGT\t1\t0\nCCCC\t0\t1\n")
    data = read_table(path, header=False, sequence_column=0, label_column=[1, 2], classes=["x", "y"])
    assert data.classes == ("x", "y")
    assert data.labels.tolist() == [[1, 0], [0, 1]]


def test_classes_fix_order(tmp_path):
    path = write(tmp_path / "t.csv", "sequence,label\nACGT,a\nCC,b\nGG,c\n")
    data = read_table(path, classes=["c", "a", "b"])
    assert data.classes == ("c", "a", "b")
    assert data.labels.tolist() == [1, 2, 0]
    # Declared classes may be absent from a small split, and two make it binary.
    only_a = read_table(write(tmp_path / "u.csv", "sequence,label\nACGT,a\n"), classes=["a", "b"])
    assert only_a.task == "binary" and only_a.labels.tolist() == [0]


# ------------------------------------------------------------ table errors


def error_of(call, *args, **kwargs) -> str:
    with pytest.raises(InputError) as info:
        call(*args, **kwargs)
    return str(info.value)


def test_error_missing_column_lists_columns_and_close_match(tmp_path):
    path = write(tmp_path / "t.csv", "Sequence,label\nACGT,1\n")
    message = error_of(read_table, path)
    assert message.startswith(f"{path}, line 1: there is no column 'sequence'")
    assert "the columns are 'Sequence', 'label'" in message
    assert "did you mean 'Sequence'?" in message


def test_error_headerless_file_read_with_header(tmp_path):
    path = write(tmp_path / "t.csv", "ACGTACGTAC,1\nCCCCCCCCCC,0\n")
    message = error_of(read_table, path)
    assert "pass header=False and 0-based column numbers" in message


def test_error_invalid_character_names_file_line_record(tmp_path):
    path = write(tmp_path / "t.csv", "name,sequence,label\nr1,ACGT,1\nr2,AC-T,0\n")
    message = error_of(read_table, path, name_column="name")
    assert message == (
        f"{path}, line 3, record 'r2': character '-' at position 2 (0-based) is not a "
        "nucleotide letter. Remove alignment gaps (e.g. with 'seqkit seq -g')."
    )


@pytest.mark.parametrize(
    ("text", "kwargs", "expected"),
    [
        ("sequence,label\nACGT,1\n,0\n", {}, "line 3: the sequence is empty. Fill it in"),
        ("sequence,label\nACGT,1\nCC, \n", {}, "line 3: the label is empty. Fill in the label"),
        ("sequence,label\nACGT,1\nCC,1\n", {}, "all labels are '1': a classifier needs at least two"),
        (
            "sequence,label\nACGT,a\nCC,z\n",
            {"classes": ["a", "b"]},
            "line 3: label 'z' is not one of classes=['a', 'b']. Add it to classes=",
        ),
        ("sequence,label\nACGT,1\nCC,0,7\n", {}, "line 3: the row has 3 fields but the header has 2"),
        ("", {}, "the file is empty"),
        ("\n\n", {}, "the file is empty"),
        ("sequence,label\n", {}, "the table has a header but no rows"),
        (">s1 label=1\nACGT\n", {}, "this is a FASTA file, not a table. Use read_fasta_labelled"),
        ("sequence,label\nACGT,1\n", {"header": False}, "column 'sequence' is a name, but header=False"),
        ("a,b\nACGT,1\n", {"sequence_column": 5}, "column number 5 is outside the 2 columns"),
        ("sequence,sequence,label\nA,C,1\n", {}, "the header names column 'sequence' twice"),
        ("sequence,a,b\nACGT,1,2\n", {"label_column": ["a", "b"]}, "label column 'b' holds '2', not 0 or 1"),
        ("sequence,a\nACGT,1\n", {"label_column": ["a"]}, "a list label_column needs two or more"),
        ("sequence,label\nACGT,a;;b\nCC,c\n", {"label_separator": ";"}, "line 2: the label list is empty"),
        ("sequence,label\nACGT,a\nCC,b\n", {"classes": ["a"]}, "classes= must list two or more"),
    ],
)
def test_table_errors(tmp_path, text, kwargs, expected):
    path = write(tmp_path / "t.csv", text)
    message = error_of(read_table, path, **kwargs)
    assert message.startswith(str(path))
    assert expected in message


def test_error_binary_file(tmp_path):
    path = write(tmp_path / "t.csv", b"BAM\x01\x00\x00\x00")
    assert "this is a BAM file" in error_of(read_table, path)
    path = write(tmp_path / "u.csv", b"seq\x00\x01\x02")
    assert "this is a binary file" in error_of(read_table, path)


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({"delimiter": ",,"}, "delimiter must be one character"),
        ({"header": "yes"}, "header must be True or False"),
        ({"label_separator": ""}, "label_separator must be a non-empty string"),
        ({"sequence_column": 1.5}, "a column must be given as a name or a 0-based number"),
        ({"label_column": ["a", "b"], "classes": ["x"]}, "one name per column"),
    ],
)
def test_option_errors(tmp_path, kwargs, expected):
    path = write(tmp_path / "t.csv", "sequence,label,a,b\nACGT,1,0,1\nCC,0,1,0\n")
    assert expected in error_of(read_table, path, **kwargs)


def test_check_sequences_points_at_the_row():
    def where(i):
        return {"path": "x.csv", "line": i + 2}  # header on line 1, row i on line i + 2

    check_sequences(["ACGT", "acgtn", "RYKM"], where=where)  # all valid
    message = error_of(check_sequences, ["ACGT", "AC", "GG*T"], where=where)
    assert message.startswith("x.csv, line 4: character '*' at position 2 (0-based)")
    assert error_of(check_sequences, ["AC", ""], where=where).startswith("x.csv, line 3: the sequence is empty")


def test_error_missing_file(tmp_path):
    with pytest.raises(MissingFileError):
        read_table(tmp_path / "absent.csv")


# ------------------------------------------------------- read_fasta_labelled


def test_fasta_labels_default_pattern(tmp_path):
    path = write(tmp_path / "l.fa", ">s1 label=pos x\nAC\nGT\n>s2 label=neg\nTTT\n>s3 y label=pos\nG\n")
    data = read_fasta_labelled(path)
    assert data.names == ("s1", "s2", "s3")
    assert data.sequences == ("ACGT", "TTT", "G")  # lines joined
    assert data.classes == ("neg", "pos")
    assert data.labels.tolist() == [1, 0, 1]


def test_fasta_labels_regex_callable_and_multilabel(tmp_path):
    path = write(tmp_path / "l.fa.gz", gzip.compress(b">s1|CTCF\nACGT\n>s2|YY1\nCC\n>s3|MAX\nGG\n"))
    data = read_fasta_labelled(path, label_pattern=r"\|(\w+)$")
    assert data.classes == ("CTCF", "MAX", "YY1") and data.labels.tolist() == [0, 2, 1]
    same = read_fasta_labelled(path, label_pattern=lambda header: header.split("|")[1])
    assert same.labels.tolist() == data.labels.tolist()
    multi = read_fasta_labelled(
        io.BytesIO(b">a t=x,y\nAC\n>b t=y\nGG\n"), label_pattern=r"t=(\S+)", label_separator=","
    )
    assert multi.classes == ("x", "y") and multi.labels.tolist() == [[1, 1], [0, 1]]


def test_fasta_label_errors(tmp_path):
    path = write(tmp_path / "l.fa", ">s1 label=1\nACGT\n>s2 other\nCC\n")
    message = error_of(read_fasta_labelled, path)
    assert message.startswith(f"{path}, record 's2': the header 's2 other' holds no label")
    assert "Give label_pattern= a regular expression with one (...) group around the label" in message
    assert "has 2 groups, not 1" in error_of(read_fasta_labelled, path, label_pattern=r"(a)(b)")
    assert "has 0 groups" in error_of(read_fasta_labelled, path, label_pattern=r"label=\S+")
    bad = write(tmp_path / "b.fa", ">s1 label=1\nACGT\n>s2 label=0\nACJT\n")
    assert error_of(read_fasta_labelled, bad).startswith(
        f"{bad}, record 's2': character 'J' at position 2 (0-based) is not a nucleotide letter"
    )
    table = write(tmp_path / "t.csv", "sequence,label\nACGT,1\n")
    assert "does not start a FASTA record" in error_of(read_fasta_labelled, table)


# ---------------------------------------------- read_fasta_classes / folder


def test_fasta_classes_by_stem(tmp_path):
    pos = write(tmp_path / "Ecoli_prom.fa", ">p1\nACGT\n>p2\nCCGG\n")
    neg = write(tmp_path / "Ecoli_non_prom.fa.gz", gzip.compress(b">n1\nTTTT\n"))
    data = read_fasta_classes([pos, neg])
    assert data.classes == ("Ecoli_non_prom", "Ecoli_prom")  # the "non" class is the negative
    assert data.names == ("p1", "p2", "n1")  # file order, then record order
    assert data.labels.tolist() == [1, 1, 0]
    assert data.task == "binary"


def test_fasta_classes_mapping_with_handles_and_table(tmp_path):
    table = write(tmp_path / "c.csv", "sequence,label\nGGG,ignored\n")
    data = read_fasta_classes({"b": io.BytesIO(b">x\nAC\n"), "a": io.BytesIO(b">y\nGT\n"), "c": table})
    assert data.classes == ("a", "b", "c")
    assert data.labels.tolist() == [1, 0, 2]
    assert data.sequences == ("AC", "GT", "GGG")
    assert data.names[2] == "c.csv:2"


def test_fasta_classes_errors(tmp_path):
    a = write(tmp_path / "a.fa", ">x\nAC\n")
    assert "only one class (a) was given" in error_of(read_fasta_classes, [a])
    other = tmp_path / "sub"
    other.mkdir()
    a2 = write(other / "a.fa", ">y\nGT\n")
    assert "two files give the same class name" in error_of(read_fasta_classes, [a, a2])
    empty = write(tmp_path / "e.fa", "")
    assert error_of(read_fasta_classes, [a, empty]) == (
        f"{empty}: the file is empty. Check that it was written completely."
    )
    bad = write(tmp_path / "b.fa", ">z\nAC\n>w\nAXC\n")
    assert error_of(read_fasta_classes, [a, bad]).startswith(f"{bad}, record 'w': character 'X' at position 1")
    assert "cannot name its class" in error_of(read_fasta_classes, [a, io.BytesIO(b">q\nA\n")])
    assert error_of(read_fasta_classes, {"a": a, "b": a2}, classes=["a", "c"]).startswith(
        f"{a2}, record 'y': label 'b' is not one of classes=['a', 'c']"
    )


def make_folder(root: Path) -> Path:
    (root / "pos").mkdir(parents=True)
    (root / "neg").mkdir()
    write(root / "pos" / "1.fa", ">p1\nACGT\n")
    write(root / "pos" / "2.csv", "sequence\nCCCC\n")  # a table of sequences only
    write(root / "pos" / ".hidden", "junk")
    write(root / "neg" / "n.fa.gz", gzip.compress(b">n1\nTTTT\n>n2\nGGGG\n"))
    write(root / "README.md", "ignored")
    return root


def test_read_folder(tmp_path):
    data = read_folder(make_folder(tmp_path / "d"))
    assert data.classes == ("neg", "pos")
    assert data.names == ("n1", "n2", "p1", "2.csv:2")  # sorted folders, then files
    assert data.labels.tolist() == [0, 0, 1, 1]


def test_read_folder_errors(tmp_path):
    with pytest.raises(MissingFileError):
        read_folder(tmp_path / "absent")
    flat = tmp_path / "flat"
    flat.mkdir()
    write(flat / "train.csv", "x")
    assert "holds no class sub-folders (it holds ['train.csv'])" in error_of(read_folder, flat)
    (flat / "a").mkdir()
    (flat / "b").mkdir()
    write(flat / "a" / "x.fa", ">x\nA\n")
    assert error_of(read_folder, flat).startswith(f"{flat / 'b'}: the class folder holds no files")


# ------------------------------------------------------------ read_labelled


def test_read_labelled_dispatch(tmp_path):
    folder = make_folder(tmp_path / "d")
    assert read_labelled(folder).classes == ("neg", "pos")
    files = [folder / "pos" / "1.fa", folder / "neg" / "n.fa.gz"]
    assert read_labelled(files).classes == ("1", "n")  # stems "1" and "n": text order
    assert read_labelled({"x": files[0], "y": files[1]}).classes == ("x", "y")
    fasta = write(tmp_path / "l.txt", "\n>s1 label=a\nAC\n>s2 label=b\nGG\n")  # content, not name
    assert read_labelled(fasta).names == ("s1", "s2")
    table = write(tmp_path / "t.fa", "sequence,label\nAC,a\nGG,b\n")
    assert read_labelled(table, delimiter=",").names == ("t.fa:2", "t.fa:3")
    handle = io.BytesIO(gzip.compress(b">a label=x\nAC\n>b label=y\nG\n"))
    assert read_labelled(handle).labels.tolist() == [0, 1]
    with pytest.raises(TypeError, match="read_table"):
        read_labelled(table, label_pattern="x")
    # table_options reach read_table only: a FASTA ignores them, a table uses them
    columns = {"sequence_column": "seq", "label_column": "cls"}
    assert read_labelled(fasta, table_options=columns).names == ("s1", "s2")
    renamed = write(tmp_path / "r.csv", "cls,seq\na,AC\nb,GG\n")
    assert read_labelled(renamed, table_options=columns).sequences == ("AC", "GG")


# -------------------------------------------------------------- write_table


def test_write_table_round_trip(tmp_path):
    source = write(tmp_path / "t.csv", "label,sequence\nb,ACgt\nc,CC\na,GGG\n")
    data = read_table(source, classes=["c", "b", "a"])
    out = tmp_path / "out" / "split.csv"
    write_table(data, out)
    assert out.read_text() == "name,sequence,label\nt.csv:2,ACgt,b\nt.csv:3,CC,c\nt.csv:4,GGG,a\n"
    back = read_table(out, name_column="name", classes=data.classes)
    assert back.sequences == data.sequences and back.names == data.names
    assert back.labels.tolist() == data.labels.tolist() and back.classes == data.classes


def test_write_table_multilabel_gzip(tmp_path):
    data = read_table(write(tmp_path / "t.csv", "sequence,label\nAC,x;y\nGG,y\n"), label_separator=";")
    out = tmp_path / "m.csv.gz"
    write_table(data, out)
    text = gzip.decompress(out.read_bytes()).decode()
    assert text == "name,sequence,x,y\nt.csv:2,AC,1,1\nt.csv:3,GG,0,1\n"
    back = read_table(out, name_column="name", label_column=list(data.classes))
    assert np.array_equal(back.labels, data.labels) and back.classes == data.classes


def test_write_table_is_atomic(tmp_path):
    data = LabelledSequences(("AC", "GG"), [[1, 0], [0, 1]], ("name", "b"), "multilabel", ("r1", "r2"))
    out = write(tmp_path / "keep.csv", "old")
    assert "would clash" in error_of(write_table, data, out)
    assert out.read_text() == "old"  # untouched
    assert [p.name for p in tmp_path.iterdir()] == ["keep.csv"]  # no temporary file left


@settings(max_examples=30, deadline=None)
@given(
    st.lists(
        st.tuples(st.text("ACGTNacgtn", min_size=1, max_size=20), st.sampled_from(["a", "b", "c"])),
        min_size=1,
        max_size=30,
    )
)
def test_round_trip_property(tmp_path_factory, rows):
    sequences = [s for s, _ in rows]
    names = [f"r{i}" for i in range(len(rows))]
    data = labelled_from_rows(
        sequences, names, [lab for _, lab in rows], where=lambda i: {"record": names[i]}, classes=["a", "b", "c"]
    )
    out = tmp_path_factory.mktemp("rt") / "x.csv"
    write_table(data, out)
    back = read_table(out, name_column="name", classes=data.classes)
    assert back.sequences == data.sequences and back.names == data.names
    assert np.array_equal(back.labels, data.labels)


# --------------------------------------------------------- class_order rules


@pytest.mark.parametrize(
    ("found", "expected"),
    [
        (["10", "2", "1"], ("1", "2", "10")),  # numeric, not text, order
        (["1", "-1"], ("-1", "1")),
        (["+", "-"], ("-", "+")),  # text order would put "+" first
        (["True", "False"], ("False", "True")),
        (["yes", "no"], ("no", "yes")),
        (["POS", "NEG"], ("NEG", "POS")),
        (["Ecoli_prom", "Ecoli_non_prom"], ("Ecoli_non_prom", "Ecoli_prom")),
        (["tata", "nontata"], ("nontata", "tata")),
        (["dm.don", "dm.n1don"], ("dm.n1don", "dm.don")),  # splice42 decoys
        (["promoter", "shuffled_promoter"], ("shuffled_promoter", "promoter")),
        (["prom", "prom_strong"], ("prom", "prom_strong")),  # no negative word: text order
        (["b", "a", "c", "a"], ("a", "b", "c")),
    ],
)
def test_class_order(found, expected):
    assert class_order(found) == expected


# ---------------------------------------------------- LabelledSequences


def small() -> LabelledSequences:
    return LabelledSequences(["ACGT", "CC", "G"], [1, 0, 1], ["neg", "pos"], "binary", ["a", "b", "c"], "s")


def test_labelled_sequences_fields_are_immutable():
    data = small()
    assert isinstance(data.sequences, tuple) and isinstance(data.names, tuple)
    with pytest.raises(dataclasses.FrozenInstanceError):
        data.task = "multiclass"
    with pytest.raises(ValueError):
        data.labels[0] = 0  # read-only copy
    assert repr(data) == "LabelledSequences(3 sequences, task='binary', classes=('neg', 'pos'), source='s')"


def test_subset():
    data = small()
    sub = data.subset([2, 0, 2])
    assert sub.sequences == ("G", "ACGT", "G") and sub.names == ("c", "a", "c")
    assert sub.labels.tolist() == [1, 1, 1] and sub.classes == data.classes
    assert data.subset(np.array([True, False, True])).names == ("a", "c")
    assert len(data.subset([])) == 0
    assert "index 3 is outside 0..2" in error_of(data.subset, [0, 3])
    assert "boolean mask of shape (2,)" in error_of(data.subset, [True, False])


def test_codes_and_class_counts():
    codes, lengths = small().codes()
    assert codes.shape == (3, 4) and codes.dtype == np.uint8
    assert codes.tolist() == [[0, 1, 2, 3], [1, 1, PAD, PAD], [2, PAD, PAD, PAD]]
    assert lengths.tolist() == [4, 2, 1]
    assert small().codes(length=6)[0].shape == (3, 6)
    assert small().class_counts() == {"neg": 1, "pos": 2}


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({"labels": [1, 0]}, "labels must have shape (3,)"),
        ({"labels": [1, 0, 2]}, "values in 0..1"),
        ({"names": ["a"]}, "1 names were given for 3 sequences"),
        ({"classes": ["a", "b", "c"]}, "task 'binary' needs exactly 2 classes"),
        ({"classes": ["a", "a"]}, "classes must be distinct"),
        ({"task": "regression"}, "task must be one of"),
    ],
)
def test_labelled_sequences_validation(kwargs, expected):
    fields = {
        "sequences": ["ACGT", "CC", "G"],
        "labels": [1, 0, 1],
        "classes": ["neg", "pos"],
        "task": "binary",
        "names": ["a", "b", "c"],
        **kwargs,
    }
    assert expected in error_of(LabelledSequences, **fields)


@settings(max_examples=25, deadline=None)
@given(st.lists(st.integers(0, 2), min_size=1, max_size=40), st.data())
def test_subset_composes(labels, draw):
    n = len(labels)
    data = LabelledSequences(
        ["A" * (i + 1) for i in range(n)], labels, ["a", "b", "c"], "multiclass", [str(i) for i in range(n)]
    )
    first = draw.draw(st.lists(st.integers(0, n - 1), max_size=20))
    second = draw.draw(st.lists(st.integers(0, len(first) - 1), max_size=20)) if first else []
    twice = data.subset(first).subset(second)
    once = data.subset([first[j] for j in second])
    assert twice.names == once.names and np.array_equal(twice.labels, once.labels)
    assert sum(data.subset(first).class_counts().values()) == len(first)


# ---------------------------------------------------------------- real data


def test_example_uci_splice(example_data):
    # data/uci_splice.csv: 3,186 rows, EI 767, IE 765, N 1,654 (UCI documentation), 60 bp.
    data = read_labelled(example_data / "uci_splice.csv")
    assert data.task == "multiclass" and data.classes == ("EI", "IE", "N")
    assert data.class_counts() == {"EI": 767, "IE": 765, "N": 1654}
    assert {len(s) for s in data.sequences} == {60}


@pytest.mark.parametrize(("split", "rows"), [("train", 47356), ("dev", 5920), ("test", 5920)])
def test_gue_prom_core_all(shared_data, split, rows):
    data = read_table(shared_data / "promoters" / "gue_prom_core_all" / f"{split}.csv")
    assert len(data) == rows and data.task == "binary" and data.classes == ("0", "1")
    counts = data.class_counts()
    assert abs(counts["0"] - counts["1"]) < 0.01 * rows  # balanced (train: 23,705 vs 23,651)
    codes, lengths = data.codes()
    assert codes.shape == (rows, 70) and (lengths == 70).all()


def test_uci_splice_shared(shared_data):
    data = read_table(shared_data / "splice" / "uci_splice" / "splice_statlog_decoded.csv")
    assert len(data) == 3186 and data.class_counts() == {"EI": 767, "IE": 765, "N": 1654}


def test_uci_ecoli_promoters(shared_data):
    path = shared_data / "promoters" / "uci_ecoli" / "promoters.data"
    data = read_table(path, header=False, label_column=0, name_column=1, sequence_column=2)
    assert len(data) == 106 and data.class_counts() == {"-": 53, "+": 53}
    assert {len(s) for s in data.sequences} == {57}
    assert all(s.islower() for s in data.sequences)
    assert data.names[0] == "S10" and data.sequences[0].startswith("tactagcaat")


def test_cnnprom_ecoli(shared_data):
    folder = shared_data / "promoters" / "cnnprom"
    data = read_labelled([folder / "Ecoli_prom.fa", folder / "Ecoli_non_prom.fa"])
    assert data.classes == ("Ecoli_non_prom", "Ecoli_prom")
    assert data.class_counts() == {"Ecoli_non_prom": 3000, "Ecoli_prom": 839}
    assert {len(s) for s in data.sequences} == {81}


def test_splice42_dm_donors_vs_decoys(shared_data):
    folder = shared_data / "splice" / "splice42"
    data = read_fasta_classes([folder / "dm.don.fa.gz", folder / "dm.n1don.fa.gz"])
    assert data.classes == ("dm.n1don", "dm.don")  # decoys are the negative class
    assert data.class_counts() == {"dm.n1don": 19886, "dm.don": 19886}
    assert {len(s) for s in data.sequences} == {42}
    donors = data.subset(data.labels == 1)
    assert all(s[20:22].upper() == "GT" for s in donors.sequences)  # GT at the centre


def test_name_column_is_used_when_the_header_has_one(tmp_path):
    table = tmp_path / "named.csv"
    table.write_text("name,sequence,label\nchr1:0-4(+),ACGT,1\nchr2:5-9(-),TTTT,0\n")
    assert read_table(table).names == ("chr1:0-4(+)", "chr2:5-9(-)")
    plain = tmp_path / "plain.csv"
    plain.write_text("sequence,label\nACGT,1\nTTTT,0\n")
    assert read_table(plain).names == ("plain.csv:2", "plain.csv:3")


# ---------------------------------------------------------------- open_table (streaming)


def test_open_table_streams_blocks_with_line_numbers(tmp_path):
    path = write(
        tmp_path / "big.tsv.gz",
        gzip.compress(
            b"name\tsequence\n"
            + b"".join(f"r{i}\t{'ACGT' * (i + 1)}\n".encode() + (b"\n" if i == 2 else b"") for i in range(7))
        ),
    )
    with open_table(path) as table:
        assert table.columns == ["name", "sequence"] and table.line == 1 and table.delimiter == "\t"
        blocks = list(table.blocks(3))
    assert [lines for lines, _ in blocks] == [[2, 3, 4], [6, 7, 8], [9]]  # the blank line 5 is skipped
    assert [row[0] for _, rows in blocks for row in rows] == [f"r{i}" for i in range(7)]


def test_open_table_errors_name_file_and_line(tmp_path):
    ragged = write(tmp_path / "ragged.csv", 'sequence,label\nACGT,1\n"AC,GT",0\nACGT,1,extra\n')
    with open_table(ragged) as table, pytest.raises(InputError) as err:
        assert [row for _, row in table.rows()][:2] == [["ACGT", "1"], ["AC,GT", "0"]]
    assert "ragged.csv, line 4: the row has 3 fields but the header has 2" in str(err.value)
    assert "delimiter=" not in str(err.value)  # open_table takes no delimiter to suggest
    with open_table(write(tmp_path / "s.csv", "seq,label\nACGT,1\n")) as table:
        with pytest.raises(InputError, match=r"s.csv, line 1: there is no column 'sequence'; the columns are 'seq'"):
            table.index("sequence")
    with pytest.raises(InputError, match="this is a FASTA file, not a table"):
        with open_table(write(tmp_path / "x.fa", ">a\nACGT\n")):
            pass
