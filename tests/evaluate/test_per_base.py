"""Tests for bioseq.evaluate.per_base: hand-checked values, agreement with scikit-learn, invariances, bad input."""

from __future__ import annotations

import json

import numpy as np
import pytest
from sklearn import metrics as skm

from bioseq.errors import InputError
from bioseq.evaluate.per_base import check_per_base, per_base_metrics

CLASSES = ("neither", "acceptor", "donor")

# Ten positions, acceptors at 1, 4 and 7, a donor at 9. Columns: acceptor and donor probabilities.
LABELS = np.array([0, 1, 0, 0, 1, 0, 0, 1, 0, 2], dtype=np.uint8)
ACCEPTOR = [0.1, 0.9, 0.2, 0.8, 0.7, 0.05, 0.3, 0.6, 0.0, 0.4]
DONOR = [0.0, 0.05, 0.5, 0.1, 0.0, 0.9, 0.1, 0.0, 0.3, 0.55]


def _proba(acceptor, donor) -> np.ndarray:
    a, d = np.asarray(acceptor, dtype=np.float64), np.asarray(donor, dtype=np.float64)
    return np.stack([1.0 - a - d, a, d], axis=1).astype(np.float32)


def _random(n: int, seed: int = 0, *, decimals: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """Labels (n,) uint8 with rare sites and float32 softmax probabilities rounded so that scores tie."""
    rng = np.random.default_rng(seed)
    labels = rng.choice(3, size=n, p=[0.9, 0.05, 0.05]).astype(np.uint8)
    logits = np.round(rng.normal(size=(n, 3)) + 2.0 * np.eye(3)[labels], decimals)
    proba = np.exp(logits)
    return labels, (proba / proba.sum(axis=1, keepdims=True)).astype(np.float32)


# ---------------------------------------------------------------- hand-checked values


def test_hand_checked_ten_positions():
    m = per_base_metrics(LABELS, _proba(ACCEPTOR, DONOR), classes=CLASSES)
    acceptor, donor = m["per_class"]["acceptor"], m["per_class"]["donor"]
    assert m["n_positions"] == 10 and m["background"] == "neither" and set(m["per_class"]) == {"acceptor", "donor"}
    # top 3 acceptor scores: 0.9 (site), 0.8 (not), 0.7 (site)
    assert acceptor["n_sites"] == 3 and acceptor["topk_accuracy"] == pytest.approx(2 / 3)
    # precision at each site in rank order: 1/1, 2/3, 3/4
    assert acceptor["auprc"] == pytest.approx((1 + 2 / 3 + 3 / 4) / 3)
    # of 3 x 7 site/non-site pairs, only 0.8 outranks the sites at 0.7 and 0.6
    assert acceptor["auroc"] == pytest.approx(19 / 21)
    # the single donor (0.55) is second to a non-site (0.9)
    assert donor["n_sites"] == 1 and donor["topk_accuracy"] == 0.0
    assert donor["auprc"] == pytest.approx(0.5) and donor["auroc"] == pytest.approx(8 / 9)
    assert donor["prevalence"] == pytest.approx(0.1)
    assert m["topk_accuracy"] == pytest.approx(1 / 3)
    assert m["auprc"] == pytest.approx(((1 + 2 / 3 + 3 / 4) / 3 + 0.5) / 2)


def test_precision_recall_at_thresholds_calls_strictly_above():
    m = per_base_metrics(LABELS, _proba(ACCEPTOR, DONOR), classes=CLASSES)
    low, mid, high = m["per_class"]["acceptor"]["at_threshold"]
    assert m["thresholds"] == [0.1, 0.5, 0.9]
    # > 0.1: 0.9, 0.2, 0.8, 0.7, 0.3, 0.6, 0.4 (0.1 itself is not called)
    assert (low["called"], low["true_positives"], low["precision"], low["recall"]) == (7, 3, 3 / 7, 1.0)
    assert mid == {"threshold": 0.5, "called": 4, "true_positives": 3, "precision": 0.75, "recall": 1.0, "f1": 6 / 7}
    # nothing is above 0.9: precision undefined, recall and F1 zero
    assert (high["called"], high["precision"], high["recall"], high["f1"]) == (0, None, 0.0, 0.0)
    assert any("scores above 0.9" in note for note in m["warnings"])


def test_topk_shares_ties_at_the_cut_off():
    labels = np.array([1, 1, 0, 0, 0, 0], dtype=np.uint8)
    # k = 2: one site above the cut-off, then one slot for three positions tied at 0.5, one of them a site
    m = per_base_metrics(labels, _proba([0.9, 0.5, 0.5, 0.5, 0.1, 0.1], [0] * 6), classes=CLASSES)
    assert m["per_class"]["acceptor"]["topk_accuracy"] == pytest.approx((1 + 1 / 3) / 2)


def test_a_constant_scorer_scores_the_prevalence():
    labels = np.array([0, 1, 0, 0, 1, 0, 0, 0, 0, 0], dtype=np.uint8)
    row = per_base_metrics(labels, _proba([0.2] * 10, [0.1] * 10), classes=CLASSES)["per_class"]["acceptor"]
    assert row["topk_accuracy"] == pytest.approx(0.2) and row["auprc"] == pytest.approx(0.2)
    assert row["auroc"] == pytest.approx(0.5)


def test_perfect_and_reversed_scorers():
    labels = np.zeros(10, dtype=np.uint8)
    labels[[2, 5]] = 1
    perfect = np.where(labels == 1, 0.8, 0.1)
    m = per_base_metrics(labels, _proba(perfect, [0.0] * 10), classes=CLASSES)["per_class"]["acceptor"]
    assert (m["topk_accuracy"], m["auprc"], m["auroc"]) == (1.0, 1.0, 1.0)
    reversed_ = np.full(10, 0.8)
    reversed_[[2, 5]] = [0.1, 0.05]  # distinct, so that each site is a step of its own
    m = per_base_metrics(labels, _proba(reversed_, [0.0] * 10), classes=CLASSES)["per_class"]["acceptor"]
    # the two sites come last: precision 1/9 and 2/10 where each is recalled
    assert m["topk_accuracy"] == 0.0 and m["auroc"] == 0.0
    assert m["auprc"] == pytest.approx((1 / 9 + 2 / 10) / 2)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_auprc_and_auroc_agree_with_scikit_learn(seed):
    labels, proba = _random(600, seed)
    m = per_base_metrics(labels, proba, classes=CLASSES)
    for c, name in enumerate(CLASSES[1:], start=1):
        assert m["per_class"][name]["auprc"] == pytest.approx(skm.average_precision_score(labels == c, proba[:, c]))
        assert m["per_class"][name]["auroc"] == pytest.approx(skm.roc_auc_score(labels == c, proba[:, c]))


def test_topk_matches_a_direct_count_without_ties():
    labels, proba = _random(500, 3, decimals=6)
    for c, name in enumerate(CLASSES[1:], start=1):
        k = int((labels == c).sum())
        top = np.argsort(proba[:, c])[-k:]
        expected = float((labels[top] == c).mean())
        assert per_base_metrics(labels, proba, classes=CLASSES)["per_class"][name]["topk_accuracy"] == expected


# ---------------------------------------------------------------- invariants


def test_windowed_and_flat_layouts_agree():
    labels, proba = _random(400, 4)
    flat = per_base_metrics(labels, proba, classes=CLASSES)
    assert per_base_metrics(labels.reshape(8, 50), proba.reshape(8, 50, 3), classes=CLASSES) == flat


def test_permuting_positions_changes_nothing():
    labels, proba = _random(400, 5)  # rounded logits: many tied scores
    order = np.random.default_rng(6).permutation(labels.size)
    expected = per_base_metrics(labels, proba, classes=CLASSES)
    assert per_base_metrics(labels[order], proba[order], classes=CLASSES) == expected


def test_result_is_json_ready_with_null_for_a_class_without_sites():
    labels = np.array([0, 1, 0, 0], dtype=np.uint8)
    proba = _proba([0.1, 0.6, 0.2, 0.1], [0.05] * 4)
    m = per_base_metrics(labels, proba, classes=CLASSES, thresholds=[0.5])
    json.dumps(m, allow_nan=False)
    donor = m["per_class"]["donor"]
    assert donor["n_sites"] == 0 and donor["topk_accuracy"] is None and donor["auprc"] is None
    assert donor["at_threshold"][0]["recall"] is None and donor["at_threshold"][0]["f1"] is None
    assert m["topk_accuracy"] == 1.0  # macro over the defined class only
    assert any("'donor' has no sites" in note for note in m["warnings"])


def test_float32_input_is_read_in_place():
    labels, proba = _random(100, 7)
    y, p, names = check_per_base(labels.reshape(4, 25), proba.reshape(4, 25, 3), classes=CLASSES)
    assert p.dtype == np.float32 and np.shares_memory(p, proba) and y.shape == (100,)
    assert names == CLASSES


# ---------------------------------------------------------------- bad input


def _good():
    return LABELS, _proba(ACCEPTOR, DONOR)


@pytest.mark.parametrize(
    ("labels", "proba", "classes", "message"),
    [
        (LABELS, _proba(ACCEPTOR, DONOR) * 3.0, CLASSES, "look like logits"),
        (LABELS, _proba(ACCEPTOR, DONOR) * 0.5, CLASSES, "do not sum to 1"),
        (LABELS[:9], _proba(ACCEPTOR, DONOR), CLASSES, r"labels have shape \(9,\) but proba \(10, 3\)"),
        (LABELS.reshape(2, 5), _proba(ACCEPTOR, DONOR), CLASSES, "must match except for proba's last"),
        (LABELS + 2, _proba(ACCEPTOR, DONOR), CLASSES, r"outside 0..2 \(first: 3 at flat position 1\)"),
        (LABELS.astype(float), _proba(ACCEPTOR, DONOR), CLASSES, "must be integer class indices"),
        (LABELS, _proba(ACCEPTOR, DONOR), ("neither", "donor"), "3 classes on its last axis but 2 class names"),
        (LABELS, _proba(ACCEPTOR, DONOR), "nad", "sequence of class names"),
        (LABELS, np.where(np.eye(10, 3) > 0, np.nan, _proba(ACCEPTOR, DONOR)), CLASSES, "3 NaN or infinite"),
        (LABELS, _proba(ACCEPTOR, DONOR)[:, 0], CLASSES, r"shape \(N, W, C\) or \(P, C\)"),
        (LABELS, np.ones((10, 1)), ("neither",), "at least 2"),
        (LABELS, np.zeros((0, 3)), CLASSES, "empty"),
        (LABELS, [["a", "b", "c"]] * 10, CLASSES, "must hold numbers"),
    ],
    ids=[
        "logits",
        "rows",
        "length",
        "layout",
        "range",
        "float-labels",
        "names",
        "string",
        "nan",
        "one-axis",
        "one-class",
        "empty",
        "text",
    ],
)
def test_bad_input_is_refused_with_a_clear_message(labels, proba, classes, message):
    with pytest.raises(InputError, match=message):
        per_base_metrics(labels, proba, classes=classes)


@pytest.mark.parametrize("thresholds", [(0.0,), (0.5, 1.0), "0.5", 0.5])
def test_bad_thresholds_are_refused(thresholds):
    labels, proba = _good()
    with pytest.raises(InputError, match="threshold"):
        per_base_metrics(labels, proba, classes=CLASSES, thresholds=thresholds)


def test_precision_recall_plot(tmp_path):
    from bioseq.evaluate.plots import plot_per_base_pr

    labels, proba = _random(2_000, 8)
    path = plot_per_base_pr(labels.reshape(20, 100), proba.reshape(20, 100, 3), CLASSES, tmp_path / "pr.png")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and path.stat().st_size > 10_000
    with pytest.raises(InputError, match="image format"):
        plot_per_base_pr(labels, proba, CLASSES, tmp_path / "pr.jpg")


def test_paired_metrics_of_an_identity_stage_are_the_model_s_own():
    from bioseq.evaluate.per_base import paired_metrics
    from bioseq.models.site_pairing import SitePairing, n_features

    n = n_features()
    own = [1.0] + [0.0] * (n - 1)  # the stage's output is the model's probability itself
    weights = {s: {"mean": [0.0] * n, "scale": [1.0] * n, "coef": own, "intercept": 0.0} for s in ("acceptor", "donor")}
    pairing = SitePairing(classes=CLASSES, weights=weights)
    rng = np.random.default_rng(4)
    proba = rng.dirichlet([8, 1, 1], size=(6, 10)).astype(np.float32)
    labels = rng.choice(3, size=(6, 10), p=[0.8, 0.1, 0.1]).astype(np.uint8)
    regions = [f"chr1:{100 + 10 * i - 2}-{110 + 10 * i + 2}(+)" for i in range(6)]  # one run of 60 positions
    got = paired_metrics(pairing, regions, proba, labels, classes=CLASSES)
    want = per_base_metrics(labels, proba, classes=CLASSES)
    for name in ("acceptor", "donor"):
        assert got["per_class"][name]["auprc"] == pytest.approx(want["per_class"][name]["auprc"])
        assert got["per_class"][name]["topk_accuracy"] == pytest.approx(want["per_class"][name]["topk_accuracy"])
    assert got["n_positions"] == 60
    with pytest.raises(InputError, match="no tiles"):
        paired_metrics(pairing, [], proba[:0], labels[:0], classes=CLASSES)
