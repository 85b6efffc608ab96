"""bioseq.train.tune and ``bioseq tune``: search spaces, studies that resume, pruning, the winner's files."""

from __future__ import annotations

import csv
import types

import numpy as np
import optuna
import pytest
import torch

from bioseq.cli.main import main
from bioseq.errors import InputError
from bioseq.io.tables import read_labelled, write_table
from bioseq.models.registry import model_kind, model_names
from bioseq.train.config import config_from_options, load_config
from bioseq.train.tune import _pruning_callback, load_space, trial_options, tune


@pytest.fixture(scope="module")
def splice_small(tmp_path_factory, example_data):
    """UCI splice: 900 training and 300 test sequences (stratification left to chance; 3 classes)."""
    data = read_labelled(example_data / "uci_splice.csv")
    order = np.random.default_rng(2).permutation(len(data))
    folder = tmp_path_factory.mktemp("tune-data")
    write_table(data.subset(order[:900]), folder / "train.csv")
    write_table(data.subset(order[900:1200]), folder / "test.csv")
    return folder / "train.csv", folder / "test.csv"


def _rows(path):
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle, delimiter="\t"))


@pytest.mark.parametrize("model", model_names())
def test_default_spaces_name_real_settings(model):
    space = model_kind(model).search_space
    assert space and load_space(None, model) == {
        name: load_space({name: spec}, model)[name] for name, spec in space.items()
    }


@pytest.mark.parametrize(
    ("space", "message"),
    [
        ({"lrr": {"low": 1e-4, "high": 1e-3}}, "Did you mean 'lr'"),
        ({"train": {"choices": ["a.csv"]}}, "cannot be tuned"),
        ({"model_options.d_modle": {"choices": [32]}}, "model_options.d_model"),
        ({"lr": {"low": 1e-3, "high": 1e-4}}, "low < high"),
        ({"lr": {"low": 0.0, "high": 1e-3, "log": True}}, "low > 0"),
        ({"lr": {"low": 1e-4, "high": 1e-3, "lg": True}}, "unknown key"),
        ({"model_options.n_layers": {"choices": [[1, 2]]}}, "one element at a time"),
        ({"lr": 0.001}, "must be a mapping"),
        ({}, "non-empty mapping"),
    ],
)
def test_bad_spaces_are_refused_with_the_entry_named(space, message):
    with pytest.raises(InputError, match=message.replace("(", r"\(")):
        load_space(space, "transformer")


def test_space_file_errors_name_the_file(tmp_path):
    bad = tmp_path / "space.yaml"
    bad.write_text("lr: {low: 1, high: [\n")
    with pytest.raises(InputError, match="space.yaml.*not valid YAML"):
        load_space(bad, "cnn")
    with pytest.raises(InputError, match="does not exist"):
        load_space(tmp_path / "absent.yaml", "cnn")


def test_trial_options_apply_settings_and_hide_the_test_set(tmp_path):
    config = config_from_options(
        {"train": "a.csv", "test": "b.csv", "model": "transformer", "out": tmp_path, "model_options": {"n_heads": 2}}
    )
    options = trial_options(config, {"lr": 5e-4, "model_options.d_model": 32}, tmp_path / "t0")
    assert options["lr"] == 5e-4 and options["model_options"] == {"n_heads": 2, "d_model": 32}
    assert options["test"] is None and options["out"] == str(tmp_path / "t0")
    assert config.model_options == {"n_heads": 2}  # the base config is untouched


def test_a_baseline_study_resumes_and_writes_the_winner(splice_small, tmp_path):
    train_csv, test_csv = splice_small
    config = config_from_options(
        {
            "train": train_csv,
            "test": test_csv,
            "model": "kmer_logistic",
            "out": tmp_path / "study",
            "monitor": "accuracy",
        }
    )
    space = {"model_options.k": {"low": 1, "high": 4}}
    first = tune(config, trials=3, space=space)
    rows = _rows(tmp_path / "study" / "trials.tsv")
    assert [r["state"] for r in rows] == ["complete"] * 3 and first.n_trials == 3
    values = [float(r["value"]) for r in rows]
    assert first.best_value == pytest.approx(max(values)) and values[first.best_trial] == max(values)
    assert first.test_metrics is not None and 0.0 <= first.test_metrics["accuracy"] <= 1.0
    # best.yaml is a training config that reproduces the winner's settings
    best = load_config(first.best_config, {})
    assert best.model_options["k"] == first.best_settings["model_options.k"]
    assert best.test == test_csv and best.out == tmp_path / "study" / "best"
    # the same command again runs nothing; a larger target runs only the difference
    assert tune(config, trials=3, space=space).n_trials == 3
    assert tune(config, trials=4, space=space).n_trials == 4
    assert len(_rows(tmp_path / "study" / "trials.tsv")) == 4
    with pytest.raises(InputError, match="different space"):
        tune(config, trials=5, space={"model_options.k": {"choices": [2, 3]}})


