"""Sequence classifiers: LSTM, Transformer and CNN, plus a k-mer logistic baseline; per-base models.

Every kind of model is found by name (:func:`model_kind`) and follows one
protocol (:mod:`bioseq.models.kinds`): how it is built or fitted, stored,
loaded and run. Networks are small ``nn.Module``s built from a keyword-only
config (:func:`build_model`; :mod:`bioseq.models.registry` has the
input/output contract). Per-position networks (``per_base_cnn``,
``per_base_lstm``, ``per_base_transformer``) score every base instead
(:mod:`bioseq.models.per_position`). Names are imported lazily.
"""

from bioseq._lazy import lazy_exports

_EXPORTS = {
    "ModelConfig": "registry",
    "register": "registry",
    "register_kind": "registry",
    "model_kind": "registry",
    "build_model": "registry",
    "ModelKind": "kinds",
    "NetworkKind": "network",
    "make_config": "registry",
    "model_names": "registry",
    "config_to_dict": "registry",
    "KmerLogisticBaseline": "kmer_baseline",
    "probabilities": "outputs",
    "LSTMConfig": "lstm",
    "LSTMClassifier": "lstm",
    "TransformerConfig": "transformer",
    "TransformerClassifier": "transformer",
    "CNNConfig": "cnn",
    "CNNClassifier": "cnn",
    "PerPositionKind": "per_position",
    "PerBaseCNNConfig": "per_base_cnn",
    "PerBaseCNN": "per_base_cnn",
    "PerBaseLSTMConfig": "per_base_lstm",
    "PerBaseLSTM": "per_base_lstm",
    "PerBaseTransformerConfig": "per_base_transformer",
    "PerBaseTransformer": "per_base_transformer",
}

__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
