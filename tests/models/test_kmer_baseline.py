"""Tests of bioseq.models.kmer_baseline: features, fits against scikit-learn, the estimator contract,
arrays, the model kind, real data."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

from bioseq.codes import encode
from bioseq.encode.transforms import reverse_complement
from bioseq.errors import InputError
from bioseq.models.kmer_baseline import KmerLogisticBaseline


def _random_codes(n: int, length: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 4, (n, length)).astype(np.uint8)


def _toy(task: str, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Random sequences whose labels depend on base composition (learnable, not separable)."""
    codes = _random_codes(300, 40, seed)
    gc = np.isin(codes, (1, 2)).mean(axis=1)
    a = (codes == 0).mean(axis=1)
    if task == "binary":
        return codes, (gc > np.median(gc)).astype(np.int64)
    if task == "multiclass":
        return codes, np.digitize(gc, np.quantile(gc, [1 / 3, 2 / 3])).astype(np.int64)
    return codes, np.stack([gc > np.median(gc), a > np.median(a)], axis=1).astype(np.uint8)


def test_features_are_frequencies_times_the_number_of_kmers():
    # k=1 on AACG: frequencies A 2/4, C 1/4, G 1/4, T 0; times 4 columns -> 2, 1, 1, 0.
    codes, _ = encode(["AACG", "AACGN"])  # N is not counted: the same four bases
    features = KmerLogisticBaseline(k=1).features(codes).toarray()
    assert features.tolist() == [[2.0, 1.0, 1.0, 0.0], [2.0, 1.0, 1.0, 0.0]]


@pytest.mark.parametrize("task", ["binary", "multiclass"])
def test_predict_proba_equals_scikit_learn(task):
    codes, labels = _toy(task)
    model = KmerLogisticBaseline(k=2, C=0.5).fit(codes, labels)  # the task from the labels
    assert model.task_ == task
    reference = LogisticRegression(C=0.5, max_iter=1000, random_state=0).fit(model.features(codes), labels)
    expected = reference.predict_proba(model.features(codes))
    got = model.predict_proba(codes)
    assert got.dtype == np.float32 and got.shape == expected.shape == (300, 2 if task == "binary" else 3)
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(got.sum(axis=1), 1.0, rtol=1e-5)
    np.testing.assert_array_equal(model.predict(codes), reference.predict(model.features(codes)))


def test_multilabel_is_one_binary_model_per_class():
    codes, labels = _toy("multilabel")
    model = KmerLogisticBaseline(k=1).fit(codes, labels)
    got = model.predict_proba(codes)
    assert got.shape == (300, 2)
    for j in range(2):
        single = LogisticRegression(max_iter=1000).fit(model.features(codes), labels[:, j])
        np.testing.assert_allclose(got[:, j], single.predict_proba(model.features(codes))[:, 1], rtol=1e-5)


def test_separable_data_is_learned():
    codes, _ = encode(["A" * 20, "AT" * 10, "TA" * 10, "G" * 20, "GC" * 10, "CG" * 10])
    labels = np.array([0, 0, 0, 1, 1, 1])
    proba = KmerLogisticBaseline(k=1).fit(codes, labels).predict_proba(codes)
    assert ((proba[:, 1] > 0.5) == labels.astype(bool)).all()


def test_canonical_features_do_not_see_the_strand():
    codes, labels = _toy("binary")
    model = KmerLogisticBaseline(k=3, canonical=True).fit(codes, labels)
    np.testing.assert_allclose(model.predict_proba(codes), model.predict_proba(reverse_complement(codes)), rtol=1e-6)


def test_arrays_round_trip():
    codes, labels = _toy("multiclass")
    model = KmerLogisticBaseline(k=2, C=2.0, max_iter=500).fit(codes, labels)
    arrays = model.to_arrays()
    assert set(arrays) == {"coef", "intercept"}
    assert arrays["coef"].shape == (3, 16) and arrays["intercept"].shape == (3,)  # 4**2 k-mers
    assert arrays["coef"].dtype == np.float64
    assert model.options() == {"k": 2, "canonical": False, "C": 2.0, "max_iter": 500, "seed": 0}
    again = KmerLogisticBaseline.from_arrays(arrays, model.options(), task="multiclass")
    np.testing.assert_array_equal(again.predict_proba(codes), model.predict_proba(codes))


