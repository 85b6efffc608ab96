"""Tests of bioseq.bundle: save/load round trips, tampered bundles, prediction invariants."""

from __future__ import annotations

import dataclasses
import datetime
import json
import math
import os
import re
import shutil
import struct
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from safetensors import safe_open
from safetensors.torch import load_file, save_file
from torch import nn

from bioseq.alphabet import PAD
from bioseq.bundle import Bundle, combine_bundles, data_hash, load_bundle, save_bundle, save_ensemble
from bioseq.codes import encode
from bioseq.encode.transforms import reverse_complement
from bioseq.errors import InputError, MissingFileError
from bioseq.models import registry
from bioseq.models.kmer_baseline import KmerLogisticBaseline

TINY = "_test_tiny_embedding"


@dataclasses.dataclass(kw_only=True)
class TinyConfig(registry.ModelConfig):
    width: int = 4


class TinyModel(nn.Module):
    """Mean of per-base embeddings over the non-PAD positions, then a linear head."""

    def __init__(self, config: TinyConfig) -> None:
        super().__init__()
        self.embed = nn.Embedding(16, config.width)
        self.head = nn.Linear(config.width, config.n_outputs)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        real = (x != PAD).unsqueeze(-1).float()  # (B, L, 1)
        h = (self.embed(x.long()) * real).sum(1) / real.sum(1).clamp(min=1)  # (B, width)
        return self.head(h)  # (B, n_outputs)


@pytest.fixture(scope="module", autouse=True)
def tiny_registered():
    registry.register(TINY, TinyConfig)(TinyModel)
    yield
    registry._REGISTRY.pop(TINY, None)  # test-only name: leave the registry as it was


def _tiny(n_outputs: int = 1, seed: int = 0) -> TinyModel:
    torch.manual_seed(seed)
    return TinyModel(TinyConfig(n_outputs=n_outputs)).eval()


def _save(path, model=None, *, task="binary", classes=("neg", "pos"), length=12, **extra):
    model = _tiny() if model is None else model
    n_outputs = model.head.out_features
    return save_bundle(
        path,
        model=model,
        model_name=TINY,
        model_options={"n_outputs": n_outputs},
        task=task,
        classes=classes,
        length=length,
        **extra,
    )


def _codes(n: int = 50, length: int = 12, seed: int = 1) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 5, (n, length)).astype(np.uint8)


def _direct(model: nn.Module, codes: np.ndarray) -> np.ndarray:
    with torch.no_grad():
        return model(torch.from_numpy(codes)).numpy()


def test_round_trip_gives_identical_predictions(tmp_path):
    model = _tiny()
    codes = _codes()
    _save(
        tmp_path / "b",
        model,
        training={"lr": np.float32(0.5), "epochs": np.int64(3)},
        data={"sha256": data_hash(codes, None), "n_train": 50, "n_valid": 0},
        metrics={"auroc": 0.75},
    )
    bundle = load_bundle(tmp_path / "b")
    assert sorted(p.name for p in (tmp_path / "b").iterdir()) == ["config.json", "metrics.json", "model.safetensors"]
    expected = 1 / (1 + np.exp(-_direct(model, codes)[:, 0]))
    got = bundle.predict_proba(codes)
    assert got.dtype == np.float32 and got.shape == (50,)
    np.testing.assert_allclose(got, expected, rtol=1e-6)
    assert not bundle.model.training and next(bundle.model.parameters()).device.type == "cpu"
    assert bundle.metrics == {"auroc": 0.75}
    assert (bundle.task, bundle.classes, bundle.length, bundle.model_name) == ("binary", ("neg", "pos"), 12, TINY)


def test_weights_file_is_safetensors(tmp_path):
    model = _tiny()
    _save(tmp_path / "b", model)
    raw = (tmp_path / "b" / "model.safetensors").read_bytes()
    header_size = struct.unpack("<Q", raw[:8])[0]  # safetensors: u64 header size, then a JSON header
    header = json.loads(raw[8 : 8 + header_size])
    assert header["__metadata__"] == {"format": "pt"}
    assert header["embed.weight"]["shape"] == [16, 4] and header["embed.weight"]["dtype"] == "F32"
    with safe_open(tmp_path / "b" / "model.safetensors", "pt") as handle:
        assert set(handle.keys()) == set(model.state_dict())
        torch.testing.assert_close(handle.get_tensor("head.weight"), model.head.weight.detach())


def test_config_json_contents(tmp_path):
    codes = _codes()
    labels = np.arange(50) % 2
    _save(
        tmp_path / "b",
        training={"lr": 1e-3, "loss": float("nan")},
        data={"sha256": data_hash(codes, labels), "n_train": 40, "n_valid": 10},
    )
    config = json.loads((tmp_path / "b" / "config.json").read_text())
    assert config["format"] == "bioseq-bundle" and config["format_version"] == 1
    assert config["model"] == {"name": TINY, "options": {"n_outputs": 1, "dropout": 0.1, "width": 4}}
    assert config["task"] == "binary" and config["classes"] == ["neg", "pos"]
    assert config["input"] == {"encoding": "codes", "length": 12, "alphabet": "bioseq-codes-v1"}
    assert config["training"] == {"lr": 1e-3, "loss": None}  # NaN is not JSON: stored as null
    assert config["data"] == {"sha256": data_hash(codes, labels), "n_train": 40, "n_valid": 10}
    assert set(config["versions"]) == {"bioseq", "torch", "python"}
    created = datetime.datetime.fromisoformat(config["created"])
    assert created.tzinfo is not None


