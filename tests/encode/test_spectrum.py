"""Tests of bioseq.encode.spectrum.KmerSpectrum (a scikit-learn transformer)."""

from __future__ import annotations

import csv
import itertools
import pickle

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import Pipeline

from bioseq.codes import encode
from bioseq.encode.spectrum import KmerSpectrum
from bioseq.encode.transforms import reverse_complement
from bioseq.errors import InputError


def dense(spectrum: KmerSpectrum, seqs) -> np.ndarray:
    return spectrum.transform(seqs).toarray()


# --- counts ---------------------------------------------------------------------------


def test_counts_hand_checked():
    spectrum = KmerSpectrum(k=2).fit(None)
    x = spectrum.transform(["ACGTAC", "GG"])
    assert sp.issparse(x) and x.format == "csr" and x.dtype == np.float32 and x.shape == (2, 16)
    names = list(spectrum.get_feature_names_out())
    row = dict(zip(names, x.toarray()[0]))
    # ACGTAC has windows AC, CG, GT, TA, AC
    assert {name: c for name, c in row.items() if c} == {"AC": 2, "CG": 1, "GT": 1, "TA": 1}
    assert x.toarray()[1, names.index("GG")] == 1


def test_ambiguous_and_padding_ignored():
    spectrum = KmerSpectrum(k=2).fit(None)
    # ACNGT: AC and GT count, CN and NG hold N; the short row's padding adds nothing
    x = dense(spectrum, ["ACNGT", "A", ""])
    assert x[0].sum() == 2 and x[1].sum() == 0 and x[2].sum() == 0
    codes, _ = encode(["ACNGT", "A", ""])
    np.testing.assert_array_equal(dense(spectrum, codes), x)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.text(alphabet="ACGTNR", max_size=30), min_size=1, max_size=5), st.integers(1, 5))
def test_counts_match_reference(seqs, k):
    spectrum = KmerSpectrum(k=k, dtype=np.int64).fit(None)
    x = dense(spectrum, seqs)
    column = spectrum.vocabulary_
    for i, s in enumerate(seqs):
        expected = np.zeros(4**k, dtype=np.int64)
        for start in range(len(s) - k + 1):
            window = s[start : start + k]
            if set(window) <= set("ACGT"):
                expected[column[window]] += 1
        np.testing.assert_array_equal(x[i], expected)


# --- canonical ------------------------------------------------------------------------


@pytest.mark.parametrize(("k", "n"), [(1, 2), (2, 10), (3, 32), (4, 136)])
def test_canonical_feature_count(k, n):
    # odd k: 4**k / 2 pairs; even k: palindromes (4**(k/2) of them) have one column each
    assert KmerSpectrum(k=k, canonical=True).fit(None).n_features_ == n


def test_canonical_merges_strands():
    spectrum = KmerSpectrum(k=2, canonical=True).fit(None)
    vocab = spectrum.vocabulary_
    assert vocab["AC"] == vocab["GT"] and vocab["CG"] != vocab["GC"]
    assert "GT" not in set(spectrum.get_feature_names_out())  # named after the smaller k-mer, AC
    row = dense(spectrum, ["ACGT"])[0]  # AC, CG, GT -> AC/GT twice, CG once
    assert row[vocab["AC"]] == 2 and row[vocab["CG"]] == 1 and row.sum() == 3


@settings(max_examples=40, deadline=None)
@given(st.lists(st.text(alphabet="ACGTNacgt", max_size=30), min_size=1, max_size=5), st.integers(1, 6))
def test_canonical_is_strand_independent(seqs, k):
    spectrum = KmerSpectrum(k=k, canonical=True).fit(None)
    reverse = [reverse_complement(s) for s in seqs]
    np.testing.assert_array_equal(dense(spectrum, seqs), dense(spectrum, reverse))
    plain = KmerSpectrum(k=k).fit(None)
    merged = np.zeros((len(seqs), spectrum.n_features_))
    for name, j in plain.vocabulary_.items():  # canonical column = sum of both strands' columns
        merged[:, spectrum.vocabulary_[name]] += dense(plain, seqs)[:, j]
    np.testing.assert_array_equal(dense(spectrum, seqs), merged)


# --- normalisation and dtype ----------------------------------------------------------


