"""A k-mer logistic regression: the scikit-learn reference point for the deep models.

:class:`KmerLogisticBaseline` is a scikit-learn estimator (``get_params``,
``set_params``, ``clone``, ``fit(X, y)``, ``predict``, ``predict_proba``, ``score``),
so it works in a :class:`~sklearn.pipeline.Pipeline` and :class:`~sklearn.model_selection.GridSearchCV`;
``X`` is codes, not a float matrix. Its model kind is
:class:`~bioseq.models.kmer_kind.KmerKind` (``bioseq train --model kmer_logistic``).

Each sequence becomes its k-mer frequencies (:class:`~bioseq.encode.spectrum.KmerSpectrum`
with ``normalize="l1"``: k-mers in windows ``[t, t + k)``, 0-based half-open,
stride 1, k-mers holding N or padding not counted), multiplied by the number
of k-mer columns so that a k-mer seen as often as uniform random sequence
would give it has the value 1 (which makes ``C=1.0`` a sensible default: the
raw frequencies, about ``1 / L`` each, need ``C`` in the tens of thousands), and a
:class:`~sklearn.linear_model.LogisticRegression` maps them to classes:
one binary model for a binary task, one multinomial (softmax) model for a
multi-class task and one binary model per class for a multi-label task.

Data contract
-------------
codes : numpy.ndarray, shape ``(N, L)``, dtype uint8
    Codes of :mod:`bioseq.alphabet`, rows right-padded with ``PAD``.
labels : numpy.ndarray
    ``(N,)`` int class indices (binary, multiclass) or ``(N, C)`` 0/1
    (multilabel), as :class:`bioseq.io.labels.LabelledSequences` holds them.
probabilities : numpy.ndarray, dtype float32
    ``(N, 2)`` for binary (scikit-learn's layout: column 1 is the positive
    class), ``(N, C)`` softmax (multiclass) or ``(N, C)`` independent sigmoids
    (multilabel). A bundle keeps column 1 for binary, as every bundle does.

The fitted model is two arrays, ``coef`` ``(n_outputs, n_features)`` and
``intercept`` ``(n_outputs,)`` (float64): :meth:`KmerLogisticBaseline.to_arrays`
and :meth:`KmerLogisticBaseline.from_arrays` let a bundle store it as
safetensors plus JSON options, never as a pickle. Prediction is
``features @ coef.T + intercept`` followed by a sigmoid or softmax, exactly
what scikit-learn's ``predict_proba`` computes.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from scipy.special import expit, softmax
from sklearn.base import BaseEstimator, ClassifierMixin

from bioseq.checks import is_integer
from bioseq.codes import check_codes
from bioseq.encode.kmer import MAX_K
from bioseq.encode.spectrum import KmerSpectrum
from bioseq.errors import InputError
from bioseq.models.kmer_kind import KmerKind

__all__ = ["KmerLogisticBaseline"]

_TASKS = ("binary", "multiclass", "multilabel")
_ARRAYS = ("coef", "intercept")


class KmerLogisticBaseline(ClassifierMixin, BaseEstimator):
    """K-mer frequencies + logistic regression, as a scikit-learn classifier.

    Parameters
    ----------
    k : int, default 4
        K-mer width, 1..8.
    canonical : bool, default False
        Count a k-mer and its reverse complement together.
    C : float, default 1.0
        Inverse L2 regularisation strength of the logistic regression (> 0).
    max_iter : int, default 1000
        Iterations of the lbfgs solver (>= 1).
    seed : int, default 0
        ``random_state`` of the solver.

    Attributes
    ----------
    task_ : {"binary", "multiclass", "multilabel"}
    classes_ : numpy.ndarray
        The class labels (``predict`` returns them); for multilabel the column indices.
    coef_ : numpy.ndarray, shape ``(n_outputs, n_features)``, float64
        ``n_outputs`` is 1 for binary and the number of classes otherwise.
    intercept_ : numpy.ndarray, shape ``(n_outputs,)``, float64

    Notes
    -----
    Options are checked when the model is fitted (the scikit-learn contract:
    the constructor only stores them), and by :meth:`check_params`.

    Examples
    --------
    >>> from bioseq.codes import encode
    >>> codes, _ = encode(["AAAAAAAA", "AAAAAAAT", "GGGGGGGC", "GGGGGGGG"])
    >>> model = KmerLogisticBaseline(k=2, C=100.0).fit(codes, np.array([0, 0, 1, 1]))
    >>> model.predict(codes).tolist()
    [0, 0, 1, 1]
    """

    def __init__(
        self, *, k: int = 4, canonical: bool = False, C: float = 1.0, max_iter: int = 1000, seed: int = 0
    ) -> None:
        self.k = k
        self.canonical = canonical
        self.C = C
        self.max_iter = max_iter
        self.seed = seed

    def check_params(self) -> None:
        """Check the options.

        Raises
        ------
        InputError
            On an option of the wrong type or out of range.
        """
        if not is_integer(self.k) or not 1 <= self.k <= MAX_K:
            raise InputError(f"k must be an integer from 1 to {MAX_K}, got {self.k!r}")  # 4**k columns
        if not isinstance(self.canonical, (bool, np.bool_)):
            raise InputError(f"canonical must be True or False, got {self.canonical!r}")
        C = self.C
        if isinstance(C, bool) or not isinstance(C, (int, float, np.number)) or not np.isfinite(C) or C <= 0:
            raise InputError(
                f"C must be a positive number, got {C!r}", fix="Larger C means weaker regularisation; try 1.0"
            )
        if not is_integer(self.max_iter) or self.max_iter < 1:
            raise InputError(f"max_iter must be a positive integer, got {self.max_iter!r}")
        if not is_integer(self.seed):
            raise InputError(f"seed must be an integer, got {self.seed!r}")

    def options(self) -> dict:
        """The constructor options as JSON-ready values (``model.options`` in a bundle)."""
        self.check_params()
        return {
            "k": int(self.k),
            "canonical": bool(self.canonical),
            "C": float(self.C),
            "max_iter": int(self.max_iter),
            "seed": int(self.seed),
        }

    def _spectrum(self) -> KmerSpectrum:
        key = (int(self.k), bool(self.canonical))
        cached = getattr(self, "_spectrum_cache", None)
        if cached is None or cached[0] != key:
            self.check_params()
            cached = (key, KmerSpectrum(k=key[0], canonical=key[1], normalize="l1", dtype=np.float64).fit(None))
            self._spectrum_cache = cached
        return cached[1]

    @property
    def n_features(self) -> int:
        """Number of k-mer columns: ``4**k``, or about half with ``canonical``."""
        return self._spectrum().n_features_

    def array_shapes(self, n_outputs: int) -> dict[str, tuple[int, ...]]:
        """The shape of each array :meth:`to_arrays` gives for ``n_outputs`` outputs."""
        return {"coef": (n_outputs, self.n_features), "intercept": (n_outputs,)}

    def features(self, X: np.ndarray):
        """Scaled k-mer frequencies (see the module docstring).

        Parameters
        ----------
        X : numpy.ndarray, shape ``(N, L)``, dtype uint8
            Codes.

        Returns
        -------
        scipy.sparse.csr_matrix, shape ``(N, n_features)``, float64

        Raises
        ------
        InputError
            On codes that are not ``(N, L)`` uint8.
        """
        _check_codes_2d(X)
        spectrum = self._spectrum()
        return spectrum.transform(X) * float(spectrum.n_features_)

    def fit(
        self, X: np.ndarray, y: np.ndarray, *, task: str | None = None, n_classes: int | None = None
    ) -> KmerLogisticBaseline:
        """Fit the logistic regression(s).

        Parameters
        ----------
        X : numpy.ndarray, shape ``(N, L)``, dtype uint8
            Codes.
        y : numpy.ndarray, shape ``(N,)`` or ``(N, C)``
            Class labels of any type (``(N,)``), or 0/1 columns for a multilabel task (``(N, C)``).
        task : {"binary", "multiclass", "multilabel"}, optional
            Default: multilabel for 2-D ``y``, else binary for two classes and multiclass for more.
        n_classes : int, optional
            With integer labels ``0..n_classes - 1`` (a bundle's class indices): the number of classes,
            so that a class without examples is an error rather than a smaller model.

        Returns
        -------
        self

        Raises
        ------
        InputError
            On bad options, codes that are not ``(N, L)`` uint8, labels of the wrong shape or
            range for ``task``, or a class (a label column, for multilabel) without positive and
            negative examples.
        """
        from sklearn.linear_model import LogisticRegression

        self.check_params()
        x = self.features(X)
        task, classes, y = _check_labels(y, task, x.shape[0], n_classes)
        kwargs = {"C": float(self.C), "max_iter": int(self.max_iter), "random_state": int(self.seed)}
        if task == "multilabel":
            fits = [LogisticRegression(**kwargs).fit(x, y[:, j]) for j in range(y.shape[1])]
            coef = np.concatenate([f.coef_ for f in fits])  # (C, F)
            intercept = np.concatenate([f.intercept_ for f in fits])  # (C,)
        else:
            fitted = LogisticRegression(**kwargs).fit(x, y)
            coef, intercept = fitted.coef_, fitted.intercept_  # (1 or C, F), (1 or C,)
        self.task_, self.classes_ = task, classes
        self.coef_ = np.ascontiguousarray(coef, dtype=np.float64)
        self.intercept_ = np.ascontiguousarray(intercept, dtype=np.float64)
        return self

    def decision_function(self, X: np.ndarray) -> np.ndarray:
        """Logits: ``(N,)`` for binary, ``(N, C)`` otherwise (float64)."""
        if getattr(self, "coef_", None) is None:
            raise InputError("the model is not fitted", fix="Call fit() or load a bundle first")
        logits = np.asarray(self.features(X) @ self.coef_.T) + self.intercept_  # (N, n_outputs)
        return logits[:, 0] if self.task_ == "binary" else logits

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        """Class probabilities, float32: ``(N, 2)`` for binary, ``(N, C)`` otherwise (see the module docstring).

        Raises
        ------
        InputError
            Before :meth:`fit`, or on codes that are not ``(N, L)`` uint8.
        """
        logits = self.decision_function(X)
        if self.task_ == "binary":
            positive = expit(logits)
            return np.stack([1.0 - positive, positive], axis=1).astype(np.float32)
        if self.task_ == "multiclass":
            return softmax(logits, axis=1).astype(np.float32)
        return expit(logits).astype(np.float32)

    def predict(self, X: np.ndarray) -> np.ndarray:
        """The most probable class of each sequence (``classes_``); for multilabel ``(N, C)`` 0/1 at p > 0.5."""
        proba = self.predict_proba(X)
        if self.task_ == "multilabel":
            return (proba > 0.5).astype(np.int64)
        return self.classes_[proba.argmax(axis=1)]

    def to_arrays(self) -> dict[str, np.ndarray]:
        """The fitted weights: ``coef`` ``(n_outputs, n_features)`` and ``intercept`` ``(n_outputs,)``, float64.

        Raises
        ------
        InputError
            Before :meth:`fit`.
        """
        if getattr(self, "coef_", None) is None:
            raise InputError("the model is not fitted", fix="Call fit() before saving it")
        return {"coef": self.coef_.copy(), "intercept": self.intercept_.copy()}

    @classmethod
    def from_options(cls, options: Mapping) -> KmerLogisticBaseline:
        """The (unfitted) model of ``options`` (a bundle's ``model.options``), every option known and checked.

        Raises
        ------
        InputError
            On options that are not a mapping, an unknown option, or a bad value.
        """
        if not isinstance(options, Mapping):
            raise InputError(f"options must be a mapping, got {type(options).__name__}")
        names = cls().get_params()
        unknown = sorted(str(key) for key in set(options) - set(names))
        if unknown:
            raise InputError(
                f"model {KmerKind.name!r} has no option {unknown[0]!r}; its options are {', '.join(sorted(names))}"
            )
        model = cls(**options)
        model.check_params()
        return model

    @classmethod
    def from_arrays(cls, arrays: Mapping[str, np.ndarray], options: Mapping, *, task: str) -> KmerLogisticBaseline:
        """Rebuild a fitted model from :meth:`to_arrays` and :meth:`options`.

        Parameters
        ----------
        arrays : mapping of str to numpy.ndarray
            ``coef`` and ``intercept``.
        options : mapping
            Constructor options.
        task : {"binary", "multiclass", "multilabel"}
            Decides sigmoid or softmax (stored beside the options in a bundle).

        Returns
        -------
        KmerLogisticBaseline
            ``classes_`` are the class indices ``0..n - 1``.

        Raises
        ------
        InputError
            On an unknown option, a missing or extra array, or shapes that do
            not fit the options and task (the message names the array).
        """
        model = cls.from_options(options)
        if task not in _TASKS:
            raise InputError(f"task must be one of {', '.join(_TASKS)}, got {task!r}")
        missing = [name for name in _ARRAYS if name not in arrays]
        extra = sorted(set(arrays) - set(_ARRAYS))
        if missing or extra:
            raise InputError(
                f"array {(missing or extra)[0]!r} is {'missing' if missing else 'unexpected'}; "
                f"a {KmerKind.name} model has exactly {', '.join(_ARRAYS)}"
            )
        coef, intercept = (np.asarray(arrays[name], dtype=np.float64) for name in _ARRAYS)
        rows = 1 if task == "binary" else coef.shape[0] if coef.ndim == 2 else 0
        expected = model.array_shapes(rows)
        rows_text = "1" if task == "binary" else "C"
        want = {"coef": f"({rows_text}, {model.n_features})", "intercept": f"({rows_text},)"}
        for name, array in (("coef", coef), ("intercept", intercept)):
            if array.shape != expected[name] or rows < (3 if task == "multiclass" else 1):
                raise InputError(
                    f"array {name!r} has shape {array.shape}, but k={model.k}, "
                    f"canonical={model.canonical} and task {task!r} need {want[name]}"
                )
        model.task_, model.classes_ = task, np.arange(2 if task == "binary" else rows)
        model.coef_, model.intercept_ = np.ascontiguousarray(coef), np.ascontiguousarray(intercept)
        return model


def _check_codes_2d(codes: np.ndarray) -> None:
    check_codes(codes)
    if codes.ndim != 2:
        raise InputError(
            f"codes must be a 2-D (N, L) array, got shape {codes.shape}",
            fix="Encode sequences with bioseq.codes.encode()",
        )


def _check_labels(labels, task: str | None, n: int, n_classes: int | None) -> tuple[str, np.ndarray, np.ndarray]:
    """The task, the classes and the labels as int64 ``(N,)`` indices or ``(N, C)`` 0/1; each class with
    positives and negatives."""
    y = np.asarray(labels)
    if task is None:
        task = "multilabel" if y.ndim == 2 else "binary" if (n_classes or np.unique(y).size) <= 2 else "multiclass"
    if task not in _TASKS:
        raise InputError(f"task must be one of {', '.join(_TASKS)}, got {task!r}")
    shape_ok = y.ndim == (2 if task == "multilabel" else 1) and y.shape[0] == n
    if not shape_ok or n == 0:
        want = f"({n}, C)" if task == "multilabel" else f"({n},)"
        raise InputError(
            f"{task} labels must have shape {want} with N > 0, got {y.shape}",
            fix="Pass one label per sequence (LabelledSequences.labels)",
        )
    if task == "multilabel" or n_classes is not None:
        if not (np.issubdtype(y.dtype, np.integer) or y.dtype == bool):
            raise InputError(f"labels must be integers, got dtype {y.dtype}")
        y = y.astype(np.int64)
        classes = np.arange(y.shape[1] if task == "multilabel" else n_classes)
    else:  # any labels, as scikit-learn takes them
        classes, y = np.unique(y, return_inverse=True)
        y = y.astype(np.int64).reshape(-1)
    if task == "multilabel":
        if not np.isin(y, (0, 1)).all():
            raise InputError("multilabel labels must be 0 or 1")
        counts = y.sum(axis=0)
        bad = np.flatnonzero((counts == 0) | (counts == n))
        if bad.size:
            raise InputError(
                f"label column {int(bad[0])} is {'never' if counts[bad[0]] == 0 else 'always'} set",
                fix="Each class needs positive and negative training examples",
            )
        return task, classes, y
    top = 2 if task == "binary" else max(len(classes), 3)
    if task == "multiclass" and len(classes) < 3:
        raise InputError(
            f"a multiclass task needs 3 or more classes, got {len(classes)}", fix="Use task='binary' for two classes"
        )
    if task == "binary" and len(classes) > 2:
        raise InputError(
            f"binary labels must lie in 0..1, got {len(classes)} classes",
            fix="Use task='multiclass' for three or more classes",
        )
    if y.min() < 0 or y.max() >= top:
        raise InputError(f"{task} labels must lie in 0..{top - 1}, got {int(y.min())}..{int(y.max())}")
    counts = np.bincount(y, minlength=top)
    if (counts == 0).any():
        raise InputError(
            f"class {int(np.flatnonzero(counts == 0)[0])} has no training examples",
            fix="Every class needs examples; check the split or the labels",
        )
    if task == "binary" and len(classes) < 2:
        classes = np.arange(2)
    return task, classes, y