def test_hand_checked_probability(tmp_path):
    # Embedding rows one-hot for A, C, G, T; head = 2 * (C + G share) - 1, so
    # ACGG (GC 3/4) has logit 0.5 and p = 1 / (1 + e^-0.5) = 0.62246.
    model = _tiny()
    with torch.no_grad():
        model.embed.weight.zero_()
        model.embed.weight[:4] = torch.eye(4)
        model.head.weight.copy_(torch.tensor([[0.0, 2.0, 2.0, 0.0]]))
        model.head.bias.fill_(-1.0)
    _save(tmp_path / "b", model, length=None)
    codes, _ = encode(["ACGG", "AT"])  # AT: GC 0, logit -1, p = 0.26894 (PAD ignored by the model)
    np.testing.assert_allclose(load_bundle(tmp_path / "b").predict_proba(codes), [0.62246, 0.26894], atol=1e-5)


def test_batch_size_does_not_change_predictions(tmp_path):
    _save(tmp_path / "b")
    bundle, codes = load_bundle(tmp_path / "b"), _codes()
    results = [bundle.predict_proba(codes, batch_size=size) for size in (1, 7, 256)]
    np.testing.assert_allclose(results[0], results[1], rtol=1e-6)
    np.testing.assert_allclose(results[0], results[2], rtol=1e-6)


def test_rc_average_is_the_mean_of_both_orientations(tmp_path):
    model = _tiny(n_outputs=3)
    _save(tmp_path / "b", model, task="multiclass", classes=("a", "b", "c"), length=None)
    codes, _ = encode(["ACGTTG", "AAC", "GGGA"])  # padding stays at the right in the reverse complement
    mean = (_direct(model, codes) + _direct(model, reverse_complement(codes))) / 2
    expected = torch.softmax(torch.from_numpy(mean), dim=1).numpy()
    bundle = load_bundle(tmp_path / "b")
    np.testing.assert_allclose(bundle.predict_proba(codes, rc_average=True), expected, rtol=1e-5)
    assert not np.allclose(bundle.predict_proba(codes), expected)  # the model does see the strand


def test_multilabel_gives_independent_sigmoids(tmp_path):
    model = _tiny(n_outputs=2)
    _save(tmp_path / "b", model, task="multilabel", classes=("x", "y"))
    codes = _codes()
    got = load_bundle(tmp_path / "b").predict_proba(codes)
    assert got.shape == (50, 2)
    np.testing.assert_allclose(got, 1 / (1 + np.exp(-_direct(model, codes))), rtol=1e-5)


def test_predict_proba_restores_the_model_state(tmp_path):
    _save(tmp_path / "b")
    bundle = load_bundle(tmp_path / "b")
    codes = _codes()
    expected = bundle.predict_proba(codes)
    bundle.model.train()
    np.testing.assert_array_equal(bundle.predict_proba(codes, device="cpu"), expected)
    assert bundle.model.training and torch.is_grad_enabled()


def test_fixed_length_is_enforced(tmp_path):
    _save(tmp_path / "b", length=12)
    bundle = load_bundle(tmp_path / "b")
    with pytest.raises(
        InputError,
        match=r"the codes are 10 positions wide, but this model was trained on windows "
        r"of exactly 12 bases.*Interval.resize\(12\)",
    ):
        bundle.predict_proba(_codes(length=10))
    _save(tmp_path / "v", length=None)
    assert load_bundle(tmp_path / "v").predict_proba(_codes(length=10)).shape == (50,)


@pytest.mark.parametrize(
    "bad, message",
    [
        ({"batch_size": 0}, "batch_size must be a positive integer"),
        ({"rc_average": 1}, "rc_average must be True or False"),
        ({"device": "tpu:what"}, "is not a torch device"),
    ],
)
def test_bad_predict_arguments(tmp_path, bad, message):
    _save(tmp_path / "b")
    with pytest.raises(InputError, match=message):
        load_bundle(tmp_path / "b").predict_proba(_codes(), **bad)


def test_bad_codes(tmp_path):
    _save(tmp_path / "b")
    bundle = load_bundle(tmp_path / "b")
    with pytest.raises(InputError, match="codes must be a numpy uint8 array"):
        bundle.predict_proba(_codes().astype(np.int64))
    with pytest.raises(InputError, match=r"2-D \(N, L\)"):
        bundle.predict_proba(_codes()[0])


def _edit_config(path, edit):
    config = json.loads((path / "config.json").read_text())
    edit(config)
    (path / "config.json").write_text(json.dumps(config))


