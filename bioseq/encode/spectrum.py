"""K-mer spectrum features: a scikit-learn transformer.

Data contract
-------------
Input ``X``: a list (or any iterable, e.g. a pandas Series) of strings, or a
``(N, L)`` uint8 code array right-padded with ``PAD``.

Output: a ``scipy.sparse.csr_matrix`` of shape ``(N, n_features)``; column
``j`` counts the windows of k-mer ``get_feature_names_out()[j]`` (windows are
0-based half-open ``[t, t + k)``, stride 1). K-mers holding N or another
IUPAC letter, and windows running into padding, are not counted.
With ``canonical=True`` a k-mer and its reverse complement share one column,
named after the lexicographically smaller of the two.

:class:`KmerSpectrum` follows scikit-learn's estimator contract
(``CountVectorizer``): ``__init__`` only stores its keyword arguments,
``fit`` learns the feature space and returns ``self``, ``transform`` checks
that the estimator was fitted. So it works in a ``Pipeline``, ``GridSearchCV``,
``clone`` and ``pickle``.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.preprocessing import normalize as _normalize
from sklearn.utils.validation import check_is_fitted

from bioseq.codes import as_codes
from bioseq.encode.kmer import MAX_K, kmer_index
from bioseq.errors import InputError

__all__ = ["KmerSpectrum"]

_NORMS = (None, "l1", "l2")
_DTYPES = (np.float32, np.float64, np.int32, np.int64)


def _reverse_complement_rank(k: int) -> np.ndarray:
    """int64[4**k]: the rank of the reverse complement of each k-mer rank."""
    rank = np.arange(4**k, dtype=np.int64)
    rc = np.zeros_like(rank)
    for j in range(k):  # base j of the k-mer (from the left) becomes base k-1-j, complemented
        base = (rank >> 2 * (k - 1 - j)) & 3
        rc |= (3 - base) << 2 * j
    return rc


class KmerSpectrum(TransformerMixin, BaseEstimator):
    """Count the k-mers of each sequence (a "bag of k-mers").

    Parameters
    ----------
    k : int, default 4
        K-mer width, 1..8.
    canonical : bool, default False
        Merge each k-mer with its reverse complement into one column
        (strand-independent features).
    normalize : {None, "l1", "l2"}, default None
        Scale each row: ``"l1"`` gives k-mer frequencies (rows sum to 1),
        ``"l2"`` unit-length rows. Rows without any k-mer stay zero.
    dtype : numpy dtype, default float32
        Of the output; float32, float64, int32 or int64 (integer counts only
        without ``normalize``).

    Attributes
    ----------
    n_features_ : int
        Number of columns: ``4**k``, or about half with ``canonical``.
    vocabulary_ : dict of str to int
        Column of each k-mer (with ``canonical``, both strands map to one column).

    Examples
    --------
    >>> spectrum = KmerSpectrum(k=2).fit(["ACGT"])
    >>> spectrum.transform(["ACGTAC"]).toarray()[0, [1, 6, 11, 12]].tolist()  # AC x2, CG, GT, TA
    [2.0, 1.0, 1.0, 1.0]
    """

    def __init__(
        self, *, k: int = 4, canonical: bool = False, normalize: str | None = None, dtype: type = np.float32
    ) -> None:
        self.k = k
        self.canonical = canonical
        self.normalize = normalize
        self.dtype = dtype

    def _check_params(self) -> None:
        if isinstance(self.k, bool) or not isinstance(self.k, (int, np.integer)) or not 1 <= self.k <= MAX_K:
            raise InputError(f"k must be an integer from 1 to {MAX_K}, got {self.k!r}")
        if self.normalize not in _NORMS:
            raise InputError(f"normalize must be None, 'l1' or 'l2', got {self.normalize!r}")
        try:
            known = any(np.dtype(self.dtype) == d for d in _DTYPES)
        except TypeError:
            known = False
        if not known:
            raise InputError(f"dtype must be float32, float64, int32 or int64, got {self.dtype!r}")
        if self.normalize is not None and np.issubdtype(np.dtype(self.dtype), np.integer):
            raise InputError(
                f"normalize={self.normalize!r} needs a float dtype, got {np.dtype(self.dtype)}",
                fix="Use dtype=numpy.float32, or normalize=None for integer counts",
            )

    def fit(self, X: object, y: object = None) -> KmerSpectrum:
        """Learn the feature space.

        The columns depend only on ``k`` and ``canonical``, so ``X`` and ``y``
        are not read; they are there for the scikit-learn API.

        Returns
        -------
        self

        Raises
        ------
        InputError
            On an invalid parameter.
        """
        self._check_params()
        rank = np.arange(4**self.k, dtype=np.int64)
        if self.canonical:
            canonical = np.minimum(rank, _reverse_complement_rank(self.k))
            kept, self.column_of_rank_ = np.unique(canonical, return_inverse=True)
        else:
            kept, self.column_of_rank_ = rank, rank
        self.n_features_ = int(kept.size)
        names = self._kmer_names(kept)
        self.vocabulary_ = {name: j for j, name in enumerate(names)}
        if self.canonical:
            all_names = self._kmer_names(rank)
            self.vocabulary_.update({name: int(j) for name, j in zip(all_names, self.column_of_rank_)})
        self.feature_names_ = np.asarray(names, dtype=object)
        return self

    def _kmer_names(self, rank: np.ndarray) -> list[str]:
        letters = np.array(list("ACGT"))
        digits = [(rank >> 2 * (self.k - 1 - j)) & 3 for j in range(self.k)]
        return ["".join(chars) for chars in zip(*(letters[d] for d in digits))]

    def transform(self, X: object) -> sp.csr_matrix:
        """Count the k-mers of each sequence.

        Parameters
        ----------
        X : list of str or numpy.ndarray ``(N, L)`` uint8

        Returns
        -------
        scipy.sparse.csr_matrix, shape ``(N, n_features_)``, dtype ``dtype``

        Raises
        ------
        sklearn.exceptions.NotFittedError
            When called before :meth:`fit`.
        InputError
            On a non-nucleotide letter or invalid codes.
        """
        check_is_fitted(self, "column_of_rank_")
        if isinstance(X, (str, bytes)):
            raise InputError("X must be a list of sequences, got a single string", fix="Wrap it in a list: [sequence]")
        codes, _, single = as_codes(X)
        if single:
            raise InputError(f"a code array must be 2-D (N, L), got shape {X.shape}")
        rank, status = kmer_index(codes, k=self.k)  # (N, T)
        valid = status == 0
        indptr = np.zeros(codes.shape[0] + 1, dtype=np.int64)
        np.cumsum(valid.sum(axis=1), out=indptr[1:])
        cols = self.column_of_rank_[rank[valid]]  # row-major, so grouped by row
        counts = sp.csr_matrix(
            (np.ones(cols.size, dtype=self.dtype), cols, indptr),
            shape=(codes.shape[0], self.n_features_),
        )
        counts.sum_duplicates()
        if self.normalize is not None:
            counts = _normalize(counts, norm=self.normalize, copy=False)
        return counts

    def get_feature_names_out(self, input_features: object = None) -> np.ndarray:
        """The k-mer of each column (the smaller strand with ``canonical``), as an object array."""
        check_is_fitted(self, "feature_names_")
        return self.feature_names_.copy()
