"""In-silico saturation mutagenesis: every entry equals the model on that mutant, for every model kind."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from bioseq.alphabet import PAD
from bioseq.bundle.predictor import Bundle, Ensemble
from bioseq.errors import InputError
from bioseq.interpret.ism import ism, ism_attributions
from bioseq.models.kmer_baseline import KmerLogisticBaseline
from bioseq.models.registry import model_kind

LENGTH = 16


def _bundle(model, name: str, *, task="binary", classes=("neg", "pos"), length=LENGTH, flank=0) -> Bundle:
    """A bundle held in memory (what load_bundle returns, without the directory)."""
    config = {
        "task": task,
        "classes": list(classes),
        "input": {"length": length, "flank": flank},
        "model": {"name": name, "options": {}},
    }
    return Bundle(model=model, config=config, path=Path(f"memory-{name}"))


def _network(name: str, options: dict, *, n_outputs=1, seed=0, **bundle):
    torch.manual_seed(seed)
    return _bundle(model_kind(name).build(options, n_outputs=n_outputs).eval(), name, **bundle)


def _cnn(seed=0, **bundle):
    return _network(
        "cnn",
        {"channels": (6, 6), "kernel_sizes": (5, 3), "dilations": (1, 1), "pools": (2, 1), "head_hidden": 8},
        seed=seed,
    )


def _codes(n=4, seed=0) -> np.ndarray:
    codes = np.random.default_rng(seed).integers(0, 4, (n, LENGTH)).astype(np.uint8)
    codes[1, 11:] = PAD  # a shorter sequence
    codes[2, 3] = 4  # an N
    return codes


def _brute_force(score, codes: np.ndarray) -> np.ndarray:
    """Each entry by scoring its own mutant (``score``: codes (B, L) -> target logits (B,))."""
    out = np.repeat(score(codes)[:, None, None], 4, axis=1).repeat(codes.shape[1], axis=2)
    seq, pos = np.nonzero(codes < 4)
    mutants = np.repeat(codes[seq], 4, axis=0)  # (4 M, L): every base at every real A, C, G, T
    mutants[np.arange(len(mutants)), np.repeat(pos, 4)] = np.tile(np.arange(4), len(seq))
    out[seq, :, pos] = score(mutants).reshape(-1, 4)
    return out


def _logits(bundle, column=0, sign=1.0):
    def score(codes):
        with torch.no_grad():
            return sign * bundle.model(torch.from_numpy(codes))[:, column].double().numpy()

    return score


def test_full_ism_is_each_mutant_scored_alone():
    bundle, codes = _cnn(), _codes()
    values = ism(bundle, codes, fast=False)
    assert values.shape == (4, 4, LENGTH) and values.dtype == np.float32
    np.testing.assert_allclose(values, _brute_force(_logits(bundle), codes), rtol=1e-5, atol=1e-6)
    reference = _logits(bundle)(codes)
    np.testing.assert_allclose(values[1, :, 11:], np.broadcast_to(reference[1], (4, 5)), rtol=1e-6)  # padding
    np.testing.assert_allclose(values[2, :, 3], np.full(4, reference[2]), rtol=1e-6)  # N: not mutated


def test_negative_class_of_a_binary_model_is_minus_the_logit():
    bundle, codes = _cnn(), _codes()
    np.testing.assert_allclose(ism(bundle, codes, target="neg"), -ism(bundle, codes, target="pos"), atol=1e-6)


def test_multiclass_lstm_and_transformer_explain_the_target_column():
    codes = _codes()
    options = {
        "lstm": {"stem_channels": 4, "stem_kernel": 3, "hidden_size": 4, "n_layers": 1, "head_hidden": 4},
        "transformer": {"d_model": 8, "n_heads": 2, "n_layers": 1, "ff_mult": 1, "head_hidden": 4},
    }
    for name, opts in options.items():
        bundle = _network(name, opts, n_outputs=3, task="multiclass", classes=("a", "b", "c"))
        values = ism(bundle, codes, target="c", batch_size=50)
        np.testing.assert_allclose(values, _brute_force(_logits(bundle, 2), codes), rtol=1e-4, atol=1e-5)


def test_kmer_baseline_gives_the_log_odds_and_an_ensemble_the_mean():
    rng = np.random.default_rng(1)
    train = rng.integers(0, 4, (40, LENGTH)).astype(np.uint8)
    baseline = KmerLogisticBaseline(k=2).fit(train, rng.integers(0, 2, 40), task="binary")
    kmer = _bundle(baseline, "kmer_logistic", length=None)
    codes = _codes()

    def log_odds(batch):
        p = baseline.predict_proba(batch)[:, 1].astype(np.float64)
        return np.log(p) - np.log1p(-p)

    np.testing.assert_allclose(ism(kmer, codes), _brute_force(log_odds, codes), rtol=1e-4, atol=1e-4)
    cnn = _cnn()
    ensemble = _bundle(Ensemble((cnn, kmer)), "ensemble")
    expected = (ism(cnn, codes).astype(np.float64) + ism(kmer, codes)) / 2
    np.testing.assert_allclose(ism(ensemble, codes), expected, rtol=1e-5, atol=1e-6)


def test_attributions_are_mean_centred_deltas_on_the_observed_base():
    bundle, codes = _cnn(), _codes()
    values = ism(bundle, codes).astype(np.float64)
    result = ism_attributions(bundle, codes)
    assert result.method == "ism" and result.target == "pos" and result.target_index == 1
    reference = _logits(bundle)(codes)
    deltas = values - reference[:, None, None]
    np.testing.assert_allclose(result.hypothetical, deltas - deltas.mean(1, keepdims=True), atol=1e-5)
    np.testing.assert_allclose(result.hypothetical.sum(1), 0, atol=1e-5)
    observed = codes[:, None, :] == np.arange(4)[None, :, None]
    np.testing.assert_array_equal(result.attributions, np.where(observed, result.hypothetical, 0))
    assert not result.attributions[1, :, 11:].any() and not result.hypothetical[2, :, 3].any()
    np.testing.assert_allclose(result.scores, bundle.predict_proba(codes), rtol=1e-5)


def test_batch_size_does_not_change_the_result():
    bundle, codes = _cnn(), _codes()
    for fast in (False, True):
        first = ism(bundle, codes, batch_size=3, fast=fast)
        np.testing.assert_allclose(ism(bundle, codes, batch_size=1000, fast=fast), first, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize(
    ("kwargs", "words"),
    [
        ({"batch_size": 0}, "batch_size"),
        ({"fast": "yes"}, "fast"),
        ({"target": "other"}, "target class"),
        ({"position": 3}, "position"),
    ],
)
def test_bad_requests_are_input_errors(kwargs, words):
    with pytest.raises(InputError, match=words):
        ism(_cnn(), _codes(), **kwargs)


def test_fast_true_on_a_model_without_a_fast_path_is_an_input_error():
    transformer = _network("transformer", {"d_model": 8, "n_heads": 2, "n_layers": 1, "ff_mult": 1, "head_hidden": 4})
    with pytest.raises(InputError, match="no fast ISM path") as caught:
        ism(transformer, _codes(), fast=True)
    assert "fast" in caught.value.fix
    ism(transformer, _codes()[:1], fast=None)  # falls back to the full computation


def test_codes_of_the_wrong_width_are_refused():
    with pytest.raises(InputError, match="wide"):
        ism(_cnn(), _codes()[:, :10])
