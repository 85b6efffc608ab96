"""Tests of bioseq.models.registry: names, config checking, and the forward contract of every model.

The contract (``(B, L)`` uint8/int64 codes with PAD -> ``(B, n_outputs)``
logits that ignore padding and batch company) is the registry's, so it is
checked here once for every built-in model and a few non-default variants;
the model-specific tests live in ``test_lstm.py``, ``test_transformer.py``
and ``test_cnn.py``.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch
from torch import nn

from bioseq.alphabet import PAD
from bioseq.errors import InputError
from bioseq.models import registry
from bioseq.models.registry import ModelConfig, build_model, config_to_dict, make_config, model_names, register

VARIANTS = [
    ("lstm", {}),
    ("lstm", {"stem_channels": 0, "bidirectional": False, "n_layers": 1, "pooling": "meanmax", "hidden_size": 16}),
    ("transformer", {}),
    (
        "transformer",
        {
            "input": "kmer",
            "k": 3,
            "stride": 2,
            "stem_kernel": 0,
            "pooling": "mean",
            "positional": "sinusoidal",
            "d_model": 32,
        },
    ),
    ("transformer", {"input": "kmer", "k": 4, "stem_pool": 2, "d_model": 32, "n_heads": 2}),
    ("transformer", {"positional": "learned", "stem_pool": 3, "max_length": 128, "d_model": 32, "n_heads": 2}),
    ("cnn", {}),
    (
        "cnn",
        {
            "channels": [16, 16],
            "kernel_sizes": [7, 5],
            "dilations": [1, 3],
            "pools": [3, 1],
            "pooling": "max",
            "iupac": "fractional",
        },
    ),
]
IDS = [f"{name}-{i}" for i, (name, _) in enumerate(VARIANTS)]


def random_codes(rows: int, width: int, *, seed: int) -> torch.Tensor:
    """``(rows, width)`` uint8 codes of A, C, G, T with ~5% N and ~2% R (IUPAC)."""
    g = torch.Generator().manual_seed(seed)
    codes = torch.randint(0, 4, (rows, width), generator=g, dtype=torch.uint8)
    noise = torch.rand(rows, width, generator=g)
    codes[noise < 0.05] = 4
    codes[(noise >= 0.05) & (noise < 0.07)] = 5
    return codes


def pad_rows(rows: list[torch.Tensor], width: int) -> torch.Tensor:
    """Stack 1-D code rows into ``(B, width)``, right-padded with PAD."""
    out = torch.full((len(rows), width), PAD, dtype=torch.uint8)
    for i, row in enumerate(rows):
        out[i, : len(row)] = row
    return out


@pytest.fixture
def one_thread():
    """Train on one thread: on a small shared machine two contending threads are several times slower."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def built(name: str, options: dict, **extra) -> nn.Module:
    torch.manual_seed(0)
    return build_model(name, {**options, **extra})


# --- names and config checking ---------------------------------------------------------


def test_builtin_models_registered():
    assert {"cnn", "lstm", "transformer"} <= set(model_names())
    model = build_model("lstm")
    assert type(model).name == "lstm" and type(model).config_class.__name__ == "LSTMConfig"


def test_unknown_model_suggests_close_name():
    with pytest.raises(InputError) as info:
        build_model("lstn")
    assert "unknown model 'lstn'; the models are" in str(info.value) and "cnn" in str(info.value)
    assert str(info.value).endswith("Did you mean 'lstm'?")


def test_unknown_option_lists_options_and_close_match():
    with pytest.raises(InputError) as info:
        make_config("lstm", {"hiden_size": 32})
    message = str(info.value)
    assert "model 'lstm' has no option 'hiden_size'; its options are" in message
    assert "bidirectional" in message and message.endswith("Did you mean 'hidden_size'?")


def test_literal_choices_listed():
    with pytest.raises(
        InputError,
        match=r"model 'transformer' option 'positional' is 'alibi'; "
        r"allowed values: 'sinusoidal', 'learned', 'rotary'",
    ):
        make_config("transformer", {"positional": "alibi"})


@pytest.mark.parametrize(
    ("name", "options", "expected"),
    [
        ("lstm", {"hidden_size": "64"}, "option 'hidden_size' must be int, got '64' (str)"),
        ("lstm", {"hidden_size": 64.0}, "option 'hidden_size' must be int, got 64.0 (float)"),
        ("lstm", {"hidden_size": True}, "option 'hidden_size' must be a number, got True"),
        ("lstm", {"bidirectional": 1}, "option 'bidirectional' must be bool, got 1 (int)"),
        ("lstm", {"dropout": "0.1"}, "option 'dropout' must be float, got '0.1' (str)"),
        ("cnn", {"channels": 64}, "option 'channels' must be a list, got 64"),
        ("cnn", {"channels": [64, "x", 64]}, "option 'channels' must be int, got 'x' (str)"),
    ],
)
def test_type_errors(name, options, expected):
    with pytest.raises(InputError, match=expected.replace("(", r"\(").replace(")", r"\)")):
        make_config(name, options)


