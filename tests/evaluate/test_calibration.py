"""Tests for bioseq.evaluate.calibration: temperature recovery, hand-checked ECE, the report, bad input."""

from __future__ import annotations

import json

import numpy as np
import pytest

from bioseq.errors import InputError
from bioseq.evaluate.calibration import (
    TEMPERATURE_BOUNDS,
    apply_temperature,
    calibration_report,
    expected_calibration_error,
    fit_temperature,
    log_loss,
)

CLASSES = ("neither", "acceptor", "donor")


def _softmax(logits: np.ndarray) -> np.ndarray:
    z = np.exp(logits - logits.max(axis=-1, keepdims=True))
    return z / z.sum(axis=-1, keepdims=True)


def _sampled(n: int, seed: int, *, sharpen: float) -> tuple[np.ndarray, np.ndarray]:
    """Labels drawn from softmax(logits) and probabilities softmax(sharpen * logits): miscalibrated by 1/sharpen."""
    rng = np.random.default_rng(seed)
    logits = rng.normal(scale=2.0, size=(n, 3))
    cumulative = np.cumsum(_softmax(logits), axis=1)
    labels = (rng.random(n)[:, None] > cumulative).sum(axis=1).astype(np.uint8)
    return labels, _softmax(sharpen * logits).astype(np.float32)


# ---------------------------------------------------------------- apply_temperature


def test_temperature_one_is_the_identity_and_shape_is_kept():
    _, proba = _sampled(600, 0, sharpen=1.0)
    windows = proba.reshape(6, 100, 3)
    scaled = apply_temperature(windows, 1.0)
    assert scaled.shape == (6, 100, 3) and scaled.dtype == np.float32
    np.testing.assert_allclose(scaled, windows, atol=1e-6)


def test_hand_checked_temperatures():
    # T = 2 takes square roots: sqrt(0.8) / sqrt(0.2) = 2, so (2/3, 1/3)
    np.testing.assert_allclose(apply_temperature([[0.8, 0.2]], 2.0), [[2 / 3, 1 / 3]], rtol=1e-6)
    # T = 0.5 squares: (0.36, 0.16) / 0.52
    np.testing.assert_allclose(apply_temperature([[0.6, 0.4]], 0.5), [[0.36 / 0.52, 0.16 / 0.52]], rtol=1e-6)
    # zeros stay (near) zero and rows still sum to 1
    scaled = apply_temperature([[1.0, 0.0, 0.0]], 3.0)
    assert scaled[0, 0] == pytest.approx(1.0) and scaled.sum() == pytest.approx(1.0)


# ---------------------------------------------------------------- fit_temperature


@pytest.mark.parametrize(("sharpen", "expected"), [(2.0, 2.0), (0.5, 0.5), (1.0, 1.0)])
def test_fit_recovers_the_temperature(sharpen, expected):
    labels, proba = _sampled(20_000, 1, sharpen=sharpen)
    assert fit_temperature(proba, labels) == pytest.approx(expected, rel=0.06)


def test_fitting_lowers_the_calibration_error_and_the_nll():
    labels, proba = _sampled(20_000, 2, sharpen=2.0)
    temperature = fit_temperature(proba, labels)
    scaled = apply_temperature(proba, temperature)
    before, after = expected_calibration_error(proba, labels), expected_calibration_error(scaled, labels)
    assert after["ece"] < before["ece"] / 3
    assert after["classwise_ece"] < before["classwise_ece"]
    assert log_loss(scaled, labels) < log_loss(proba, labels)


def test_the_subsample_is_deterministic_and_close_to_the_full_fit():
    labels, proba = _sampled(20_000, 3, sharpen=2.0)
    first = fit_temperature(proba, labels, max_positions=5_000)
    assert fit_temperature(proba, labels, max_positions=5_000) == first
    assert first == pytest.approx(fit_temperature(proba, labels), rel=0.1)


def test_windowed_and_flat_layouts_fit_the_same_temperature():
    labels, proba = _sampled(2_000, 4, sharpen=2.0)
    assert fit_temperature(proba.reshape(20, 100, 3), labels.reshape(20, 100)) == fit_temperature(proba, labels)


# ---------------------------------------------------------------- expected_calibration_error


