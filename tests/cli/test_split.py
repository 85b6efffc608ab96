"""Tests of ``bioseq split``."""

from __future__ import annotations

import json

import bioseq.cli.main as cli
from bioseq.io.tables import read_labelled


def test_split_writes_three_tables_and_a_summary(tmp_path, example_data, capsys):
    out = tmp_path / "split"
    assert cli.main(["split", str(example_data / "uci_splice.csv"), "--out", str(out), "--seed", "1"]) == 0
    summary = json.loads((out / "summary.json").read_text())
    parts = {s: read_labelled(out / f"{s}.csv") for s in ("train", "valid", "test")}
    total = sum(len(p) for p in parts.values())
    assert total + sum(summary["duplicates_removed"].values()) == len(read_labelled(example_data / "uci_splice.csv"))
    assert {s: len(p) for s, p in parts.items()} == {s: summary["counts"][s]["total"] for s in parts}
    assert abs(len(parts["test"]) / total - 0.1) < 0.01 and parts["test"].classes == ("EI", "IE", "N")
    assert "bioseq split:" in capsys.readouterr().err


def test_split_refuses_bad_input_in_one_line_and_writes_nothing(tmp_path, capsys):
    bad = tmp_path / "bad.csv"
    bad.write_text("sequence,label\nACGT,a\nACGJ,b\n")
    out = tmp_path / "out"
    assert cli.main(["split", str(bad), "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("bioseq split: error:") and "bad.csv" in err and err.count("\n") == 1
    assert not out.exists()
