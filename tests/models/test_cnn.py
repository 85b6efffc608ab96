"""Tests of bioseq.models.cnn (the shared contract is checked in test_registry.py)."""

from __future__ import annotations

import pytest
import torch

from bioseq.codes import encode
from bioseq.errors import InputError
from bioseq.models.cnn import CNNClassifier, CNNConfig
from bioseq.models.registry import build_model


def test_defaults():
    config = CNNConfig()
    assert config.channels == (64, 128, 128) and config.kernel_sizes == (15, 9, 5)
    assert config.pools == (2, 2, 1) and config.pooling == "meanmax"
    model = CNNClassifier(config)
    assert len(model.blocks) == 3 and model.pool.out_features == 256  # mean + max of 128 channels


def test_parameter_count_hand_checked():
    model = build_model(
        "cnn",
        {"channels": [2], "kernel_sizes": [3], "dilations": [1], "pools": [1], "pooling": "max", "head_hidden": 2},
    )
    # conv 4 x 2 x 3 + 2 bias = 26; BatchNorm weight + bias = 4; Linear(2, 2) = 6; Linear(2, 1) = 3
    assert sum(p.numel() for p in model.parameters()) == 26 + 4 + 6 + 3


def test_global_max_pools_real_positions_only():
    """A one-filter CNN that detects TAT: the pooled feature is 1 when TAT is in the real sequence."""
    model = build_model(
        "cnn", {"channels": [1], "kernel_sizes": [3], "dilations": [1], "pools": [1], "pooling": "max"}
    ).eval()
    with torch.no_grad():
        model.blocks[0].conv.weight.copy_(torch.tensor([[[0, 1, 0], [0, 0, 0], [0, 0, 0], [1, 0, 1]]]))  # T A T
        model.blocks[0].conv.bias.fill_(-2.0)  # 3 matches -> 1, 2 or fewer -> 0 after ReLU
    pooled = []
    model.head.register_forward_hook(lambda module, args, out: pooled.append(args[0]))
    codes, _ = encode(["GGTAT", "GGTAG", "TAT", "CCCCCCCCCC"])
    model(torch.from_numpy(codes))
    # TAT at the very end of a padded row (1), no TAT (0), a row that is only TAT (1), no TAT (0)
    torch.testing.assert_close(pooled[0][:, 0], torch.tensor([1.0, 0.0, 1.0, 0.0]), rtol=0, atol=1e-4)


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        (
            {"channels": [8, 8], "kernel_sizes": [3]},
            "needs one value per conv layer .* got channels 2, kernel_sizes 1, dilations 3, pools 3",
        ),
        ({"channels": [], "kernel_sizes": [], "dilations": [], "pools": []}, "at least one"),
        ({"pools": [2, 0, 1]}, r"option 'pools' must be >= 1, got \(2, 0, 1\)"),
        ({"pooling": "attention"}, "allowed values: 'max', 'meanmax'"),
    ],
)
def test_config_errors(options, expected):
    with pytest.raises(InputError, match=expected):
        build_model("cnn", options)


def test_dilated_layers_keep_length():
    model = build_model(
        "cnn", {"channels": [4, 4], "kernel_sizes": [5, 5], "dilations": [1, 4], "pools": [1, 1]}
    ).eval()
    lengths = []
    model.blocks[1].register_forward_hook(lambda module, args, out: lengths.append(out[0].shape[-1]))
    model(torch.randint(0, 4, (2, 33), dtype=torch.uint8))
    assert lengths == [33]  # "same" padding at every dilation


def test_forward_one_hot_equals_forward():
    """forward(codes) is forward_one_hot of the codes' one-hot and padding mask, bit for bit (N and PAD included)."""
    model = build_model(
        "cnn", {"channels": [4, 4], "kernel_sizes": [3, 3], "dilations": [1, 2], "pools": [2, 1]}
    ).eval()
    codes, _ = encode(["ACGTNACGTTGCA", "GGNAT", "TTTTTTTTTTTTT"])
    x = torch.from_numpy(codes)
    with torch.no_grad():
        assert torch.equal(model(x), model.forward_one_hot(model.one_hot(x), x != 15))
