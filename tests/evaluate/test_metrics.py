"""Tests for bioseq.evaluate.metrics: hand-checked values, agreement with scikit-learn, edge cases."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn import metrics as skm

from bioseq.errors import InputError
from bioseq.evaluate.metrics import (
    check_predictions,
    classification_metrics,
    one_vs_rest,
    predicted,
    trivial_baseline,
)

# Binary example used by several tests: 3 negatives, 3 positives.
Y_BIN = [0, 0, 0, 1, 1, 1]
S_BIN = [0.1, 0.4, 0.6, 0.35, 0.8, 0.9]

# Three-class example: argmax predictions are [0, 1, 1, 1, 2, 0] against truth [0, 0, 1, 1, 2, 2].
Y_MC = [0, 0, 1, 1, 2, 2]
S_MC = [
    [0.7, 0.2, 0.1],
    [0.3, 0.5, 0.2],
    [0.1, 0.8, 0.1],
    [0.2, 0.6, 0.2],
    [0.1, 0.2, 0.7],
    [0.5, 0.1, 0.4],
]


# ---------------------------------------------------------------- hand-checked values


def test_binary_hand_checked():
    m = classification_metrics(Y_BIN, S_BIN, task="binary", classes=["neg", "pos"])
    # threshold 0.5 -> predictions [0, 0, 1, 0, 1, 1]: TP = 2 (0.8, 0.9), FN = 1 (0.35),
    # FP = 1 (0.6), TN = 2 (0.1, 0.4).
    assert m["confusion_matrix"] == [[2, 1], [1, 2]]  # rows true neg/pos, columns predicted
    assert m["accuracy"] == pytest.approx(4 / 6)
    assert m["balanced_accuracy"] == pytest.approx((2 / 3 + 2 / 3) / 2)  # recall of each class 2/3
    # MCC = (TP*TN - FP*FN) / sqrt((TP+FP)(TP+FN)(TN+FP)(TN+FN)) = (4 - 1) / sqrt(3*3*3*3) = 1/3
    assert m["mcc"] == pytest.approx(1 / 3)
    assert m["f1"] == pytest.approx(2 / 3)  # precision 2/3 and recall 2/3
    # AUROC: of the 9 (positive, negative) pairs the positive scores higher in 7:
    # 0.35 beats only 0.1; 0.8 and 0.9 beat all three negatives.
    assert m["auroc"] == pytest.approx(7 / 9)
    # AP: ranked 0.9 P, 0.8 P, 0.6 N, 0.4 N, 0.35 P, 0.1 N -> precision at each positive
    # 1/1, 2/2, 3/5 -> mean (1 + 1 + 0.6) / 3.
    assert m["auprc"] == pytest.approx(2.6 / 3)
    neg = m["per_class"]["neg"]
    # class "neg" scored 1 - p: ranked 0.9 N*, 0.65 P, 0.6 N*, 0.4 N* (* = a "neg" example)
    # -> precision at each 1/1, 2/3, 3/4.
    assert neg["auprc"] == pytest.approx((1 + 2 / 3 + 3 / 4) / 3)
    assert neg["auroc"] == pytest.approx(7 / 9)  # AUROC is symmetric in the two classes
    assert neg["precision"] == pytest.approx(2 / 3)  # predicted neg: 0.1, 0.4 (right), 0.35 (wrong)
    assert neg["support"] == 3 and m["per_class"]["pos"]["support"] == 3
    assert m["n"] == 6 and m["task"] == "binary" and m["classes"] == ["neg", "pos"]
    assert m["threshold"] == 0.5 and m["warnings"] == []


def test_binary_threshold_moves_predictions():
    m = classification_metrics(Y_BIN, S_BIN, task="binary", classes=["neg", "pos"], threshold=0.3)
    # > 0.3 predicts pos for 0.4, 0.6, 0.35, 0.8, 0.9: TN = 1, FP = 2, FN = 0, TP = 3
    assert m["confusion_matrix"] == [[1, 2], [0, 3]]
    assert m["threshold"] == 0.3
    assert m["auroc"] == pytest.approx(7 / 9)  # ranking metrics ignore the threshold


def test_score_equal_to_threshold_is_negative():
    # "> threshold", as torchmetrics: 0.5 is not above 0.5
    m = classification_metrics([0, 1], [0.5, 0.9], task="binary", classes=["a", "b"])
    assert m["confusion_matrix"] == [[1, 0], [0, 1]]


def test_multiclass_hand_checked():
    m = classification_metrics(Y_MC, S_MC, task="multiclass", classes=["a", "b", "c"])
    assert m["confusion_matrix"] == [[1, 1, 0], [0, 2, 0], [1, 0, 1]]
    assert m["accuracy"] == pytest.approx(4 / 6)
    assert m["balanced_accuracy"] == pytest.approx((1 / 2 + 2 / 2 + 1 / 2) / 3)  # recalls a, b, c
    # Multi-class MCC = (c*s - sum p_k t_k) / sqrt((s^2 - sum p_k^2)(s^2 - sum t_k^2)) with
    # c = 4 correct, s = 6, true counts t = (2, 2, 2), predicted counts p = (2, 3, 1):
    # (24 - 12) / sqrt((36 - 14) * (36 - 12)) = 12 / sqrt(528)
    assert m["mcc"] == pytest.approx(12 / np.sqrt(528))
    # F1 = 2TP / (2TP + FP + FN): a 2/(2+1+1), b 4/(4+1+0), c 2/(2+0+1)
    f1 = {"a": 0.5, "b": 0.8, "c": 2 / 3}
    for name, value in f1.items():
        assert m["per_class"][name]["f1"] == pytest.approx(value)
    assert m["f1"] == pytest.approx(np.mean(list(f1.values())))
    assert m["per_class"]["b"]["precision"] == pytest.approx(2 / 3)  # predicted b: rows 1, 2, 3
    # One-vs-rest AUROC of a: positives 0.7, 0.3 against negatives 0.1, 0.2, 0.1, 0.5 ->
    # 0.7 wins 4, 0.3 wins 3 of 8 pairs. b and c separate perfectly.
    assert m["per_class"]["a"]["auroc"] == pytest.approx(7 / 8)
    assert m["per_class"]["b"]["auroc"] == 1.0 and m["per_class"]["c"]["auroc"] == 1.0
    assert m["auroc"] == pytest.approx((7 / 8 + 1 + 1) / 3)
    assert "threshold" not in m  # the arg-max needs none


def test_multilabel_hand_checked():
    y = [[1, 0], [1, 1], [0, 1], [0, 0]]
    s = [[0.9, 0.2], [0.6, 0.4], [0.3, 0.8], [0.7, 0.1]]
    m = classification_metrics(y, s, task="multilabel", classes=["x", "y"])
    # predictions > 0.5: [1,0], [1,0], [0,1], [1,0]; rows 0 and 2 match exactly
    assert m["accuracy"] == pytest.approx(2 / 4)
    # x: TN 1 (row 2), FP 1 (row 3), FN 0, TP 2; y: TN 2, FP 0, FN 1 (row 1), TP 1
    assert m["confusion_matrix"] == [[[1, 1], [0, 2]], [[2, 0], [1, 1]]]
    # F1 x = 4/(4+1) = 0.8, F1 y = 2/(2+0+1) = 2/3
    assert m["f1"] == pytest.approx((0.8 + 2 / 3) / 2)
    # AUROC x: positives 0.9, 0.6 against 0.3, 0.7 -> 3 of 4 pairs; y: 0.4, 0.8 vs 0.2, 0.1 -> 4 of 4
    assert m["auroc"] == pytest.approx((3 / 4 + 1) / 2)
    # balanced accuracy x = (1 + 1/2) / 2, y = (1/2 + 1) / 2
    assert m["balanced_accuracy"] == pytest.approx(0.75)
    assert m["threshold"] == 0.5


# ---------------------------------------------------------------- agreement with scikit-learn


def _random_binary(rng, n=300):
    y = rng.integers(0, 2, n)
    return y, np.clip(0.5 + 0.25 * (y - 0.5) + rng.normal(0, 0.25, n), 0, 1)


def test_binary_agrees_with_sklearn():
    y, s = _random_binary(np.random.default_rng(1))
    m = classification_metrics(y, s, task="binary", classes=["0", "1"])
    pred = (s > 0.5).astype(int)
    assert m["accuracy"] == pytest.approx(skm.accuracy_score(y, pred))
    assert m["balanced_accuracy"] == pytest.approx(skm.balanced_accuracy_score(y, pred))
    assert m["mcc"] == pytest.approx(skm.matthews_corrcoef(y, pred))
    assert m["f1"] == pytest.approx(skm.f1_score(y, pred))
    assert m["auroc"] == pytest.approx(skm.roc_auc_score(y, s))
    assert m["auprc"] == pytest.approx(skm.average_precision_score(y, s))
    assert m["confusion_matrix"] == skm.confusion_matrix(y, pred).tolist()


def test_multiclass_agrees_with_sklearn():
    rng = np.random.default_rng(2)
    y = rng.integers(0, 4, 400)
    logits = rng.normal(0, 1, (400, 4))
    logits[np.arange(400), y] += 1.0
    s = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    m = classification_metrics(y, s, task="multiclass", classes=list("abcd"))
    pred = s.argmax(axis=1)
    assert m["accuracy"] == pytest.approx(skm.accuracy_score(y, pred))
    assert m["balanced_accuracy"] == pytest.approx(skm.balanced_accuracy_score(y, pred))
    assert m["mcc"] == pytest.approx(skm.matthews_corrcoef(y, pred))
    assert m["f1"] == pytest.approx(skm.f1_score(y, pred, average="macro"))
    assert m["auroc"] == pytest.approx(skm.roc_auc_score(y, s, multi_class="ovr", average="macro"))
    assert m["auprc"] == pytest.approx(skm.average_precision_score(y, s, average="macro"))
    recall = skm.recall_score(y, pred, average=None)
    assert [m["per_class"][c]["recall"] for c in "abcd"] == pytest.approx(recall.tolist())


def test_multilabel_agrees_with_sklearn():
    rng = np.random.default_rng(3)
    y = rng.integers(0, 2, (300, 5))
    s = np.clip(0.5 + 0.3 * (y - 0.5) + rng.normal(0, 0.25, y.shape), 0, 1)
    m = classification_metrics(y, s, task="multilabel", classes=list("vwxyz"))
    pred = (s > 0.5).astype(int)
    assert m["accuracy"] == pytest.approx(skm.accuracy_score(y, pred))  # exact match
    assert m["f1"] == pytest.approx(skm.f1_score(y, pred, average="macro"))
    assert m["auroc"] == pytest.approx(skm.roc_auc_score(y, s, average="macro"))
    assert m["auprc"] == pytest.approx(skm.average_precision_score(y, s, average="macro"))
    assert m["mcc"] == pytest.approx(np.mean([skm.matthews_corrcoef(y[:, j], pred[:, j]) for j in range(5)]))
    assert m["confusion_matrix"] == skm.multilabel_confusion_matrix(y, pred).tolist()


@settings(max_examples=30, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 1), st.floats(0, 1)), min_size=2, max_size=40), st.randoms())
def test_binary_invariants(rows, random):
    y = np.array([r[0] for r in rows])
    s = np.array([r[1] for r in rows])
    m = classification_metrics(y, s, task="binary", classes=["n", "p"])
    order = list(range(len(rows)))
    random.shuffle(order)
    shuffled = classification_metrics(y[order], s[order], task="binary", classes=["n", "p"])
    assert shuffled["confusion_matrix"] == m["confusion_matrix"]  # row order does not matter
    if m["auroc"] is None:  # one class only
        assert shuffled["auroc"] is None
    else:  # same AUROC in any order, and the negative class's AUROC mirrors the positive's
        assert shuffled["auroc"] == pytest.approx(m["auroc"])
        assert m["per_class"]["n"]["auroc"] == pytest.approx(m["auroc"])
    json.dumps(m, allow_nan=False)  # always JSON-ready: no NaN anywhere
    assert sum(map(sum, m["confusion_matrix"])) == len(rows)


# ---------------------------------------------------------------- edge cases


def test_class_absent_from_truth_gives_null_and_warning():
    y = [0, 0, 1, 1]
    s = [[0.5, 0.3, 0.2], [0.6, 0.2, 0.2], [0.1, 0.8, 0.1], [0.3, 0.3, 0.4]]
    m = classification_metrics(y, s, task="multiclass", classes=["a", "b", "c"])
    c = m["per_class"]["c"]
    assert c["auroc"] is None and c["auprc"] is None and c["recall"] is None and c["support"] == 0
    # the macro AUROC covers a and b only: a separates perfectly (0.5, 0.6 vs 0.1, 0.3),
    # b: positives 0.8, 0.3 vs negatives 0.3, 0.2 -> 0.8 wins 2, 0.3 ties 0.3 (half) and beats 0.2
    assert m["auroc"] == pytest.approx((1.0 + 3.5 / 4) / 2)
    assert any("'c' has no examples" in w and "null" in w for w in m["warnings"])
    json.dumps(m, allow_nan=False)


def test_single_class_truth_binary():
    m = classification_metrics([1, 1, 1], [0.2, 0.7, 0.9], task="binary", classes=["neg", "pos"])
    assert m["auroc"] is None  # no negatives: undefined
    assert m["auprc"] == pytest.approx(1.0)  # every example is positive, so precision is 1 throughout
    assert m["per_class"]["neg"]["auprc"] is None
    assert any("every example is of class 'pos'" in w for w in m["warnings"])


def test_constant_predictions():
    m = classification_metrics([0, 1, 0, 1], [0.2, 0.2, 0.2, 0.2], task="binary", classes=["neg", "pos"])
    assert m["mcc"] == 0.0 and m["auroc"] == 0.5
    assert m["per_class"]["pos"]["precision"] is None  # nothing predicted as pos
    assert m["f1"] == 0.0  # pos exists but was never found: 2*0 / (0 + 0 + 2)
    text = " ".join(m["warnings"])
    assert "constant predictions" in text and "y_score is constant" in text
    assert "no example was predicted as class 'pos'" in text


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_scores_name_the_count(bad):
    s = np.array([0.1, bad, 0.3, bad, 0.9])
    with pytest.raises(InputError, match=r"y_score holds 2 NaN or infinite values \(first at flat index 1\)"):
        classification_metrics([0, 1, 0, 1, 1], s, task="binary", classes=["a", "b"])


def test_logits_rejected_with_fix():
    with pytest.raises(InputError, match="look like logits.*Apply a sigmoid"):
        classification_metrics([0, 1], [-2.0, 3.0], task="binary", classes=["a", "b"])
    with pytest.raises(InputError, match="Apply a softmax"):
        classification_metrics([0, 1], [[2.0, -1.0], [0.0, 1.0]], task="multiclass", classes=["a", "b"])


def test_rows_not_summing_to_one():
    with pytest.raises(InputError, match=r"1 rows of y_score do not sum to 1 \(row 1 sums to 0.5\)"):
        classification_metrics([0, 1], [[0.5, 0.5], [0.2, 0.3]], task="multiclass", classes=["a", "b"])


@pytest.mark.parametrize(
    ("y", "s", "task", "classes", "message"),
    [
        ([0, 1, 1], [0.1, 0.2], "binary", ["a", "b"], "y_true has 3 rows but y_score has 2"),
        ([0, 1], [[0.4, 0.6], [0.3, 0.7]], "binary", ["a", "b"], r"shape \(N,\).*y_score\[:, 1\]"),
        ([0, 1], [[0.5, 0.5], [0.3, 0.7]], "multiclass", ["a", "b", "c"], r"shape \(N, 3\), got \(2, 2\)"),
        ([[0, 1]], [0.5], "multilabel", ["a", "b"], r"y_score .* shape \(N, 2\)"),
        ([0, 2], [0.1, 0.9], "binary", ["a", "b"], r"y_true holds 1 values outside 0..1 \(first: 2"),
        ([0, 3], [[1.0, 0, 0], [0, 0, 1.0]], "multiclass", ["a", "b", "c"], "outside 0..2"),
        ([0.5, 1], [0.1, 0.9], "binary", ["a", "b"], "not whole numbers"),
        (["a", "b"], [0.1, 0.9], "binary", ["a", "b"], "class indices"),
        ([], [], "binary", ["a", "b"], "empty"),
        ([0, 1], [0.1, 0.9], "regression", ["a", "b"], "task must be one of binary, multiclass, multilabel"),
        ([0, 1], [0.1, 0.9], "binary", ["a", "b", "c"], "exactly 2 classes.*task='multiclass'"),
        ([0, 1], [0.1, 0.9], "binary", ["a", "a"], "distinct"),
        ([0, 1], [0.1, 0.9], "binary", "ab", "sequence of class names"),
    ],
)
def test_bad_inputs(y, s, task, classes, message):
    with pytest.raises(InputError, match=message):
        classification_metrics(y, s, task=task, classes=classes)


@pytest.mark.parametrize("threshold", [0, 1, 1.5, -0.1, True, float("nan"), "0.5"])
def test_bad_threshold(threshold):
    with pytest.raises(InputError, match="threshold must be a number strictly between 0 and 1"):
        classification_metrics(Y_BIN, S_BIN, task="binary", classes=["neg", "pos"], threshold=threshold)


def test_column_shapes_and_tensors_accepted():
    torch = pytest.importorskip("torch")
    y = torch.tensor([[0], [1], [1]])  # (N, 1) binary labels and scores, as a model gives them
    s = torch.sigmoid(torch.tensor([[-1.0], [2.0], [0.5]]))
    m = classification_metrics(y, s, task="binary", classes=["a", "b"])
    assert m["accuracy"] == 1.0 and m["n"] == 3
    labels, scores, classes = check_predictions(None, s, task="binary", classes=("a", "b"))
    assert labels is None and scores.shape == (3,) and scores.dtype == np.float64 and classes == ("a", "b")


def test_predicted_and_one_vs_rest():
    scores = np.array([0.2, 0.7])
    assert predicted(scores, "binary", 0.5).tolist() == [0, 1]
    assert predicted(np.array([[0.2, 0.8], [0.6, 0.4]]), "multiclass", 0.5).tolist() == [1, 0]
    truth, per_class = one_vs_rest(np.array([0, 1]), scores, "binary", 2)
    assert truth.tolist() == [[1, 0], [0, 1]]  # column 0 marks the negative class
    np.testing.assert_allclose(per_class, [[0.8, 0.2], [0.3, 0.7]])  # the negative class scored 1 - p
    truth, _ = one_vs_rest(np.array([2, 0]), np.full((2, 3), 1 / 3), "multiclass", 3)
    assert truth.tolist() == [[0, 0, 1], [1, 0, 0]]


# ---------------------------------------------------------------- trivial baseline


def test_trivial_baseline_binary():
    b = trivial_baseline([1, 1, 1, 0], "binary", classes=["neg", "pos"])
    # every example scores the prior 0.75 > 0.5: always "pos"
    assert b["confusion_matrix"] == [[0, 1], [0, 3]]
    assert b["accuracy"] == 0.75 and b["mcc"] == 0.0 and b["auroc"] == 0.5
    assert b["balanced_accuracy"] == 0.5  # recall 1 for pos, 0 for neg
    assert b["f1"] == pytest.approx(6 / 7)  # 2*3 / (2*3 + 1 + 0)
    assert b["auprc"] == pytest.approx(0.75)  # constant scores: AP is the positive frequency


def test_trivial_baseline_multiclass_and_multilabel_default_names():
    b = trivial_baseline([2, 2, 0, 1, 2], "multiclass")
    assert b["classes"] == ["0", "1", "2"]
    assert b["accuracy"] == pytest.approx(3 / 5)  # always the majority class "2"
    assert b["auroc"] == 0.5
    ml = trivial_baseline([[1, 0], [1, 0], [0, 1]], "multilabel")
    assert ml["classes"] == ["0", "1"]
    # label 0 prior 2/3 -> always 1; label 1 prior 1/3 -> always 0: rows 0 and 1 match exactly
    assert ml["accuracy"] == pytest.approx(2 / 3)


def test_model_beats_baseline_on_real_splice_data(shared_data):
    """A naive Bayes over one-hot positions (a PWM per class) on UCI splice, scored out of fold."""
    path = shared_data / "splice" / "uci_splice" / "splice_statlog_decoded.csv"
    if not path.exists():
        pytest.skip(f"{path} is absent")
    from sklearn.model_selection import cross_val_predict
    from sklearn.naive_bayes import BernoulliNB

    from bioseq.encode.onehot import one_hot
    from bioseq.io.tables import read_labelled

    data = read_labelled(path)
    assert data.classes == ("EI", "IE", "N") and len(data) == 3186
    features = one_hot(data.codes(60)[0]).reshape(len(data), -1)  # (N, 4 * 60): base per position
    proba = cross_val_predict(BernoulliNB(), features, data.labels, cv=3, method="predict_proba")
    m = classification_metrics(data.labels, proba, task="multiclass", classes=data.classes)
    base = trivial_baseline(data.labels, "multiclass", classes=data.classes)
    assert base["accuracy"] == pytest.approx(1654 / 3186)  # always "N", the majority class
    assert m["auroc"] == pytest.approx(skm.roc_auc_score(data.labels, proba, multi_class="ovr"))
    # published 10-fold error rates are 5 to 11 % per class; a PWM model gets close
    assert m["accuracy"] > 0.85 and m["mcc"] > base["mcc"] + 0.7 and m["auroc"] > 0.95
    assert m["warnings"] == []
