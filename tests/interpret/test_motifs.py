"""bioseq.interpret.motifs: input checks (cheap) and MoDISco's refusal of too few seqlets (slow: numba compiles)."""

from __future__ import annotations

import numpy as np
import pytest

from bioseq.alphabet import PAD
from bioseq.errors import InputError
from bioseq.interpret.motifs import Motif, discover_motifs


def _inputs(n=4, length=60, seed=0):
    rng = np.random.default_rng(seed)
    codes = rng.integers(0, 4, (n, length)).astype(np.uint8)
    hypothetical = rng.normal(0, 0.01, (n, 4, length)).astype(np.float32)
    one_hot = np.moveaxis(np.eye(4, dtype=np.float32)[codes], 2, 1)  # (N, 4, L)
    return one_hot * hypothetical, hypothetical, codes


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda a, h, c: (a[:, :3], h, c), "not \\(N, 4, L\\)"),
        (lambda a, h, c: (a, h[:2], c), "hypothetical"),
        (lambda a, h, c: (a, h, c[:, :10]), "codes have shape"),
        (lambda a, h, c: (a, np.where(h > 0, np.nan, h), c), "NaN"),
        (lambda a, h, c: (a[..., :15], h[..., :15], c[:, :15]), "shorter than MoDISco needs \\(21\\)"),
    ],
)
def test_bad_input(change, message):
    with pytest.raises(InputError, match=message):
        discover_motifs(*change(*_inputs()))


def test_without_padding_the_flanks_must_fit():
    with pytest.raises(InputError, match="21 \\+ 2 x 10 - 2 x 0 \\(pad\\)"):
        discover_motifs(*_inputs(length=30), pad=0)
    with pytest.raises(InputError, match="pad must be an integer"):
        discover_motifs(*_inputs(), pad=2.5)
    with pytest.raises(InputError, match="pad must be >= 0"):
        discover_motifs(*_inputs(), pad=-1)


def test_motif_consensus():
    pwm = np.array([[0.1, 0.1, 0.1, 0.7], [0.7, 0.1, 0.1, 0.1]])
    assert Motif("pos_1", pwm, pwm - 0.25, 3, "+", [(0, 5, 7)]).consensus == "TA"


@pytest.mark.slow
def test_too_few_seqlets_is_explained():
    attributions, hypothetical, codes = _inputs(n=20, length=60)
    codes[0, -5:] = PAD  # padding counts as no base
    with pytest.raises(InputError, match="needs more than 100"):
        discover_motifs(attributions, hypothetical, codes, leiden_runs=2)


def _edge_planted(n=400, length=60, seed=1):
    """TATAAAAG planted 1-4 bases from each sequence's 5' end; its hypothetical contributions favour the consensus."""
    rng = np.random.default_rng(seed)
    codes = rng.integers(0, 4, (n, length)).astype(np.uint8)
    hypothetical = rng.normal(0, 0.05, (n, 4, length)).astype(np.float32)
    consensus = np.array(["ACGT".index(b) for b in "TATAAAAG"])
    starts = rng.integers(1, 5, n)
    for i, start in enumerate(starts):
        codes[i, start : start + 8] = consensus
        hypothetical[i, :, start : start + 8] -= 0.2
        hypothetical[i, consensus, np.arange(start, start + 8)] += 1.2
    one_hot = np.moveaxis(np.eye(4, dtype=np.float32)[codes], 2, 1)
    return one_hot * hypothetical, hypothetical, codes, starts


@pytest.mark.slow
def test_motif_at_a_sequence_end_is_found():
    """MoDISco alone cannot call a seqlet within window // 2 + flank of an end; the neutral padding can."""
    attributions, hypothetical, codes, starts = _edge_planted()
    motifs = discover_motifs(attributions, hypothetical, codes, leiden_runs=2)
    best = motifs[0]
    assert best.sign == "+" and "TATAAAAG" in best.consensus
    assert best.seqlets >= 0.9 * len(codes)
    assert all(0 <= start < end <= codes.shape[1] for _, start, end in best.positions)  # clipped to the sequence
    on_box = [start <= starts[index] and starts[index] + 8 <= end for index, start, end in best.positions]
    assert np.mean(on_box) >= 0.95  # (a chance TATA-like stretch elsewhere may join)
    with pytest.raises(InputError, match="too few seqlets"):
        discover_motifs(attributions, hypothetical, codes, leiden_runs=2, pad=0)