def test_edited_shape_names_the_tensor(tmp_path):
    _save(tmp_path / "b")
    _edit_config(tmp_path / "b", lambda c: c["model"]["options"].update(width=5))
    with pytest.raises(InputError) as error:
        load_bundle(tmp_path / "b")
    assert str(error.value) == (
        f"{tmp_path / 'b'}: tensor 'embed.weight' has shape (16, 4) in the weights but (16, 5) in the model the "
        "config describes; the bundle is inconsistent (was config.json edited, or the weights replaced?)."
    )


def test_missing_and_unexpected_tensors(tmp_path):
    _save(tmp_path / "b")
    weights = tmp_path / "b" / "model.safetensors"
    tensors = load_file(weights)
    save_file({k: v for k, v in tensors.items() if k != "head.bias"}, weights)
    with pytest.raises(InputError, match=r"tensor 'head.bias' is missing from the weights; the bundle is inconsistent"):
        load_bundle(tmp_path / "b")
    save_file({**tensors, "extra": torch.zeros(2)}, weights)
    with pytest.raises(InputError, match=r"tensor 'extra' in the weights is unexpected; the bundle is inconsistent"):
        load_bundle(tmp_path / "b")


@pytest.mark.parametrize(
    "edit, message",
    [
        (lambda c: c.update(format="something"), "format 'something', not 'bioseq-bundle': this is not a bioseq"),
        (
            lambda c: c.update(format_version=2),
            "format_version 2, but this bioseq .* reads version 1 at most. Upgrade bioseq",
        ),
        (lambda c: c["model"].update(name="nosuchmodel"), "config.json: unknown model 'nosuchmodel'"),
        (lambda c: c["model"]["options"].update(n_outputs=2), "n_outputs is 2, but task 'binary'"),
        (lambda c: c.update(classes=["only"]), "task 'binary' cannot have 1 classes"),
        (lambda c: c["input"].update(alphabet="onehot"), "alphabet 'bioseq-codes-v1'"),
        (lambda c: c["input"].update(length=-3), "length must be a positive integer or null"),
    ],
)
def test_bad_config_is_refused_with_the_bundle_path(tmp_path, edit, message):
    _save(tmp_path / "b")
    _edit_config(tmp_path / "b", edit)
    with pytest.raises(InputError, match=message) as error:
        load_bundle(tmp_path / "b")
    assert str(error.value).startswith(str(tmp_path / "b"))


def test_missing_and_corrupt_files(tmp_path):
    with pytest.raises(MissingFileError, match="the bundle directory does not exist"):
        load_bundle(tmp_path / "nothing")
    _save(tmp_path / "b")
    (tmp_path / "b" / "model.safetensors").write_bytes(b"not safetensors at all")
    with pytest.raises(InputError, match="model.safetensors cannot be read"):
        load_bundle(tmp_path / "b")
    (tmp_path / "b" / "model.safetensors").unlink()
    with pytest.raises(MissingFileError, match="the bundle has no model.safetensors"):
        load_bundle(tmp_path / "b")
    (tmp_path / "b" / "config.json").write_text("{not json")
    with pytest.raises(InputError, match="config.json is not valid JSON"):
        load_bundle(tmp_path / "b")
    (tmp_path / "b" / "config.json").unlink()
    with pytest.raises(MissingFileError, match="the bundle has no config.json"):
        load_bundle(tmp_path / "b")


def test_loading_never_unpickles(tmp_path, monkeypatch):
    _save(tmp_path / "b")

    def refuse(*args, **kwargs):
        raise AssertionError("torch.load must not be called")

    monkeypatch.setattr(torch, "load", refuse)
    assert isinstance(load_bundle(tmp_path / "b"), Bundle)


def test_loads_onto_the_cpu_whatever_device_saved_it(tmp_path):
    model = _tiny()
    if torch.cuda.is_available():  # the real case: weights trained on a GPU
        model = model.to("cuda")
    _save(tmp_path / "b", model)
    bundle = load_bundle(tmp_path / "b", device="cpu")
    assert {p.device.type for p in bundle.model.parameters()} == {"cpu"}
    np.testing.assert_allclose(bundle.predict_proba(_codes()), load_bundle(tmp_path / "b").predict_proba(_codes()))


def test_unavailable_device_is_an_input_error(tmp_path):
    _save(tmp_path / "b")
    if torch.cuda.is_available():
        pytest.skip("a GPU is present")
    with pytest.raises(InputError, match="torch sees no CUDA GPU. Use device='cpu'"):
        load_bundle(tmp_path / "b", device="cuda")


