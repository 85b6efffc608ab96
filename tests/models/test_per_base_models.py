"""Tests of the per-base networks: bioseq.models.per_base_cnn, per_base_lstm and per_base_transformer.

The kind (predict_proba, traits, bundle arrays) is tested in test_per_position.py.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from bioseq.codes import encode
from bioseq.errors import InputError
from bioseq.models.per_base_cnn import PerBaseCNNConfig, derive_dilations, receptive_field
from bioseq.models.registry import MAX_WIDTH, build_model, make_config


def random_codes(rows: int, width: int, *, seed: int = 0) -> torch.Tensor:
    return torch.from_numpy(np.random.default_rng(seed).integers(0, 4, (rows, width)).astype(np.uint8))


def randomised(model: nn.Module) -> nn.Module:
    """The model in eval mode with random BatchNorm statistics, so that no layer is the identity."""
    g = torch.Generator().manual_seed(1)
    for module in model.modules():
        if isinstance(module, (nn.BatchNorm1d, nn.BatchNorm2d)):
            module.running_mean.copy_(torch.randn(module.running_mean.shape, generator=g) * 0.1)
            module.running_var.copy_(torch.rand(module.running_var.shape, generator=g) + 0.5)
    return model.eval()


@pytest.mark.parametrize(
    ("name", "options"),
    [
        ("per_base_cnn", {"context": 0, "channels": 4}),
        ("per_base_cnn", {"context": 80, "channels": 4}),
        ("per_base_cnn", {"context": 30, "channels": 4, "kernel": 3, "dilations": [1, 3]}),
        ("per_base_lstm", {"context": 10, "stem_channels": 4, "hidden_size": 4, "n_layers": 2}),
        ("per_base_transformer", {"context": 12, "d_model": 8, "n_heads": 2, "n_layers": 1}),
    ],
)
@pytest.mark.parametrize("width", [81, 120])
def test_forward_shape_channels_last(name, options, width):
    model = build_model(name, {**options, "n_outputs": 4}).eval()
    with torch.inference_mode():
        logits = model(random_codes(3, width))
    assert logits.shape == (3, width - options["context"], 4) and logits.dtype == torch.float32
    assert torch.isfinite(logits).all()


@pytest.mark.parametrize(
    ("context", "kernel", "expected"),
    [
        (0, 11, ()),
        (60, 11, (1, 1, 1)),  # no stage of 4 fits: the remainder in blocks of dilation 1
        (80, 11, (1, 1, 1, 1)),  # 4 blocks x 10 = 40 = the flank
        (400, 11, (1, 1, 1, 1, 4, 4, 4, 4)),  # 40 + 160 = 200
        (2000, 11, (1, 1, 1, 1, 4, 4, 4, 4, 20, 20, 20, 20)),  # 40 + 160 + 800 = 1000
        (500, 11, (1, 1, 1, 1, 1, 5, 5, 5, 5)),  # 40 + 200 + a leading block of 10 = 250
        (80, 1, ()),  # a width-1 kernel reaches nothing
    ],
)
def test_derived_dilations_hand_checked(context, kernel, expected):
    assert derive_dilations(context // 2, kernel) == expected
    config = PerBaseCNNConfig(context=context, kernel=kernel)
    assert config.dilations == expected


@pytest.mark.parametrize("context", [0, 2, 10, 80, 202, 400, 998, 2000, 10000, 20000])
@pytest.mark.parametrize("kernel", [3, 7, 11, 21])
def test_derived_receptive_field_covers_the_flank_but_less_than_one_block(context, kernel):
    dilations = derive_dilations(context // 2, kernel)
    reach = receptive_field(kernel, dilations)
    assert 0 <= context // 2 - reach < kernel - 1  # a block of dilation 1 reaches kernel - 1
    assert list(dilations) == sorted(dilations)


def test_receptive_field_is_what_the_output_depends_on():
    """Changing a base just outside the receptive field leaves an output alone; just inside, it does not."""
    torch.manual_seed(0)
    model = randomised(build_model("per_base_cnn", {"context": 40, "channels": 8, "kernel": 5, "dilations": [1, 2]}))
    assert model.receptive_field == 12 and model.crop == 8
    x = random_codes(8, 61)  # 21 outputs; output 10 scores input 30
    with torch.inference_mode():
        base = model(x)[:, 10]  # (8, 3)
        for offset, changes in ((13, False), (-13, False), (12, True), (-12, True)):
            y = x.clone()
            y[:, 30 + offset] = (y[:, 30 + offset] + 1) % 4
            changed = (model(y)[:, 10] - base).abs().amax(-1) > 1e-6  # (8,): a ReLU may silence one row, not all
            assert bool(changed.any()) == changes and (changes or not changed.any()), offset


def test_predicting_a_long_sequence_equals_predicting_its_windows():
    torch.manual_seed(0)
    model = randomised(build_model("per_base_cnn", {"context": 80, "channels": 8}))
    x = random_codes(2, 400)
    with torch.inference_mode():
        whole = model(x)  # (2, 320, 3)
        for start, width in ((0, 1), (0, 50), (17, 33), (270, 50), (101, 219)):
            window = model(x[:, start : start + width + 80])  # (2, width, 3)
            torch.testing.assert_close(window, whole[:, start : start + width], rtol=1e-4, atol=1e-5)


def test_pad_and_n_read_as_unknown_bases():
    torch.manual_seed(0)
    model = randomised(build_model("per_base_cnn", {"context": 20, "channels": 4, "kernel": 5}))
    n_codes, _ = encode(["ACGTNNNNACGTACGTACGTAC"])
    pad_codes = n_codes.copy()
    pad_codes[0, 4:8] = 15  # PAD in the middle is an all-zero column, like N under iupac="zeros"
    with torch.inference_mode():
        torch.testing.assert_close(model(torch.from_numpy(n_codes)), model(torch.from_numpy(pad_codes)))


@pytest.mark.parametrize(
    ("name", "options", "message"),
    [
        ("per_base_cnn", {"context": 81}, "'context' must be an even number of bases in 0..1048576.*got 81"),
        ("per_base_cnn", {"context": -2}, "'context' must be an even number"),
        ("per_base_cnn", {"context": 1 << 21}, "'context' must be an even number"),
        ("per_base_cnn", {"n_outputs": 1}, "needs at least 2 outputs"),
        ("per_base_cnn", {"kernel": 10}, "'kernel' must be odd.*got 10"),
        ("per_base_cnn", {"channels": MAX_WIDTH + 1}, f"'channels' must be <= {MAX_WIDTH}"),
        ("per_base_cnn", {"dilations": [0, 1]}, "'dilations' must be >= 1"),
        (
            "per_base_cnn",
            {"context": 80, "dilations": [1, 1, 1, 2]},
            r"dilations \[1, 1, 1, 2\] with kernel 11 read 50 bases on each side.*more than the flank of 40",
        ),
        ("per_base_cnn", {"dilations": [1] * 300, "kernel": 1}, "at most 256 residual blocks"),
        ("per_base_lstm", {"hidden_size": 0}, "'hidden_size' must be >= 1"),
        ("per_base_lstm", {"context": 7}, "'context' must be an even number"),
        ("per_base_transformer", {"d_model": 20, "n_heads": 4}, "even head size"),
        ("per_base_transformer", {"d_model": 30, "n_heads": 4}, "multiple of .n_heads."),
        ("per_base_transformer", {"n_heads": 300}, "'n_heads' must be <= 256"),
        ("per_base_transformer", {"chanels": 3}, "has no option 'chanels'"),
    ],
)
def test_options_out_of_bounds_are_refused(name, options, message):
    with pytest.raises(InputError, match=message):
        make_config(name, options)


def test_checked_options_record_the_dilations_in_use():
    config = make_config("per_base_cnn", {"context": 80})
    assert config.dilations == (1, 1, 1, 1) and config.n_outputs == 3 and config.channels == 32
    assert make_config("per_base_cnn", {"context": 400, "dilations": [1, 2]}).dilations == (1, 2)


def splice_like(rows: int, width: int, *, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Random codes and labels: 2 at the G of every GT, 1 at the G of every AG (GT wins), else 0."""
    x = random_codes(rows, width, seed=seed).long()
    labels = torch.zeros_like(x)
    a, g, t = 0, 2, 3
    labels[:, 1:][(x[:, :-1] == a) & (x[:, 1:] == g)] = 1
    labels[:, :-1][(x[:, :-1] == g) & (x[:, 1:] == t)] = 2
    return x.to(torch.uint8), labels