def test_hand_checked_calibration_error():
    proba = [[0.9, 0.1], [0.8, 0.2], [0.3, 0.7], [0.4, 0.6]]
    labels = [0, 1, 0, 1]
    e = expected_calibration_error(proba, labels, n_bins=2, classes=["neither", "site"])
    # top label: confidences 0.9, 0.8, 0.7, 0.6 all in [0.5, 1]; right, wrong, wrong, right
    assert e["ece"] == pytest.approx(0.25) and e["mce"] == pytest.approx(0.25)
    assert [b["count"] for b in e["bins"]] == [0, 4] and e["bins"][0]["confidence"] is None
    assert e["bins"][1]["accuracy"] == pytest.approx(0.5) and e["bins"][1]["confidence"] == pytest.approx(0.75)
    # classwise "site": [0.1, 0.2] -> mean 0.15, half sites; [0.7, 0.6] -> mean 0.65, half sites
    site = e["per_class"]["site"]
    assert site["n_sites"] == 2 and site["ece"] == pytest.approx(0.5 * 0.35 + 0.5 * 0.15)
    assert site["mce"] == pytest.approx(0.35) and e["classwise_ece"] == pytest.approx(site["ece"])
    assert [(b["lower"], b["upper"]) for b in site["bins"]] == [(0.0, 0.5), (0.5, 1.0)]


def test_bin_edges_are_half_open_and_one_falls_in_the_last_bin():
    e = expected_calibration_error([[0.5, 0.5], [1.0, 0.0]], [0, 0], n_bins=4)
    assert [b["count"] for b in e["bins"]] == [0, 0, 1, 1]
    assert [b["count"] for b in e["per_class"]["1"]["bins"]] == [1, 0, 1, 0]


def test_a_calibrated_model_has_a_small_error():
    labels, proba = _sampled(20_000, 5, sharpen=1.0)
    e = expected_calibration_error(proba, labels, classes=CLASSES)
    assert e["ece"] < 0.02 and all(row["ece"] < 0.02 for row in e["per_class"].values())
    assert sum(b["count"] for b in e["bins"]) == e["n_positions"] == 20_000


# ---------------------------------------------------------------- calibration_report


def test_report_fits_on_validation_and_improves_the_test_split():
    valid_labels, valid_proba = _sampled(10_000, 6, sharpen=2.0)
    test_labels, test_proba = _sampled(10_000, 7, sharpen=2.0)
    report = calibration_report(
        valid_proba.reshape(100, 100, 3), valid_labels.reshape(100, 100), test_proba, test_labels, classes=CLASSES
    )
    json.dumps(report, allow_nan=False)
    assert report["temperature"] == pytest.approx(2.0, rel=0.1) and report["warnings"] == []
    assert report["classes"] == list(CLASSES)
    for split in ("valid", "test"):
        part = report[split]
        assert set(part) == {"nll_before", "nll_after", "before", "after"}
        assert part["after"]["ece"] < part["before"]["ece"] and part["nll_after"] < part["nll_before"]
        assert set(part["after"]["per_class"]) == {"acceptor", "donor"}


def test_report_warns_when_the_temperature_hits_a_bound():
    proba = np.tile([[0.98, 0.01, 0.01]], (50, 1))
    labels = np.ones(50, dtype=np.uint8)  # always confidently wrong: the best is uniform, T -> infinity
    report = calibration_report(proba, labels, proba, labels, classes=CLASSES)
    assert report["temperature"] == pytest.approx(TEMPERATURE_BOUNDS[1], rel=1e-3)
    assert "bound of the search range" in report["warnings"][0]


# ---------------------------------------------------------------- bad input


@pytest.mark.parametrize("temperature", [0, -1.0, float("inf"), True, "2"])
def test_bad_temperatures_are_refused(temperature):
    with pytest.raises(InputError, match="temperature must be a positive number"):
        apply_temperature([[0.5, 0.5]], temperature)


def test_bad_options_and_inputs_are_refused():
    with pytest.raises(InputError, match="n_bins must be a positive integer"):
        expected_calibration_error([[0.5, 0.5]], [0], n_bins=0)
    with pytest.raises(InputError, match="max_iter must be a positive integer"):
        fit_temperature([[0.5, 0.5]], [0], max_iter=0)
    with pytest.raises(InputError, match="look like logits"):
        fit_temperature([[2.0, -1.0]], [0])
    with pytest.raises(InputError, match="outside 0..1"):
        expected_calibration_error([[0.5, 0.5]], [2])
    with pytest.raises(InputError, match="3 classes on its last axis but 2"):
        calibration_report([[0.5, 0.25, 0.25]], [0], [[0.5, 0.25, 0.25]], [0], classes=["a", "b"])


def test_reliability_plots_of_a_result_and_of_a_report(tmp_path):
    from bioseq.evaluate.plots import plot_reliability

    labels, proba = _sampled(3_000, 8, sharpen=2.0)
    report = calibration_report(proba, labels, proba, labels, classes=CLASSES)
    for name, result in (("one.png", report["test"]["before"]), ("report.png", report)):
        path = plot_reliability(result, tmp_path / name)
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and path.stat().st_size > 10_000
    with pytest.raises(InputError, match="neither a result of expected_calibration_error"):
        plot_reliability({"ece": 0.1}, tmp_path / "bad.png")
