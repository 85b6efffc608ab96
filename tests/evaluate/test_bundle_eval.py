"""Tests of bioseq.evaluate.bundle_eval: scoring labelled data with a bundle, at any decision threshold."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest
import torch

from bioseq.bundle import load_bundle, save_bundle
from bioseq.cli.main import main
from bioseq.codes import encode
from bioseq.errors import InputError
from bioseq.evaluate.bundle_eval import evaluate_bundle
from bioseq.evaluate.metrics import classification_metrics
from bioseq.inference import InferenceOptions
from bioseq.models.registry import build_model

CNN = {"channels": [4], "kernel_sizes": [3], "dilations": [1], "pools": [1], "head_hidden": 4, "n_outputs": 1}


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """A binary CNN bundle reading 12 bases, 60 labelled random sequences for it, and their scores.

    The untrained CNN scores them all near 0.59, so the tests place their
    thresholds at quantiles of the scores: each one splits the set.
    """
    torch.manual_seed(0)
    folder = tmp_path_factory.mktemp("eval")
    save_bundle(
        folder / "bundle",
        model=build_model("cnn", CNN),
        model_name="cnn",
        model_options=CNN,
        task="binary",
        classes=("neg", "pos"),
        length=12,
    )
    rng = np.random.default_rng(2)
    sequences = ["".join(rng.choice(list("ACGT"), 12)) for _ in range(60)]
    labels = rng.integers(0, 2, 60)
    data = folder / "test.csv"
    data.write_text(
        "name,sequence,label\n"
        + "".join(f"s{i},{s},{('neg', 'pos')[y]}\n" for i, (s, y) in enumerate(zip(sequences, labels)))
    )
    scores = load_bundle(folder / "bundle").predict_proba(encode(sequences, length=12)[0])
    return folder / "bundle", data, sequences, labels, scores


def _at(scores: np.ndarray, quantile: float) -> float:
    return float(np.quantile(scores, quantile))


def _predicted(path) -> list[str]:
    with open(path) as handle:
        return [row["predicted"] for row in csv.DictReader(handle, delimiter="\t")]


@pytest.mark.parametrize("quantile", [0.25, 0.5, 0.75])
def test_metrics_and_predictions_use_the_threshold(run, tmp_path, quantile):
    bundle, data, sequences, labels, scores = run
    threshold = _at(scores, quantile)
    metrics = evaluate_bundle(bundle, data, out=tmp_path, plots=False, options=InferenceOptions(threshold=threshold))
    expected = classification_metrics(labels, scores, task="binary", classes=["neg", "pos"], threshold=threshold)
    assert metrics["threshold"] == threshold
    assert metrics["confusion_matrix"] == expected["confusion_matrix"]
    assert metrics["mcc"] == pytest.approx(expected["mcc"]) and metrics["auroc"] == pytest.approx(expected["auroc"])
    assert json.loads((tmp_path / "metrics.json").read_text())["threshold"] == threshold
    assert _predicted(tmp_path / "predictions.tsv") == ["pos" if p > threshold else "neg" for p in scores]


def test_a_lower_threshold_never_predicts_fewer_positives(run, tmp_path):
    bundle, data, *_, scores = run
    counts = []
    for quantile in (0.9, 0.6, 0.5, 0.4, 0.1):
        matrix = evaluate_bundle(
            bundle,
            data,
            out=tmp_path / str(quantile),
            plots=False,
            options=InferenceOptions(threshold=_at(scores, quantile)),
        )["confusion_matrix"]
        counts.append(sum(row[1] for row in matrix))  # column 1: predicted "pos"
    assert counts == sorted(counts) and counts[0] < counts[-1]
    assert counts == [int(np.sum(scores > _at(scores, q))) for q in (0.9, 0.6, 0.5, 0.4, 0.1)]


def test_bad_threshold_is_refused_before_anything_is_written(run, tmp_path, capsys):
    bundle, data, *_ = run
    with pytest.raises(InputError, match="threshold must be a number strictly between 0 and 1, got 1.0"):
        evaluate_bundle(bundle, data, out=tmp_path / "a", options=InferenceOptions(threshold=1.0))
    assert not (tmp_path / "a").exists()
    assert main(["evaluate", str(bundle), "--data", str(data), "--out", str(tmp_path / "b"), "--threshold", "0"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "threshold must be a number strictly between 0 and 1, got 0.0" in err
    assert not (tmp_path / "b").exists()


def test_cli_threshold_reaches_metrics_and_predict(run, tmp_path):
    bundle, data, sequences, _, scores = run
    threshold = _at(scores, 0.5)
    assert (
        main(
            [
                "evaluate",
                str(bundle),
                "--data",
                str(data),
                "--out",
                str(tmp_path / "e"),
                "--no-plots",
                "--threshold",
                repr(threshold),
            ]
        )
        == 0
    )
    assert json.loads((tmp_path / "e" / "metrics.json").read_text())["threshold"] == threshold
    fasta = tmp_path / "x.fa"
    fasta.write_text("".join(f">s{i}\n{s}\n" for i, s in enumerate(sequences)))
    assert (
        main(
            [
                "predict",
                str(bundle),
                "--input",
                str(fasta),
                "--out",
                str(tmp_path / "p.tsv"),
                "--threshold",
                repr(threshold),
            ]
        )
        == 0
    )
    predicted = _predicted(tmp_path / "p.tsv")
    assert predicted == _predicted(tmp_path / "e" / "predictions.tsv") and len(set(predicted)) == 2
