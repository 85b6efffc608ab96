"""Sequence classifiers: LSTM, Transformer and CNN, plus a k-mer logistic baseline.

Every kind of model is found by name (:func:`model_kind`) and follows one
protocol (:mod:`bioseq.models.kinds`): how it is built or fitted, stored,
loaded and run. Networks are small ``nn.Module``s built from a keyword-only
config (:func:`build_model`; :mod:`bioseq.models.registry` has the
input/output contract). Names are imported lazily.
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
}

__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
