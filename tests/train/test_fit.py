"""End to end: train, evaluate, predict and scan through the CLI and the Python API.

Real data (UCI splice-junction in ``data/``; GUE prom_core_all from
``../shared/data`` when present), subsets small enough for CI. Each model must
beat the trivial (majority-class) baseline by a clear margin.
"""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys

import numpy as np
import pytest
import torch

from bioseq.bundle import load_bundle
from bioseq.cli.main import main
from bioseq.codes import encode
from bioseq.errors import InputError
from bioseq.evaluate.metrics import trivial_baseline
from bioseq.io.tables import read_labelled, write_table
from bioseq.train.config import config_from_options
from bioseq.train.fit import train


@pytest.fixture(scope="module")
def splice_split(tmp_path_factory, example_data):
    """UCI splice: a fixed stratified 80/20 split written as two CSV files."""
    data = read_labelled(example_data / "uci_splice.csv")
    rng = np.random.default_rng(0)
    order = rng.permutation(len(data))
    cut = int(0.8 * len(data))
    folder = tmp_path_factory.mktemp("splice")
    write_table(data.subset(order[:cut]), folder / "train.csv")
    write_table(data.subset(order[cut:]), folder / "test.csv")
    return folder / "train.csv", folder / "test.csv"


@pytest.fixture(scope="module")
def gue_subset(tmp_path_factory, shared_data):
    """GUE prom_core_all: 6,000 training and 1,500 test sequences (70 bp)."""
    folder = tmp_path_factory.mktemp("gue")
    source = shared_data / "promoters" / "gue_prom_core_all"
    for split, n in (("train", 6000), ("test", 1500)):
        data = read_labelled(source / f"{split}.csv")
        keep = np.random.default_rng(1).permutation(len(data))[:n]
        write_table(data.subset(keep), folder / f"{split}.csv")
    return folder / "train.csv", folder / "test.csv"


def _margin(metrics: dict, labels, task: str) -> float:
    return metrics["accuracy"] - trivial_baseline(labels, task)["accuracy"]


@pytest.mark.slow
@pytest.mark.parametrize(
    ("model", "options", "epochs", "min_accuracy"),
    [
        ("cnn", {}, 8, 0.85),
        ("lstm", {}, 8, 0.80),
        ("transformer", {}, 8, 0.80),
        ("kmer_logistic", {"k": 3}, 1, 0.60),
    ],
)
def test_uci_splice_models_beat_the_majority_class(splice_split, tmp_path, model, options, epochs, min_accuracy):
    train_csv, test_csv = splice_split
    config = config_from_options(
        {
            "train": train_csv,
            "test": test_csv,
            "model": model,
            "model_options": options,
            "epochs": epochs,
            "batch_size": 64,
            "lr": 3e-3,
            "out": tmp_path / model,
            "patience": 20,
        }
    )
    result = train(config)
    test = result.metrics["test"]
    labels = read_labelled(test_csv).labels
    # majority class (N) is 52 % of the test set; a real model is far above it
    assert test["accuracy"] >= min_accuracy, test
    assert _margin(test, labels, "multiclass") > 0.08
    assert set(test) >= {"accuracy", "balanced_accuracy", "mcc", "f1", "auroc", "auprc", "confusion_matrix"}
    bundle = load_bundle(result.run_dir)
    assert bundle.classes == ("EI", "IE", "N") and bundle.task == "multiclass"
    for name in ("metrics.json", "metrics.tsv", "config.yaml", "plots/roc.png", "plots/confusion.png"):
        assert (result.run_dir / name).is_file(), name


@pytest.mark.slow
def test_gue_promoters_transformer_and_lstm(gue_subset, tmp_path):
    train_csv, test_csv = gue_subset
    for model in ("transformer", "lstm"):
        config = config_from_options(
            {
                "train": train_csv,
                "test": test_csv,
                "model": model,
                "epochs": 4,
                "batch_size": 128,
                "lr": 2e-3,
                "out": tmp_path / model,
            }
        )
        test = train(config).metrics["test"]
        # balanced classes: trivial MCC 0 and AUROC 0.5; DNABERT-2 reaches MCC 0.69 on the full set
        assert test["mcc"] > 0.35 and test["auroc"] > 0.75, (model, test)


