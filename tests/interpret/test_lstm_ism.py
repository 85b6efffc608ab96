"""LSTM ISM that restarts the first layer at each mutation equals the full computation; other models fall back."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from bioseq.alphabet import PAD
from bioseq.bundle.predictor import Bundle
from bioseq.errors import InputError
from bioseq.interpret.fast_ism import fast_structure
from bioseq.interpret.ism import ism, ism_attributions
from bioseq.interpret.lstm_ism import cell_states, lstm_structure, stem_reach
from bioseq.models.registry import model_kind

SMALL = {"stem_channels": 6, "hidden_size": 5, "head_hidden": 4}
CONFIGS = {
    "stem kernel 9, pool 2": {},
    "no stem": {"stem_channels": 0},
    "stem pool 1": {"stem_pool": 1},
    "one layer": {"n_layers": 1},
    "unidirectional": {"bidirectional": False},
    "unidirectional, one layer, no stem": {"bidirectional": False, "n_layers": 1, "stem_channels": 0},
    "even kernel, pool 3, three layers, meanmax": {
        "stem_kernel": 4,
        "stem_pool": 3,
        "n_layers": 3,
        "pooling": "meanmax",
    },
    "uniform N": {"iupac": "uniform", "stem_kernel": 5},
}


def _bundle(options: dict, *, small: bool = True, n_outputs: int = 1) -> Bundle:
    torch.manual_seed(0)
    model = model_kind("lstm").build({**(SMALL if small else {}), **options}, n_outputs=n_outputs)
    for module in model.modules():  # running statistics away from 0 and 1, so that a missed BatchNorm shows
        if isinstance(module, torch.nn.BatchNorm1d):
            module.running_mean.uniform_(-0.3, 0.3)
            module.running_var.uniform_(0.5, 1.5)
    classes = ["neg", "pos"] if n_outputs == 1 else [f"c{i}" for i in range(n_outputs)]
    config = {
        "task": "binary" if n_outputs == 1 else "multiclass",
        "classes": classes,
        "input": {"length": None, "flank": 0},
        "model": {"name": "lstm", "options": options},
    }
    return Bundle(model=model.eval(), config=config, path=Path("memory-lstm"))


def _codes(n: int, length: int, seed: int = 0) -> np.ndarray:
    codes = np.random.default_rng(seed).integers(0, 4, (n, length)).astype(np.uint8)
    codes[1, length - 4 :] = PAD  # padding inside a pool window and at the end
    codes[2, length // 2 :] = PAD
    codes[3, [0, 2, length - 1]] = 4  # N, at both ends too
    codes[4, 1:] = PAD  # a single base
    return codes


def _assert_equal(fast: np.ndarray, full: np.ndarray) -> None:
    np.testing.assert_allclose(fast, full, atol=1e-5 * np.abs(full).max())


@pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel lengths")  # torch's, on even kernels
@pytest.mark.parametrize("options", CONFIGS.values(), ids=CONFIGS.keys())
def test_lstm_ism_equals_the_full_computation(options):
    bundle, codes = _bundle(options), _codes(6, 23)
    assert fast_structure(bundle) is None and lstm_structure(bundle)
    full = ism(bundle, codes, fast=False)
    for batch_size in (7, 64):  # batches cross positions and rows
        _assert_equal(ism(bundle, codes, fast=True, batch_size=batch_size), full)


def test_the_default_lstm_takes_the_fast_path_and_equals_the_full_computation():
    bundle, codes = _bundle({}, small=False), _codes(5, 40, seed=1)
    codes[0, 17] = 4
    full = ism(bundle, codes, fast=False, batch_size=16)
    _assert_equal(ism(bundle, codes, batch_size=16), full)  # fast=None: the fast path
    _assert_equal(ism(bundle, codes[:1], batch_size=5), full[:1])  # one row, batches within a position
    rows, columns = np.nonzero(codes == 4)  # N: not mutated, the reference logit four times
    fast = ism(bundle, codes, batch_size=16)
    assert np.ptp(fast[rows, :, columns], axis=1).max() == 0


def test_lstm_ism_of_a_multiclass_target_and_attributions():
    bundle, codes = _bundle({"n_layers": 1}, n_outputs=3), _codes(5, 15)
    for target in ("c0", "c2"):
        _assert_equal(ism(bundle, codes, target=target, fast=True), ism(bundle, codes, target=target, fast=False))
    fast = ism_attributions(bundle, codes, target="c1")
    full = ism_attributions(bundle, codes, target="c1", fast=False)
    np.testing.assert_allclose(fast.hypothetical, full.hypothetical, atol=1e-6)


class _Wrapped(torch.nn.Module):
    """A stem that is not a ConvBlock (the same computation): the model has no fast path."""

    def __init__(self, inner) -> None:
        super().__init__()
        self.inner = inner

    def forward(self, x, mask):
        return self.inner(x, mask)


def test_a_model_outside_the_structure_falls_back_to_the_full_computation():
    bundle, codes = _bundle({}), _codes(5, 19)
    reference = ism(bundle, codes)
    bundle.model.stem = _Wrapped(bundle.model.stem)
    assert not lstm_structure(bundle) and fast_structure(bundle) is None
    with pytest.raises(InputError, match="no fast ISM path"):
        ism(bundle, codes, fast=True)
    fallback = ism(bundle, codes)  # fast=None: every mutant in full
    np.testing.assert_array_equal(fallback, ism(bundle, codes, fast=False))
    _assert_equal(reference, fallback)


def test_stem_reach_covers_every_changed_stem_output():
    bundle = _bundle({"stem_kernel": 6, "stem_pool": 3})
    model = bundle.model
    left, right, pool = stem_reach(model)
    codes = torch.from_numpy(_codes(6, 30, seed=2)[:1])
    with torch.inference_mode():
        reference, _ = model.stem(model.one_hot(codes), codes != PAD)
        for i in range(codes.shape[1]):
            mutated = codes.clone()
            mutated[0, i] = (int(codes[0, i]) + 1) % 4
            changed = (model.stem(model.one_hot(mutated), mutated != PAD)[0] != reference).any(1)[0]
            steps = torch.nonzero(changed).flatten().tolist()
            assert all((i - right) // pool <= s <= (i + left) // pool for s in steps), (i, steps)


def test_cell_states_are_the_lstm_cells():
    torch.manual_seed(3)
    lstm = torch.nn.LSTM(3, 4, batch_first=True)
    x = torch.randn(7, 2, 3)  # (T, B, C)
    with torch.inference_mode():
        outputs = lstm(x.transpose(0, 1))[0].transpose(0, 1)
        cells = cell_states(lstm, x, outputs)
        for t in range(len(x)):
            _, (_, c) = lstm(x[: t + 1].transpose(0, 1))
            torch.testing.assert_close(cells[t], c[0], atol=1e-6, rtol=1e-5)