def test_save_replaces_a_bundle_only_when_complete(tmp_path, monkeypatch):
    import safetensors.torch

    _save(tmp_path / "b", _tiny(seed=0))
    before = load_bundle(tmp_path / "b").predict_proba(_codes())

    def fail(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(safetensors.torch, "save_file", fail)
    with pytest.raises(OSError, match="disk full"):
        _save(tmp_path / "b", _tiny(seed=1))
    monkeypatch.undo()
    assert [p.name for p in tmp_path.iterdir()] == ["b"]  # no temporary directory left
    np.testing.assert_array_equal(load_bundle(tmp_path / "b").predict_proba(_codes()), before)
    _save(tmp_path / "b", _tiny(seed=1))
    assert not np.allclose(load_bundle(tmp_path / "b").predict_proba(_codes()), before)
    assert [p.name for p in tmp_path.iterdir()] == ["b"]


def test_save_refuses_a_foreign_directory_and_bad_arguments(tmp_path):
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "keep.txt").write_text("precious")
    with pytest.raises(InputError, match="holds other files and no config.json; refusing to replace it"):
        _save(tmp_path / "data")
    assert (tmp_path / "data" / "keep.txt").read_text() == "precious"
    with pytest.raises(InputError, match="n_outputs is 1, but the task and classes need 3"):
        _save(tmp_path / "b", task="multiclass", classes=("a", "b", "c"))
    with pytest.raises(InputError, match="task 'multiclass' cannot have 2 classes"):
        _save(tmp_path / "b", task="multiclass")
    with pytest.raises(InputError, match=r"tensor 'embed.weight' has shape \(16, 4\) in the weights but \(16, 6\)"):
        save_bundle(
            tmp_path / "b",
            model=_tiny(),
            model_name=TINY,
            model_options={"width": 6},
            task="binary",
            classes=("n", "p"),
            length=None,
        )
    with pytest.raises(InputError, match=r"training\['when'\] holds a datetime"):
        _save(tmp_path / "b", training={"when": datetime.datetime.now()})
    assert not (tmp_path / "b").exists()


def test_kmer_baseline_bundle(tmp_path):
    codes, _ = encode(["A" * 20, "AT" * 10, "G" * 20, "GC" * 10, "ACGT" * 5, "GGCA" * 5])
    labels = np.array([0, 0, 1, 1, 0, 1])
    model = KmerLogisticBaseline(k=2).fit(codes, labels)
    save_bundle(
        tmp_path / "k",
        model=model,
        model_name="kmer_logistic",
        model_options={"k": 2},
        task="binary",
        classes=("no", "yes"),
        length=None,
        metrics={"accuracy": 1.0},
    )
    config = json.loads((tmp_path / "k" / "config.json").read_text())
    assert config["model"] == {"name": "kmer_logistic", "options": model.options()}
    assert "scikit-learn" in config["versions"]
    bundle = load_bundle(tmp_path / "k")
    assert isinstance(bundle.model, KmerLogisticBaseline)
    positive = model.predict_proba(codes)[:, 1]  # the estimator's (N, 2); a bundle keeps the positive class
    np.testing.assert_array_equal(bundle.predict_proba(codes, batch_size=4), positive)
    mean = (positive + model.predict_proba(reverse_complement(codes))[:, 1]) / 2
    np.testing.assert_allclose(bundle.predict_proba(codes, rc_average=True), mean, rtol=1e-6)
    with pytest.raises(InputError, match="model_options k=3 differs"):
        save_bundle(
            tmp_path / "k2",
            model=model,
            model_name="kmer_logistic",
            model_options={"k": 3},
            task="binary",
            classes=("no", "yes"),
            length=None,
        )
    _edit_config(tmp_path / "k", lambda c: c["model"]["options"].update(k=3))
    with pytest.raises(InputError, match=r"tensor 'coef' has shape \(1, 16\) in the weights but \(1, 64\)"):
        load_bundle(tmp_path / "k")


def test_data_hash():
    codes, labels = _codes(), np.arange(50) % 2
    digest = data_hash(codes, labels)
    assert len(digest) == 64 and digest == data_hash(codes.copy(), labels.copy())
    changed = codes.copy()
    changed[3, 4] ^= 1
    assert data_hash(changed, labels) != digest  # one base
    assert data_hash(codes, labels.astype(np.int32)) != digest  # the dtype
    assert data_hash(codes.reshape(25, 24), labels) != digest  # the same bytes in another shape
    assert data_hash(codes, None) != digest
    assert data_hash(torch.from_numpy(codes), torch.from_numpy(labels)) == digest
    assert data_hash(np.asfortranarray(codes), labels) == digest  # memory order does not matter
    with pytest.raises(InputError, match="codes must be a numeric numpy array"):
        data_hash([[1, 2]], labels)


def test_nan_metrics_are_null(tmp_path):
    _save(tmp_path / "b", metrics={"auprc": float("nan"), "per_class": {"pos": np.float64(0.5)}})
    assert load_bundle(tmp_path / "b").metrics == {"auprc": None, "per_class": {"pos": 0.5}}
    assert math.isclose(json.loads((tmp_path / "b" / "metrics.json").read_text())["per_class"]["pos"], 0.5)


@pytest.fixture(scope="module")
def multilabel_bundle(tmp_path_factory) -> Bundle:
    path = tmp_path_factory.mktemp("b") / "b"
    _save(path, _tiny(n_outputs=2), task="multilabel", classes=("x", "y"), length=None)
    return load_bundle(path)


