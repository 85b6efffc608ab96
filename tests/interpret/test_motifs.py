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
        (lambda a, h, c: (a[..., :30], h[..., :30], c[:, :30]), "shorter than MoDISco's window"),
    ],
)
def test_bad_input(change, message):
    with pytest.raises(InputError, match=message):
        discover_motifs(*change(*_inputs()))


def test_motif_consensus():
    pwm = np.array([[0.1, 0.1, 0.1, 0.7], [0.7, 0.1, 0.1, 0.1]])
    assert Motif("pos_1", pwm, pwm - 0.25, 3, "+", [(0, 5, 7)]).consensus == "TA"


@pytest.mark.slow
def test_too_few_seqlets_is_explained():
    attributions, hypothetical, codes = _inputs(n=20, length=60)
    codes[0, -5:] = PAD  # padding counts as no base
    with pytest.raises(InputError, match="needs more than 100"):
        discover_motifs(attributions, hypothetical, codes, leiden_runs=2)
