"""Tests of bioseq.models.pooling: masked mean/max, attention pooling, SequencePool."""

from __future__ import annotations

import pytest
import torch

from bioseq.errors import InputError
from bioseq.models.pooling import AttentionPool, SequencePool, masked_max, masked_mean

# two rows of 3 positions, 2 features; row 0 has 2 real positions, row 1 none
X = torch.tensor([[[1.0, -4.0], [3.0, -2.0], [100.0, 100.0]], [[5.0, 6.0], [7.0, 8.0], [9.0, 9.0]]])
MASK = torch.tensor([[True, True, False], [False, False, False]])


def test_masked_mean_hand_checked():
    # row 0: mean of (1, -4) and (3, -2) = (2, -3); the padded (100, 100) is left out
    # row 1: no real position -> zeros, not NaN
    assert masked_mean(X, MASK).tolist() == [[2.0, -3.0], [0.0, 0.0]]


def test_masked_max_hand_checked():
    # row 0: max of (1, -4) and (3, -2) = (3, -2); row 1: zeros
    assert masked_max(X, MASK).tolist() == [[3.0, -2.0], [0.0, 0.0]]
    assert masked_max(X[:, :0], MASK[:, :0]).tolist() == [[0.0, 0.0], [0.0, 0.0]]


def test_attention_pool_zero_query_is_mean():
    pool = AttentionPool(2)
    with torch.no_grad():
        pool.query.zero_()  # every score 0: uniform weights over the real positions
    torch.testing.assert_close(pool(X, MASK), masked_mean(X, MASK))


def test_attention_pool_weights_follow_scores():
    pool = AttentionPool(2)
    with torch.no_grad():
        pool.query.copy_(torch.tensor([1.0, 0.0]) * 2**0.5)  # score = x[0] * sqrt(2) / sqrt(2) = x[0]
    # row 0 scores 1 and 3: weights e / (e + e^3), e^3 / (e + e^3)
    w = torch.softmax(torch.tensor([1.0, 3.0]), 0)
    expected = w[0] * X[0, 0] + w[1] * X[0, 1]
    torch.testing.assert_close(pool(X, MASK)[0], expected)
    assert pool(X, MASK)[1].tolist() == [0.0, 0.0]  # empty row: zeros, not NaN


@pytest.mark.parametrize("kind", ["mean", "max", "meanmax", "attention"])
def test_pool_ignores_padded_values_and_stays_finite(kind):
    pool = SequencePool(kind, 2)
    changed = X.clone()
    changed[0, 2] = -1e4  # a padded position of row 0
    torch.testing.assert_close(pool(changed, MASK), pool(X, MASK))
    assert torch.isfinite(pool(X, MASK)).all()
    assert pool(X, MASK).shape == (2, pool.out_features)


def test_pool_meanmax_and_cls():
    assert SequencePool("meanmax", 2)(X, MASK)[0].tolist() == [2.0, -3.0, 3.0, -2.0]  # mean, then max
    assert SequencePool("meanmax", 2).out_features == 4
    assert SequencePool("cls", 2)(X, MASK).tolist() == [[1.0, -4.0], [5.0, 6.0]]  # position 0 of each row


def test_pool_gradients_reach_real_positions_only():
    x = X.clone().requires_grad_()
    SequencePool("attention", 2)(x, MASK).sum().backward()
    assert x.grad[0, :2].abs().sum() > 0
    assert x.grad[0, 2].abs().sum() == 0 and x.grad[1].abs().sum() == 0


def test_pool_rejects_unknown_kind():
    with pytest.raises(InputError, match="pooling must be one of 'mean', 'max', 'meanmax', 'attention', 'cls'"):
        SequencePool("sum", 2)
