"""Motifs discovered in attributions: seqlets clustered by modisco-lite (TF-MoDISco).

Data contract
-------------
Inputs, as an explanation directory stores them (:mod:`bioseq.interpret.attributions`):

* ``attributions`` float (N, 4, L): contribution of the observed base (zero elsewhere and at padding);
* ``hypothetical`` float (N, 4, L): hypothetical contribution of each base, MoDISco's input;
* ``codes`` uint8 (N, L): A, C, G, T = 0..3; N, IUPAC codes and PAD count as no base (a zero one-hot column).

Output: a list of :class:`Motif`, positive patterns first, then negative ones, each
list by decreasing seqlet count. A motif is trimmed to the columns whose total
absolute contribution is at least ``trim`` times the largest one. Its ``pwm`` is
the base frequency of its seqlets' sequences, its ``cwm`` the mean of their
``attributions`` (both on the motif's strand: a seqlet that MoDISco aligned as a
reverse complement is reverse-complemented first). ``positions`` are the
trimmed seqlets as ``(sequence index, start, end)``, 0-based half-open
coordinates in the sequence as given, on either strand, clipped to the sequence.

Sequence ends: MoDISco calls a seqlet only where its window and both flanks
fit inside the sequence, so a motif within ``window // 2 + flank`` bases of an
end (a TATA box at the 5' edge of a -34..+35 promoter window) would never be
seen, and MoDISco drops seqlets that its later steps (wider re-cuts,
alignment shifts) would push past an end. :func:`discover_motifs` therefore
adds ``pad`` neutral columns at each end first: no contribution, base frequencies 0.25 each (as N and padding
inside a sequence are given), so seqlets may reach past an end without
changing any score or adding a base to a motif's PWM.

modisco-lite is deterministic: it fixes its own random seeds (1234, and the
Leiden seeds 0 .. runs-1). Its numba kernels compile on the first call in a
process (about 20 s); later calls take about a second for 500 sequences.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from bioseq.checks import integer
from bioseq.errors import InputError, option

__all__ = ["Motif", "TooFewSeqlets", "discover_motifs", "EDGE_ROOM", "MIN_METACLUSTER"]

MIN_METACLUSTER = 100
EDGE_ROOM = 20
"""Columns of padding beyond a seqlet's width: MoDISco re-cuts seqlets 10 bases wider than its trimmed
patterns (``initial_flank_to_add``) and shifts them while aligning, and drops those that would leave the
sequence (measured: a motif 1-4 bases from the 5' end kept 89 of 400 seqlets with 30 columns of padding,
142 with 45, all 400 with 60)."""


"""MoDISco clusters the seqlets of one sign only when it finds more than this many (its ``min_metacluster_size``)."""


class TooFewSeqlets(InputError):
    """MoDISco found too few seqlets of either sign to cluster (:func:`discover_motifs`)."""


@dataclass(frozen=True, eq=False)
class Motif:
    """A motif discovered by MoDISco (see the module docstring).

    Attributes
    ----------
    name : str
        ``"pos_1"``, ``"pos_2"``, ... ``"neg_1"``, ...: sign and rank by seqlet count.
    pwm : numpy.ndarray, float64 (W, 4)
        Base frequencies of the seqlets, columns A, C, G, T; rows sum to 1.
    cwm : numpy.ndarray, float64 (W, 4)
        Mean contribution of the seqlets' bases.
    seqlets : int
        Number of seqlets.
    sign : str
        ``"+"`` (the motif raises the target's score) or ``"-"``.
    positions : list of (int, int, int)
        ``(sequence index, start, end)`` of each seqlet, 0-based half-open.
    """

    name: str
    pwm: np.ndarray
    cwm: np.ndarray
    seqlets: int
    sign: str
    positions: list[tuple[int, int, int]] = field(default_factory=list)

    @property
    def consensus(self) -> str:
        """The most frequent base of each column, e.g. ``"TATAAAAG"``."""
        return "".join("ACGT"[i] for i in self.pwm.argmax(axis=1))


def discover_motifs(
    attributions: np.ndarray,
    hypothetical: np.ndarray,
    codes: np.ndarray,
    *,
    max_seqlets: int = 2000,
    window: int = 21,
    flank: int = 10,
    min_seqlets: int = 20,
    leiden_runs: int = 10,
    trim: float = 0.3,
    pad: int | None = None,
) -> list[Motif]:
    """Find seqlets in the attributions and cluster them into motifs with modisco-lite.

    Parameters
    ----------
    attributions, hypothetical : numpy.ndarray, float (N, 4, L)
    codes : numpy.ndarray, uint8 (N, L)
    max_seqlets : int, default 2000
        Seqlets kept per sign (``max_seqlets_per_metacluster``).
    window : int, default 21
        Width of the sliding window in which seqlets are called (``sliding_window_size``).
    flank : int, default 10
        Bases added on each side of a seqlet (``flank_size``).
    min_seqlets : int, default 20
        Smallest motif kept (``final_min_cluster_size``).
    leiden_runs : int, default 10
        Leiden clusterings per step (MoDISco's default is 50: slower, a little steadier).
    trim : float, default 0.3
        Columns kept: those from the first to the last whose absolute contribution
        reaches ``trim`` times the largest.
    pad : int, optional
        Neutral columns added at each end before MoDISco (see the module
        docstring); default ``window + 2 * flank +`` :data:`EDGE_ROOM`; 0 adds none.

    Returns
    -------
    list of Motif
        Empty when MoDISco found seqlets but no cluster survived its filters.

    Raises
    ------
    InputError
        On shapes that do not match, NaN or infinite values, sequences shorter
        than ``window`` (or than ``window + 2 * flank`` with ``pad`` 0), or too few seqlets for MoDISco (more than
        :data:`MIN_METACLUSTER` of one sign are needed: in practice a few hundred sequences):
        :class:`TooFewSeqlets`.
    """
    pad = window + 2 * flank + EDGE_ROOM if pad is None else integer(pad, "pad", 0)
    one_hot, hyp = _inputs(attributions, hypothetical, codes, window=window, flank=flank, pad=pad)
    from modiscolite.tfmodisco import TFMoDISco

    positive, negative = TFMoDISco(
        one_hot=one_hot,  # (N, L, 4)
        hypothetical_contribs=hyp,  # (N, L, 4)
        sliding_window_size=int(window),
        flank_size=int(flank),
        min_metacluster_size=MIN_METACLUSTER,
        max_seqlets_per_metacluster=int(max_seqlets),
        final_min_cluster_size=int(min_seqlets),
        n_leiden_runs=int(leiden_runs),
    )
    if positive is None and negative is None:
        raise TooFewSeqlets(
            f"MoDISco found too few seqlets in {len(codes)} sequences: it needs more than {MIN_METACLUSTER} "
            "of one sign (in practice a few hundred sequences with a signal)",
            fix="Explain more sequences (or the top-scoring ones of a larger set)",
        )
    contributions = np.moveaxis(np.asarray(attributions, dtype=np.float64), 1, 2)  # (N, L, 4)
    contributions = np.pad(contributions, ((0, 0), (pad, pad), (0, 0)))
    motifs = []
    for sign, prefix, patterns in (("+", "pos", positive), ("-", "neg", negative)):
        ordered = sorted(patterns or [], key=lambda p: -len(p.seqlets))
        for rank, pattern in enumerate(ordered, start=1):
            motif = _motif(pattern, f"{prefix}_{rank}", sign, one_hot, contributions, trim=trim, pad=pad)
            if motif is not None:
                motifs.append(motif)
    return motifs


def _inputs(attributions, hypothetical, codes, *, window: int, flank: int, pad: int) -> tuple[np.ndarray, np.ndarray]:
    """MoDISco's ``one_hot`` and ``hypothetical_contribs``, float32 (N, L + 2 pad, 4), after checking the inputs."""
    attributions = np.asarray(attributions)
    hypothetical = np.asarray(hypothetical)
    codes = np.asarray(codes)
    if attributions.ndim != 3 or attributions.shape[1] != 4:
        raise InputError(f"attributions have shape {attributions.shape}, not (N, 4, L)")
    if hypothetical.shape != attributions.shape:
        raise InputError(
            f"hypothetical contributions have shape {hypothetical.shape}, attributions {attributions.shape}"
        )
    n, _, length = attributions.shape
    if codes.shape != (n, length):
        raise InputError(f"codes have shape {codes.shape}, not (N, L) = {(n, length)}")
    if not (np.isfinite(attributions).all() and np.isfinite(hypothetical).all()):
        raise InputError("the attributions hold NaN or infinite values", fix="Recompute the attributions")
    if length < window or length + 2 * pad < window + 2 * flank:
        needed = f"{window}" if length + 2 * pad >= window + 2 * flank else f"{window} + 2 x {flank} - 2 x {pad} (pad)"
        raise InputError(
            f"the sequences are {length} bp, shorter than MoDISco needs ({needed})",
            fix=f"Explain longer sequences{option('window', '11', clause=', or use a smaller window: {}')}",
        )
    valid = codes < 4
    one_hot = np.full((n, length, 4), 0.25, dtype=np.float32)  # N, IUPAC and PAD: no base, even odds
    one_hot[valid] = 0.0
    one_hot[valid, codes[valid].astype(np.intp)] = 1.0
    hyp = np.ascontiguousarray(np.moveaxis(hypothetical, 1, 2), dtype=np.float32) * valid[:, :, None]
    ends = ((0, 0), (pad, pad), (0, 0))
    return np.pad(one_hot, ends, constant_values=0.25), np.pad(hyp, ends)


def _motif(pattern, name: str, sign: str, one_hot, contributions, *, trim: float, pad: int) -> Motif | None:
    """A :class:`Motif` from a MoDISco pattern: trimmed, its PWM and CWM recomputed from its seqlets.

    ``one_hot`` and ``contributions`` are (N, L + 2 pad, 4), as MoDISco saw them.
    """
    seqlets = [s for s in pattern.seqlets if s.end - s.start == pattern.length]
    if not seqlets:
        return None
    strength = np.abs(np.asarray(pattern.contrib_scores)).sum(axis=1)  # (W,)
    kept = np.flatnonzero(strength >= trim * strength.max())
    a, b = int(kept[0]), int(kept[-1]) + 1
    sequences, scores, positions = [], [], []
    for s in seqlets:
        if s.is_revcomp:  # column j of the pattern is base end - 1 - j, complemented
            lo, hi = s.end - b, s.end - a
            sequences.append(one_hot[s.example_idx, lo:hi][::-1, ::-1])
            scores.append(contributions[s.example_idx, lo:hi][::-1, ::-1])
        else:
            lo, hi = s.start + a, s.start + b
            sequences.append(one_hot[s.example_idx, lo:hi])
            scores.append(contributions[s.example_idx, lo:hi])
        length = one_hot.shape[1] - 2 * pad
        positions.append((int(s.example_idx), int(min(max(lo - pad, 0), length)), int(min(max(hi - pad, 0), length))))
    counts = np.sum(sequences, axis=0, dtype=np.float64) + 1e-3  # (W, 4); a tiny pseudocount
    pwm = counts / counts.sum(axis=1, keepdims=True)
    cwm = np.mean(scores, axis=0, dtype=np.float64)
    return Motif(name, pwm, cwm, len(seqlets), sign, positions)
