"""Tests of bioseq.models.lstm (the shared contract is checked in test_registry.py)."""

from __future__ import annotations

import pytest
import torch

from bioseq.alphabet import PAD
from bioseq.errors import InputError
from bioseq.models.lstm import LSTMClassifier, LSTMConfig, MaskedLSTM, reverse_within_lengths
from bioseq.models.registry import build_model


def test_defaults():
    config = LSTMConfig()
    assert (config.stem_channels, config.stem_kernel, config.stem_pool) == (64, 9, 2)
    assert (config.hidden_size, config.n_layers, config.bidirectional, config.pooling) == (64, 2, True, "attention")
    model = LSTMClassifier(config)
    assert len(model.lstm.layers) == 2 and all(len(directions) == 2 for directions in model.lstm.layers)
    assert model.lstm.layers[0][0].input_size == 64 and model.lstm.layers[1][0].input_size == 128
    assert model.lstm.dropout.p == 0.1 and model.pool.out_features == 128  # 2 directions x 64


def test_parameter_count_hand_checked():
    model = build_model(
        "lstm",
        {
            "stem_channels": 0,
            "hidden_size": 2,
            "n_layers": 1,
            "bidirectional": False,
            "pooling": "meanmax",
            "head_hidden": 3,
        },
    )
    # LSTM, 4 inputs, 2 hidden: 4 gates x (2 x 4 input weights + 2 x 2 recurrent weights + 2 x 2 biases) = 64
    # meanmax of 2 features = 4 -> Linear(4, 3) = 15 -> Linear(3, 1) = 4; no stem, no pooling query
    assert sum(p.numel() for p in model.parameters()) == 64 + 15 + 4


def test_reverse_within_lengths_hand_checked():
    mask = torch.tensor([[True, True, True, False, False], [True, True, True, True, True], [False] * 5])
    # row 0: 3 real positions reversed (2, 1, 0), padding in place (3, 4); row 1 fully reversed; row 2 all padding
    assert reverse_within_lengths(mask).tolist() == [[2, 1, 0, 3, 4], [4, 3, 2, 1, 0], [0, 1, 2, 3, 4]]


def test_masked_lstm_matches_lstm_on_the_unpadded_row():
    torch.manual_seed(0)
    lstm = MaskedLSTM(3, 4, n_layers=1, bidirectional=True, dropout=0.0)
    x = torch.randn(2, 7, 3)
    mask = torch.tensor([[True] * 5 + [False] * 2, [True] * 7])
    out = lstm(x, mask)
    forward, backward = lstm.layers[0]
    row = x[0, :5]  # the 5 real positions of row 0
    expected = torch.cat([forward(row[None])[0][0], backward(row.flip(0)[None])[0][0].flip(0)], dim=-1)
    torch.testing.assert_close(out[0, :5], expected)  # the backward direction starts at position 4, not 6


def test_reads_up_to_the_last_real_base():
    """The backward direction starts at each row's own last base."""
    torch.manual_seed(0)
    model = build_model("lstm", {"stem_channels": 0}).eval()
    codes = torch.randint(0, 4, (2, 30), dtype=torch.uint8)
    codes[1, 20:] = PAD
    changed = codes.clone()
    changed[1, 19] = (changed[1, 19] + 1) % 4  # the last real base of row 1
    before, after = model(codes), model(changed)
    assert not torch.allclose(before[1], after[1])
    torch.testing.assert_close(before[0], after[0], rtol=0, atol=1e-6)  # row 0 untouched


def test_iupac_policy_reaches_one_hot():
    model = build_model("lstm", {"iupac": "fractional"})
    assert model.one_hot.iupac == "fractional"


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ({"hidden_size": 0}, "model 'lstm' option 'hidden_size' must be >= 1, got 0"),
        ({"stem_channels": -1}, "model 'lstm' option 'stem_channels' must be >= 0, got -1"),
        ({"stem_pool": 0}, "option 'stem_pool' must be >= 1"),
        ({"pooling": "cls"}, "option 'pooling' is 'cls'; allowed values: 'attention', 'meanmax'"),
    ],
)
def test_config_errors(options, expected):
    with pytest.raises(InputError, match=expected):
        build_model("lstm", options)


def test_forward_one_hot_equals_forward():
    """forward(codes) is forward_one_hot of the codes' one-hot and padding mask, bit for bit (N and PAD included)."""
    model = build_model("lstm", {"stem_channels": 4, "hidden_size": 4, "n_layers": 1, "head_hidden": 4}).eval()
    x = torch.randint(0, 5, (3, 17), generator=torch.Generator().manual_seed(0), dtype=torch.uint8)
    x[1, 9:] = PAD
    with torch.no_grad():
        assert torch.equal(model(x), model.forward_one_hot(model.one_hot(x), x != PAD))