def test_from_arrays_names_the_bad_array():
    arrays = {"coef": np.zeros((1, 16)), "intercept": np.zeros(1)}
    with pytest.raises(
        InputError,
        match=r"array 'coef' has shape \(1, 16\), but k=3, canonical=False "
        r"and task 'binary' need \(1, 64\)",
    ):
        KmerLogisticBaseline.from_arrays(arrays, {"k": 3}, task="binary")
    with pytest.raises(InputError, match="array 'intercept' is missing"):
        KmerLogisticBaseline.from_arrays({"coef": np.zeros((1, 16))}, {"k": 2}, task="binary")
    with pytest.raises(InputError, match="no option 'kk'"):
        KmerLogisticBaseline.from_arrays(arrays, {"kk": 2}, task="binary")
    with pytest.raises(InputError, match=r"array 'intercept' has shape \(2,\)"):
        KmerLogisticBaseline.from_arrays({"coef": np.zeros((1, 16)), "intercept": np.zeros(2)}, {"k": 2}, task="binary")


@pytest.mark.parametrize(
    "options, message",
    [
        ({"k": 0}, "k must be an integer from 1 to 8"),
        ({"k": 2.5}, "k must be an integer"),
        ({"C": 0}, "C must be a positive number"),
        ({"C": float("nan")}, "C must be a positive number"),
        ({"max_iter": 0}, "max_iter must be a positive integer"),
        ({"canonical": "yes"}, "canonical must be True or False"),
    ],
)
def test_bad_options(options, message):
    model = KmerLogisticBaseline(**options)  # the scikit-learn contract: the constructor only stores them
    assert model.get_params()[next(iter(options))] is next(iter(options.values()))
    with pytest.raises(InputError, match=message):
        model.fit(*_toy("binary"))
    with pytest.raises(InputError, match=message):
        model.check_params()


def test_bad_fits():
    codes, labels = _toy("binary")
    model = KmerLogisticBaseline(k=1)
    with pytest.raises(InputError, match="the model is not fitted"):
        model.predict_proba(codes)
    with pytest.raises(InputError, match=r"binary labels must have shape \(300,\)"):
        model.fit(codes, labels[:10])
    with pytest.raises(InputError, match="class 1 has no training examples"):
        model.fit(codes, np.zeros(300, dtype=np.int64), n_classes=2)
    with pytest.raises(InputError, match="class 3 has no training examples"):
        model.fit(codes, _toy("multiclass")[1], task="multiclass", n_classes=4)  # labels 0..2
    with pytest.raises(InputError, match="label column 1 is always set"):
        model.fit(codes, np.stack([labels, np.ones(300)], axis=1).astype(np.uint8))
    with pytest.raises(InputError, match="task must be one of"):
        model.fit(codes, labels, task="regression")
    with pytest.raises(InputError, match=r"codes must be a 2-D \(N, L\) array"):
        model.fit(codes[0], labels)


def test_estimator_contract_pipeline_and_grid_search():
    """clone/get_params/set_params, string labels, a Pipeline step and GridSearchCV over k and C."""
    from sklearn.base import clone
    from sklearn.model_selection import GridSearchCV
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import FunctionTransformer

    codes, labels = _toy("binary")
    names = np.array(["low", "high"])[labels]  # any labels, as scikit-learn takes them
    model = KmerLogisticBaseline(k=2)
    assert clone(model).get_params() == {"k": 2, "canonical": False, "C": 1.0, "max_iter": 1000, "seed": 0}
    assert set(model.fit(codes, names).predict(codes)) <= {"low", "high"}
    assert model.classes_.tolist() == ["high", "low"]
    pipeline = Pipeline([("rc", FunctionTransformer(reverse_complement)), ("kmer", KmerLogisticBaseline(k=1))])
    assert pipeline.fit(codes, names).score(codes, names) > 0.6
    search = GridSearchCV(KmerLogisticBaseline(), {"k": [1, 2], "C": [0.1, 10.0]}, cv=3).fit(codes, names)
    assert set(search.best_params_) == {"k", "C"} and search.best_score_ > 0.6
    assert search.best_estimator_.predict(codes[:5]).shape == (5,)