def test_cli_train_evaluate_predict_roundtrip(splice_split, tmp_path, capsys):
    train_csv, test_csv = splice_split
    run = tmp_path / "run"
    assert (
        main(
            [
                "train",
                "--train",
                str(train_csv),
                "--valid",
                str(test_csv),
                "--model",
                "cnn",
                "--epochs",
                "3",
                "--out",
                str(run),
                "--model-option",
                "channels=[32, 32, 32]",
            ]
        )
        == 0
    )
    assert main(["evaluate", str(run), "--data", str(test_csv), "--out", str(tmp_path / "eval")]) == 0
    metrics = json.loads((tmp_path / "eval" / "metrics.json").read_text())
    assert {"accuracy", "mcc", "auroc", "auprc"} <= set(metrics)
    # predictions of the CLI equal the bundle's own, row for row
    fasta = tmp_path / "x.fa"
    data = read_labelled(test_csv)
    fasta.write_text("".join(f">{n}\n{s}\n" for n, s in zip(data.names[:50], data.sequences[:50])))
    out = tmp_path / "preds.tsv"
    assert main(["predict", str(run), "--input", str(fasta), "--out", str(out)]) == 0
    rows = out.read_text().splitlines()
    assert len(rows) == 51 and rows[0].split("\t")[:4] == ["name", "p_EI", "p_IE", "p_N"]
    expected = load_bundle(run).predict_proba(data.codes()[0][:50])
    got = np.array([[float(v) for v in row.split("\t")[1:4]] for row in rows[1:]])
    assert np.allclose(got, expected, atol=1e-6)