def test_cnn_learns_dinucleotide_sites_in_a_few_steps():
    torch.manual_seed(0)
    context = 8
    model = build_model("per_base_cnn", {"context": context, "channels": 16, "kernel": 3, "dropout": 0.0})
    optimiser = torch.optim.Adam(model.parameters(), lr=2e-2)
    x, labels = splice_like(8, 128, seed=0)
    target = labels[:, context // 2 : -(context // 2)]  # (8, 120)
    losses = []
    for _ in range(30):
        optimiser.zero_grad()
        loss = nn.functional.cross_entropy(model(x).transpose(1, 2), target)  # (B, C, W) against (B, W)
        loss.backward()
        optimiser.step()
        losses.append(loss.item())
    assert losses[-1] < 0.3 * losses[0]
    held_out, held_labels = splice_like(4, 128, seed=1)
    held_labels = held_labels[:, context // 2 : -(context // 2)]
    with torch.inference_mode():
        predicted = model.eval()(held_out).argmax(-1)  # (4, 120)
    for site in (0, 1, 2):  # neither, acceptor (the G of AG), donor (the G of GT)
        assert (predicted[held_labels == site] == site).float().mean() > 0.9, site


def test_the_folded_evaluation_path_equals_batch_norm_with_running_statistics():
    from bioseq.models.per_base_cnn import ResidualBlock

    torch.manual_seed(0)
    block = ResidualBlock(6, kernel=3, dilation=2, dropout=0.5)
    for norm in (block.norm1, block.norm2):
        norm.running_mean.uniform_(-1, 1)
        norm.running_var.uniform_(0.5, 2)
        norm.weight.data.uniform_(0.5, 1.5)
        norm.bias.data.uniform_(-0.5, 0.5)
    block.eval()
    x = torch.randn(2, 6, 1, 30)
    with torch.no_grad():
        y = block.conv1(torch.relu(block.norm1(x)))
        y = block.conv2(torch.relu(block.norm2(y)))
        expected = x[..., 4:-4] + y
        np.testing.assert_allclose(block(x).numpy(), expected.numpy(), atol=1e-5)


@pytest.mark.parametrize(
    ("name", "options"),
    [
        ("per_base_cnn", {"context": 8, "channels": 4, "kernel": 3}),
        ("per_base_lstm", {"context": 8, "stem_channels": 4, "hidden_size": 4, "n_layers": 1}),
        ("per_base_transformer", {"context": 8, "d_model": 8, "n_heads": 2, "n_layers": 1}),
    ],
)
def test_forward_one_hot_equals_forward(name, options):
    """forward(codes) is forward_one_hot(one_hot, mask) bit for bit, N and PAD included (the CNN folds BN at eval)."""
    model = randomised(build_model(name, {**options, "n_outputs": 3}))
    x = torch.randint(0, 5, (3, 21), generator=torch.Generator().manual_seed(0), dtype=torch.uint8)
    x[1, 15:] = 15
    with torch.no_grad():
        assert torch.equal(model(x), model.forward_one_hot(model.one_hot(x), x != 15))


@pytest.mark.parametrize(("context", "side"), [(80, 40), (80, 95), (400, 250), (400, 460), (2000, 1010)])
def test_substitution_logits_equal_forward_on_the_edited_windows(context, side):
    """Recomputing only what a substitution reaches gives the full forward, at every depth of the dilations."""
    torch.manual_seed(0)
    model = randomised(build_model("per_base_cnn", {"context": context, "channels": 6, "n_outputs": 3}))
    codes = random_codes(3, 2 * side + 31, seed=context)
    rows = torch.tensor([0, 2, 2, 1])
    at = torch.tensor([side, side + 30, side + 7, side + 15])
    bases = torch.tensor([3, 0, 4, 2], dtype=torch.uint8)  # 4: N
    windows = torch.stack([codes[r, a - side : a + side + 1] for r, a in zip(rows.tolist(), at.tolist())])
    windows[:, side] = bases
    with torch.no_grad():
        reference, substituted = model.substitution_logits(codes, rows, at, bases, side=side)
        np.testing.assert_allclose(reference.numpy(), model(codes).numpy(), atol=1e-5)
        np.testing.assert_allclose(substituted.numpy(), model(windows).numpy(), atol=1e-5)
    assert substituted.shape == (4, 2 * side + 1 - context, 3)
    with pytest.raises(InputError, match="inside the inputs"):
        model.substitution_logits(codes, rows, at - 1, bases, side=side)