def test_kind_trains_saves_and_loads_through_the_protocol(tmp_path):
    """The registered kind fits, stores exactly the arrays it expects, and predicts the positive column."""
    from bioseq.bundle import load_bundle, save_bundle
    from bioseq.models.registry import model_kind

    kind = model_kind("kmer_logistic")
    assert (kind.trainer, kind.devices, kind.distributed, kind.seeded, kind.any_length) == (
        "fit",
        "cpu",
        False,
        False,
        True,
    )
    codes, labels = _toy("binary")
    options = kind.check_options({"k": 2})
    assert options == {"k": 2, "canonical": False, "C": 1.0, "max_iter": 1000}
    model = kind.fit(options, codes=codes, labels=labels, task="binary", classes=("no", "yes"), seed=3)
    assert model.seed == 3
    expected = kind.expected_arrays(
        kind.bundle_options(model, None, task="binary", n_outputs=1), task="binary", n_outputs=1
    )
    assert expected == {"coef": ("F64", (1, 16)), "intercept": ("F64", (1,))}
    save_bundle(
        tmp_path / "b",
        model=model,
        model_name="kmer_logistic",
        model_options=None,
        task="binary",
        classes=["no", "yes"],
        length=None,
    )
    bundle = load_bundle(tmp_path / "b")
    np.testing.assert_allclose(bundle.predict_proba(codes, batch_size=7), model.predict_proba(codes)[:, 1])
    with pytest.raises(InputError, match="takes its seed from the training seed"):
        kind.check_options({"seed": 1})
    with pytest.raises(InputError, match="has no option 'kk'"):
        kind.check_options({"kk": 2})


def _accuracy(model: KmerLogisticBaseline, codes: np.ndarray, labels: np.ndarray, task: str) -> float:
    return float((model.predict(codes) == labels).mean())


def test_uci_splice_beats_the_majority_class(example_data):
    from bioseq.io.tables import read_table

    path = example_data / "uci_splice.csv"
    if not path.is_file():
        pytest.skip("data/uci_splice.csv is absent")
    data = read_table(path)  # 3,186 x 60 bp, classes EI, IE, N (N is 52 %)
    codes, _ = data.codes()
    order = np.random.default_rng(0).permutation(len(data))
    train, test = order[:2500], order[2500:]
    model = KmerLogisticBaseline().fit(codes[train], data.labels[train], task=data.task)
    accuracy = _accuracy(model, codes[test], data.labels[test], data.task)
    majority = np.bincount(data.labels[test]).max() / test.size
    assert accuracy > majority + 0.1  # measured: 0.643 against 0.497


def test_gue_promoters_beat_the_majority_class(shared_data):
    from bioseq.io.tables import read_table

    folder = shared_data / "promoters" / "gue_prom_core_all"
    if not folder.is_dir():
        pytest.skip("GUE prom_core_all is absent")
    train, test = read_table(folder / "train.csv"), read_table(folder / "test.csv")  # 70 bp, balanced
    subset = np.random.default_rng(0).permutation(len(train))[:10_000]
    codes, _ = train.codes()
    model = KmerLogisticBaseline().fit(codes[subset], train.labels[subset], task=train.task)
    test_codes, _ = test.codes()
    accuracy = _accuracy(model, test_codes, test.labels, test.task)
    majority = np.bincount(test.labels).max() / len(test)
    assert accuracy > majority + 0.2  # measured: 0.77 against 0.50
