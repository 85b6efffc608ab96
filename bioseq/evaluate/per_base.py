"""Per-position (base-resolution) metrics as the splice-site field reports them.

Data contract
-------------
labels
    The class index of every labelled position: shape ``(N, W)`` (N windows of
    W positions, as :mod:`bioseq.datasets.per_base_store` stores them) or
    ``(P,)`` (positions already pooled); any integer or bool dtype (datasets
    store ``uint8``), values ``0 <= label < C``.
proba
    Probabilities, not logits: shape ``(N, W, C)`` or ``(P, C)`` (channels last,
    as per-position models return them), float32 or float64, each position's
    row summing to 1 (a softmax over classes). float16 is read as float32.
classes
    Class names in index order. ``classes[0]`` is the background (``"neither"``)
    and is not scored; the others are site classes (``("neither", "acceptor",
    "donor")`` for splice sites).

Positions are pooled over windows: the window axis only groups them, so the
``(N, W)`` and flat layouts, and any order of the positions, give the same
figures. Nothing here carries genomic coordinates (the dataset's regions are
0-based, half-open).

Undefined values
----------------
As in :mod:`bioseq.evaluate.metrics`, a value that would be 0/0 is ``None``
(JSON ``null``), never 0 or NaN: the top-k accuracy, AUPRC and recall of a
class without sites, its AUROC when it has no sites or only sites, the
precision at a threshold nothing passes. Macro means use the defined values
only, and each such case adds a sentence to ``warnings``.

Memory
------
Inputs are never copied to float64 as a whole: a float32 ``(N, W, C)`` array
(a memory map works) is read in place. Each site class costs one sorted copy
of its scores and a boolean mask, about 5 bytes per position for float32
(every figure is then read off the sorted scores with binary searches for the
few true sites), so 100 million positions need about 0.5 GB beyond the
inputs. There is no Python loop over positions.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from bioseq.checks import check_threshold
from bioseq.errors import InputError

__all__ = ["check_per_base", "paired_metrics", "per_base_metrics"]

_SUM_TOLERANCE = 1e-3


def _array(values, what: str) -> np.ndarray:
    if values is None:
        raise InputError(f"{what} is missing", fix=f"Pass {what} as an array")
    if hasattr(values, "detach"):  # a torch tensor, on any device
        values = values.detach().cpu().numpy()
    array = np.asarray(values)
    if array.dtype == object or array.dtype.kind not in "biuf":
        raise InputError(f"{what} must hold numbers, got dtype {array.dtype}")
    return array


def _check_classes(classes, n_classes: int) -> tuple[str, ...]:
    if classes is None:
        return tuple(str(c) for c in range(n_classes))
    if isinstance(classes, (str, bytes)) or not isinstance(classes, Sequence):
        raise InputError(
            f"classes must be a sequence of class names, got {type(classes).__name__}",
            fix="Pass a list such as ['neither', 'acceptor', 'donor']",
        )
    names = tuple(str(c) for c in classes)
    if any(not name for name in names) or len(set(names)) != len(names):
        raise InputError(f"class names must be distinct and non-empty, got {list(names)}")
    if len(names) != n_classes:
        raise InputError(
            f"proba has {n_classes} classes on its last axis but {len(names)} class names were given ({list(names)})",
            fix="Pass one class name per model output, background first",
        )
    return names


def _check_proba(proba) -> tuple[np.ndarray, tuple[int, ...]]:
    p = _array(proba, "proba")
    shape = p.shape
    if p.dtype.kind != "f":
        raise InputError(f"proba must be floating point probabilities, got dtype {p.dtype}")
    if p.ndim not in (2, 3):
        raise InputError(f"proba must have shape (N, W, C) or (P, C), got {p.shape}")
    if p.shape[-1] < 2:
        raise InputError(
            f"proba has {p.shape[-1]} class on its last axis; per-position models need at least 2",
            fix="Pass the softmax over background and site classes, background first",
        )
    p = p.reshape(-1, p.shape[-1])  # a view for C-contiguous input
    if p.shape[0] == 0:
        raise InputError("proba is empty: there are no positions to evaluate")
    if p.dtype == np.float16:
        p = p.astype(np.float32)
    low, high = p.min(), p.max()  # NaN propagates, so both are finite only if every value is
    if not (np.isfinite(low) and np.isfinite(high)):
        bad = int(np.count_nonzero(~np.isfinite(p)))
        raise InputError(
            f"proba holds {bad} NaN or infinite values",
            fix="Check the model for a diverged (NaN) loss and the inputs for bad values",
        )
    if low < 0.0 or high > 1.0:
        raise InputError(
            f"proba holds values outside [0, 1] (min {low:.4g}, max {high:.4g}); these look like logits",
            fix="Apply a softmax over the class axis first",
        )
    off = np.abs(p.sum(axis=1) - 1.0) > _SUM_TOLERANCE  # (P,) in the input's precision, ample for 1e-3
    if off.any():
        row = int(np.flatnonzero(off)[0])
        raise InputError(
            f"{int(off.sum())} positions of proba do not sum to 1 over classes "
            f"(flat position {row} sums to {float(p[row].sum()):.4g})",
            fix="Apply a softmax over the class axis (the last one)",
        )
    return p, shape


def _check_labels(labels, proba_shape: tuple[int, ...], n_classes: int) -> np.ndarray:
    y = _array(labels, "labels")
    if y.dtype.kind == "f":
        raise InputError(
            f"labels must be integer class indices, got dtype {y.dtype}",
            fix="Cast them with .astype('uint8') if they are whole numbers",
        )
    if y.shape != proba_shape[:-1]:
        raise InputError(
            f"labels have shape {y.shape} but proba {proba_shape}: they must match except for proba's last "
            "(class) axis",
            fix="Pass labels (N, W) with proba (N, W, C), or labels (P,) with proba (P, C)",
        )
    y = y.reshape(-1)
    if y.dtype.kind == "b":
        y = y.view(np.uint8)
    low, high = int(y.min()), int(y.max())
    if low < 0 or high >= n_classes:
        bad = (y < 0) | (y >= n_classes)
        raise InputError(
            f"labels hold {int(bad.sum())} values outside 0..{n_classes - 1} "
            f"(first: {int(y[bad][0])} at flat position {int(np.flatnonzero(bad)[0])})",
            fix="Labels must be class indices into classes; mask or drop unlabelled positions first",
        )
    return y


def check_per_base(labels, proba, *, classes=None) -> tuple[np.ndarray | None, np.ndarray, tuple[str, ...]]:
    """Check per-position labels and probabilities and pool them into flat arrays.

    Parameters
    ----------
    labels : array-like, shape ``(N, W)`` or ``(P,)``, integer, or None
        Class indices (see the module docstring); ``None`` checks ``proba`` alone.
    proba : array-like, shape ``(N, W, C)`` or ``(P, C)``, float
        Probabilities, rows summing to 1.
    classes : sequence of str, length ``C``, optional
        Class names, background first; default ``"0"``, ``"1"``, ...

    Returns
    -------
    labels : numpy.ndarray, shape ``(P,)``, the input's integer dtype, or None
    proba : numpy.ndarray, shape ``(P, C)``, float32 or float64
        Views of the inputs where their layout allows (no copy).
    classes : tuple of str

    Raises
    ------
    InputError
        Non-numeric or float labels; shapes that do not match (``labels`` must
        be ``proba`` without its last axis); no positions; fewer than 2 classes
        or a class-name count unlike ``C``; NaN, infinite or out-of-[0, 1]
        probabilities (logits); rows not summing to 1; labels outside ``0..C-1``.
    """
    p, shape = _check_proba(proba)
    names = _check_classes(classes, p.shape[1])
    if labels is None:
        return None, p, names
    return _check_labels(labels, shape, len(names)), p, names


def _thresholds(thresholds) -> tuple[float, ...]:
    if isinstance(thresholds, (str, bytes)) or not isinstance(thresholds, Sequence):
        raise InputError(
            f"thresholds must be a sequence of numbers, got {type(thresholds).__name__}",
            fix="Pass e.g. (0.1, 0.5, 0.9)",
        )
    return tuple(check_threshold(t) for t in thresholds)


def _topk(ranked: np.ndarray, sites: np.ndarray) -> float:
    """Fraction of true sites among the ``k`` highest scores, ``k = sites.size``; ties at the cut-off shared.

    ``ranked`` holds every score and ``sites`` the scores of the true sites, both sorted ascending.
    """
    k = sites.size
    kth = ranked[ranked.size - k]  # the k-th highest score
    n_above = ranked.size - np.searchsorted(ranked, kth, side="right")
    n_tied = ranked.size - n_above - np.searchsorted(ranked, kth, side="left")
    hits = np.count_nonzero(sites > kth) + (k - n_above) * np.count_nonzero(sites == kth) / n_tied
    return float(hits / k)


def _ranking(ranked: np.ndarray, sites: np.ndarray) -> tuple[float, float | None]:
    """AUPRC (average precision) and AUROC, both as scikit-learn computes them, from sorted scores (as _topk).

    Average precision is the mean over true sites of the precision among the
    positions scoring at least as high (a group of tied scores is one step);
    AUROC is the Mann-Whitney statistic with mid-ranks for ties, which equals
    the trapezoidal area under the ROC curve.
    """
    n, n_sites = ranked.size, sites.size
    below = np.searchsorted(ranked, sites, side="left")  # positions scoring lower than each site
    not_above = np.searchsorted(ranked, sites, side="right")
    sites_at_least = n_sites - np.searchsorted(sites, sites, side="left")
    auprc = float(np.mean(sites_at_least / (n - below)))
    if n_sites == n:
        return auprc, None
    rank_sum = float(np.sum((below + not_above + 1) / 2.0))  # 1-based mid-ranks
    auroc = (rank_sum - n_sites * (n_sites + 1) / 2.0) / (n_sites * (n - n_sites))
    return auprc, float(auroc)


def _at_thresholds(ranked: np.ndarray, sites: np.ndarray, thresholds) -> list[dict]:
    rows = []
    n_sites = sites.size
    for threshold in thresholds:
        cut = ranked.dtype.type(threshold)  # compared in the scores' precision, as ``score > threshold``
        n_called = int(ranked.size - np.searchsorted(ranked, cut, side="right"))
        true_pos = int(np.count_nonzero(sites > cut))
        rows.append(
            {
                "threshold": threshold,
                "called": n_called,
                "true_positives": true_pos,
                "precision": true_pos / n_called if n_called else None,
                "recall": true_pos / n_sites if n_sites else None,
                "f1": 2 * true_pos / (n_called + n_sites) if n_called + n_sites else None,
            }
        )
    return rows


def _one_class(scores: np.ndarray, hit: np.ndarray, thresholds) -> dict:
    """The figures of one site class from its scores (P,) (a strided view is fine) and its 0/1 labels (P,)."""
    sites = np.sort(scores[hit])  # (n_sites,): few; sorted, so sums do not depend on the order of positions
    ranked = np.sort(scores)  # (P,): the one full-size copy
    n_sites = sites.size
    auprc, auroc = _ranking(ranked, sites) if n_sites else (None, None)
    return {
        "n_sites": n_sites,
        "prevalence": n_sites / ranked.size,
        "topk_accuracy": _topk(ranked, sites) if n_sites else None,
        "auprc": auprc,
        "auroc": auroc,
        "at_threshold": _at_thresholds(ranked, sites, thresholds),
    }


def _warnings_for(table: dict, n: int) -> list[str]:
    notes = []
    for name, row in table.items():
        if row["n_sites"] == 0:
            notes.append(
                f"class {name!r} has no sites: its top-k accuracy, AUPRC, AUROC and recall are undefined (null) "
                "and left out of the macro means"
            )
        elif row["n_sites"] == n:
            notes.append(f"every position is of class {name!r}: its AUROC is undefined (null)")
        for at in row["at_threshold"]:
            if at["called"] == 0:
                notes.append(f"no position of class {name!r} scores above {at['threshold']}: precision undefined")
    return notes


def _mean(values) -> float | None:
    defined = [v for v in values if v is not None]
    return float(np.mean(defined)) if defined else None


def per_base_metrics(labels, proba, *, classes, thresholds=(0.1, 0.5, 0.9)) -> dict:
    """Top-k accuracy, AUPRC, AUROC and precision/recall at thresholds for every site class.

    Every site class (all classes but the first, the background) is scored one
    against the rest over all positions pooled, with that class's probability
    as the score, as SpliceAI (Jaganathan et al. 2019) and OpenSpliceAI report:

    * **top-k accuracy**, ``k`` = the number of true sites of the class: the
      fraction of true sites among the ``k`` highest-scoring positions. Ties
      at the cut-off are shared, not broken by position: when ``m`` positions
      tie at the ``k``-th highest score and ``j`` slots remain for them, they
      count ``j`` times the fraction of true sites among the ``m`` (the
      expected value of a random tie-break). The figure therefore does not
      depend on the order of positions, and a constant scorer gets the
      prevalence.
    * **AUPRC**: average precision, as :func:`sklearn.metrics.average_precision_score`
      (ties form one step); the chance level is ``prevalence``.
    * **AUROC**, as :func:`sklearn.metrics.roc_auc_score`.
    * at each threshold ``t``: a position is **called** when its probability
      is ``> t`` (as :mod:`bioseq.evaluate.metrics`); ``precision``,
      ``recall`` and ``f1`` of those calls.

    Parameters
    ----------
    labels : array-like, shape ``(N, W)`` or ``(P,)``, integer (uint8)
        Class index per position.
    proba : array-like, shape ``(N, W, C)`` or ``(P, C)``, float32 or float64
        Probabilities per position, rows summing to 1 (not logits).
    classes : sequence of str, length ``C``
        Class names, background first, e.g. ``("neither", "acceptor", "donor")``.
    thresholds : sequence of float, default ``(0.1, 0.5, 0.9)``
        Probabilities strictly between 0 and 1, reported in this order.

    Returns
    -------
    dict
        JSON-ready: ``n_positions`` (int), ``classes`` (list), ``background``
        (``classes[0]``), ``thresholds`` (list); ``topk_accuracy``, ``auprc``,
        ``auroc``: macro means over the site classes with defined values;
        ``per_class``: site class -> ``n_sites``, ``prevalence``,
        ``topk_accuracy``, ``auprc``, ``auroc``, ``at_threshold`` (one dict per
        threshold: ``threshold``, ``called``, ``true_positives``,
        ``precision``, ``recall``, ``f1``); ``warnings`` (list of str).
        Undefined values are ``None``.

    Raises
    ------
    InputError
        As :func:`check_per_base`, or a threshold outside (0, 1).

    Examples
    --------
    >>> labels = [0, 1, 0, 2]
    >>> proba = [[0.9, 0.05, 0.05], [0.2, 0.7, 0.1], [0.6, 0.3, 0.1], [0.5, 0.1, 0.4]]
    >>> m = per_base_metrics(labels, proba, classes=["neither", "acceptor", "donor"])
    >>> m["per_class"]["acceptor"]["topk_accuracy"], m["auprc"]
    (1.0, 1.0)
    """
    y, p, names = check_per_base(labels, proba, classes=classes)
    thresholds = _thresholds(thresholds)
    table = {}
    for c, name in enumerate(names[1:], start=1):
        table[name] = _one_class(p[:, c], y == c, thresholds)
    rows = list(table.values())
    return {
        "n_positions": int(y.size),
        "classes": list(names),
        "background": names[0],
        "thresholds": list(thresholds),
        "topk_accuracy": _mean(r["topk_accuracy"] for r in rows),
        "auprc": _mean(r["auprc"] for r in rows),
        "auroc": _mean(r["auroc"] for r in rows),
        "per_class": table,
        "warnings": _warnings_for(table, int(y.size)),
    }


def paired_metrics(pairing, regions, proba, labels, *, classes, thresholds=(0.1, 0.5, 0.9)) -> dict:
    """:func:`per_base_metrics` of a per-base split's tiles after the splice second stage.

    Parameters
    ----------
    pairing : bioseq.models.site_pairing.SitePairing
    regions : sequence of str
        The tiles' regions, ``chrom:start-end(strand)``.
    proba : numpy.ndarray, shape ``(N, W, C)``, float
        The model's probabilities of the tiles.
    labels : numpy.ndarray, shape ``(N, W)``, uint8
    classes : sequence of str
    thresholds : sequence of float

    Returns
    -------
    dict
        As :func:`per_base_metrics`, over every position of the tiles joined
        into runs (:func:`bioseq.models.site_pairing.stitch_tiles`) and rescored
        by ``pairing``.

    Raises
    ------
    InputError
        On no tiles, a region that is not ``chrom:start-end(strand)``, or
        arrays that disagree.
    """
    from bioseq.models.site_pairing import stitch_tiles

    runs = stitch_tiles(regions, proba, labels)
    if not runs:
        raise InputError("no tiles to score after site pairing")
    return per_base_metrics(
        np.concatenate([y for _, y in runs]),
        np.concatenate([pairing.refine(p) for p, _ in runs]),
        classes=classes,
        thresholds=thresholds,
    )
