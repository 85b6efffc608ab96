"""Tests of bioseq.variants.delta: hand-checked delta scores for SNVs, insertions and deletions, and invariants."""

from __future__ import annotations

import doctest

import numpy as np
import pytest

import bioseq.variants.delta as delta_module
from bioseq.errors import InputError
from bioseq.variants.delta import DeltaScores, align_alternative, delta_scores, info_header

ACC, DON = 1, 2


def window(n: int, sites: dict[int, tuple[int, float]]) -> np.ndarray:
    """``(n, 3)`` probabilities: column 0 "neither", the rest 0 except ``{index: (class, p)}``."""
    probs = np.zeros((n, 3), dtype=np.float32)
    for index, (column, p) in sites.items():
        probs[index, column] = p
    probs[:, 0] = 1 - probs[:, 1:].sum(axis=1)
    return probs


def test_the_docstring_examples_hold():
    assert doctest.testmod(delta_module).failed == 0


def test_a_snv_that_destroys_a_donor_is_a_donor_loss_at_its_offset():
    ref = window(11, {5 + 2: (DON, 0.95), 5 - 3: (ACC, 0.4)})  # distance 5: donor 2 bp downstream of the variant
    alt = window(11, {5 - 3: (ACC, 0.4)})
    scores = delta_scores(ref, alt, distance=5, ref_length=1, alt_length=1, acceptor=ACC, donor=DON)
    assert scores.donor_loss == pytest.approx(0.95) and scores.donor_loss_at == 2
    assert scores.donor_gain == 0.0 and scores.acceptor_gain == 0.0 and scores.acceptor_loss == 0.0
    assert scores.maximum == pytest.approx(0.95)
    assert scores.info("T", "G1") == "T|G1|0.00|0.00|0.00|0.95|-5|-5|-5|2"  # no change: the first position


def test_a_deletion_loses_the_sites_it_removes_and_keeps_the_positions_after_it():
    # REF = 4 bases (an acceptor on its third base), ALT = 1 base; the donor 3 bp past the allele moves 3 bp left in
    # the alternative window but pairs with its reference position again.
    d, r, a = 4, 4, 1
    ref = window(2 * d + r, {d + 2: (ACC, 0.8), d + r + 3: (DON, 0.7)})
    alt = window(2 * d + a, {d + a + 3: (DON, 0.7)})
    aligned = align_alternative(alt, distance=d, ref_length=r, alt_length=a)
    assert aligned.shape == ref.shape and (aligned[d + a : d + r] == 0).all()
    np.testing.assert_array_equal(aligned[d + r :], alt[d + a :])
    scores = delta_scores(ref, alt, distance=d, ref_length=r, alt_length=a, acceptor=ACC, donor=DON)
    assert scores.acceptor_loss == pytest.approx(0.8) and scores.acceptor_loss_at == 2
    assert scores.donor_loss == 0.0 and scores.donor_gain == 0.0


def test_an_insertion_that_creates_a_donor_is_a_gain_at_the_allele():
    d, r, a = 3, 1, 5  # 4 inserted bases, a donor created on the third inserted base
    ref = window(2 * d + r, {})
    alt = window(2 * d + a, {d + 3: (DON, 0.6), d + a + 1: (ACC, 0.2)})
    aligned = align_alternative(alt, distance=d, ref_length=r, alt_length=a)
    assert aligned.shape == ref.shape
    assert aligned[d, DON] == pytest.approx(0.6) and aligned[d + r + 1, ACC] == pytest.approx(0.2)
    scores = delta_scores(ref, alt, distance=d, ref_length=r, alt_length=a, acceptor=ACC, donor=DON)
    assert (scores.donor_gain, scores.donor_gain_at) == (pytest.approx(0.6), 0)
    assert (scores.acceptor_gain, scores.acceptor_gain_at) == (pytest.approx(0.2), r + 1)


@pytest.mark.parametrize(("r", "a"), [(1, 1), (3, 1), (1, 4), (2, 2)])
def test_identical_predictions_score_zero_and_swapping_swaps_gain_and_loss(r, a):
    rng = np.random.default_rng(r * 10 + a)
    d = 6
    ref = rng.dirichlet(np.ones(3), size=2 * d + r)
    same = delta_scores(ref, ref, distance=d, ref_length=r, alt_length=r, acceptor=ACC, donor=DON)
    assert same.maximum == 0.0
    if r == a:  # with equal lengths the windows are interchangeable
        alt = rng.dirichlet(np.ones(3), size=2 * d + a)
        forward = delta_scores(ref, alt, distance=d, ref_length=r, alt_length=a, acceptor=ACC, donor=DON)
        back = delta_scores(alt, ref, distance=d, ref_length=a, alt_length=r, acceptor=ACC, donor=DON)
        assert (forward.acceptor_gain, forward.donor_loss) == pytest.approx((back.acceptor_loss, back.donor_gain))
        assert forward.acceptor_gain_at == back.acceptor_loss_at and forward.donor_loss_at == back.donor_gain_at


def test_bad_windows_are_refused_with_the_expected_shape():
    ref = window(11, {})
    with pytest.raises(InputError, match=r"the alt window has shape \(10, 3\), but distance 5 and alleles of 1 and 1"):
        delta_scores(ref, ref[:10], distance=5, ref_length=1, alt_length=1, acceptor=ACC, donor=DON)
    with pytest.raises(InputError, match="donor=3 must be columns"):
        delta_scores(ref, ref, distance=5, ref_length=1, alt_length=1, acceptor=ACC, donor=3)
    with pytest.raises(InputError, match="ref_length must be an integer >= 1"):
        delta_scores(ref, ref, distance=5, ref_length=0, alt_length=1, acceptor=ACC, donor=DON)


def test_the_info_header_names_the_layout():
    header = info_header("BIOSEQ", model="runs/splice")
    assert header.startswith("##INFO=<ID=BIOSEQ,Number=.,Type=String,")
    assert "Format: ALLELE|SYMBOL|DS_AG|DS_AL|DS_DG|DS_DL|DP_AG|DP_AL|DP_DG|DP_DL" in header and header.endswith('">')
    assert DeltaScores(0.004, 0.005, 0.0, 1.0, 0, 0, 0, 0).info("A") == "A||0.00|0.01|0.00|1.00|0|0|0|0"