def test_failed_trials_are_recorded_and_all_failing_is_an_error(splice_small, tmp_path):
    config = config_from_options({"train": splice_small[0], "model": "kmer_logistic", "out": tmp_path / "s"})
    with pytest.raises(InputError, match="no trial finished.*k must be an integer from 1 to 8"):
        tune(config, trials=2, space={"model_options.k": {"choices": [9, 10]}})
    rows = _rows(tmp_path / "s" / "trials.tsv")
    assert [r["state"] for r in rows] == ["fail", "fail"] and "k must be" in rows[0]["error"]


def test_refusals(splice_small, tmp_path):
    base = {"train": splice_small[0], "model": "cnn", "out": tmp_path / "s"}
    with pytest.raises(InputError, match="not the loss"):
        tune(config_from_options({**base, "monitor": "loss"}), trials=1)
    with pytest.raises(InputError, match="one after another"):
        tune(config_from_options({**base, "devices": 2}), trials=1)
    with pytest.raises(InputError, match="positive integer"):
        tune(config_from_options(base), trials=0)


class _Trial:
    def __init__(self, prune: bool):
        self.number, self.prune, self.reports = 7, prune, []

    def report(self, value, step):
        self.reports.append((step, value))

    def should_prune(self):
        return self.prune


@pytest.mark.parametrize("prune", [False, True])
def test_pruning_callback_reports_each_epoch_and_stops_on_request(prune):
    trial = _Trial(prune)
    callback = _pruning_callback(trial, "val_mcc")
    trainer = types.SimpleNamespace(
        sanity_checking=True, callback_metrics={"val_mcc": torch.tensor(0.5)}, current_epoch=3
    )
    callback.on_validation_end(trainer, None)
    assert trial.reports == []  # Lightning's sanity check is not an epoch
    trainer.sanity_checking = False
    if prune:
        with pytest.raises(optuna.TrialPruned, match="trial 7 pruned after epoch 3"):
            callback.on_validation_end(trainer, None)
    else:
        callback.on_validation_end(trainer, None)
    assert trial.reports == [(3, 0.5)]


def test_cli_tunes_a_cnn_with_pruning(splice_small, tmp_path, capsys):
    train_csv, test_csv = splice_small
    space = tmp_path / "space.yaml"
    space.write_text("lr: {low: 1.0e-3, high: 3.0e-3, log: true}\nmodel_options.head_hidden: {choices: [16, 32]}\n")
    out = tmp_path / "study"
    status = main(
        [
            "tune",
            "--train",
            str(train_csv),
            "--test",
            str(test_csv),
            "--model",
            "cnn",
            "--epochs",
            "2",
            "--batch-size",
            "64",
            "--out",
            str(out),
            "--trials",
            "2",
            "--space",
            str(space),
            "--model-option",
            "channels=[16, 16]",
            "--model-option",
            "kernel_sizes=[9, 5]",
            "--model-option",
            "dilations=[1, 1]",
            "--model-option",
            "pools=[2, 2]",
        ]
    )
    assert status == 0
    message = capsys.readouterr().err
    assert "best trial" in message and "test accuracy" in message
    rows = _rows(out / "trials.tsv")
    assert len(rows) == 2 and all(r["state"] == "complete" for r in rows)
    assert all((out / "trials" / f"{i:04d}" / "bundle" / "config.json").is_file() for i in range(2))
    best = load_config(out / "best.yaml", {})
    assert best.model == "cnn" and best.model_options["channels"] == [16, 16]


def test_cli_bad_space_is_one_line(splice_small, tmp_path, capsys):
    space = tmp_path / "space.yaml"
    space.write_text("dropout: {low: 0.0, high: 0.3}\n")
    status = main(
        ["tune", "--train", str(splice_small[0]), "--model", "cnn", "--out", str(tmp_path / "s"), "--space", str(space)]
    )
    error = capsys.readouterr().err.strip()
    assert status == 1 and "\n" not in error, error
    assert "'dropout' is a model option" in error and "Write it 'model_options.dropout'" in error
    assert not (tmp_path / "s").exists()


def test_inline_space_as_the_workflow_passes_it():
    space = load_space(
        '{"lr": {"low": 1.0e-4, "high": 1.0e-3, "log": true}, "batch_size": {"choices": [32, 64]}}', "lstm"
    )
    assert space == {"lr": {"low": 1e-4, "high": 1e-3, "log": True}, "batch_size": {"choices": [32, 64]}}
    with pytest.raises(InputError, match="inline search space is not valid YAML"):
        load_space("{lr: {low: 1", "lstm")