def test_bad_config_is_one_clear_line(tmp_path, capsys):
    config = tmp_path / "run.yaml"
    config.write_text("train: x.csv\nout: runs/x\nmodel: transformer\nmonitor: mc\n")
    assert main(["train", "--config", str(config)]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "field 'monitor' = 'mc': must be 'mcc'" in err and str(config) in err


def test_bad_model_option_names_the_allowed(splice_split, tmp_path, capsys):
    train_csv, _ = splice_split
    code = main(
        [
            "train",
            "--train",
            str(train_csv),
            "--model",
            "transformer",
            "--out",
            str(tmp_path / "r"),
            "--model-option",
            "pooling=maxx",
        ]
    )
    err = capsys.readouterr().err
    assert code == 1 and "'pooling'" in err and "allowed values" in err


@pytest.mark.slow
def test_seeded_cpu_runs_repeat_exactly(splice_split, tmp_path):
    train_csv, test_csv = splice_split
    results = []
    for name in ("a", "b"):
        config = config_from_options(
            {
                "train": train_csv,
                "valid": test_csv,
                "model": "cnn",
                "epochs": 2,
                "out": tmp_path / name,
                "seed": 7,
                "model_options": {"channels": [16, 16, 16]},
            }
        )
        results.append(train(config))
    first, second = (load_bundle(r.run_dir).model.state_dict() for r in results)
    assert all(torch.equal(first[k], second[k]) for k in first)


def test_resume_continues_from_last_checkpoint(splice_split, tmp_path):
    train_csv, test_csv = splice_split
    options = {
        "train": train_csv,
        "valid": test_csv,
        "model": "cnn",
        "out": tmp_path / "r",
        "model_options": {"channels": [16, 16, 16]},
        "patience": 10,
    }
    train(config_from_options({**options, "epochs": 2}))
    resumed = train(config_from_options({**options, "epochs": 3, "resume": "last"}))
    config = json.loads((resumed.bundle_dir / "config.json").read_text())
    # epochs 0 and 1 ran first; resuming from last.ckpt runs only epoch 2
    assert config["training"]["epochs_run"] == 3
    assert config["training"]["batch_size"] == 32  # the default for a small training set, as it was resolved
    with open(resumed.run_dir / "logs" / "metrics.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    validated = [int(float(r["epoch"])) for r in rows if r.get("val_loss")]
    # The log keeps the epochs before the resume (Lightning's CSV logger would clear them), and
    # epoch 2, trained after it, appears once: the first epochs were not trained again.
    assert validated == [0, 1, 2], validated
    steps = [int(float(r["step"])) for r in rows if r.get("val_loss")]
    assert steps == sorted(steps)


def test_ema_keeps_the_averaged_weights_in_the_checkpoints_and_the_bundle(splice_split, tmp_path):
    train_csv, test_csv = splice_split
    options = {
        "train": train_csv,
        "valid": test_csv,
        "model": "cnn",
        "epochs": 2,
        "ema_epochs": 1.0,
        "out": tmp_path / "ema",
        "model_options": {"channels": [16, 16, 16]},
        "patience": 10,
    }
    result = train(config_from_options(options))
    last = torch.load(result.run_dir / "checkpoints" / "last.ckpt", map_location="cpu", weights_only=True)
    averaged, current = last["state_dict"], last["current_model_state"]
    weights = [k for k in averaged if k.endswith("weight")]
    # the average trails the raw weights, so the two differ, and the bundle holds the average
    assert weights and not all(torch.equal(averaged[k], current[k]) for k in weights)
    best = torch.load(result.run_dir / "checkpoints" / "best.ckpt", map_location="cpu", weights_only=True)
    bundled = load_bundle(result.bundle_dir).model.state_dict()
    for name, value in bundled.items():
        torch.testing.assert_close(value, best["state_dict"][f"model.{name}"])
    assert json.loads((result.bundle_dir / "config.json").read_text())["training"]["ema_epochs"] == 1.0
    # a run with an average resumes from last.ckpt (Lightning restores the raw weights and the average)
    resumed = train(config_from_options({**options, "epochs": 3, "resume": "last"}))
    assert json.loads((resumed.bundle_dir / "config.json").read_text())["training"]["epochs_run"] == 3
    after = torch.load(resumed.run_dir / "checkpoints" / "last.ckpt", map_location="cpu", weights_only=True)
    assert after["epoch"] > last["epoch"] and not torch.equal(after["state_dict"][weights[0]], averaged[weights[0]])


def test_ema_decay_follows_the_time_constant_in_epochs(tmp_path):
    from bioseq.train.fit import _weight_average, ema_decay

    assert ema_decay(2.0, 50) == pytest.approx(0.99)  # 100 steps
    assert ema_decay(0.5, 1000) == pytest.approx(0.998)  # the same setting adapts to the set's size
    assert ema_decay(0.01, 10) == 0.0  # under one step: the average is the last weights
    assert _weight_average(config_from_options({"train": "a.csv", "out": tmp_path}), 100) == []  # off by default
    with pytest.raises(InputError, match="ema_epochs"):
        config_from_options({"train": "a.csv", "out": tmp_path, "ema_epochs": -1})


@pytest.mark.slow
def test_seed_ensemble_shares_one_validation_split_and_averages_its_members(splice_split, tmp_path):
    train_csv, original_test = splice_split
    test_csv = tmp_path / "longer_test.csv"  # 70 bp where training has 60: every member must read 70
    with open(original_test, newline="") as source, open(test_csv, "w", newline="") as target:
        rows = list(csv.DictReader(source))
        writer = csv.DictWriter(target, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows({**row, "sequence": row["sequence"] + "ACGTACGTAC"} for row in rows)
    options = {
        "train": train_csv,
        "test": test_csv,
        "model": "cnn",
        "epochs": 2,
        "seed": 3,
        "ensemble": 2,
        "out": tmp_path / "e",
        "model_options": {"channels": [16, 16, 16]},
    }
    result = train(config_from_options(options))
    members = [load_bundle(tmp_path / "e" / "members" / str(i)) for i in range(2)]
    ensemble = load_bundle(result.bundle_dir)
    assert ensemble.model_name == "ensemble" and ensemble.config["training"]["member_seeds"] == [3, 4]
    assert ensemble.length == 70 and [m.length for m in members] == [70, 70]
    # the members trained with their own seeds on the same split (the data hash covers train's rows)
    assert [m.config["training"]["seed"] for m in members] == [3, 4]
    assert len({m.config["data"]["sha256"] for m in members} | {ensemble.config["data"]["sha256"]}) == 1
    assert not all(
        torch.equal(a, b)
        for a, b in zip(members[0].model.state_dict().values(), members[1].model.state_dict().values())
    )
    test = read_labelled(test_csv, classes=list(ensemble.classes))
    batch, _ = encode(test.sequences, length=ensemble.length)
    scores = ensemble.predict_proba(batch)
    np.testing.assert_allclose(scores, np.mean([m.predict_proba(batch) for m in members], axis=0), rtol=1e-5)
    # the reported test metrics are the ensemble's
    assert set(result.metrics) == {"valid", "test"}
    assert result.metrics["test"]["accuracy"] == pytest.approx(float(np.mean(scores.argmax(1) == test.labels)))
    assert "test" not in json.loads((tmp_path / "e" / "members" / "0" / "metrics.json").read_text())
    # resuming keeps finished members: nothing is trained again
    before = (tmp_path / "e" / "members" / "1" / "bundle" / "model.safetensors").stat().st_mtime_ns
    train(config_from_options({**options, "resume": "last"}))
    assert (tmp_path / "e" / "members" / "1" / "bundle" / "model.safetensors").stat().st_mtime_ns == before


def test_kmer_baseline_ensemble_is_refused(tmp_path):
    with pytest.raises(InputError, match="adds nothing"):
        config_from_options({"train": "a.csv", "out": tmp_path, "model": "kmer_logistic", "ensemble": 3})


@pytest.mark.slow
@pytest.mark.skipif(sys.platform != "linux", reason="DDP test uses the Linux gloo backend")
def test_two_process_cpu_ddp(splice_split, tmp_path):
    train_csv, test_csv = splice_split
    run = tmp_path / "ddp"
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1"}
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "bioseq.cli.main",
            "train",
            "--train",
            str(train_csv),
            "--valid",
            str(test_csv),
            "--model",
            "cnn",
            "--epochs",
            "3",
            "--lr",
            "3e-3",
            "--out",
            str(run),
            "--accelerator",
            "cpu",
            "--devices",
            "2",
            "--strategy",
            "ddp",
            "--model-option",
            "channels=[32, 32, 32]",
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    config = json.loads((run / "bundle" / "config.json").read_text())
    assert config["training"]["devices"] == 2 and config["training"]["world_size"] == 2
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["valid"]["auroc"] > 0.65  # it learned something in 3 short epochs


def test_init_starts_from_another_runs_weights(splice_split, tmp_path):
    train_csv, test_csv = splice_split
    base = {"train": train_csv, "valid": test_csv, "epochs": 1, "seed": 3}
    first = train(config_from_options({**base, "model": "cnn", "model_options": {"channels": [16, 16, 16]},
                                       "out": tmp_path / "a"}))  # fmt: skip
    # No model given: the kind and options come from the init run; a learning rate of ~0 keeps its weights.
    config = config_from_options({**base, "init": first.run_dir, "lr": 1e-12, "out": tmp_path / "b"})
    assert config.model == "cnn" and config.model_options["channels"] == [16, 16, 16]
    second = train(config)
    before, after = (dict(load_bundle(r.run_dir).model.named_parameters()) for r in (first, second))
    assert all(torch.allclose(before[k], after[k], atol=1e-6) for k in before)  # BatchNorm statistics move
    fresh = train(config_from_options({**base, **{k: v for k, v in config.model_dump().items() if k == "model_options"},
                                       "model": "cnn", "lr": 1e-12, "out": tmp_path / "c"}))  # fmt: skip
    untouched = dict(load_bundle(fresh.run_dir).model.named_parameters())
    assert not all(torch.allclose(before[k], untouched[k], atol=1e-6) for k in before)
    with pytest.raises(InputError, match="do not fit 'cnn'") as caught:
        train(config_from_options({**base, "init": first.run_dir, "model": "cnn",
                                   "model_options": {"channels": [8, 8, 8]}, "out": tmp_path / "d"}))  # fmt: skip
    assert "channels" in str(caught.value)
    with pytest.raises(InputError, match="the model there is 'cnn', not 'lstm'"):
        train(config_from_options({**base, "init": first.run_dir, "model": "lstm", "out": tmp_path / "e"}))
    with pytest.raises(InputError, match="fitted in one call"):
        config_from_options({**base, "init": first.run_dir, "model": "kmer_logistic", "out": tmp_path / "g"})
    with pytest.raises(InputError, match="init .*nothing: the bundle directory does not exist"):
        config_from_options({**base, "init": tmp_path / "nothing", "out": tmp_path / "f"})
