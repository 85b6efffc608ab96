"""``bioseq encode``: FASTA and labelled tables to .npz, atomically, with clear errors."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from bioseq.cli.main import main
from bioseq.codes import decode


def test_fasta_to_npz_round_trip(tmp_path):
    fasta = tmp_path / "x.fa"
    fasta.write_text(">a first\nACGT\nNN\n>b\nacg\n")
    out = tmp_path / "x.npz"
    assert main(["encode", str(fasta), "-o", str(out)]) == 0
    z = np.load(out)
    assert set(z.files) == {"codes", "lengths", "names"}
    assert decode(z["codes"], z["lengths"]) == ["ACGTNN", "ACG"]
    assert z["names"].tolist() == ["a", "b"] and z["codes"].dtype == np.uint8


def test_table_keeps_labels_and_classes(tmp_path, example_data):
    out = tmp_path / "splice.npz"
    assert main(["encode", str(example_data / "uci_splice.csv"), "-o", str(out), "--compress"]) == 0
    z = np.load(out)
    assert z["codes"].shape == (3186, 60) and z["classes"].tolist() == ["EI", "IE", "N"]
    assert np.bincount(z["labels"]).tolist() == [767, 765, 1654] and str(z["task"]) == "multiclass"


def test_fasta_with_header_labels(tmp_path):
    fasta = tmp_path / "l.fa"
    fasta.write_text(">s1 label=pos\nACGT\n>s2 label=neg\nTTTT\n")
    out = tmp_path / "l.npz"
    assert main(["encode", str(fasta), "-o", str(out), "--label-pattern", r"label=(\S+)"]) == 0
    z = np.load(out)
    assert z["classes"].tolist() == ["neg", "pos"] and z["labels"].tolist() == [1, 0]


def test_bad_input_leaves_no_output_and_keeps_old_file(tmp_path, capsys):
    fasta = tmp_path / "bad.fa"
    fasta.write_text(">a\nACGT\n>b\nACJT\n")
    out = tmp_path / "bad.npz"
    out.write_bytes(b"previous result")
    assert main(["encode", str(fasta), "-o", str(out)]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"bioseq encode: error: {fasta}, line 4") and "'J'" in err
    assert out.read_bytes() == b"previous result"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.fa", "bad.npz"]


def test_longer_than_length_is_an_error(tmp_path, capsys):
    fasta = tmp_path / "x.fa"
    fasta.write_text(">a\nACGTACGT\n")
    assert main(["encode", str(fasta), "-o", str(tmp_path / "x.npz"), "--length", "4"]) == 1
    err = capsys.readouterr().err
    # the flag the user typed, not the Python parameter
    assert "record 'a'" in err and "longer than --length 4. Set --length N to at least" in err, err
    assert not (tmp_path / "x.npz").exists()


def test_console_script_exit_status_without_traceback(tmp_path):
    missing = tmp_path / "missing.fa"
    result = subprocess.run(
        [sys.executable, "-m", "bioseq.cli.main", "encode", str(missing), "-o", str(tmp_path / "o.npz")],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert result.stderr.strip() == (
        f"bioseq encode: error: {missing}: the file does not exist. Check the path and the working directory."
    )


def test_usage_error_exit_2(capsys):
    with pytest.raises(SystemExit) as info:
        main(["encode"])
    assert info.value.code == 2
