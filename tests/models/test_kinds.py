"""Tests of the model-kind protocol (bioseq.models.kinds): a new kind plugs in through the registry alone.

A toy kind (base frequencies + nearest class centroid, fitted in one call) is
registered here; `bioseq train`, bundles, `bioseq predict`, `bioseq evaluate`
and ensembles then serve it without knowing its name.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

import numpy as np
import pytest

from bioseq.errors import InputError
from bioseq.models import kinds
from bioseq.models.kinds import ModelKind, array_specs
from bioseq.models.registry import model_kind, model_names, register_kind


class Centroids:
    """Base composition of each class; a sequence is scored by its distance to each centroid."""

    def __init__(self, centroids: np.ndarray) -> None:
        self.centroids = centroids  # (C, 4) float64


def _composition(codes: np.ndarray) -> np.ndarray:
    counts = np.stack([(codes == base).sum(axis=1) for base in range(4)], axis=1).astype(np.float64)  # (N, 4)
    return counts / np.maximum(counts.sum(axis=1, keepdims=True), 1)


class CentroidKind(ModelKind):
    name = "toy_centroids"
    trainer = "fit"
    devices = "cpu"
    seeded = False
    any_length = True
    weights_format = "np"
    search_space = {"model_options.scale": {"low": 1.0, "high": 10.0}}

    def option_names(self) -> list[str]:
        return ["scale"]

    def check_options(self, options, *, n_outputs=None) -> dict:
        options = dict(options or {})
        unknown = set(options) - {"scale"}
        if unknown:
            raise InputError(f"model {self.name!r} has no option {sorted(unknown)[0]!r}")
        return {"scale": float(options.get("scale", 5.0))}

    def fit(self, options, *, codes, labels, task, classes, seed):
        features = _composition(codes)
        model = Centroids(np.stack([features[labels == c].mean(axis=0) for c in range(len(classes))]))
        model.scale = options["scale"]
        return model

    def bundle_options(self, model, options, *, task, n_outputs) -> dict:
        return {"scale": model.scale}

    def arrays(self, model) -> dict:
        return {"centroids": model.centroids.copy()}

    def expected_arrays(self, options: Mapping, *, task: str, n_outputs: int) -> dict:
        return {"centroids": ("F64", (2 if task == "binary" else n_outputs, 4))}

    def load(self, arrays, options, *, task, device):
        model = Centroids(np.asarray(arrays["centroids"]))
        model.scale = options["scale"]
        return model

    def predict_proba(self, model, codes, *, task, n_outputs, batch_size, device, rc_average) -> np.ndarray:
        distance = np.linalg.norm(_composition(codes)[:, None, :] - model.centroids[None], axis=2)  # (N, C)
        logits = -model.scale * distance
        proba = np.exp(logits - logits.max(axis=1, keepdims=True))
        proba /= proba.sum(axis=1, keepdims=True)
        return (proba[:, 1:] if task == "binary" else proba).astype(np.float32)


@pytest.fixture(scope="module")
def toy_kind():
    kind = register_kind(CentroidKind())
    yield kind
    from bioseq.models import registry

    registry._REGISTRY.pop(kind.name)  # noqa: SLF001 (the test's own registration)


def test_builtin_kinds_declare_how_they_train():
    assert {name: model_kind(name).trainer for name in model_names()} == {
        "cnn": "lightning",
        "lstm": "lightning",
        "transformer": "lightning",
        "kmer_logistic": "fit",
        "per_base_cnn": "lightning",
        "per_base_lstm": "lightning",
        "per_base_transformer": "lightning",
    }
    for name in ("cnn", "lstm", "transformer"):
        kind = model_kind(name)
        assert kind.distributed and kind.seeded and kind.devices == "any" and kind.default_lr > 0
        assert {"lr", "weight_decay", "model_options.dropout"} <= set(kind.search_space)
        assert "n_outputs" not in kind.option_names()


def test_network_kind_expects_exactly_the_state_dict_it_builds():
    kind = model_kind("cnn")
    options = kind.check_options(
        {
            "channels": [8, 8],
            "kernel_sizes": [5, 5],
            "dilations": [1, 1],
            "pools": [2, 1],
            "head_hidden": 8,
            "n_outputs": 3,
        },
        n_outputs=3,
    )
    model = kind.build(options)
    assert kind.expected_arrays(options, task="multiclass", n_outputs=3) == array_specs(model.state_dict())
    assert kind.nbytes(model) == ModelKind.nbytes(kind, model)  # the fast count equals the count of its arrays
    with pytest.raises(InputError, match="n_outputs is 3, but task 'binary' needs 1"):
        kind.expected_arrays(options, task="binary", n_outputs=1)


def test_array_specs_name_numpy_and_torch_dtypes_alike():
    import torch

    assert array_specs({"a": np.zeros((2, 3)), "b": torch.zeros(4, dtype=torch.bfloat16)}) == {
        "a": ("F64", (2, 3)),
        "b": ("BF16", (4,)),
    }
    assert kinds.n_outputs_of("binary", 2) == 1 and kinds.n_outputs_of("multiclass", 5) == 5


def test_a_registered_kind_trains_saves_predicts_and_ensembles(toy_kind, uci_head, tmp_path):
    from bioseq.bundle import load_bundle, save_ensemble
    from bioseq.cli.main import main

    def train(out: str, *flags: str) -> int:
        return main(
            ["train", "--train", str(uci_head), "--model", "toy_centroids", "--out", str(tmp_path / out), *flags]
        )

    assert train("run", "--model-option", "scale=8") == 0
    bundle = load_bundle(tmp_path / "run")
    assert bundle.model_name == "toy_centroids" and bundle.length is None  # any_length: no fixed width
    config = json.loads((tmp_path / "run" / "bundle" / "config.json").read_text())
    assert config["model"] == {"name": "toy_centroids", "options": {"scale": 8.0}}
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert metrics["valid"]["accuracy"] > 0.4  # base composition alone tells the N class from EI/IE somewhat
    assert main(["predict", str(tmp_path / "run"), "--input", str(uci_head), "--out", str(tmp_path / "p.tsv")]) == 0
    assert len((tmp_path / "p.tsv").read_text().splitlines()) == 301
    save_ensemble(tmp_path / "ens", [tmp_path / "run", tmp_path / "run"])
    codes = np.random.default_rng(0).integers(0, 4, (5, 60)).astype(np.uint8)
    np.testing.assert_allclose(load_bundle(tmp_path / "ens").predict_proba(codes), bundle.predict_proba(codes))
    # what the kind declares is enforced without its name anywhere in bioseq
    assert train("r2", "--ensemble", "2") != 0
    assert train("r3", "--monitor", "loss") != 0
    with pytest.raises(InputError, match="toy_centroids.*fitted in one call"):
        from bioseq.train.config import config_from_options
        from bioseq.train.resume import plan_run

        plan_run(
            config_from_options(
                {"train": str(uci_head), "model": "toy_centroids", "out": str(tmp_path / "run"), "resume": "last"}
            ),
            {},
        )


def test_registering_another_kind_under_a_taken_name_is_refused(toy_kind):
    with pytest.raises(ValueError, match="a model named 'toy_centroids' is already registered"):
        register_kind(CentroidKind())


def test_asking_a_kind_what_it_runs_on_imports_neither_torch_nor_scikit_learn():
    """The workflow reads kinds at parse time; bioseq's own are declared without importing them."""
    import subprocess
    import sys

    code = (
        "import sys; from bioseq.models.registry import model_kind, model_names; "
        "[(model_kind(n).devices, model_kind(n).distributed) for n in model_names()]; "
        "print(sorted(m for m in ('torch', 'sklearn') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
    assert model_kind("lstm").model_class.__name__ == "LSTMClassifier"  # bound on first use
