"""Fast ISM equals the full computation: conv classifiers (pooling, dilation, padding) and local per-position models."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from bioseq.alphabet import PAD
from bioseq.bundle.predictor import Bundle
from bioseq.interpret.fast_ism import ConvCone, fast_structure
from bioseq.interpret.ism import ism
from bioseq.models.registry import model_kind

CONFIGS = {
    "pools 2, 1; meanmax": {"kernel_sizes": (5, 3), "dilations": (1, 1), "pools": (2, 1), "pooling": "meanmax"},
    "pools 3, 2; even kernels, dilation; max": {
        "kernel_sizes": (4, 6),
        "dilations": (2, 3),
        "pools": (3, 2),
        "pooling": "max",
    },
    "three layers, pool 1 first": {
        "kernel_sizes": (3, 5, 2),
        "dilations": (1, 2, 1),
        "pools": (1, 4, 2),
        "pooling": "meanmax",
    },
}


def _bundle(model, name: str, *, task="binary", classes=("neg", "pos"), length=None, flank=0) -> Bundle:
    config = {
        "task": task,
        "classes": list(classes),
        "input": {"length": length, "flank": flank},
        "model": {"name": name, "options": {}},
    }
    return Bundle(model=model, config=config, path=Path(f"memory-{name}"))


def _randomise_norms(model: torch.nn.Module) -> None:
    """Running statistics away from 0 and 1, so that a missed BatchNorm shows."""
    generator = torch.Generator().manual_seed(1)
    for module in model.modules():
        if isinstance(module, (torch.nn.BatchNorm1d, torch.nn.BatchNorm2d)):
            module.running_mean.copy_(torch.randn(module.running_mean.shape, generator=generator) * 0.3)
            module.running_var.copy_(torch.rand(module.running_var.shape, generator=generator) + 0.5)


def _cnn(options: dict, *, n_outputs=1, **bundle) -> Bundle:
    torch.manual_seed(0)
    width = len(options["kernel_sizes"])
    model = model_kind("cnn").build({"channels": (5,) * width, "head_hidden": 8, **options}, n_outputs=n_outputs)
    _randomise_norms(model)
    return _bundle(model.eval(), "cnn", **bundle)


def _codes(n: int, length: int, seed: int = 0) -> np.ndarray:
    codes = np.random.default_rng(seed).integers(0, 4, (n, length)).astype(np.uint8)
    codes[1, length - 4 :] = PAD  # padding inside a pool window and at the end
    codes[2, length // 2 :] = PAD
    codes[3, 2] = 4  # N
    codes[4, 1:] = PAD  # a single base
    return codes


@pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel lengths")  # torch's, on even kernels
@pytest.mark.parametrize("options", CONFIGS.values(), ids=CONFIGS.keys())
def test_conv_fast_ism_equals_the_full_computation(options):
    bundle, codes = _cnn(options), _codes(5, 23)
    assert fast_structure(bundle) == "conv"
    full = ism(bundle, codes, fast=False)
    scale = np.abs(full).max()
    for batch_size in (4, 64):
        np.testing.assert_allclose(ism(bundle, codes, fast=True, batch_size=batch_size), full, atol=1e-5 * scale)
    np.testing.assert_allclose(ism(bundle, codes[:2]), full[:2], atol=1e-5 * scale)  # fast=None: the fast path


@pytest.mark.parametrize("pooling", ["max", "meanmax"])
def test_conv_fast_ism_with_an_activation_that_can_be_negative(pooling):
    """GELU blocks (the CNN config builds ReLU ones) take the masked path: padding must not win a max."""
    options = {"kernel_sizes": (5, 3), "dilations": (1, 2), "pools": (3, 2), "pooling": pooling}
    bundle = _cnn(options)
    for block in bundle.model.blocks:
        block.act, block.non_negative = torch.nn.GELU(), False
    codes = _codes(5, 26, seed=3)
    full = ism(bundle, codes, fast=False)
    for batch_size in (3, 64):
        fast = ism(bundle, codes, fast=True, batch_size=batch_size)
        np.testing.assert_allclose(fast, full, atol=1e-5 * np.abs(full).max())


def test_conv_fast_ism_multiclass_target_and_mean_pooling():
    options = {"kernel_sizes": (7,), "dilations": (1,), "pools": (2,), "pooling": "max"}
    bundle = _cnn(options, n_outputs=3, task="multiclass", classes=("a", "b", "c"))
    bundle.model.pool.kind = "mean"  # the pooling the CNN config does not offer, but the fast path does
    codes = _codes(5, 30, seed=2)
    full = ism(bundle, codes, target="b", fast=False)
    np.testing.assert_allclose(ism(bundle, codes, target="b", fast=True), full, atol=1e-5 * np.abs(full).max())


def test_cone_windows_stay_inside_the_padded_maps():
    options = {"kernel_sizes": (9, 4), "dilations": (3, 2), "pools": (5, 3), "pooling": "max"}
    for length in (1, 2, 7, 40):
        cone = ConvCone(_cnn(options).model, length)
        positions = np.arange(length)
        starts = cone.starts(positions)
        for depth in range(len(cone.layers)):
            begin, span = cone.window(depth, starts[depth + 1])
            assert begin.min() + cone.margins[depth][0] >= 0
            assert (begin + span).max() <= cone.lengths[depth] + sum(cone.margins[depth])
            assert (starts[depth] >= begin).all() and (starts[depth] + cone.widths[depth] <= begin + span).all()


def _per_base(**options) -> Bundle:
    torch.manual_seed(0)
    model = model_kind("per_base_cnn").build({"context": 12, "channels": 4, "kernel": 3, **options}, n_outputs=3)
    _randomise_norms(model)
    classes = ("neither", "acceptor", "donor")
    return _bundle(model.eval(), "per_base_cnn", task="per_position", classes=classes, flank=6)


def test_local_per_position_fast_ism_equals_the_full_computation():
    bundle = _per_base()
    assert bundle.local and fast_structure(bundle) == "local"
    codes = _codes(5, 30, seed=3)
    codes[4, 1:] = 0
    codes[2, 20:] = 4  # N past a contig end instead of PAD
    for position in (0, 11):
        full = ism(bundle, codes, target="donor", position=position, fast=False)
        fast = ism(bundle, codes, target="donor", position=position, fast=True, batch_size=7)
        np.testing.assert_allclose(fast, full, atol=1e-5 * np.abs(full).max())
        reach = bundle.model.receptive_field
        outside = np.ones(30, dtype=bool)
        outside[6 + position - reach : 6 + position + reach + 1] = False
        assert np.ptp(full[:, :, outside], axis=(1, 2)).max() < 1e-5  # untouched: the reference


def test_models_without_a_fast_path():
    torch.manual_seed(0)
    lstm = model_kind("lstm").build({"hidden_size": 4, "n_layers": 1}, n_outputs=1).eval()
    assert fast_structure(_bundle(lstm, "lstm")) is None
    cnn = _cnn(CONFIGS["pools 2, 1; meanmax"])
    cnn.model.pool.kind = "attention"
    assert fast_structure(cnn) is None
    per_base_lstm = model_kind("per_base_lstm").build({"context": 4, "hidden_size": 4}, n_outputs=2).eval()
    bundle = _bundle(per_base_lstm, "per_base_lstm", task="per_position", classes=("a", "b"), flank=2)
    assert not bundle.local and fast_structure(bundle) is None
