"""A k-mer logistic regression: the scikit-learn reference point for the deep models.

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
    ``(N,)`` probability of the positive class (binary), ``(N, C)`` softmax
    (multiclass) or ``(N, C)`` independent sigmoids (multilabel): the same
    shapes as :meth:`bioseq.bundle.Bundle.predict_proba`.

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

from bioseq.codes import check_codes
from bioseq.encode.kmer import MAX_K
from bioseq.encode.spectrum import KmerSpectrum
from bioseq.errors import InputError

__all__ = ["KmerLogisticBaseline", "MODEL_NAME"]

MODEL_NAME = "kmer_logistic"
"""The ``model.name`` of this model in a bundle's ``config.json``."""

_TASKS = ("binary", "multiclass", "multilabel")
_ARRAYS = ("coef", "intercept")


class KmerLogisticBaseline:
    """K-mer frequencies + logistic regression.

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

    Raises
    ------
    InputError
        On an option of the wrong type or out of range.

    Examples
    --------
    >>> from bioseq.codes import encode
    >>> codes, _ = encode(["AAAAAAAA", "AAAAAAAT", "GGGGGGGC", "GGGGGGGG"])
    >>> model = KmerLogisticBaseline(k=2, C=100.0).fit(codes, np.array([0, 0, 1, 1]), "binary")
    >>> (model.predict_proba(codes) > 0.5).tolist()
    [False, False, True, True]
    """

    def __init__(self, *, k: int = 4, canonical: bool = False, C: float = 1.0, max_iter: int = 1000,
                 seed: int = 0) -> None:
        if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not 1 <= k <= MAX_K:
            raise InputError(f"k must be an integer from 1 to {MAX_K}, got {k!r}")  # 4**k columns
        if not isinstance(canonical, (bool, np.bool_)):
            raise InputError(f"canonical must be True or False, got {canonical!r}")
        if isinstance(C, bool) or not isinstance(C, (int, float, np.number)) or not np.isfinite(C) or C <= 0:
            raise InputError(f"C must be a positive number, got {C!r}",
                             fix="Larger C means weaker regularisation; try 1.0")
        if isinstance(max_iter, bool) or not isinstance(max_iter, (int, np.integer)) or max_iter < 1:
            raise InputError(f"max_iter must be a positive integer, got {max_iter!r}")
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
            raise InputError(f"seed must be an integer, got {seed!r}")
        self.k, self.canonical, self.C = int(k), bool(canonical), float(C)
        self.max_iter, self.seed = int(max_iter), int(seed)
        self._spectrum = KmerSpectrum(k=self.k, canonical=self.canonical, normalize="l1",
                                      dtype=np.float64).fit(None)
        self.task: str | None = None
        self.coef_: np.ndarray | None = None
        self.intercept_: np.ndarray | None = None

    def options(self) -> dict:
        """The constructor options as JSON-ready values (``model.options`` in a bundle)."""
        return {"k": self.k, "canonical": self.canonical, "C": self.C, "max_iter": self.max_iter,
                "seed": self.seed}

    @property
    def n_features(self) -> int:
        """Number of k-mer columns: ``4**k``, or about half with ``canonical``."""
        return self._spectrum.n_features_

    def array_shapes(self, n_outputs: int) -> dict[str, tuple[int, ...]]:
        """The shape of each array :meth:`to_arrays` gives for ``n_outputs`` outputs."""
        return {"coef": (n_outputs, self.n_features), "intercept": (n_outputs,)}

    def features(self, codes: np.ndarray):
        """Scaled k-mer frequencies (see the module docstring).

        Returns
        -------
        scipy.sparse.csr_matrix, shape ``(N, n_features)``, float64

        Raises
        ------
        InputError
            On codes that are not ``(N, L)`` uint8.
        """
        _check_codes_2d(codes)
        return self._spectrum.transform(codes) * float(self.n_features)

    def fit(self, codes: np.ndarray, labels: np.ndarray, task: str, *,
            n_classes: int | None = None) -> KmerLogisticBaseline:
        """Fit the logistic regression(s).

        Parameters
        ----------
        codes : numpy.ndarray, shape ``(N, L)``, dtype uint8
        labels : numpy.ndarray, shape ``(N,)`` int or ``(N, C)`` 0/1
        task : {"binary", "multiclass", "multilabel"}
        n_classes : int, optional
            Number of classes of a multi-class task; default ``labels.max() + 1``.

        Returns
        -------
        self

        Raises
        ------
        InputError
            On codes that are not ``(N, L)`` uint8, labels of the wrong shape
            or range for ``task``, or a class (a label column, for multilabel)
            without positive and negative examples.
        """
        from sklearn.linear_model import LogisticRegression

        if task not in _TASKS:
            raise InputError(f"task must be one of {', '.join(_TASKS)}, got {task!r}")
        x = self.features(codes)
        y = _check_labels(labels, task, x.shape[0], n_classes)
        kwargs = {"C": self.C, "max_iter": self.max_iter, "random_state": self.seed}
        if task == "multilabel":
            fits = [LogisticRegression(**kwargs).fit(x, y[:, j]) for j in range(y.shape[1])]
            coef = np.concatenate([f.coef_ for f in fits])  # (C, F)
            intercept = np.concatenate([f.intercept_ for f in fits])  # (C,)
        else:
            fitted = LogisticRegression(**kwargs).fit(x, y)
            coef, intercept = fitted.coef_, fitted.intercept_  # (1 or C, F), (1 or C,)
        self.task = task
        self.coef_ = np.ascontiguousarray(coef, dtype=np.float64)
        self.intercept_ = np.ascontiguousarray(intercept, dtype=np.float64)
        return self

    def predict_proba(self, codes: np.ndarray) -> np.ndarray:
        """Class probabilities.

        Parameters
        ----------
        codes : numpy.ndarray, shape ``(N, L)``, dtype uint8

        Returns
        -------
        numpy.ndarray, float32
            ``(N,)`` for binary, ``(N, C)`` otherwise (see the module docstring).

        Raises
        ------
        InputError
            Before :meth:`fit`, or on codes that are not ``(N, L)`` uint8.
        """
        if self.coef_ is None:
            raise InputError("the model is not fitted", fix="Call fit() or load a bundle first")
        logits = np.asarray(self.features(codes) @ self.coef_.T) + self.intercept_  # (N, n_outputs)
        if self.task == "binary":
            return expit(logits[:, 0]).astype(np.float32)
        if self.task == "multiclass":
            return softmax(logits, axis=1).astype(np.float32)
        return expit(logits).astype(np.float32)

    def to_arrays(self) -> dict[str, np.ndarray]:
        """The fitted weights: ``coef`` ``(n_outputs, n_features)`` and ``intercept`` ``(n_outputs,)``, float64.

        Raises
        ------
        InputError
            Before :meth:`fit`.
        """
        if self.coef_ is None:
            raise InputError("the model is not fitted", fix="Call fit() before saving it")
        return {"coef": self.coef_.copy(), "intercept": self.intercept_.copy()}

    @classmethod
    def from_arrays(cls, arrays: Mapping[str, np.ndarray], options: Mapping, *,
                    task: str) -> KmerLogisticBaseline:
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

        Raises
        ------
        InputError
            On an unknown option, a missing or extra array, or shapes that do
            not fit the options and task (the message names the array).
        """
        if task not in _TASKS:
            raise InputError(f"task must be one of {', '.join(_TASKS)}, got {task!r}")
        if not isinstance(options, Mapping):
            raise InputError(f"options must be a mapping, got {type(options).__name__}")
        unknown = sorted(set(options) - {"k", "canonical", "C", "max_iter", "seed"})
        if unknown:
            raise InputError(f"model {MODEL_NAME!r} has no option {unknown[0]!r}; "
                             "its options are C, canonical, k, max_iter, seed")
        model = cls(**options)
        missing = [name for name in _ARRAYS if name not in arrays]
        extra = sorted(set(arrays) - set(_ARRAYS))
        if missing or extra:
            raise InputError(f"array {(missing or extra)[0]!r} is {'missing' if missing else 'unexpected'}; "
                             f"a {MODEL_NAME} model has exactly {', '.join(_ARRAYS)}")
        coef, intercept = (np.asarray(arrays[name], dtype=np.float64) for name in _ARRAYS)
        rows = 1 if task == "binary" else coef.shape[0] if coef.ndim == 2 else 0
        expected = model.array_shapes(rows)
        rows_text = "1" if task == "binary" else "C"
        want = {"coef": f"({rows_text}, {model.n_features})", "intercept": f"({rows_text},)"}
        for name, array in (("coef", coef), ("intercept", intercept)):
            if array.shape != expected[name] or rows < (3 if task == "multiclass" else 1):
                raise InputError(f"array {name!r} has shape {array.shape}, but k={model.k}, "
                                 f"canonical={model.canonical} and task {task!r} need {want[name]}")
        model.task = task
        model.coef_, model.intercept_ = np.ascontiguousarray(coef), np.ascontiguousarray(intercept)
        return model

    def __repr__(self) -> str:
        options = ", ".join(f"{key}={value!r}" for key, value in self.options().items())
        return f"KmerLogisticBaseline({options}{'' if self.task is None else ', fitted ' + self.task})"


def _check_codes_2d(codes: np.ndarray) -> None:
    check_codes(codes)
    if codes.ndim != 2:
        raise InputError(f"codes must be a 2-D (N, L) array, got shape {codes.shape}",
                         fix="Encode sequences with bioseq.encode.encode()")


def _check_labels(labels: np.ndarray, task: str, n: int, n_classes: int | None) -> np.ndarray:
    """Labels as int64 ``(N,)`` or ``(N, C)``, each class with positives and negatives."""
    y = np.asarray(labels)
    if not (np.issubdtype(y.dtype, np.integer) or y.dtype == bool):
        raise InputError(f"labels must be integers, got dtype {y.dtype}")
    y = y.astype(np.int64)
    shape_ok = y.ndim == (2 if task == "multilabel" else 1) and y.shape[0] == n
    if not shape_ok or n == 0:
        want = f"({n}, C)" if task == "multilabel" else f"({n},)"
        raise InputError(f"{task} labels must have shape {want} with N > 0, got {y.shape}",
                         fix="Pass one label per sequence (LabelledSequences.labels)")
    if task == "multilabel":
        if not np.isin(y, (0, 1)).all():
            raise InputError("multilabel labels must be 0 or 1")
        counts = y.sum(axis=0)
        bad = np.flatnonzero((counts == 0) | (counts == n))
        if bad.size:
            raise InputError(f"label column {int(bad[0])} is {'never' if counts[bad[0]] == 0 else 'always'} set",
                             fix="Each class needs positive and negative training examples")
        return y
    top = 2 if task == "binary" else (int(y.max()) + 1 if n_classes is None else n_classes)
    if task == "multiclass" and top < 3:
        raise InputError(f"a multiclass task needs 3 or more classes, got {top}",
                         fix="Use task='binary' for two classes")
    if y.min() < 0 or y.max() >= top:
        raise InputError(f"{task} labels must lie in 0..{top - 1}, got {int(y.min())}..{int(y.max())}")
    counts = np.bincount(y, minlength=top)
    if (counts == 0).any():
        raise InputError(f"class {int(np.flatnonzero(counts == 0)[0])} has no training examples",
                         fix="Every class needs examples; check the split or the labels")
    return y