def test_values_coerced():
    config = make_config("cnn", {"dropout": 0, "channels": [8, 8, 8]})
    assert config.dropout == 0.0 and isinstance(config.dropout, float)  # int passes as float
    assert config.channels == (8, 8, 8)  # list becomes tuple
    assert make_config("lstm") == make_config("lstm", {})  # defaults


def test_non_string_option_name_is_input_error():
    with pytest.raises(InputError):
        make_config("lstm", {1: 2})


def test_numpy_integer_accepted():
    assert make_config("lstm", {"hidden_size": np.int64(32)}).hidden_size == 32


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ({"n_outputs": 0}, "n_outputs must be >= 1, got 0"),
        ({"dropout": 1.0}, r"dropout must be in \[0, 1\), got 1.0"),
    ],
)
def test_base_config_checks(options, expected):
    with pytest.raises(InputError, match=expected):
        make_config("cnn", options)


@pytest.mark.parametrize(
    ("name", "options", "expected"),
    [
        ("lstm", {"hidden_size": 200_000}, "option 'hidden_size' must be <= 8192, got 200000"),
        ("lstm", {"stem_channels": 8193}, "option 'stem_channels' must be <= 8192"),
        ("lstm", {"head_hidden": 10**6}, "option 'head_hidden' must be <= 8192"),
        ("lstm", {"n_layers": 10**6}, "option 'n_layers' must be <= 256, got 1000000"),
        ("lstm", {"stem_kernel": 4097}, "option 'stem_kernel' must be <= 4096"),
        ("lstm", {"stem_pool": 2**20 + 1}, "option 'stem_pool' must be <= 1048576"),
        ("transformer", {"d_model": 200_000}, "option 'd_model' must be <= 8192, got 200000"),
        ("transformer", {"n_heads": 512, "d_model": 1024}, "option 'n_heads' must be <= 256"),
        ("transformer", {"n_layers": 257}, "option 'n_layers' must be <= 256"),
        ("transformer", {"ff_mult": 65}, "option 'ff_mult' must be <= 64"),
        ("transformer", {"max_length": 10**12}, "option 'max_length' must be <= 1048576"),
        ("transformer", {"k": 40}, "option 'k' must be <= 8, got 40"),
        ("transformer", {"stride": 10**7}, "option 'stride' must be <= 1048576"),
        ("cnn", {"channels": [200_000, 8, 8]}, "option 'channels' must be <= 8192, got \\(200000, 8, 8\\)"),
        (
            "cnn",
            {"channels": [8] * 300, "kernel_sizes": [3] * 300, "dilations": [1] * 300, "pools": [1] * 300},
            "at most 256 conv layers, got 300",
        ),
        (
            "cnn",
            {"channels": [8], "kernel_sizes": [5000], "dilations": [1], "pools": [1]},
            "option 'kernel_sizes' must be <= 4096",
        ),
        (
            "cnn",
            {"channels": [8], "kernel_sizes": [3], "dilations": [10**7], "pools": [1]},
            "option 'dilations' must be <= 1048576",
        ),
        (
            "cnn",
            {"channels": [8], "kernel_sizes": [4096], "dilations": [1024], "pools": [1]},
            "conv layer 0 spans 4193281 bases",
        ),
        ("cnn", {"n_outputs": 70_000}, "n_outputs must be <= 65536, got 70000"),
        ("cnn", {"dropout": 10**400}, "option 'dropout' is too large for a float \\(an integer of 401 digits\\)"),
    ],
)
def test_sizes_are_bounded(name, options, expected):
    # A bundle's config.json is untrusted: every size is refused above its bound before anything is built.
    with pytest.raises(InputError, match=expected) as info:
        make_config(name, options)
    assert "\n" not in str(info.value)


def test_bounds_admit_real_models():
    assert make_config("lstm", {"hidden_size": registry.MAX_WIDTH, "n_layers": registry.MAX_LAYERS}).n_layers == 256
    assert make_config("transformer", {"max_length": registry.MAX_LENGTH, "positional": "learned"}).max_length == 2**20
    span = make_config("cnn", {"channels": [8], "kernel_sizes": [41], "dilations": [25], "pools": [1]})
    assert span.dilations == (25,)  # SpliceAI's widest layer
    assert registry.MAX_LENGTH >= 200_000 and registry.MAX_OUTPUTS >= 5313  # peers' inputs; Enformer's tracks


def test_config_to_dict_round_trip():
    for name in ("lstm", "transformer", "cnn"):
        config = make_config(name, {"n_outputs": 3})
        plain = config_to_dict(config)
        assert all(not isinstance(v, tuple) for v in plain.values())  # JSON-ready
        assert make_config(name, plain) == config
    assert config_to_dict(make_config("cnn"))["channels"] == [64, 128, 128]


