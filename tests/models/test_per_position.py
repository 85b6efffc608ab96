"""Tests of bioseq.models.per_position: the per-position kind's traits, flank and predict_proba."""

from __future__ import annotations

import dataclasses
import subprocess
import sys

import numpy as np
import pytest
import torch
from torch import nn

from bioseq.errors import InputError
from bioseq.models.kinds import ModelKind, n_outputs_of
from bioseq.models.per_position import PerPositionKind, check_input_width
from bioseq.models.registry import ModelConfig, model_kind, model_names

NAMES = ("per_base_cnn", "per_base_lstm", "per_base_transformer")
SMALL = {
    "per_base_cnn": {"context": 20, "channels": 8, "kernel": 5},
    "per_base_lstm": {"context": 20, "stem_channels": 8, "hidden_size": 8, "n_layers": 1},
    "per_base_transformer": {"context": 20, "d_model": 16, "n_heads": 2, "n_layers": 1},
}


def codes(rows: int, width: int, *, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 4, (rows, width)).astype(np.uint8)


def small_model(name: str) -> nn.Module:
    torch.manual_seed(0)
    return model_kind(name).build(SMALL[name], n_outputs=3)


def test_registered_names_and_traits():
    assert set(NAMES) <= set(model_names())
    for name in NAMES:
        kind = model_kind(name)
        assert isinstance(kind, PerPositionKind) and kind.per_position and kind.any_length
        assert kind.trainer == "lightning" and kind.default_lr > 0 and "model_options.dropout" in kind.search_space
        assert kind.flank({"context": 80}) == 40 and kind.flank(None) == 200  # default context 400
    assert not model_kind("cnn").per_position and model_kind("cnn").flank({}) == 0
    assert not model_kind("kmer_logistic").per_position and ModelKind.flank(model_kind("kmer_logistic"), {}) == 0
    assert n_outputs_of("per_position", 3) == 3


def test_traits_import_neither_torch_nor_scikit_learn():
    code = (
        "import sys; from bioseq.models.registry import model_kind; "
        f"kinds = [model_kind(n) for n in {NAMES!r}]; "
        "assert all(k.per_position and k.any_length and k.default_lr for k in kinds); "
        "print(sorted(m for m in ('torch', 'sklearn') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


@pytest.mark.parametrize("name", NAMES)
def test_predict_proba_shape_softmax_and_batch_size_invariance(name):
    kind, model = model_kind(name), small_model(name)
    model.train()
    x = codes(7, 53)

    def predict(batch_size: int) -> np.ndarray:
        return kind.predict_proba(
            model, x, task="per_position", n_outputs=3, batch_size=batch_size, device=None, rc_average=False
        )

    proba = predict(3)
    assert proba.shape == (7, 53 - 20, 3) and proba.dtype == np.float32
    np.testing.assert_allclose(proba.sum(axis=-1), 1.0, rtol=0, atol=1e-5)
    assert (proba >= 0).all()
    for batch_size in (1, 64):
        np.testing.assert_allclose(predict(batch_size), proba, rtol=0, atol=1e-5)
    assert model.training  # the model is left in the mode it was found in


def test_rc_average_is_refused():
    model = small_model("per_base_cnn")
    with pytest.raises(InputError, match="strand-specific.*Predict the reverse complement explicitly"):
        model_kind("per_base_cnn").predict_proba(
            model, codes(2, 40), task="per_position", n_outputs=3, batch_size=8, device=None, rc_average=True
        )


@pytest.mark.parametrize("width", [1, 20])
def test_inputs_no_wider_than_the_context_are_refused(width):
    model = small_model("per_base_cnn")
    with pytest.raises(InputError) as info:
        model_kind("per_base_cnn").predict_proba(
            model, codes(2, width), task="per_position", n_outputs=3, batch_size=8, device=None, rc_average=False
        )
    message = str(info.value)
    assert f"sequences {width} bases wide" in message and "10 bases of context on each side (context 20)" in message
    assert "Add 10 bases of context (N past a contig end) on each side" in message
    with pytest.raises(InputError, match="needs more than 20"):
        model(torch.from_numpy(codes(2, width)))  # the forward checks the shape too (no device sync)
    check_input_width("x", 21, 20)  # one position to score is enough


@dataclasses.dataclass(kw_only=True)
class BrokenConfig(ModelConfig):
    n_outputs: int = 3
    context: int = 4


class Broken(nn.Module):
    """A plug-in that forgets to crop its context."""

    def __init__(self, config: BrokenConfig) -> None:
        super().__init__()
        self.config = config
        self.linear = nn.Linear(1, config.n_outputs)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.linear(x.float().unsqueeze(-1))  # (B, L, n_outputs): not cropped


def test_a_plug_in_that_breaks_the_contract_is_named():
    kind = PerPositionKind(name="broken_per_base", config_class=BrokenConfig, model_class=Broken)
    model = kind.build({})
    with pytest.raises(
        InputError, match=r"'broken_per_base' returned logits of shape \(2, 10, 3\), expected \(2, 6, 3\)"
    ):
        kind.predict_proba(
            model, codes(2, 10), task="per_position", n_outputs=3, batch_size=4, device=None, rc_average=False
        )
    model.config = None
    with pytest.raises(InputError, match="has no config.context"):
        kind.predict_proba(
            model, codes(2, 10), task="per_position", n_outputs=3, batch_size=4, device=None, rc_average=False
        )


@pytest.mark.parametrize("name", NAMES)
def test_bundle_arrays_are_the_state_dict_built_on_the_meta_device(name):
    from bioseq.models.kinds import array_specs

    kind = model_kind(name)
    options = kind.check_options({**SMALL[name], "n_outputs": 3}, n_outputs=3)
    model = kind.build(options)
    assert kind.expected_arrays(options, task="per_position", n_outputs=3) == array_specs(model.state_dict())
    with torch.device("meta"):
        meta = kind.build(options)
    assert all(p.is_meta for p in meta.parameters())
    loaded = kind.load(kind.arrays(model), options, task="per_position", device="cpu")
    x = torch.from_numpy(codes(2, 30))
    with torch.inference_mode():
        torch.testing.assert_close(loaded(x), model.eval()(x))
