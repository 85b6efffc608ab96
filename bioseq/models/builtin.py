"""The kinds of model bioseq ships, declared without importing them: name, module, defaults.

Importing this module imports neither torch nor scikit-learn: the workflow asks
a model's kind what it runs on at parse time (:mod:`bioseq.models.registry`),
and a kind's module is imported when a model is built, fitted or loaded. The
default learning rates are the winners of ``benchmarks/quality.py``; each
search space adds to the training settings every network varies
(:data:`bioseq.models.network.TRAINING_SPACE`).
"""

from __future__ import annotations

from bioseq.models.kinds import ModelKind
from bioseq.models.kmer_kind import KmerKind
from bioseq.models.network import NetworkKind
from bioseq.models.per_position import PerPositionKind

__all__ = ["BUILTIN"]

BUILTIN: tuple[ModelKind, ...] = (
    # The LSTM's best learning rate varies most between tasks (UCI splice: 1e-2; GUE tata: 2e-3), and so does
    # how far its stem shortens the sequence it walks.
    NetworkKind(
        name="lstm",
        module="bioseq.models.lstm",
        lr=2e-3,
        space={
            "lr": {"low": 5e-4, "high": 1e-2, "log": True},
            "model_options.hidden_size": {"choices": [32, 64, 128]},
            "model_options.n_layers": {"low": 1, "high": 3},
            "model_options.stem_channels": {"choices": [64, 128]},
            "model_options.stem_kernel": {"choices": [5, 9, 15]},
            "model_options.stem_pool": {"choices": [2, 3, 4]},
        },
    ),
    NetworkKind(
        name="transformer",
        module="bioseq.models.transformer",
        lr=1e-3,
        space={
            "model_options.d_model": {"choices": [32, 64, 96, 128]},
            "model_options.n_layers": {"low": 1, "high": 4},
            "model_options.stem_kernel": {"choices": [5, 9, 15]},
        },
    ),
    NetworkKind(
        name="cnn",
        module="bioseq.models.cnn",
        lr=2e-3,
        space={
            "model_options.head_hidden": {"choices": [32, 64, 128]},
            "model_options.pooling": {"choices": ["max", "meanmax"]},
        },
    ),
    KmerKind(),
    # Per-position models (bioseq.models.per_position): a class per base of the central region.
    PerPositionKind(
        name="per_base_cnn",
        module="bioseq.models.per_base_cnn",
        local=True,  # valid convolutions: an output reads only the flank around it
        lr=2e-3,
        space={
            "model_options.channels": {"choices": [16, 32, 64]},
            "model_options.kernel": {"choices": [7, 11, 15]},
        },
    ),
    PerPositionKind(
        name="per_base_lstm",
        module="bioseq.models.per_base_lstm",
        lr=2e-3,
        space={
            "model_options.hidden_size": {"choices": [32, 64, 128]},
            "model_options.n_layers": {"low": 1, "high": 2},
        },
    ),
    PerPositionKind(
        name="per_base_transformer",
        module="bioseq.models.per_base_transformer",
        lr=1e-3,
        space={
            "model_options.d_model": {"choices": [32, 64, 128]},
            "model_options.n_layers": {"low": 1, "high": 4},
        },
    ),
)
"""bioseq's own kinds of model."""