@settings(max_examples=50, deadline=None)
@given(st.lists(st.text(alphabet="ACGTN", min_size=1, max_size=15), min_size=1, max_size=6))
def test_rc_average_does_not_see_the_strand(multilabel_bundle, sequences):
    # Averaging x with rc(x) is symmetric, so x and rc(x) must score alike, whatever the weights.
    codes, _ = encode(sequences)
    np.testing.assert_allclose(
        multilabel_bundle.predict_proba(codes, rc_average=True),
        multilabel_bundle.predict_proba(reverse_complement(codes), rc_average=True),
        rtol=1e-5,
    )


# ---------------------------------------------------------------- ensembles


def test_ensemble_predicts_the_mean_of_its_members_and_moves_as_one_directory(tmp_path):
    codes = _codes()
    models = [_tiny(n_outputs=3, seed=s) for s in range(3)]
    for i, model in enumerate(models):
        _save(tmp_path / f"m{i}", model, task="multiclass", classes=("a", "b", "c"))
    save_ensemble(
        tmp_path / "ens",
        [tmp_path / f"m{i}" for i in range(3)],
        training={"member_seeds": [0, 1, 2]},
        metrics={"accuracy": 0.5},
    )
    moved = tmp_path / "elsewhere"
    (tmp_path / "ens").rename(moved)
    for i in range(3):  # the members were copied in: the originals are not needed
        shutil.rmtree(tmp_path / f"m{i}")
    ensemble = load_bundle(moved)
    expected = np.mean([torch.softmax(torch.from_numpy(_direct(m, codes)), 1).numpy() for m in models], axis=0)
    got = ensemble.predict_proba(codes, batch_size=7)
    assert got.shape == (50, 3) and got.dtype == np.float32
    np.testing.assert_allclose(got, expected, rtol=1e-5)
    np.testing.assert_allclose(got.sum(1), 1.0, rtol=1e-5)
    assert (ensemble.task, ensemble.classes, ensemble.length, ensemble.model_name) == (
        "multiclass",
        ("a", "b", "c"),
        12,
        "ensemble",
    )
    assert ensemble.config["model"]["options"] == {"members": 3, "member_model": TINY}
    assert ensemble.metrics == {"accuracy": 0.5}
    # rc averaging reaches every member
    rc = ensemble.predict_proba(codes, rc_average=True)
    each = [load_bundle(moved / "members" / str(i)).predict_proba(codes, rc_average=True) for i in range(3)]
    np.testing.assert_allclose(rc, np.mean(each, axis=0), rtol=1e-5)


def test_binary_ensemble_of_identical_members_equals_the_member(tmp_path):
    model = _tiny()
    _save(tmp_path / "m", model)
    save_ensemble(tmp_path / "ens", [tmp_path / "m", tmp_path / "m"])
    codes = _codes()
    np.testing.assert_allclose(
        load_bundle(tmp_path / "ens").predict_proba(codes), load_bundle(tmp_path / "m").predict_proba(codes), rtol=1e-6
    )


def test_ensemble_of_different_models_averages_them_at_the_fixed_members_width(tmp_path):
    codes = _codes(60)
    labels = (codes[:, 0] < 2).astype(np.int64)  # learnable from the first base
    baseline = KmerLogisticBaseline(k=2).fit(codes, labels)
    save_bundle(
        tmp_path / "k",
        model=baseline,
        model_name="kmer_logistic",
        model_options={"k": 2},
        task="binary",
        classes=("neg", "pos"),
        length=None,
    )
    _save(tmp_path / "t")
    save_ensemble(tmp_path / "e", [tmp_path / "t", tmp_path / "k"])
    ensemble = load_bundle(tmp_path / "e")
    assert ensemble.length == 12  # the baseline reads any width; the tiny model fixes it
    assert ensemble.config["model"]["options"] == {"members": 2, "member_model": f"{TINY}+kmer_logistic"}
    expected = (load_bundle(tmp_path / "t").predict_proba(codes) + load_bundle(tmp_path / "k").predict_proba(codes)) / 2
    np.testing.assert_allclose(ensemble.predict_proba(codes), expected, rtol=1e-6)
    with pytest.raises(InputError, match="13 positions wide.*exactly 12 bases"):
        ensemble.predict_proba(_codes(length=13))
    # all members of any width: so is the ensemble
    save_ensemble(tmp_path / "kk", [tmp_path / "k", tmp_path / "k"])
    assert load_bundle(tmp_path / "kk").length is None
    # an ensemble is not a member: it names the ensemble and says what to pass instead
    with pytest.raises(InputError, match=r"/e.*itself an ensemble.*members"):
        save_ensemble(tmp_path / "x", [tmp_path / "t", tmp_path / "e"])
    assert not (tmp_path / "x").exists()


