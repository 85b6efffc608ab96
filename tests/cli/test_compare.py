"""Tests of ``bioseq compare`` and :mod:`bioseq.evaluate.compare`.

Runs are mostly written by hand (a ``metrics.json`` and a bundle
``config.json``), so every expected cell is known; one test trains a real
k-mer baseline on the bundled UCI splice data and compares it.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from bioseq.cli import main as cli_main
from bioseq.errors import InputError, MissingFileError
from bioseq.evaluate.compare import COLUMNS, RunMetrics, read_run_metrics, write_comparison


def _metrics(mcc: float, *, n: int = 10, auroc: float | None = 0.9) -> dict:
    return {
        "accuracy": 0.8,
        "balanced_accuracy": 0.75,
        "mcc": mcc,
        "f1": 0.7,
        "auroc": auroc,
        "auprc": 0.6,
        "n": n,
        "classes": ["neg", "pos"],
        "task": "binary",
        "per_class": {},
        "confusion_matrix": [[1, 2], [3, 4]],
    }


def make_run(root: Path, model: str, *, valid: dict, test: dict | None = None) -> Path:
    """A run directory as bioseq train leaves it (the files compare reads)."""
    (root / "bundle").mkdir(parents=True)
    config = {"format": "bioseq-bundle", "format_version": 1, "model": {"name": model, "options": {}}}
    (root / "bundle" / "config.json").write_text(json.dumps(config))
    blocks = {"valid": valid} if test is None else {"valid": valid, "test": test}
    (root / "metrics.json").write_text(json.dumps(blocks))
    (root / "bundle" / "metrics.json").write_text(json.dumps(blocks))
    return root


@pytest.fixture()
def cli():
    """``bioseq`` in-process: ``cli([...])`` returns the exit status."""
    return cli_main.main


def read_tsv(path: Path) -> list[dict]:
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle, delimiter="\t"))


def test_run_prefers_test_split_and_names_dataset_from_layout(tmp_path):
    run = make_run(tmp_path / "uci" / "lstm", "lstm", valid=_metrics(0.1), test=_metrics(0.5, n=7))
    row = read_run_metrics(run)
    # runs/<dataset>/<model>: the run dir is named after the model, so the dataset is its parent.
    assert (row.dataset, row.model, row.split) == ("uci", "lstm", "test")
    assert row.metrics["mcc"] == 0.5 and row.metrics["n"] == 7
    assert read_run_metrics(run, split="valid").metrics["mcc"] == 0.1


def test_run_without_test_uses_valid_and_its_own_name(tmp_path):
    run = make_run(tmp_path / "promoters_cnn", "cnn", valid=_metrics(0.3))
    row = read_run_metrics(run)
    assert (row.dataset, row.model, row.split) == ("promoters_cnn", "cnn", "valid")


def test_bundle_directory_and_metrics_file_are_sources(tmp_path):
    run = make_run(tmp_path / "d" / "cnn", "cnn", valid=_metrics(0.3), test=_metrics(0.4))
    assert read_run_metrics(run / "bundle").dataset == "d"
    from_file = read_run_metrics(run / "metrics.json")
    assert (from_file.model, from_file.split, from_file.metrics["mcc"]) == ("cnn", "test", 0.4)


def test_evaluation_in_default_layout_finds_its_run(tmp_path):
    run = make_run(tmp_path / "d" / "lstm", "lstm", valid=_metrics(0.3))
    evaluation = run / "evaluation" / "heldout"
    evaluation.mkdir(parents=True)
    (evaluation / "metrics.json").write_text(json.dumps(_metrics(0.9, n=3)))
    row = read_run_metrics(evaluation, dataset="x")
    # bioseq evaluate names the folder after the data, and that is the split shown.
    assert (row.dataset, row.model, row.split, row.metrics["mcc"]) == ("x", "lstm", "heldout", 0.9)
    with pytest.raises(InputError, match="a split cannot be chosen"):
        read_run_metrics(evaluation, split="test")


def test_evaluation_elsewhere_is_refused(tmp_path):
    (tmp_path / "e").mkdir()
    (tmp_path / "e" / "metrics.json").write_text(json.dumps(_metrics(0.9)))
    with pytest.raises(MissingFileError, match="cannot tell which model wrote this evaluation") as info:
        read_run_metrics(tmp_path / "e")
    assert "metrics.json" in str(info.value) and "Pass the training run directory" in str(info.value)


def test_missing_and_broken_sources(tmp_path):
    with pytest.raises(MissingFileError, match="this run does not exist") as info:
        read_run_metrics(tmp_path / "nope")
    assert str(tmp_path / "nope") in str(info.value)
    (tmp_path / "interrupted").mkdir()
    with pytest.raises(MissingFileError, match="holds no metrics.json.*interrupted run has none"):
        read_run_metrics(tmp_path / "interrupted")
    (tmp_path / "nobundle").mkdir()
    (tmp_path / "nobundle" / "metrics.json").write_text(json.dumps({"valid": _metrics(0.1)}))
    with pytest.raises(MissingFileError, match="no model bundle"):
        read_run_metrics(tmp_path / "nobundle")
    run = make_run(tmp_path / "r", "cnn", valid=_metrics(0.1))
    with pytest.raises(InputError, match="dataset name must be a non-empty string"):
        read_run_metrics(run, dataset=" ")
    with pytest.raises(InputError, match="split must be one of test, valid, got 'train'"):
        read_run_metrics(run, split="train")
    with pytest.raises(InputError, match="has no 'test' metrics \\(it has valid\\)"):
        read_run_metrics(run, split="test")
    (run / "metrics.json").write_text("{not json")
    with pytest.raises(InputError, match="line 1.*not valid JSON"):
        read_run_metrics(run)
    (run / "metrics.json").write_text(json.dumps({"valid": {**_metrics(0.1), "mcc": "high"}}))
    with pytest.raises(InputError, match="metric 'mcc' is 'high', not a number"):
        read_run_metrics(run)
    (run / "metrics.json").write_text(json.dumps({"valid": {**_metrics(0.1), "n": 7.5}}))
    with pytest.raises(InputError, match="'n' is 7.5, not a number of sequences"):
        read_run_metrics(run)


def test_write_comparison_table_values_and_order(tmp_path):
    rows = [
        RunMetrics("b", "lstm", "test", {**dict.fromkeys(COLUMNS[3:9], 0.5), "auroc": None, "n": 4}, tmp_path),
        RunMetrics("a", "cnn", "test", {**dict.fromkeys(COLUMNS[3:9], 0.25), "n": 2}, tmp_path),
    ]
    tsv, png = write_comparison(rows, tmp_path / "out")
    table = read_tsv(tsv)
    assert list(table[0]) == list(COLUMNS)
    # sorted by dataset: "a" first; an undefined AUROC is written NA and gets no bar.
    assert [(r["dataset"], r["model"], r["mcc"], r["auroc"], r["n"]) for r in table] == [
        ("a", "cnn", "0.25", "0.25", "2"),
        ("b", "lstm", "0.5", "NA", "4"),
    ]
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["comparison.png", "comparison.tsv"]


def test_duplicate_rows_and_nothing_to_compare(tmp_path):
    row = RunMetrics("a", "cnn", "test", {**dict.fromkeys(COLUMNS[3:9], 0.1), "n": 1}, tmp_path)
    with pytest.raises(InputError, match="both give dataset 'a', model 'cnn'.*dataset=NAME for each run"):
        write_comparison([row, row], tmp_path / "out")
    with pytest.raises(InputError, match="nothing to compare"):
        write_comparison([], tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_cli_labels_and_mixed_splits(tmp_path, cli, capsys):
    a = make_run(tmp_path / "runs" / "one", "lstm", valid=_metrics(0.1), test=_metrics(0.2))
    b = make_run(tmp_path / "runs" / "two", "cnn", valid=_metrics(0.3))
    status = cli(["compare", str(a), str(b), "--labels", f"splice={a}", "--out", str(tmp_path / "cmp")])
    assert status == 0, capsys.readouterr().err
    table = read_tsv(tmp_path / "cmp" / "comparison.tsv")
    # a is labelled; b keeps its directory name; b has no test split so its valid metrics are used.
    assert [(r["dataset"], r["model"], r["split"], r["mcc"]) for r in table] == [
        ("splice", "lstm", "test", "0.2"),
        ("two", "cnn", "valid", "0.3"),
    ]
    assert (tmp_path / "cmp" / "comparison.png").stat().st_size > 1000


def test_cli_errors_are_one_line(tmp_path, cli, capsys):
    a = make_run(tmp_path / "one", "lstm", valid=_metrics(0.1))
    assert cli(["compare", str(a), "--labels", "x=elsewhere", "--out", str(tmp_path / "cmp")]) == 1
    err = capsys.readouterr().err
    assert err.startswith("bioseq compare: error: --labels 'x=elsewhere' names a path that is not one of the runs")
    assert cli(["compare", str(a), "--labels", "novalue", "--out", str(tmp_path / "cmp")]) == 1
    assert "is not NAME=PATH" in capsys.readouterr().err
    assert cli(["compare", str(a), str(tmp_path / "missing"), "--out", str(tmp_path / "cmp")]) == 1
    assert "missing: this run does not exist" in capsys.readouterr().err
    assert not (tmp_path / "cmp").exists()


def test_real_kmer_run_round_trip(tmp_path, example_data, cli):
    from bioseq.train.config import TrainConfig
    from bioseq.train.fit import train

    rows = (example_data / "uci_splice.csv").read_text().splitlines()
    # label,sequence rows; keep a small, class-mixed slice (every 10th row) for speed.
    (tmp_path / "small.csv").write_text("\n".join([rows[0], *rows[1::10]]) + "\n")
    run = tmp_path / "uci" / "kmer_logistic"
    result = train(TrainConfig(train=tmp_path / "small.csv", model="kmer_logistic", out=run, model_options={"k": 3}))
    assert cli(["compare", str(run), "--out", str(tmp_path / "cmp")]) == 0
    (row,) = read_tsv(tmp_path / "cmp" / "comparison.tsv")
    assert (row["dataset"], row["model"], row["split"]) == ("uci", "kmer_logistic", "valid")
    assert float(row["mcc"]) == pytest.approx(result.metrics["valid"]["mcc"])
    assert int(row["n"]) == result.metrics["valid"]["n"]
