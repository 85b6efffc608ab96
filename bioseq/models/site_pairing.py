"""Site pairing: a second stage that rescores per-base splice predictions by the partners a site needs.

A true acceptor opens an exon that a donor closes and ends an intron that a
donor opened; a decoy AG inside a long intron (a transposon copy, say) often
has neither partner at a plausible distance. A per-position model reads a few
hundred bases and learns this only as far as its training genes teach it.
:class:`SitePairing` adds it afterwards: for each site class (``acceptor``,
``donor``) a logistic regression on features of one position, read in
transcript orientation (offsets from the position ``i``, 0-based):

- the model's log-odds of the class at ``i``;
- pairing: the highest probability of the partner class (the donor for an
  acceptor, the acceptor for a donor) on the exon side of ``i`` at offsets
  :data:`EXON_SIDE` and on the intron side at :data:`INTRON_SIDE`, as
  log-odds (an acceptor's exon lies downstream of it, a donor's upstream);
- competition: the highest probability of the same class at offsets
  :data:`NEAR` on either side.

It is fitted on predictions the model was not trained on (``bioseq train``
uses the validation genes) and kept in the bundle's ``config.json`` as plain
numbers (:meth:`SitePairing.to_dict`). On dm6_small's gene-disjoint 5-fold
split, fitted on each fold's validation genes, it raised the mean top-k
accuracy from 0.532 to 0.584 (acceptor) and 0.563 to 0.604 (donor), and AUPRC
from 0.536 to 0.609 and 0.587 to 0.649 (``benchmarks/splice_second_stage.py``).

The output at ``i`` depends on predictions up to :attr:`SitePairing.reach`
bases away, so a caller that predicts a region in pieces predicts each piece
with that margin on both sides (:mod:`bioseq.annotate` does).
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Iterable, Mapping, Sequence

import numpy as np

from bioseq.checks import integer, positive_integer
from bioseq.errors import InputError

__all__ = [
    "SitePairing",
    "EXON_SIDE",
    "INTRON_SIDE",
    "NEAR",
    "PAIRS",
    "pairable",
    "fit_on_tiles",
    "n_features",
    "pairing_features",
    "stitch_tiles",
    "tile_runs",
]

PAIRS = {"acceptor": "donor", "donor": "acceptor"}
"""Each site class and its partner class."""
EXON_SIDE = ((1, 80), (80, 250), (250, 1000), (1000, 5000))
"""Offset ranges ``[a, b)`` on the exon side of a site where its partner is looked for."""
INTRON_SIDE = ((40, 100), (100, 1000), (1000, 10000), (10000, 100000))
"""Offset ranges ``[a, b)`` on the intron side (fly and human introns: from about 40 bp to 100 kb and more)."""
NEAR = ((1, 30), (30, 300))
"""Offset ranges ``[a, b)``, either side, of competing sites of the same class."""
VERSION = 1
MAX_FIT_POSITIONS = 5_000_000
"""Positions :meth:`SitePairing.fit` uses at most (all sites, a weighted sample of the rest)."""
_EPS = 1e-6
_REGION = re.compile(r"^(?P<chrom>.+):(?P<start>-?\d+)-(?P<end>-?\d+)\((?P<strand>[+-])\)$")


def pairable(classes: Sequence[str]) -> bool:
    """Whether a model with these output classes can be paired: it has ``acceptor`` and ``donor``."""
    return all(name in classes for name in PAIRS)


def n_features() -> int:
    """Features per position (:meth:`SitePairing.features`)."""
    return 1 + len(EXON_SIDE) + len(INTRON_SIDE) + len(NEAR)


def _ahead(x: np.ndarray, a: int, b: int) -> np.ndarray:
    """``out[i] = max(x[i + a : i + b])`` over the part inside ``x``; 0 where none is (``x >= 0``, ``a < b``)."""
    from scipy.ndimage import maximum_filter1d

    width, pad = b - a, max(abs(a), abs(b)) + (b - a)
    padded = np.concatenate([np.zeros(pad, x.dtype), x, np.zeros(pad, x.dtype)])
    running = maximum_filter1d(padded, size=width, origin=-(width // 2), mode="constant", cval=0)  # max of [j, j+w)
    return running[pad + a : pad + a + len(x)]


def _behind(x: np.ndarray, a: int, b: int) -> np.ndarray:
    """``out[i] = max(x[i - b + 1 : i - a + 1])``: offsets ``a .. b - 1`` before ``i``."""
    return _ahead(x, 1 - b, 1 - a)


def _log_odds(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, _EPS, 1 - _EPS)
    return np.log(p) - np.log1p(-p)


def pairing_features(proba: np.ndarray, *, classes: Sequence[str], site: str) -> np.ndarray:
    """The features of every position for ``site`` (see the module docstring), in this column order.

    Parameters
    ----------
    proba : numpy.ndarray, shape ``(n, C)``, float
        Consecutive positions of one strand in transcript orientation (a
        minus-strand region reversed), columns in ``classes`` order.
    classes : sequence of str
        With ``acceptor`` and ``donor``.
    site : {"acceptor", "donor"}

    Returns
    -------
    numpy.ndarray, shape ``(n, n_features())``, dtype float32
        Own log-odds; the partner's on the exon side (:data:`EXON_SIDE`), on
        the intron side (:data:`INTRON_SIDE`); the same class's nearby
        (:data:`NEAR`).

    Raises
    ------
    InputError
        On another site, classes without both site classes, or ``proba`` not
        ``(n, len(classes))`` float.
    """
    classes = tuple(classes)
    if not pairable(classes):
        raise InputError(f"site pairing needs classes that include acceptor and donor, got {classes!r}")
    if site not in PAIRS:
        raise InputError(f"site must be one of {', '.join(PAIRS)}, got {site!r}")
    proba = np.asarray(proba)
    if proba.ndim != 2 or proba.shape[1] != len(classes) or not np.issubdtype(proba.dtype, np.floating):
        raise InputError(
            f"site pairing needs float probabilities of shape (n, {len(classes)}), got {proba.dtype} {proba.shape}"
        )
    mine, theirs = proba[:, classes.index(site)], proba[:, classes.index(PAIRS[site])]
    exon, intron = (_ahead, _behind) if site == "acceptor" else (_behind, _ahead)
    columns = [_log_odds(mine)]
    columns += [_log_odds(exon(theirs, a, b)) for a, b in EXON_SIDE]
    columns += [_log_odds(intron(theirs, a, b)) for a, b in INTRON_SIDE]
    columns += [_log_odds(np.maximum(_ahead(mine, a, b), _behind(mine, a, b))) for a, b in NEAR]
    return np.stack(columns, axis=1).astype(np.float32)


@dataclasses.dataclass(frozen=True, kw_only=True)
class SitePairing:
    """The fitted second stage (see the module docstring).

    Parameters
    ----------
    classes : tuple of str
        The model's output classes, in output order; they include
        ``acceptor`` and ``donor``. The first is the background.
    weights : dict of str to dict
        Per site class: ``mean`` and ``scale`` (the features' standardisation,
        :func:`n_features` floats each), ``coef`` (as many floats) and
        ``intercept`` (a float).

    Raises
    ------
    InputError
        On classes without both site classes, or weights of the wrong shape or
        not finite.
    """

    classes: tuple[str, ...]
    weights: Mapping[str, Mapping[str, object]]

    def __post_init__(self) -> None:
        classes = tuple(self.classes) if isinstance(self.classes, (list, tuple)) else None
        if not classes or not all(isinstance(c, str) for c in classes) or not pairable(classes):
            raise InputError(f"site pairing needs classes that include acceptor and donor, got {self.classes!r}")
        if classes[0] in PAIRS:
            raise InputError(f"site pairing needs a background class first, got {classes!r}")
        object.__setattr__(self, "classes", classes)
        if not isinstance(self.weights, Mapping) or set(self.weights) != set(PAIRS):
            raise InputError(f"site pairing needs weights for {', '.join(PAIRS)}, got {_keys(self.weights)}")
        n = n_features()
        checked = {}
        for name in PAIRS:
            record = self.weights[name]
            if not isinstance(record, Mapping) or set(record) != {"mean", "scale", "coef", "intercept"}:
                raise InputError(
                    f"site pairing weights of {name} need mean, scale, coef, intercept; got {_keys(record)}"
                )
            values = {}
            for key in ("mean", "scale", "coef"):
                array = _finite(record[key], f"{name}.{key}")
                if array.shape != (n,):
                    raise InputError(f"site pairing {name}.{key} needs {n} numbers, got shape {array.shape}")
                values[key] = array
            if np.any(values["scale"] <= 0):
                raise InputError(f"site pairing {name}.scale must be > 0")
            values["intercept"] = float(_finite(record["intercept"], f"{name}.intercept").reshape(()))
            checked[name] = values
        object.__setattr__(self, "weights", checked)

    @property
    def reach(self) -> int:
        """How far (bases) a position's output looks: outputs within ``reach`` of a region's ends need bases
        outside it for the same values as a whole-contig prediction."""
        return max(b for a, b in (*EXON_SIDE, *INTRON_SIDE, *NEAR)) - 1

    def features(self, proba: np.ndarray, site: str) -> np.ndarray:
        """Features of every position for ``site``.

        Parameters
        ----------
        proba : numpy.ndarray, shape ``(n, C)``, float
            Consecutive positions of one strand in transcript orientation
            (a minus-strand region reversed), columns in :attr:`classes` order.
        site : {"acceptor", "donor"}

        Returns
        -------
        numpy.ndarray, shape ``(n, n_features())``, dtype float32
        """
        return pairing_features(proba, classes=self.classes, site=site)

    def refine(self, proba: np.ndarray) -> np.ndarray:
        """The second stage's probabilities of consecutive positions in transcript orientation.

        Parameters
        ----------
        proba : numpy.ndarray, shape ``(n, C)``, float
            As :meth:`features` takes.

        Returns
        -------
        numpy.ndarray, shape ``(n, C)``, dtype float32
            The site columns replaced by the second stage's probabilities;
            the background column takes what is left (rows sum to 1; where
            the site columns would exceed 1 together they are scaled down);
            other classes keep the model's values.
        """
        out = np.array(proba, dtype=np.float32, copy=True)
        for name in PAIRS:
            w = self.weights[name]
            z = ((self.features(proba, name) - w["mean"]) / w["scale"]) @ w["coef"] + w["intercept"]
            out[:, self.classes.index(name)] = 1 / (1 + np.exp(-np.clip(z, -60, 60)))
        rest = [i for i in range(len(self.classes)) if i != 0]
        total = out[:, rest].sum(axis=1)
        over = total > 1
        out[np.ix_(over, rest)] /= total[over, None]
        out[:, 0] = np.clip(1 - out[:, rest].sum(axis=1), 0, 1)
        return out

    def to_dict(self) -> dict:
        """Plain JSON-ready numbers; :meth:`from_dict` reads them back."""
        return {
            "version": VERSION,
            "classes": list(self.classes),
            "exon_side": [list(r) for r in EXON_SIDE],
            "intron_side": [list(r) for r in INTRON_SIDE],
            "near": [list(r) for r in NEAR],
            "weights": {
                name: {
                    "mean": w["mean"].tolist(),
                    "scale": w["scale"].tolist(),
                    "coef": w["coef"].tolist(),
                    "intercept": w["intercept"],
                }
                for name, w in self.weights.items()
            },
        }

    @classmethod
    def from_dict(cls, record) -> SitePairing:
        """The pairing :meth:`to_dict` wrote.

        Raises
        ------
        InputError
            On a record of another version or other offset ranges, or bad weights.
        """
        if not isinstance(record, Mapping):
            raise InputError(f"a site pairing record must be a JSON object, got {type(record).__name__}")
        ranges = {"exon_side": EXON_SIDE, "intron_side": INTRON_SIDE, "near": NEAR}
        if record.get("version") != VERSION or any(
            record.get(key) != [list(r) for r in value] for key, value in ranges.items()
        ):
            raise InputError(
                f"the site pairing record is of another bioseq version (version {record.get('version')!r})",
                fix="Train the model again with this bioseq, or use the bioseq that trained it",
            )
        return cls(classes=tuple(record.get("classes") or ()), weights=record.get("weights"))

    @classmethod
    def fit(
        cls,
        spans: Iterable[tuple[np.ndarray, np.ndarray]],
        *,
        classes: Sequence[str],
        c: float = 0.1,
        max_positions: int = MAX_FIT_POSITIONS,
        seed: int = 0,
    ):
        """Fit the second stage on held-out predictions.

        Parameters
        ----------
        spans : iterable of (proba, labels)
            Consecutive positions of one strand each, in transcript
            orientation: ``proba`` ``(n, C)`` float (the model's output) and
            ``labels`` ``(n,)`` int class indices.
        classes : sequence of str
            The model's classes, with ``acceptor`` and ``donor``.
        c : float, default 0.1
            Inverse regularisation strength of the logistic regressions
            (standardised features).
        max_positions : int, default :data:`MAX_FIT_POSITIONS`
            With more positions than this (a large genome's validation
            chromosomes), every site is kept and the other positions are
            sampled at the rate that leaves about this many, each weighted by
            the inverse of the rate, so the probabilities stay those of all
            positions and memory stays bounded.
        seed : int, default 0
            Of that sample.

        Returns
        -------
        SitePairing

        Raises
        ------
        InputError
            On bad arrays, or spans without a site of each class.
        """
        from sklearn.linear_model import LogisticRegression

        classes = tuple(classes)
        if not pairable(classes):
            raise InputError(f"site pairing needs classes that include acceptor and donor, got {classes!r}")
        if not (isinstance(c, (int, float)) and math.isfinite(c) and c > 0):
            raise InputError(f"c must be a number > 0, got {c!r}")
        max_positions = positive_integer(max_positions, "max_positions")
        spans = list(spans)
        rate = min(1.0, max_positions / max(1, sum(len(proba) for proba, _ in spans)))
        rng = np.random.default_rng(integer(seed, "seed", 0))
        tables: dict[str, list] = {name: [] for name in PAIRS}
        hits: dict[str, list] = {name: [] for name in PAIRS}
        sites = []  # kept for certain (weight 1); the other rows stand for 1 / rate positions each
        for number, (proba, labels) in enumerate(spans):
            features = {name: pairing_features(proba, classes=classes, site=name) for name in PAIRS}
            labels = np.asarray(labels)
            if labels.shape != (len(proba),):
                raise InputError(f"span {number}: {labels.shape} labels for {len(proba)} positions")
            keep = (labels != 0) | (rng.random(labels.size) < rate)  # every site, a sample of the rest
            sites.append(labels[keep] != 0)
            for name in PAIRS:
                tables[name].append(features[name][keep])
                hits[name].append(labels[keep] == classes.index(name))
        weights = {}
        for name in PAIRS:
            y = np.concatenate(hits[name]) if hits[name] else np.zeros(0, bool)
            if not y.any() or y.all():
                raise InputError(
                    f"site pairing needs {name} sites and other positions to fit on; the spans have "
                    f"{int(y.sum())} {name}s in {y.size:,} positions",
                    fix="Fit on more genes (a larger validation split)",
                )
            x = np.concatenate(tables[name]).astype(np.float64)
            mean, scale = x.mean(axis=0), x.std(axis=0)
            scale[scale < 1e-6] = 1.0
            weight = np.where(np.concatenate(sites), 1.0, 1 / rate)
            model = LogisticRegression(C=c, max_iter=5000).fit((x - mean) / scale, y, sample_weight=weight)
            weights[name] = {
                "mean": mean.tolist(),
                "scale": scale.tolist(),
                "coef": model.coef_[0].tolist(),
                "intercept": float(model.intercept_[0]),
            }
        return cls(classes=classes, weights=weights)


def tile_runs(regions: Sequence[str], width: int) -> list[tuple[tuple[str, int, int, str], list[int]]]:
    """Which tiles of a per-base split follow each other: runs of consecutive labelled bases on one strand.

    Parameters
    ----------
    regions : sequence of str
        Each tile's input region, ``chrom:start-end(strand)`` (0-based,
        half-open, genome coordinates; :mod:`bioseq.datasets.per_base_store`),
        with its ``width`` labelled bases centred in it.
    width : int
        Labelled bases per tile.

    Returns
    -------
    list of ((chrom, start, end, strand), list of int)
        Each run's labelled bases in genome coordinates and its tiles' indices
        in transcript order (a minus-strand run from its highest genome
        position down).

    Raises
    ------
    InputError
        On a region that is not ``chrom:start-end(strand)``.
    """
    tiles = []
    for number, region in enumerate(regions):
        match = _REGION.match(region) if isinstance(region, str) else None
        if not match:
            raise InputError(f"tile {number}: region {region!r} is not chrom:start-end(strand)")
        start, end = int(match["start"]), int(match["end"])
        tiles.append((match["chrom"], match["strand"], start + (end - start - width) // 2, number))
    tiles.sort()
    runs: list[tuple[list, list[int]]] = []
    for chrom, strand, first, number in tiles:
        if runs and runs[-1][0][:2] == [chrom, strand] and runs[-1][0][3] == first:
            runs[-1][0][3] = first + width
            runs[-1][1].append(number)
        else:
            runs.append(([chrom, strand, first, first + width], [number]))
    return [((c, s, e, st), tiles[::-1] if st == "-" else tiles) for (c, st, s, e), tiles in runs]


def stitch_tiles(regions: Sequence[str], proba: np.ndarray, labels: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
    """Join the tiles of a per-base test or validation split into runs of consecutive positions.

    Parameters
    ----------
    regions : sequence of str
        As :func:`tile_runs` takes.
    proba : numpy.ndarray, shape ``(N, W, C)``
        Per-position outputs of the tiles, in the model's (transcript) orientation.
    labels : numpy.ndarray, shape ``(N, W)``

    Returns
    -------
    list of (proba, labels)
        One entry per run of :func:`tile_runs`, ``(n, C)`` and ``(n,)`` in
        transcript orientation.

    Raises
    ------
    InputError
        On a region that is not ``chrom:start-end(strand)`` or arrays that disagree.
    """
    proba, labels = np.asarray(proba), np.asarray(labels)
    if proba.ndim != 3 or labels.shape != proba.shape[:2] or len(regions) != proba.shape[0]:
        raise InputError(
            f"tiles need proba (N, W, C) and labels (N, W) for N regions; got {proba.shape}, {labels.shape} "
            f"and {len(regions)} regions"
        )
    return [
        (np.concatenate(proba[order]), np.concatenate(labels[order])) for _, order in tile_runs(regions, proba.shape[1])
    ]


def fit_on_tiles(regions: Sequence[str], proba: np.ndarray, labels: np.ndarray, *, classes: Sequence[str]):
    """The second stage fitted on a per-base split's tiles, or None when that split cannot fit one.

    Parameters
    ----------
    regions, proba, labels
        As :func:`stitch_tiles` takes: the held-out split's tiles (``bioseq
        train`` and ``bioseq ensemble`` pass a per-base dataset's validation
        split) and a model's predictions of them.
    classes : sequence of str
        The model's classes.

    Returns
    -------
    SitePairing or None
        None for a model without both site classes, or tiles that are not
        runs of genes or lack the sites of a class (logged at info level, with
        the reason).
    """
    import logging

    if not pairable(classes):
        return None
    try:
        return SitePairing.fit(stitch_tiles(regions, proba, labels), classes=classes)
    except InputError as exc:
        logging.getLogger(__name__).info("no site pairing: %s", exc)
        return None


def _finite(value, what: str) -> np.ndarray:
    try:
        array = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise InputError(f"site pairing {what} must be numbers, got {value!r:.80}") from None
    if not np.all(np.isfinite(array)):
        raise InputError(f"site pairing {what} must be finite numbers")
    return array


def _keys(value) -> str:
    return ", ".join(sorted(map(str, value))) if isinstance(value, Mapping) else type(value).__name__