def test_normalize():
    seqs = ["ACGTACGT", "AAAA", "N"]
    l1 = dense(KmerSpectrum(k=2, normalize="l1").fit(None), seqs)
    np.testing.assert_allclose(l1.sum(axis=1), [1, 1, 0])  # frequencies; an all-N row stays zero
    assert l1[1].max() == 1.0  # AAAA: AA three times -> frequency 1
    l2 = dense(KmerSpectrum(k=2, normalize="l2").fit(None), seqs)
    np.testing.assert_allclose(np.linalg.norm(l2, axis=1), [1, 1, 0], rtol=1e-6)


def test_integer_counts():
    x = KmerSpectrum(k=1, dtype=np.int32).fit(None).transform(["AACGT"])
    assert x.dtype == np.int32 and x.toarray().tolist() == [[2, 1, 1, 1]]


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"k": 0}, "k must be an integer from 1 to 8, got 0"),
        ({"k": 2.5}, "got 2.5"),
        ({"normalize": "max"}, "normalize must be None, 'l1' or 'l2', got 'max'"),
        ({"dtype": np.uint8}, "dtype must be float32, float64, int32 or int64"),
        ({"dtype": "nonsense"}, "dtype must be"),
        ({"dtype": np.int64, "normalize": "l1"}, "needs a float dtype"),
    ],
)
def test_bad_params_fail_at_fit(params, message):
    spectrum = KmerSpectrum(**params)  # __init__ only stores them
    with pytest.raises(InputError, match=message):
        spectrum.fit(["ACGT"])


@pytest.mark.parametrize(
    ("X", "message"),
    [
        ("ACGT", "got a single string"),
        (["AC", 3], "must hold only strings, found a int"),
        (5, "got int"),
        (["AC-T"], "character '-' at position 2"),
        (np.zeros((2, 3, 4), dtype=np.uint8), "2-D \\(N, L\\)"),
    ],
)
def test_bad_input(X, message):
    with pytest.raises(InputError, match=message):
        KmerSpectrum(k=2).fit(None).transform(X)


# --- scikit-learn contract ------------------------------------------------------------


def test_not_fitted():
    with pytest.raises(NotFittedError):
        KmerSpectrum().transform(["ACGT"])
    with pytest.raises(NotFittedError):
        KmerSpectrum().get_feature_names_out()


def test_params_clone_pickle():
    spectrum = KmerSpectrum(k=3, canonical=True, normalize="l2")
    assert spectrum.get_params() == {"k": 3, "canonical": True, "normalize": "l2", "dtype": np.float32}
    assert clone(spectrum).get_params() == spectrum.get_params()
    spectrum.set_params(k=2)
    assert spectrum.k == 2
    fitted = spectrum.fit(["ACGT"])
    assert fitted is spectrum
    restored = pickle.loads(pickle.dumps(fitted))
    assert (restored.transform(["ACGTTG"]) != fitted.transform(["ACGTTG"])).nnz == 0
    with pytest.raises(TypeError):
        KmerSpectrum(3)  # keyword-only


def _promoters(shared_data, name: str, n: int) -> tuple[list[str], list[int]]:
    path = shared_data / "promoters" / "gue_prom_core_all" / name
    if not path.exists():
        pytest.skip(f"{path} is absent")
    with open(path, newline="") as handle:
        rows = list(itertools.islice(csv.DictReader(handle), n))
    return [r["sequence"] for r in rows], [int(r["label"]) for r in rows]


def test_pipeline_and_grid_search_on_promoters(shared_data):
    # GUE core promoters (70 bp, balanced): chance is 0.5; 3-mer spectra + logistic regression reach ~0.74
    X_train, y_train = _promoters(shared_data, "train.csv", 3000)
    X_test, y_test = _promoters(shared_data, "test.csv", 1500)
    pipe = Pipeline([("spectrum", KmerSpectrum(normalize="l1")), ("clf", LogisticRegression(max_iter=1000))])
    search = GridSearchCV(pipe, {"spectrum__k": [1, 3], "spectrum__canonical": [False, True]}, cv=3)
    search.fit(X_train, y_train)
    assert search.best_params_["spectrum__k"] == 3  # 3-mers beat base composition
    assert search.score(X_test, y_test) > 0.65
    codes, _ = encode(X_test)
    assert search.score(codes, y_test) == search.score(X_test, y_test)  # code arrays work the same
