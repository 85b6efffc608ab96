"""Tests of bioseq.interpret.gradients, targets, attributions and attention (tiny untrained models)."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

from bioseq.alphabet import PAD
from bioseq.bundle.predictor import Bundle, Ensemble
from bioseq.codes import encode
from bioseq.encode.transforms import reverse_complement
from bioseq.errors import InputError
from bioseq.interpret import Attributions, attention_maps, attribute
from bioseq.interpret.attention import attention_weights
from bioseq.interpret.gradients import shuffled_references
from bioseq.models.registry import build_model

CNN = {"channels": [6], "kernel_sizes": [5], "dilations": [1], "pools": [1], "head_hidden": 4}


def make_bundle(name, options, *, task="binary", classes=("neg", "pos"), flank=0, seed=0) -> Bundle:
    """A Bundle of an untrained model with random BatchNorm statistics, built in memory."""
    torch.manual_seed(seed)
    model = build_model(name, {**options, "n_outputs": 1 if task == "binary" else len(classes)})
    for module in model.modules():
        if isinstance(module, (nn.BatchNorm1d, nn.BatchNorm2d)):
            module.running_mean.normal_(0, 0.1)
            module.running_var.uniform_(0.5, 1.5)
    config = {
        "task": task,
        "classes": list(classes),
        "input": {"length": None, "flank": flank},
        "model": {"name": name, "options": options},
    }
    return Bundle(model=model.eval(), config=config, path=Path(f"/bundles/{name}"))


def random_codes(rows=5, width=24, *, seed=0, unknown=True) -> np.ndarray:
    """Random A, C, G, T (with an N unless ``unknown`` is False), and rows of several lengths (right-padded)."""
    codes = np.random.default_rng(seed).integers(0, 4, (rows, width)).astype(np.uint8)
    codes[1, 15:] = PAD
    codes[2, 20:] = PAD
    if unknown:
        codes[3, 4] = 4  # N
    return codes


def logit(bundle, one_hot, mask) -> np.ndarray:
    with torch.no_grad():
        return bundle.model.forward_one_hot(torch.as_tensor(one_hot), torch.as_tensor(mask))[:, 0].numpy()


def one_hot(bundle, codes) -> np.ndarray:
    return bundle.model.one_hot(torch.from_numpy(codes)).numpy()


def test_grad_x_input_equals_the_analytic_gradient():
    """logit = c * gelu(a * s * max_t(conv_t) + 0) with conv bias keeping ReLU open: d/dx by hand."""
    bundle = make_bundle("cnn", {**CNN, "channels": [1], "kernel_sizes": [3], "pooling": "max", "head_hidden": 1})
    model = bundle.model
    w = torch.tensor([[[0.5, -1.0, 2.0], [1.0, 0.0, -0.5], [0.0, 3.0, 1.0], [-2.0, 1.0, 0.5]]])  # (1, 4, 3)
    with torch.no_grad():
        model.blocks[0].conv.weight.copy_(w)
        model.blocks[0].conv.bias.fill_(10.0)  # every position > 0: ReLU is the identity
        norm = model.blocks[0].norm
        norm.running_mean.zero_(), norm.running_var.fill_(1.0), norm.weight.fill_(1.0), norm.bias.zero_()
        model.head[1].weight.fill_(0.3), model.head[1].bias.zero_()
        model.head[4].weight.fill_(-2.0), model.head[4].bias.zero_()
    codes, _ = encode(["ACGTTGCA"])
    x = one_hot(bundle, codes)[0]  # (4, 8)
    padded = np.pad(x, ((0, 0), (1, 1)))
    conv = np.array([(w[0].numpy() * padded[:, t : t + 3]).sum() + 10 for t in range(8)])
    s = 1 / math.sqrt(1 + 1e-5)
    best = int(conv.argmax())
    u = 0.3 * s * conv[best]
    gelu_slope = 0.5 * (1 + math.erf(u / math.sqrt(2))) + u * math.exp(-u * u / 2) / math.sqrt(2 * math.pi)
    expected = np.zeros((4, 10))
    expected[:, best : best + 3] = -2.0 * gelu_slope * 0.3 * s * w[0].numpy()  # window of the max, padded coords
    expected = expected[:, 1:9]
    result = attribute(bundle, codes, method="grad_x_input")
    np.testing.assert_allclose(result.hypothetical[0], expected, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(result.attributions[0], expected * x, rtol=1e-5, atol=1e-6)
    assert result.target == "pos" and result.target_index == 1 and result.method == "grad_x_input"


@pytest.mark.parametrize("baseline", ["zeros", "shuffle"])
def test_integrated_gradients_completeness(baseline):
    """Attributions of a sequence sum to f(x) - mean f(baseline) (Gauss-Legendre, 32 points).

    A Transformer is smooth (GELU, softmax), so the quadrature is exact to float precision; the kinks of ReLU
    and max pooling leave a CNN's sums within about 1 % (not tested).
    """
    bundle = make_bundle("transformer", {"d_model": 8, "n_heads": 2, "n_layers": 2})
    codes = random_codes(3, unknown=False)  # an N has no observed base to carry its share (module docstring)
    options = {"steps": 32, "references": 2, "batch_size": 256}
    result = attribute(bundle, codes, method="integrated_gradients", baseline=baseline, **options)
    mask = codes != PAD
    x = one_hot(bundle, codes)
    if baseline == "zeros":
        reference = logit(bundle, np.zeros_like(x), mask)
    else:
        shuffles = shuffled_references(codes, n=2, seed=0)
        reference = np.mean([logit(bundle, one_hot(bundle, s), mask) for s in shuffles], axis=0)
    delta = logit(bundle, x, mask) - reference
    np.testing.assert_allclose(result.attributions.sum((1, 2)), delta, rtol=1e-4, atol=1e-6)


def test_deeplift_shap_completeness_for_a_cnn_of_supported_nonlinearities():
    """ReLU convolutions, BatchNorm, masked mean pooling, a head kept in GELU's linear range: sum = f(x) - mean f(ref).

    The max half of "meanmax" pooling is cut from the head: a global max has no DeepLIFT rule in Captum (the
    module docstring says so), and neither has GELU away from its linear range.
    """
    bundle = make_bundle(
        "cnn", {**CNN, "channels": [8, 6], "kernel_sizes": [5, 3], "dilations": [1, 2], "pools": [1, 1]}
    )
    model = bundle.model
    with torch.no_grad():
        model.head[1].weight[:, 6:] = 0.0  # the max-pooled features
        model.head[1].bias.fill_(8.0)  # GELU(u) = u to 1e-14 for u > 7
    codes = random_codes(width=30, unknown=False)
    result = attribute(bundle, codes, method="deeplift_shap", references=6, seed=3)
    mask = codes != PAD
    shuffles = shuffled_references(codes, n=6, seed=3)
    reference = np.mean([logit(bundle, one_hot(bundle, s), mask) for s in shuffles], axis=0)
    delta = logit(bundle, one_hot(bundle, codes), mask) - reference
    assert np.abs(delta).max() > 1e-3  # not trivially zero
    np.testing.assert_allclose(result.attributions.sum((1, 2)), delta, rtol=1e-4, atol=1e-6)
    # hypothetical at the observed base = the attribution; the three others hypothetical only
    np.testing.assert_allclose(result.attributions, result.hypothetical * one_hot(bundle, codes), atol=1e-7)


def test_deeplift_shap_completeness_for_the_per_base_cnn():
    """ReLU, BatchNorm (folded at eval) and convolutions only: exact at any output position, any class."""
    options = {"context": 12, "channels": 4, "kernel": 3, "dilations": [1, 2]}
    sites = make_bundle("per_base_cnn", options, task="per_position", classes=("neither", "donor"), flank=6)
    codes = random_codes(4, 20, unknown=False) % 4  # padding reads as an unknown base here: none of it
    result = attribute(sites, codes, method="deeplift_shap", references=5, target="donor", position=2)
    refs = shuffled_references(codes, n=5, seed=0)
    with torch.no_grad():
        at = lambda c: sites.model(torch.from_numpy(np.ascontiguousarray(c)))[:, 2, 1].numpy()  # noqa: E731
        delta = at(codes) - np.mean([at(r) for r in refs], axis=0)
    np.testing.assert_allclose(result.attributions.sum((1, 2)), delta, rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("method", ["grad_x_input", "integrated_gradients", "deeplift_shap"])
def test_batch_size_seed_and_padding(method):
    bundle = make_bundle("cnn", {**CNN, "pools": [2]})
    codes = random_codes()
    options = {"method": method, "references": 4, "steps": 8}
    one = attribute(bundle, codes, batch_size=1, **options)
    many = attribute(bundle, codes, batch_size=64, **options)
    np.testing.assert_allclose(one.hypothetical, many.hypothetical, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(one.attributions, many.attributions, rtol=1e-5, atol=1e-7)
    np.testing.assert_array_equal(many.attributions, attribute(bundle, codes, batch_size=64, **options).attributions)
    alone = attribute(bundle, codes[2:3], batch_size=64, **options)  # references depend on the sequence only
    np.testing.assert_allclose(alone.attributions[0], many.attributions[2], rtol=1e-5, atol=1e-7)
    padding = np.broadcast_to((codes == PAD)[:, None], many.hypothetical.shape)
    assert not many.hypothetical[padding].any() and not many.attributions[padding].any()
    assert many.attributions.dtype == np.float32 and many.attributions.shape == (5, 4, 24)
    np.testing.assert_allclose(many.scores, bundle.predict_proba(codes), rtol=1e-6)


def test_rc_average_is_strand_symmetric():
    bundle = make_bundle("cnn", CNN)
    codes = random_codes()
    lengths = (codes != PAD).sum(1)
    forward = attribute(bundle, codes, method="deeplift_shap", references=3, rc_average=True)
    backward = attribute(bundle, reverse_complement(codes), method="grad_x_input", rc_average=True)
    plain = attribute(bundle, codes, method="grad_x_input")
    flipped = attribute(bundle, reverse_complement(codes), method="grad_x_input")
    both = attribute(bundle, codes, method="grad_x_input", rc_average=True)
    np.testing.assert_allclose(
        both.attributions, (plain.attributions + reverse_complement(flipped.attributions, lengths)) / 2, atol=1e-7
    )
    np.testing.assert_allclose(reverse_complement(backward.attributions, lengths), both.attributions, atol=1e-7)
    np.testing.assert_allclose(forward.scores, bundle.predict_proba(codes, rc_average=True), rtol=1e-6)


def test_ensemble_is_the_mean_of_its_members():
    members = (make_bundle("cnn", CNN, seed=1), make_bundle("transformer", {"d_model": 8, "n_heads": 2}, seed=2))
    ensemble = Bundle(
        model=Ensemble(members), config={**members[0].config, "model": {"name": "ensemble"}}, path=Path("/e")
    )
    codes = random_codes()
    result = attribute(ensemble, codes, method="deeplift_shap", references=3)
    parts = [attribute(member, codes, method="deeplift_shap", references=3) for member in members]
    np.testing.assert_allclose(result.attributions, (parts[0].attributions + parts[1].attributions) / 2, atol=1e-7)
    np.testing.assert_allclose(result.hypothetical, (parts[0].hypothetical + parts[1].hypothetical) / 2, atol=1e-7)
    np.testing.assert_allclose(result.scores, ensemble.predict_proba(codes), rtol=1e-6)


def test_targets_of_binary_multiclass_and_per_position_models():
    binary = make_bundle("cnn", CNN)
    codes = random_codes()
    positive = attribute(binary, codes, method="grad_x_input")
    negative = attribute(binary, codes, method="grad_x_input", target="neg")
    np.testing.assert_allclose(negative.attributions, -positive.attributions)
    np.testing.assert_allclose(negative.scores, 1 - positive.scores, atol=1e-6)
    assert (negative.target, negative.target_index) == ("neg", 0)
    splice = make_bundle("lstm", {"stem_channels": 4, "hidden_size": 4}, task="multiclass", classes=("N", "EI", "IE"))
    assert attribute(splice, codes, method="grad_x_input").target == "EI"  # the first class that is not background
    assert attribute(splice, codes, method="grad_x_input", target=2).target == "IE"
    sites = make_bundle(
        "per_base_cnn",
        {"context": 8, "channels": 4, "kernel": 3, "dilations": [1, 1]},
        task="per_position",
        classes=("neither", "acceptor", "donor"),
        flank=4,
    )
    wide = random_codes(width=21)
    wide[wide == PAD] = 2
    result = attribute(sites, wide, method="grad_x_input", target="donor", position=3)
    assert result.target == "donor"
    reach = np.flatnonzero(np.abs(result.hypothetical).sum((0, 1)))  # input positions the output at 4 + 3 reads
    assert reach.min() >= 7 - 4 and reach.max() <= 7 + 4
    np.testing.assert_allclose(result.scores, sites.predict_proba(wide)[:, 3, 2], rtol=1e-6)
    centre = attribute(sites, wide, method="deeplift_shap", references=2)
    np.testing.assert_allclose(centre.scores, sites.predict_proba(wide)[:, 6, 0 + 1], rtol=1e-6)  # (21 - 8) // 2


@pytest.mark.parametrize(
    ("name", "options"),
    [
        ("lstm", {"stem_channels": 0, "hidden_size": 4, "n_layers": 1}),
        ("transformer", {"d_model": 8, "n_heads": 2, "n_layers": 1}),
        ("per_base_lstm", {"context": 4, "stem_channels": 4, "hidden_size": 4, "n_layers": 1}),
        ("per_base_transformer", {"context": 4, "d_model": 8, "n_heads": 2, "n_layers": 1}),
    ],
)
def test_every_network_family_runs_every_method_and_is_left_as_found(name, options):
    per_position = name.startswith("per_base")
    bundle = make_bundle(
        name, options, task="per_position" if per_position else "binary", flank=2 if per_position else 0
    )
    codes = random_codes()
    codes[codes == PAD] = 1 if per_position else PAD
    model = bundle.model.train()
    model.requires_grad_(True)
    for method in ("grad_x_input", "integrated_gradients", "deeplift_shap"):
        result = attribute(bundle, codes, method=method, references=2, steps=4)
        assert np.isfinite(result.hypothetical).all() and np.abs(result.attributions).sum() > 0
    assert model.training and all(p.requires_grad and p.grad is None for p in model.parameters())


def test_input_errors():
    bundle = make_bundle("cnn", CNN)
    codes = random_codes()
    with pytest.raises(InputError, match="method must be one of 'grad_x_input'.*got 'saliency'"):
        attribute(bundle, codes, method="saliency")
    with pytest.raises(InputError, match="'bogus' is not a class of this model, whose classes are 'neg', 'pos'"):
        attribute(bundle, codes, method="grad_x_input", target="bogus")
    with pytest.raises(InputError, match="index 0..1, got 2"):
        attribute(bundle, codes, method="grad_x_input", target=2)
    with pytest.raises(InputError, match="position applies only to a per-position model"):
        attribute(bundle, codes, method="grad_x_input", position=3)
    with pytest.raises(InputError, match="baseline 'shuffle' applies to method 'integrated_gradients' only"):
        attribute(bundle, codes, method="deeplift_shap", baseline="shuffle")
    with pytest.raises(InputError, match="references must be a positive integer"):
        attribute(bundle, codes, method="deeplift_shap", references=0)
    with pytest.raises(InputError, match="uint8"):
        attribute(bundle, codes.astype(np.int64), method="grad_x_input")
    kmer = make_bundle("transformer", {"input": "kmer", "k": 3, "d_model": 8, "n_heads": 2, "n_layers": 1})
    with pytest.raises(InputError, match="does not read a one-hot input.*in-silico mutagenesis"):
        attribute(kmer, codes, method="deeplift_shap")
    baseline = Bundle(model=object(), config={**bundle.config, "model": {"name": "kmer_baseline"}}, path=Path("/b"))
    with pytest.raises(InputError, match="'kmer_baseline' does not read a one-hot input"):
        attribute(Bundle(Ensemble((bundle, baseline)), bundle.config, Path("/e")), codes, method="grad_x_input")
    sites = make_bundle(
        "per_base_cnn",
        {"context": 8, "channels": 4, "kernel": 3},
        task="per_position",
        classes=("neither", "donor"),
        flank=4,
    )
    with pytest.raises(InputError, match=r"position must be an output position 0..15 .*got 16"):
        attribute(sites, random_codes(width=24) % 4, method="grad_x_input", position=16)
    with pytest.raises(InputError, match="rc_average does not apply to a per-position model"):
        attribute(sites, random_codes(width=24) % 4, method="grad_x_input", rc_average=True)


def test_attributions_check_their_arrays():
    good = np.zeros((2, 4, 5), dtype=np.float32)
    with pytest.raises(InputError, match="float32 \\(N, 4, L\\)"):
        Attributions(good.astype(np.float64), good, np.zeros(2, np.float32), "pos", 1, "ism")
    with pytest.raises(InputError, match="scores must be a float32 \\(2,\\)"):
        Attributions(good, good, np.zeros(3, np.float32), "pos", 1, "ism")
    assert len(Attributions(good, good, np.zeros(2, np.float32), "pos", 1, "ism")) == 2


@pytest.mark.parametrize(
    ("name", "options", "tokens"),
    [
        ("transformer", {"d_model": 8, "n_heads": 2, "n_layers": 2, "stem_kernel": 0}, 1 + 24),
        ("transformer", {"input": "kmer", "k": 3, "d_model": 8, "n_heads": 2, "n_layers": 2}, 1 + 22),
        ("per_base_transformer", {"context": 4, "d_model": 8, "n_heads": 2, "n_layers": 2}, 24),
    ],
)
def test_attention_maps_reproduce_the_attention_output(name, options, tokens):
    per_position = name.startswith("per_base")
    bundle = make_bundle(name, options, task="per_position" if per_position else "binary", flank=2 * per_position)
    codes = random_codes()
    if per_position:
        codes[codes == PAD] = 0
    maps = attention_maps(bundle, codes, batch_size=2)
    assert maps.shape == (5, 2, 2, tokens, tokens) and maps.dtype == np.float32
    np.testing.assert_allclose(maps.sum(-1), 1.0, rtol=1e-5)
    if name == "transformer" and "input" not in options:
        assert not maps[1, :, :, :, 1 + 15 :].any()  # row 1 has 15 bases: padded keys weigh nothing
    attn = bundle.model.blocks[1].attn
    seen = []
    attn.register_forward_hook(lambda module, args, out: seen.append((args, out)))
    with torch.no_grad():
        bundle.model(torch.from_numpy(codes))
        (x, mask, rotary), out = seen[0]
        b, t, d = x.shape
        v = attn.qkv(x).view(b, t, 3, 2, d // 2).permute(2, 0, 3, 1, 4)[2]  # (B, H, T, hd)
        weights = attention_weights(attn, x, mask, rotary)
        again = attn.proj((weights @ v).transpose(1, 2).reshape(b, t, d))
    torch.testing.assert_close(again, out, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(weights.numpy(), maps[:, 1], rtol=1e-5, atol=1e-6)


def test_attention_maps_refuse_other_models():
    with pytest.raises(InputError, match="has no self-attention blocks"):
        attention_maps(make_bundle("cnn", CNN), random_codes())


def test_shuffled_references_keep_dinucleotides_and_padding():
    codes = random_codes()
    refs = shuffled_references(codes, n=3, seed=5)
    assert refs.shape == (3, 5, 24) and refs.dtype == np.uint8
    np.testing.assert_array_equal(refs == PAD, np.broadcast_to(codes == PAD, refs.shape))
    for ref in refs:
        for row, shuffled in zip(codes, ref):
            pairs = sorted(zip(row[:-1], row[1:]))
            assert pairs == sorted(zip(shuffled[:-1], shuffled[1:]))
    np.testing.assert_array_equal(shuffled_references(codes[::-1], n=3, seed=5), refs[:, ::-1])
    assert not np.array_equal(shuffled_references(codes, n=3, seed=6), refs)