def test_combined_bundles_predict_what_the_saved_ensemble_does_and_write_nothing(tmp_path):
    codes = _codes()
    for i in range(2):
        _save(tmp_path / f"m{i}", _tiny(n_outputs=3, seed=i), task="multiclass", classes=("a", "b", "c"))
    loaded = [load_bundle(tmp_path / "m0"), tmp_path / "m1"]  # loaded bundles and paths mix
    combined = combine_bundles(loaded, training={"note": 1}, path=tmp_path / "ens")
    assert not (tmp_path / "ens").exists()  # in memory only
    assert combined.path == tmp_path / "ens" and combined.model_name == "ensemble"
    save_ensemble(tmp_path / "ens", loaded, training={"note": 1})
    saved = load_bundle(tmp_path / "ens")
    np.testing.assert_array_equal(combined.predict_proba(codes), saved.predict_proba(codes))
    for key in ("model", "task", "classes", "input", "data"):
        assert combined.config[key] == saved.config[key], key
    assert combined.config["training"] == saved.config["training"] == {"note": 1}
    with pytest.raises(InputError, match="two or more members, got 1"):
        combine_bundles(tmp_path / "m0")


def test_ensemble_refusals_name_the_member(tmp_path):
    _save(tmp_path / "a")
    _save(tmp_path / "b", length=20)
    _save(tmp_path / "c", _tiny(n_outputs=3), task="multiclass", classes=("x", "y", "z"))
    with pytest.raises(InputError, match="two or more"):
        save_ensemble(tmp_path / "e", [tmp_path / "a"])
    with pytest.raises(InputError, match=r"/b.*windows of 20 bases.*another reads 12"):
        save_ensemble(tmp_path / "e", [tmp_path / "a", tmp_path / "b"])
    with pytest.raises(InputError, match=r"/c.*task 'multiclass'"):
        save_ensemble(tmp_path / "e", [tmp_path / "a", tmp_path / "c"])
    assert not (tmp_path / "e").exists()
    save_ensemble(tmp_path / "e", [tmp_path / "a", tmp_path / "a"])
    shutil.rmtree(tmp_path / "e" / "members" / "1")
    with pytest.raises(MissingFileError, match="members/1"):
        load_bundle(tmp_path / "e")
    _edit_config(tmp_path / "e", lambda c: c["model"]["options"].update(members=1))
    with pytest.raises(InputError, match="'members' >= 2"):
        load_bundle(tmp_path / "e")
    with pytest.raises(InputError, match="at most 64 members, got 65"):  # before any is loaded
        combine_bundles([tmp_path / "nothing"] * 65)


def test_a_nested_ensemble_member_is_refused_before_its_members_are_read(tmp_path):
    _save(tmp_path / "m")
    save_ensemble(tmp_path / "inner", [tmp_path / "m"] * 2)
    save_ensemble(tmp_path / "e", [tmp_path / "m"] * 2)
    shutil.rmtree(tmp_path / "e" / "members" / "1")
    shutil.copytree(tmp_path / "inner", tmp_path / "e" / "members" / "1")
    shutil.rmtree(tmp_path / "e" / "members" / "1" / "members")  # never looked at
    with pytest.raises(InputError, match=r"members/1: an ensemble member is itself an ensemble"):
        load_bundle(tmp_path / "e")


# ---------------------------------------------------------------- untrusted bundles
# A bundle is data from someone else: every crafted one below is refused with one line naming it, before
# anything large is allocated, and no read may leave the bundle or hang.

REAL_OPTIONS = {
    "lstm": {"stem_channels": 4, "hidden_size": 4, "n_layers": 1, "head_hidden": 4},
    "transformer": {"d_model": 8, "n_heads": 2, "n_layers": 1, "head_hidden": 4, "stem_kernel": 0},
    "cnn": {"channels": [4], "kernel_sizes": [3], "dilations": [1], "pools": [1], "head_hidden": 4},
}


def _save_real(path, name):
    torch.manual_seed(0)
    model = registry.build_model(name, REAL_OPTIONS[name])
    return save_bundle(
        path,
        model=model,
        model_name=name,
        model_options=REAL_OPTIONS[name],
        task="binary",
        classes=("neg", "pos"),
        length=12,
    )


def _options(**changes):
    return lambda c: c["model"]["options"].update(changes)


def _fifo_weights(path):
    if not hasattr(os, "mkfifo"):
        pytest.skip("no FIFOs on this platform")
    (path / "model.safetensors").unlink()
    os.mkfifo(path / "model.safetensors")  # a read would wait for a writer forever


def _weights_outside(path):
    outside = path.parent / f"{path.name}-outside.safetensors"
    (path / "model.safetensors").rename(outside)
    (path / "model.safetensors").symlink_to(outside)  # the right weights, but outside the bundle


def _member_outside(path):
    shutil.rmtree(path / "members" / "1")
    _save(path.parent / f"{path.name}-outside")
    (path / "members" / "1").symlink_to(path.parent / f"{path.name}-outside")


def _float64_weights(path):
    tensors = load_file(path / "model.safetensors")
    save_file({**tensors, "head.bias": tensors["head.bias"].double()}, path / "model.safetensors")


def _deep_metrics(path):
    (path / "metrics.json").write_text("[" * 100_000 + "]" * 100_000)


