"""Hard negatives for per-base training: the positions a trained model most wrongly calls splice sites.

A per-position model trained on site-aware windows (:mod:`bioseq.datasets.per_base_sampling`)
sees mostly easy negatives: random intronic and genomic bases. Its errors on
a held-out genome are the positions it scores like sites without being one
(deep-intronic GT/AG look-alikes). Mining finds them on the *training*
contigs: the model predicts every base of each training contig on both
strands (:func:`bioseq.tracks.predict_blocks`; memory holds one contig's
scores, 4 bytes per base, and labels), a
position's score is its probability of being any site (``1 - P(neither)``),
true sites of that strand and held-out spans are excluded, only local maxima
within ``spacing`` bases are kept (one candidate per false peak), and the
``count`` highest-scoring of them are returned. The dataset builder then
adds a training window around each (kind ``hard``), labelled with the true
labels like every other window.

Every coordinate is 0-based; spans are half-open.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import numpy as np

from bioseq.checks import integer
from bioseq.errors import InputError
from bioseq.io.interval import Interval

__all__ = ["SPACING", "false_sites"]

SPACING = 20
"""Default half-width of the neighbourhood in which a false site must be the highest score."""


def false_sites(
    bundle,
    reference,
    contigs: Iterable[str],
    labels: Callable[[str, str], np.ndarray],
    *,
    count: int,
    held: Iterable[Interval] = (),
    spacing: int = SPACING,
    batch_size: int = 64,
    device=None,
) -> tuple[dict[str, tuple[np.ndarray, np.ndarray]], dict]:
    """The ``count`` positions of ``contigs`` that ``bundle`` scores most like a site without being one.

    Parameters
    ----------
    bundle : bioseq.bundle.Bundle
        A per-position model whose classes start with ``neither`` (a splice model).
    reference : bioseq.io.reference.Reference
        An open genome.
    contigs : iterable of str
        The contigs to search (the training contigs).
    labels : callable ``(contig, strand) -> numpy.ndarray``
        ``(length,)`` uint8 true labels of a contig on a strand, genome
        orientation (0 = neither); labelled positions are never returned.
    count : int
        How many positions at most (>= 0).
    held : iterable of Interval, optional
        Spans (either strand) to leave out, e.g. held-out genes.
    spacing : int, default :data:`SPACING`
        A returned position has the highest score within ``spacing`` bases on
        its strand (ties: the leftmost).
    batch_size : int, default 64
        Chunks of the model's input per forward pass.
    device : str or torch.device, optional

    Returns
    -------
    sites : dict of str to (numpy.ndarray, numpy.ndarray)
        ``contig -> (positions int64, minus bool)``, sorted by position.
    stats : dict
        ``count`` (returned), ``candidates`` (local maxima seen),
        ``min_score`` and ``max_score`` of the returned ones (None when
        there are none).

    Raises
    ------
    InputError
        On a model that is not per-position or whose first class is not
        ``neither``, or bad numbers.
    """
    count, spacing = integer(count, "count", 0), integer(spacing, "spacing", 1)
    classes = tuple(getattr(bundle, "classes", ()))
    if not getattr(bundle, "per_position", False) or not classes or classes[0] != "neither":
        raise InputError(
            f"hard negatives need a per-position splice model (classes neither, acceptor, donor), got a model with "
            f"classes {list(classes)}",
            path=getattr(bundle, "path", None),
            fix="Pass the run or bundle of a model trained on a per-base splice dataset",
        )
    from bioseq.tracks import predict_blocks

    held_by: dict[str, list[Interval]] = {}
    for span in held:
        held_by.setdefault(span.chrom, []).append(span)
    best = _Best(count)
    for contig in contigs:
        length = reference.length(contig)
        for strand in "+-":
            truth = labels(contig, strand)
            score = np.empty(length, dtype=np.float32)
            for start, proba in predict_blocks(
                bundle, reference, contig, 0, length, strand=strand, batch_size=batch_size, device=device
            ):
                score[start : start + len(proba)] = 1.0 - proba[:, 0]
            score[truth != 0] = -1.0
            for span in held_by.get(contig, ()):
                score[span.start : span.end] = -1.0
            at = _peaks(score, spacing)
            best.add(contig, strand, at, score[at])
    return best.result()


def _peaks(score: np.ndarray, spacing: int) -> np.ndarray:
    """Positions ``(n,)`` int64 whose score is > 0 and the first maximum within ``spacing`` on each side."""
    from scipy.ndimage import maximum_filter1d

    local = maximum_filter1d(score, size=2 * spacing + 1, mode="constant", cval=-np.inf)
    at = np.flatnonzero((score >= local) & (score > 0))
    if at.size:  # plateaus: keep the leftmost of equal maxima closer than spacing
        keep = np.ones(at.size, dtype=bool)
        keep[1:] = (np.diff(at) > spacing) | (score[at[1:]] != score[at[:-1]])
        at = at[keep]
    return at.astype(np.int64)


class _Best:
    """The ``count`` highest-scoring candidates seen so far (bounded memory)."""

    def __init__(self, count: int) -> None:
        self.count, self.seen = count, 0
        self.parts: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = []  # score, contig, pos, minus
        self.names: list[str] = []

    def add(self, contig: str, strand: str, at: np.ndarray, scores: np.ndarray) -> None:
        self.seen += at.size
        if contig not in self.names:
            self.names.append(contig)
        index = np.full(at.size, self.names.index(contig), dtype=np.int32)
        self.parts.append((scores.astype(np.float32), index, at, np.full(at.size, strand == "-")))
        self._trim()

    def _trim(self) -> None:
        score, contig, pos, minus = (np.concatenate(x) for x in zip(*self.parts))
        if score.size > self.count:
            top = np.argpartition(-score, self.count - 1)[: self.count] if self.count else np.zeros(0, np.int64)
            score, contig, pos, minus = score[top], contig[top], pos[top], minus[top]
        self.parts = [(score, contig, pos, minus)]

    def result(self) -> tuple[dict[str, tuple[np.ndarray, np.ndarray]], dict]:
        sites: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        score = np.zeros(0, np.float32)
        if self.parts:
            score, contig, pos, minus = self.parts[0]
            for i, name in enumerate(self.names):
                mine = contig == i
                order = np.argsort(pos[mine], kind="stable")
                if order.size:
                    sites[name] = (pos[mine][order], minus[mine][order])
        stats = {
            "count": int(score.size),
            "candidates": self.seen,
            "min_score": float(score.min()) if score.size else None,
            "max_score": float(score.max()) if score.size else None,
        }
        return sites, stats
