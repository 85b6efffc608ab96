"""Training a per-position model on a per-base dataset: defaults, checks, the bundle and its metrics."""

from __future__ import annotations

import json

import numpy as np
import pytest

from bioseq.bundle import load_bundle
from bioseq.datasets.per_base_store import open_per_base, per_base_writer
from bioseq.errors import InputError
from bioseq.evaluate.per_base import per_base_metrics
from bioseq.io.interval import Interval
from bioseq.models.site_pairing import stitch_tiles
from bioseq.train.config import TrainConfig
from bioseq.train.fit import train

CLASSES = ("neither", "acceptor", "donor")
WINDOW, CONTEXT = 40, 20


def _split(n: int, rng: np.random.Generator):
    """Random bases; a donor at every G followed by T, an acceptor at every G preceded by A (input positions)."""
    codes = rng.integers(0, 4, (n, WINDOW + CONTEXT)).astype(np.uint8)
    full = np.zeros(codes.shape, dtype=np.uint8)
    g = codes == 2
    full[:, :-1][g[:, :-1] & (codes[:, 1:] == 3)] = 2
    full[:, 1:][g[:, 1:] & (codes[:, :-1] == 0)] = 1
    labels = full[:, CONTEXT // 2 : CONTEXT // 2 + WINDOW]
    regions = [Interval("chr1", 100 * i, 100 * i + WINDOW + CONTEXT, "+", "site") for i in range(n)]
    return codes, np.ascontiguousarray(labels), regions


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    path = tmp_path_factory.mktemp("per_base") / "DS"
    rng = np.random.default_rng(0)
    sizes = {"train": 96, "valid": 16, "test": 16}
    with per_base_writer(path, classes=CLASSES, context=CONTEXT, window=WINDOW, sizes=sizes) as writer:
        for name, n in sizes.items():
            writer.append(name, *_split(n, rng))
    return path


def _config(dataset, out, **options):
    settings = {"epochs": 2, "batch_size": 16, "seed": 0, "model_options": {"channels": 8}, **options}
    return TrainConfig(train=dataset, out=out, **settings)


def test_a_per_base_dataset_picks_the_per_position_defaults(dataset, tmp_path):
    config = _config(dataset, tmp_path / "run")
    assert config.model == "per_base_cnn" and config.monitor == "auprc"
    assert config.model_options["context"] == CONTEXT  # the dataset's, unless set
    narrower = _config(dataset, tmp_path / "run", model_options={"channels": 8, "context": 10}, model="per_base_cnn")
    assert narrower.model_options["context"] == 10


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"model": "cnn"}, "per-base dataset, but model 'cnn' predicts one value per sequence"),
        ({"rc_augment": True}, "rc_augment and shift_augment do not apply"),
        ({"monitor": "mcc"}, "monitor 'mcc' is not computed for per-position models"),
        ({"valid": "v.csv"}, "valid does not apply to a per-base dataset"),
    ],
)
def test_settings_that_do_not_apply_are_refused(dataset, tmp_path, options, message):
    base = {"train": dataset, "out": tmp_path / "run", **options}
    with pytest.raises(InputError, match=message):
        TrainConfig(**base)


def test_a_per_position_model_needs_a_per_base_dataset(tmp_path):
    table = tmp_path / "t.csv"
    table.write_text("sequence,label\nACGT,a\nACGA,b\n")
    with pytest.raises(InputError, match="trains on a per-base dataset"):
        TrainConfig(train=table, out=tmp_path / "run", model="per_base_cnn")


def test_a_model_of_more_context_than_the_dataset_is_refused(dataset, tmp_path):
    config = _config(dataset, tmp_path / "run", model="per_base_cnn", model_options={"channels": 8, "context": 40})
    with pytest.raises(InputError, match="reads 40 bases of context.*the dataset stores 20"):
        train(config)


