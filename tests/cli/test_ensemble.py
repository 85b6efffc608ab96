"""Tests of ``bioseq ensemble``: two real models (an LSTM and a CNN) combined into one bundle."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest

from bioseq.bundle import load_bundle, save_bundle
from bioseq.cli import main as cli_main
from bioseq.models.registry import build_model


def _bundle(path, name: str, *, seed: int, length: int = 30, sha: str = "abc", classes=("neg", "pos")):
    import torch

    torch.manual_seed(seed)
    options = (
        {"n_outputs": 1}
        if name == "lstm"
        else {"n_outputs": 1, "channels": [8], "kernel_sizes": [5], "dilations": [1], "pools": [1]}
    )
    if name == "lstm":
        options.update(stem_channels=8, hidden_size=8, n_layers=1, head_hidden=8)
    model = build_model(name, options).eval()
    return save_bundle(
        path,
        model=model,
        model_name=name,
        model_options=options,
        task="binary",
        classes=classes,
        length=length,
        training={"seed": seed},
        data={"sha256": sha, "n_train": 10, "n_valid": 2},
    )


def _codes(n: int = 20, length: int = 30) -> np.ndarray:
    return np.random.default_rng(3).integers(0, 4, (n, length)).astype(np.uint8)


def test_ensemble_of_an_lstm_and_a_cnn_predicts_their_mean(tmp_path, capsys):
    _bundle(tmp_path / "lstm", "lstm", seed=0)
    _bundle(tmp_path / "cnn", "cnn", seed=1)
    status = cli_main.main(["ensemble", str(tmp_path / "lstm"), str(tmp_path / "cnn"), "--out", str(tmp_path / "mix")])
    assert status == 0
    assert "averages 2 members (lstm+cnn)" in capsys.readouterr().err
    mix = load_bundle(tmp_path / "mix")
    codes = _codes()
    expected = (
        load_bundle(tmp_path / "lstm").predict_proba(codes) + load_bundle(tmp_path / "cnn").predict_proba(codes)
    ) / 2
    np.testing.assert_allclose(mix.predict_proba(codes), expected, rtol=1e-6)
    config = json.loads((tmp_path / "mix" / "config.json").read_text())
    assert config["model"]["options"] == {"members": 2, "member_model": "lstm+cnn"}
    assert config["data"]["sha256"] == "abc"  # both members saw the same data
    assert [m["model"] for m in config["training"]["members"]] == ["lstm", "cnn"]
    assert [m["seed"] for m in config["training"]["members"]] == [0, 1]


def test_members_trained_on_other_data_are_combined_with_a_warning(tmp_path, caplog):
    _bundle(tmp_path / "a", "cnn", seed=0, sha="one")
    _bundle(tmp_path / "b", "cnn", seed=1, sha="two")
    assert cli_main.main(["ensemble", str(tmp_path / "a"), str(tmp_path / "b"), "--out", str(tmp_path / "e")]) == 0
    assert "different data" in caplog.text
    assert json.loads((tmp_path / "e" / "config.json").read_text())["data"]["sha256"] is None


@pytest.mark.parametrize("case", ["one", "width", "classes", "missing"])
def test_refusals_print_one_line_and_keep_an_earlier_ensemble(tmp_path, capsys, case):
    _bundle(tmp_path / "a", "cnn", seed=0)
    _bundle(tmp_path / "b", "lstm", seed=1)
    assert cli_main.main(["ensemble", str(tmp_path / "a"), str(tmp_path / "b"), "--out", str(tmp_path / "e")]) == 0
    before = (tmp_path / "e" / "config.json").read_text()
    capsys.readouterr()
    other = tmp_path / "c"
    if case == "width":
        _bundle(other, "lstm", seed=2, length=31)
    elif case == "classes":
        _bundle(other, "lstm", seed=2, classes=("no", "yes"))
    members = [str(tmp_path / "a")] + ([] if case == "one" else [str(other)])
    status = cli_main.main(["ensemble", *members, "--out", str(tmp_path / "e")])
    err = capsys.readouterr().err
    assert status == 1 and "Traceback" not in err and len(err.strip().splitlines()) == 1
    expected = {
        "one": "two or more members",
        "width": "reads windows of 31 bases, but another reads 30",
        "classes": "classes",
        "missing": "does not exist",
    }[case]
    assert expected in err
    if case != "one":
        assert str(other) in err  # the offending member is named
    assert (tmp_path / "e" / "config.json").read_text() == before


def _table(path, labels) -> str:
    rng = np.random.default_rng(5)
    rows = ["sequence,label"] + [f"{''.join(rng.choice(list('ACGT'), 30))},{label}" for label in labels]
    path.write_text("\n".join(rows) + "\n")
    return str(path)


def test_test_data_score_the_saved_ensemble_and_compare_reads_them(tmp_path, capsys):
    from bioseq.evaluate.bundle_eval import evaluate_bundle
    from bioseq.evaluate.compare import read_run_metrics

    _bundle(tmp_path / "lstm", "lstm", seed=0)
    _bundle(tmp_path / "cnn", "cnn", seed=1)
    test = _table(tmp_path / "test.csv", ["neg", "pos"] * 10)
    assert (
        cli_main.main(
            ["ensemble", str(tmp_path / "lstm"), str(tmp_path / "cnn"), "--out", str(tmp_path / "mix"), "--test", test]
        )
        == 0
    )
    assert "test accuracy" in capsys.readouterr().err
    stored = json.loads((tmp_path / "mix" / "metrics.json").read_text())["test"]
    again = evaluate_bundle(tmp_path / "mix", test, out=tmp_path / "eval", plots=False)
    for key in ("accuracy", "mcc", "auroc", "n"):
        assert stored[key] == pytest.approx(again[key])
    row = read_run_metrics(tmp_path / "mix", dataset="toy")
    assert (row.model, row.split, row.metrics["n"]) == ("ensemble(lstm+cnn)", "test", 20)


def test_bad_test_data_write_nothing(tmp_path, capsys):
    _bundle(tmp_path / "a", "cnn", seed=0)
    _bundle(tmp_path / "b", "lstm", seed=1)
    bad = _table(tmp_path / "bad.csv", ["neg", "maybe"])
    status = cli_main.main(
        ["ensemble", str(tmp_path / "a"), str(tmp_path / "b"), "--out", str(tmp_path / "e"), "--test", bad]
    )
    err = capsys.readouterr().err
    assert status == 1 and "maybe" in err and "bad.csv" in err
    assert not (tmp_path / "e").exists()


def test_the_ensemble_holds_only_the_members_bundle_files_and_no_symlink(tmp_path):
    _bundle(tmp_path / "a", "cnn", seed=0)
    _bundle(tmp_path / "b", "lstm", seed=1)
    (tmp_path / "b" / "notes.txt").write_text("not part of the bundle")
    (tmp_path / "b" / "scratch").mkdir()
    assert cli_main.main(["ensemble", str(tmp_path / "a"), str(tmp_path / "b"), "--out", str(tmp_path / "e")]) == 0
    found = {
        os.path.relpath(os.path.join(folder, name), tmp_path / "e")
        for folder, dirs, files in os.walk(tmp_path / "e")
        for name in dirs + files
    }
    assert found == {
        "config.json",
        "members",
        *(f"members/{i}{name}" for i in (0, 1) for name in ("", "/config.json", "/model.safetensors")),
    }
    assert not any(os.path.islink(tmp_path / "e" / name) for name in found)


@pytest.mark.parametrize("name", ["metrics.json", "model.safetensors", "extra"])
def test_a_member_holding_a_symlink_is_refused(tmp_path, capsys, name):
    _bundle(tmp_path / "a", "cnn", seed=0)
    _bundle(tmp_path / "b", "cnn", seed=1)
    secret = tmp_path / "secret"
    secret.write_text("someone else's file")
    if name == "model.safetensors":  # the real weights, linked from inside the member
        (tmp_path / "b" / "model.safetensors").rename(tmp_path / "b" / "weights.bin")
        (tmp_path / "b" / "model.safetensors").symlink_to("weights.bin")
    else:
        (tmp_path / "b" / name).symlink_to(secret)
    status = cli_main.main(["ensemble", str(tmp_path / "a"), str(tmp_path / "b"), "--out", str(tmp_path / "e")])
    err = capsys.readouterr().err
    assert status == 1 and "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert str(tmp_path / "b") in err and "symlink" in err
    assert not (tmp_path / "e").exists()