def _huge_header(path):
    (path / "model.safetensors").write_bytes((1 << 40).to_bytes(8, "little") + b"{}")


# (what the bundle is built from, the edit that makes it crafted, what the one-line refusal says)
CRAFTED = {
    "length": (
        "tiny",
        lambda c: c["input"].update(length=10**12),
        r"config.json: input.length is 1000000000000 bases, more than the 1048576",
    ),
    "lstm-hidden": ("lstm", _options(hidden_size=200_000), r"option 'hidden_size' must be <= 8192, got 200000"),
    "transformer-hidden": ("transformer", _options(d_model=200_000), r"option 'd_model' must be <= 8192"),
    "cnn-hidden": ("cnn", _options(channels=[200_000]), r"option 'channels' must be <= 8192"),
    "lstm-layers": ("lstm", _options(n_layers=10**6), r"option 'n_layers' must be <= 256, got 1000000"),
    "kmer-k": ("kmer", _options(k=40), r"k must be an integer from 1 to 8, got 40"),
    "members": ("ensemble", _options(members=10**9), r"'members' >= 2 and <= 64, got 1000000000"),
    "gigabytes": (
        "transformer",
        _options(d_model=2048, n_heads=8, n_layers=16),
        (
            r"model 'transformer' with these options needs [\d,]+ bytes of tensors, more than the "
            r"2,147,483,648 \(MAX_WEIGHT_BYTES\)"
        ),
    ),
    "shapes": ("lstm", _options(hidden_size=6), r"tensor '[\w.]+' has shape .* the bundle is inconsistent"),
    "dtype": ("tiny", _float64_weights, r"tensor 'head.bias' has dtype F64 in the weights but F32"),
    "member-symlink": ("ensemble", _member_outside, r"members/1 leads outside the bundle directory"),
    "weights-symlink": ("tiny", _weights_outside, r"model.safetensors leads outside the bundle directory"),
    "weights-fifo": ("tiny", _fifo_weights, r"model.safetensors is a named pipe \(FIFO\), not a regular file"),
    "metrics-nesting": ("tiny", _deep_metrics, r"metrics.json nests lists or objects too deeply"),
    "weights-header": ("tiny", _huge_header, r"its header claims 1,099,511,627,776 bytes"),
}


def _crafted(folder, case):
    """Save a real tiny bundle of the case's kind into ``folder / case``, then craft it."""
    kind, edit, _ = CRAFTED[case]
    path = folder / case
    if kind == "tiny":
        _save(path, metrics={"auroc": 0.5})
    elif kind == "kmer":
        codes, _ = encode(["ACGTAC", "GGGCCA", "AATTAA", "CCGCGG"])
        save_bundle(
            path,
            model=KmerLogisticBaseline(k=2).fit(codes, np.array([0, 1, 0, 1])),
            model_name="kmer_logistic",
            model_options=None,
            task="binary",
            classes=("neg", "pos"),
            length=None,
        )
    elif kind == "ensemble":
        _save(folder / f"{case}-member")
        save_ensemble(path, [folder / f"{case}-member"] * 2)
    else:
        _save_real(path, kind)
    if edit.__name__ == "<lambda>":
        _edit_config(path, edit)
    else:
        edit(path)
    return path


def _within(seconds, function, *args):
    """``function(*args)`` in a daemon thread: (returned, raised), or fail when it hangs."""
    outcome = {}

    def call():
        try:
            outcome["returned"] = function(*args)
        except BaseException as exc:  # noqa: BLE001 - handed to the test
            outcome["raised"] = exc

    thread = threading.Thread(target=call, daemon=True)
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), f"{function.__name__} hung for {seconds} s"
    return outcome.get("returned"), outcome.get("raised")


@pytest.mark.parametrize("case", list(CRAFTED))
def test_crafted_bundle_is_refused_with_one_line(tmp_path, case):
    path = _crafted(tmp_path, case)
    _, error = _within(60, load_bundle, path)
    assert isinstance(error, InputError), repr(error)
    assert re.search(CRAFTED[case][2], str(error)), str(error)
    assert str(error).startswith(str(path)) and "\n" not in str(error)


@pytest.mark.parametrize("case", ["length", "cnn-hidden", "members", "gigabytes", "member-symlink", "weights-fifo"])
def test_crafted_bundle_through_the_cli_exits_1_with_one_line(tmp_path, capfd, case):
    from bioseq.cli import main as cli_main

    path = _crafted(tmp_path, case)
    data = tmp_path / "data.csv"
    data.write_text("sequence,label\nACGTACGTACGT,pos\nTTTTACGTACGT,neg\n")
    status, error = _within(60, cli_main.main, ["evaluate", str(path), "--data", str(data), "--no-plots"])
    err = capfd.readouterr().err
    assert error is None and status == 1
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert str(path) in err and re.search(CRAFTED[case][2], err)