def test_register_refuses_a_second_class_under_a_taken_name(monkeypatch):
    monkeypatch.setattr(registry, "_REGISTRY", dict(registry._REGISTRY))

    @dataclasses.dataclass(kw_only=True)
    class TinyConfig(ModelConfig):
        width: int = 2

    @register("tiny", TinyConfig)
    class Tiny(nn.Module):
        def __init__(self, config: TinyConfig) -> None:
            super().__init__()
            self.config = config

    assert register("tiny", TinyConfig)(Tiny) is Tiny  # the same class again is fine
    assert build_model("tiny", {"width": 3}).config.width == 3
    with pytest.raises(ValueError, match="a model named 'tiny' is already registered"):
        register("tiny", TinyConfig)(type("Other", (nn.Module,), {}))


# --- the forward contract of every model ---------------------------------------------------


@pytest.mark.parametrize(("name", "options"), VARIANTS, ids=IDS)
def test_shapes_and_dtypes(name, options):
    codes = random_codes(5, 40, seed=1)
    for n_outputs in (1, 3):
        model = built(name, options, n_outputs=n_outputs).eval()
        logits = model(codes)
        assert logits.shape == (5, n_outputs) and logits.dtype == torch.float32
        torch.testing.assert_close(model(codes.long()), logits, rtol=0, atol=0)  # int64 codes too
    assert not model.training  # forward leaves the mode alone


@pytest.mark.parametrize(("name", "options"), VARIANTS, ids=IDS)
def test_gradients_reach_every_parameter(name, options):
    model = built(name, options, n_outputs=2).train()
    codes = random_codes(4, 30, seed=2)
    codes[1, 17:] = PAD
    model(codes).square().sum().backward()
    missing = [n for n, p in model.named_parameters() if p.grad is None]
    assert not missing


@pytest.mark.parametrize(("name", "options"), VARIANTS, ids=IDS)
def test_padding_and_batch_size_invariance(name, options):
    """One sequence scored alone, in a batch of 8 and in one of 64, padded to other widths: same logits."""
    model = built(name, options, n_outputs=2).eval()
    target = random_codes(1, 57, seed=3)[0]
    g = torch.Generator().manual_seed(4)
    others = [random_codes(1, int(n), seed=10 + i)[0] for i, n in enumerate(torch.randint(5, 100, (63,), generator=g))]
    others[20] = torch.zeros(0, dtype=torch.uint8)  # an all-PAD row
    alone = model(target[None])  # width 57, no padding
    batch8 = model(pad_rows(others[:3] + [target] + others[3:7], 100))
    batch64 = model(pad_rows(others[:40] + [target] + others[40:], 120))
    assert torch.isfinite(batch64).all()  # the all-PAD row too
    torch.testing.assert_close(batch8[3:4], alone, rtol=0, atol=1e-5)
    torch.testing.assert_close(batch64[40:41], alone, rtol=0, atol=1e-5)


@pytest.mark.parametrize("name", ["lstm", "transformer", "cnn"])
def test_rejects_bad_input(name):
    model = build_model(name)
    with pytest.raises(InputError, match=f"model '{name}' takes \\(B, L\\) uint8 or int64 base codes"):
        model(torch.zeros(2, 4, 10))  # code values are checked where codes enter (tests/models/test_layers.py)


def tata_task(n: int = 64, length: int = 50) -> tuple[torch.Tensor, torch.Tensor]:
    """Random sequences; the odd ones get TATAAT at a random position, the even ones never hold it."""
    g = torch.Generator().manual_seed(5)
    motif = torch.tensor([3, 0, 3, 0, 0, 3], dtype=torch.uint8)  # T A T A A T
    rows = []
    while len(rows) < n:
        row = torch.randint(0, 4, (length,), generator=g, dtype=torch.uint8)
        if (row.unfold(0, 6, 1) == motif).all(1).any():
            continue  # keep negatives clean
        if len(rows) % 2:
            start = int(torch.randint(0, length - 5, (1,), generator=g))
            row[start : start + 6] = motif
        rows.append(row)
    return torch.stack(rows), (torch.arange(n) % 2).float()


@pytest.mark.parametrize("name", ["lstm", "transformer", "cnn"])
def test_default_model_overfits_tiny_task(name, one_thread):
    """Default sizes learn TATAAT-or-not on 64 x 50 bp to > 95% training accuracy in <= 100 Adam steps."""
    x, y = tata_task()
    model = built(name, {})
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    accuracy = 0.0
    for step in range(1, 101):
        model.train()
        loss = nn.functional.binary_cross_entropy_with_logits(model(x)[:, 0], y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if step % 5 == 0:
            model.eval()
            with torch.no_grad():
                accuracy = ((model(x)[:, 0] > 0).float() == y).float().mean().item()
            if accuracy > 0.95:
                break
    assert accuracy > 0.95, f"{name}: {accuracy:.3f} training accuracy after {step} steps"


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
@pytest.mark.parametrize(("name", "options"), VARIANTS, ids=IDS)
def test_cuda_matches_cpu(name, options):
    model = built(name, options, n_outputs=2).eval()
    codes = pad_rows([random_codes(1, n, seed=n)[0] for n in (50, 20, 0, 80)], 90)
    expected = model(codes)
    got = model.cuda()(codes.cuda()).cpu()
    torch.testing.assert_close(got, expected, rtol=1e-3, atol=1e-3)