def test_training_writes_a_per_position_bundle_with_field_metrics(dataset, tmp_path):
    result = train(_config(dataset, tmp_path / "run", model_options={"channels": 8, "context": 10}))
    bundle = load_bundle(result.bundle_dir)
    assert bundle.per_position and bundle.flank == 5 and bundle.classes == CLASSES
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert set(metrics) == {"valid", "test", "calibration", "site_pairing"}
    for figures in (
        metrics["valid"],
        metrics["test"],
        metrics["site_pairing"]["valid"],
        metrics["site_pairing"]["test"],
    ):
        assert figures["n_positions"] == 16 * WINDOW
        assert set(figures["per_class"]) == {"acceptor", "donor"}
        assert 0 <= figures["topk_accuracy"] <= 1
    assert metrics["calibration"]["temperature"] > 0
    # the second stage, fitted on the validation tiles, is in the bundle and gives the recorded test figures
    pairing = bundle.site_pairing
    assert pairing is not None and pairing.classes == CLASSES and metrics["site_pairing"]["fitted_on"] == "valid"
    test = open_per_base(dataset).splits["test"]
    runs = stitch_tiles(test.regions, bundle.predict_proba(np.asarray(test.codes)[:, 5:-5]), np.asarray(test.labels))
    refined = per_base_metrics(
        np.concatenate([y for _, y in runs]), np.concatenate([pairing.refine(p) for p, _ in runs]), classes=CLASSES
    )
    assert refined["topk_accuracy"] == pytest.approx(metrics["site_pairing"]["test"]["topk_accuracy"])
    # the model reads the dataset's inputs cropped to its own context: 10 of the 20 stored bases
    codes = np.random.default_rng(1).integers(0, 4, (3, WINDOW + 10)).astype(np.uint8)
    assert bundle.predict_proba(codes).shape == (3, WINDOW, 3)
    assert {"pr.png", "reliability.png"} <= {p.name for p in (tmp_path / "run" / "plots").iterdir()}
    again = train(_config(dataset, tmp_path / "run", resume="auto", model_options={"channels": 8, "context": 10}))
    assert again.metrics == result.metrics  # complete: nothing to do
    # bioseq evaluate scores the dataset's test split (cropped to the model's context) as training did
    from bioseq.cli.main import main

    assert main(["evaluate", str(tmp_path / "run"), "--data", str(dataset), "--out", str(tmp_path / "ev")]) == 0
    evaluated = json.loads((tmp_path / "ev" / "metrics.json").read_text())
    assert evaluated["topk_accuracy"] == pytest.approx(result.metrics["test"]["topk_accuracy"])
    assert evaluated["calibration"]["n_positions"] == 16 * WINDOW and (tmp_path / "ev" / "pr.png").is_file()
    assert evaluated["site_pairing"]["auprc"] == pytest.approx(metrics["site_pairing"]["test"]["auprc"])
    table = tmp_path / "t.csv"
    table.write_text("sequence,label\nACGT,donor\n")
    assert main(["evaluate", str(tmp_path / "run"), "--data", str(table), "--out", str(tmp_path / "ev2")]) == 1


def test_the_command_prints_the_test_figures_after_site_pairing(dataset, tmp_path, capsys):
    from bioseq.cli.main import main

    argv = ["train", "--train", str(dataset), "--out", str(tmp_path / "run"), "--epochs", "1", "--batch-size", "16"]
    assert main([*argv, "--model-option", "channels=8", "--seed", "0"]) == 0
    line = capsys.readouterr().err.strip().splitlines()[-1]
    assert line.startswith("bioseq train: bundle") and "'test after site pairing': {'topk_accuracy':" in line


def test_an_ensemble_of_splice_models_gets_its_own_site_pairing(dataset, tmp_path, capsys):
    from bioseq.cli.main import main
    from bioseq.evaluate.per_base import paired_metrics
    from bioseq.models.site_pairing import SitePairing

    runs = []
    for seed in (0, 1):
        runs.append(tmp_path / f"seed{seed}")
        config = _config(dataset, runs[-1], epochs=1, seed=seed, model_options={"channels": 8, "context": 10})
        train(config)
    out = tmp_path / "ens"
    bad = tmp_path / "t.csv"
    bad.write_text("sequence,label\nACGT,donor\n")
    assert main(["ensemble", *map(str, runs), "--out", str(out), "--test", str(bad)]) == 1
    assert "not one" in capsys.readouterr().err and not out.exists()  # refused before anything is written
    untested = tmp_path / "untested"
    sizes = {"train": 4, "valid": 16, "test": 0}
    with per_base_writer(untested, classes=CLASSES, context=CONTEXT, window=WINDOW, sizes=sizes) as writer:
        for name, n in sizes.items():
            if n:
                writer.append(name, *_split(n, np.random.default_rng(2)))
    assert main(["ensemble", *map(str, runs), "--out", str(out), "--test", str(untested)]) == 1
    assert "test split is empty" in capsys.readouterr().err and not out.exists()
    assert main(["ensemble", *map(str, runs), "--out", str(out), "--test", str(dataset)]) == 0
    assert "(after site pairing " in capsys.readouterr().err
    ensemble = load_bundle(out)
    splits = open_per_base(dataset).splits
    crop = (CONTEXT - 10) // 2

    def scores(split):
        codes = np.asarray(splits[split].codes)[:, crop:-crop]
        return np.mean([load_bundle(r / "bundle").predict_proba(codes) for r in runs], axis=0)

    # fitted on the ensemble's own predictions of the validation tiles, as bioseq train fits a model's
    valid = splits["valid"]
    expected = SitePairing.fit(stitch_tiles(valid.regions, scores("valid"), np.asarray(valid.labels)), classes=CLASSES)
    fitted = ensemble.site_pairing
    assert fitted.classes == CLASSES
    for site in ("acceptor", "donor"):
        for key, value in expected.weights[site].items():
            np.testing.assert_allclose(fitted.weights[site][key], value, rtol=1e-4, atol=1e-6)
    metrics = json.loads((out / "metrics.json").read_text())
    test = splits["test"]
    labels = np.asarray(test.labels)
    assert metrics["test"]["auprc"] == pytest.approx(per_base_metrics(labels, scores("test"), classes=CLASSES)["auprc"])
    paired = paired_metrics(expected, test.regions, scores("test"), labels, classes=CLASSES)
    assert metrics["test"]["site_pairing"]["auprc"] == pytest.approx(paired["auprc"])
    assert metrics["site_pairing"] == {"fitted_on": "valid", "reach": expected.reach}