LOAD_ALL = """
import resource, subprocess, sys
child = subprocess.run([sys.executable, "-c", '''
import sys
from bioseq.bundle import load_bundle
from bioseq.errors import InputError
for path in sys.argv[1:]:
    try:
        load_bundle(path)
        print("loaded", path)
    except InputError as exc:
        print("refused", path)
'''] + sys.argv[1:], capture_output=True, text=True, timeout=300)
print(child.stdout + child.stderr)
print("maxrss_kb", resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
"""


def test_crafted_bundles_are_refused_before_memory_is_allocated(tmp_path):
    # Loading every crafted bundle (one asks for 3 GB of tensors, others for terabytes) in one fresh process
    # must stay near the cost of importing torch: the checks run on the meta device and the safetensors header.
    cases = [case for case in CRAFTED if case != "weights-fifo"]  # the FIFO has its own timeout test
    paths = [str(_crafted(tmp_path, case)) for case in cases]
    out = subprocess.run(
        [sys.executable, "-c", LOAD_ALL, *paths],
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "OMP_NUM_THREADS": "1"},
        check=False,
    ).stdout
    assert out.count("refused") == len(cases) and "loaded" not in out and "Traceback" not in out, out
    peak_mb = int(out.split("maxrss_kb")[1]) / 1024
    assert peak_mb < 600, f"loading crafted bundles peaked at {peak_mb:.0f} MB"


def test_symlinks_inside_the_bundle_and_a_run_directory_still_load(tmp_path):
    _save(tmp_path / "b", metrics={"auroc": 0.5})
    (tmp_path / "b" / "weights").mkdir()
    (tmp_path / "b" / "model.safetensors").rename(tmp_path / "b" / "weights" / "w.safetensors")
    (tmp_path / "b" / "model.safetensors").symlink_to(Path("weights") / "w.safetensors")  # stays inside
    assert load_bundle(tmp_path / "b").metrics == {"auroc": 0.5}
    (tmp_path / "link").symlink_to(tmp_path / "b")  # the user's own path may be a link
    assert load_bundle(tmp_path / "link").model_name == TINY


@pytest.mark.parametrize("target", [".", "../b", "missing", "loop"])
def test_members_may_not_lead_back_nowhere_or_around(tmp_path, target):
    _save(tmp_path / "m")
    save_ensemble(tmp_path / "e", [tmp_path / "m"] * 2)
    shutil.rmtree(tmp_path / "e" / "members" / "0")
    link = tmp_path / "e" / "members" / "0"
    link.symlink_to("0" if target == "loop" else Path("..") / target if target != "../b" else Path("../..") / "e")
    _, error = _within(60, load_bundle, tmp_path / "e")
    assert isinstance(error, InputError) and str(error).startswith(str(tmp_path / "e")), repr(error)
    assert "members/0" in str(error)


def test_oversized_json_is_refused_without_reading_it(tmp_path):
    _save(tmp_path / "b")
    with open(tmp_path / "b" / "metrics.json", "wb") as handle:
        handle.truncate(64 * 2**20 + 1)  # sparse: no disk, and it is never read
    with pytest.raises(InputError, match=r"metrics.json is larger than the 67,108,864 bytes"):
        load_bundle(tmp_path / "b")
    (tmp_path / "b" / "metrics.json").unlink()
    _edit_config(tmp_path / "b", lambda c: c.update(training={"digits": 7}))
    config = tmp_path / "b" / "config.json"
    config.write_text(config.read_text().replace('"digits": 7', '"digits": ' + "7" * 5000))  # > 4300 digits
    with pytest.raises(InputError, match=r"config.json is not valid JSON \(Exceeds the limit"):
        load_bundle(tmp_path / "b")


def test_bundle_code_never_unpickles():
    import tokenize

    import bioseq.bundle as package

    for source in Path(package.__file__).parent.glob("*.py"):
        with open(source, "rb") as handle:  # the code's names, not its docstrings
            names = [t.string for t in tokenize.tokenize(handle.readline) if t.type in (tokenize.NAME, tokenize.OP)]
        code = "".join(names)
        assert "pickle" not in code and "torch.load" not in code and "copytree" not in code, source.name


@pytest.mark.parametrize(
    "error",
    [
        torch.OutOfMemoryError("CUDA out of memory"),
        MemoryError(),
        RuntimeError("DefaultCPUAllocator: can't allocate memory: you tried to allocate"),
    ],
)
def test_running_out_of_memory_is_one_line_that_says_what_to_lower(tmp_path, monkeypatch, error):
    _save(tmp_path / "b")
    bundle = load_bundle(tmp_path / "b")

    def forward(x):
        raise error

    monkeypatch.setattr(bundle.model, "forward", forward)
    with pytest.raises(
        InputError,
        match=r"ran out of memory on cpu for a batch of 50 sequences of 12 positions. "
        r"Lower the batch size",
    ):
        bundle.predict_proba(_codes())
    monkeypatch.setattr(bundle.model, "forward", lambda x: (_ for _ in ()).throw(RuntimeError("a bug")))
    with pytest.raises(RuntimeError, match="a bug"):  # other errors are not disguised
        bundle.predict_proba(_codes())
