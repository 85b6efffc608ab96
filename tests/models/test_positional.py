"""Tests of bioseq.models.positional: sinusoidal, learned and rotary positions."""

from __future__ import annotations

import math

import pytest
import torch

from bioseq.errors import InputError
from bioseq.models.positional import LearnedPositions, RotaryEmbedding, SinusoidalPositions, apply_rotary


def test_sinusoidal_hand_checked():
    table = SinusoidalPositions(4)(torch.zeros(1, 3, 4))[0]
    # frequencies 10000**(-0/4) = 1 and 10000**(-2/4) = 0.01; columns sin, cos, sin, cos
    # t = 0: sin 0, cos 0 -> 0, 1, 0, 1; t = 2: sin 2, cos 2, sin 0.02, cos 0.02
    torch.testing.assert_close(table[0], torch.tensor([0.0, 1.0, 0.0, 1.0]))
    torch.testing.assert_close(table[2], torch.tensor([math.sin(2), math.cos(2), math.sin(0.02), math.cos(0.02)]))


def test_sinusoidal_any_length_and_prefix_stable():
    layer = SinusoidalPositions(8)
    long = layer(torch.zeros(1, 5000, 8))
    torch.testing.assert_close(layer(torch.zeros(1, 10, 8)), long[:, :10])  # position t is the same at any T
    with pytest.raises(InputError, match="even feature size"):
        SinusoidalPositions(5)


def test_learned_adds_table_and_rejects_long_inputs():
    layer = LearnedPositions(4, 3)
    x = torch.randn(2, 4, 3)
    torch.testing.assert_close(layer(x), x + layer.table)
    with pytest.raises(InputError, match="5 tokens exceed the 4 learned positions"):
        layer(torch.zeros(1, 5, 3))


def test_rotary_position_zero_is_identity_and_norm_kept():
    cos, sin = RotaryEmbedding(8)(6, device=torch.device("cpu"), dtype=torch.float32)
    assert cos.shape == sin.shape == (6, 4)
    q = torch.randn(2, 3, 6, 8)
    rotated = apply_rotary(q, cos, sin)
    torch.testing.assert_close(rotated[:, :, 0], q[:, :, 0])  # angle 0 at position 0
    torch.testing.assert_close(rotated.norm(dim=-1), q.norm(dim=-1))  # a rotation


def test_rotary_scores_depend_on_relative_position_only():
    torch.manual_seed(0)
    cos, sin = RotaryEmbedding(16)(400, device=torch.device("cpu"), dtype=torch.float64)
    q, k = torch.randn(16, dtype=torch.float64), torch.randn(16, dtype=torch.float64)
    qs = apply_rotary(q.expand(1, 1, 400, 16), cos, sin)[0, 0]  # q at every position
    ks = apply_rotary(k.expand(1, 1, 400, 16), cos, sin)[0, 0]
    # q at m, k at n: the score depends on m - n only, also beyond any length seen so far
    # (angles are computed in float32, hence the tolerance)
    for m, n, shift in [(5, 2, 10), (0, 7, 300), (100, 100, 250)]:
        torch.testing.assert_close(qs[m] @ ks[n], qs[m + shift] @ ks[n + shift], rtol=1e-5, atol=1e-5)
    assert not torch.allclose(qs[5] @ ks[2], qs[5] @ ks[3])  # but it does depend on m - n


def test_rotary_rejects_odd_head_size():
    with pytest.raises(InputError, match="even head size"):
        RotaryEmbedding(7)
