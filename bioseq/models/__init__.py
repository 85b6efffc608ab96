"""Sequence classifiers: LSTM, Transformer and CNN, plus a k-mer logistic baseline.

Each model is a small ``nn.Module`` built from a keyword-only config and
found by name (:func:`build_model`); see :mod:`bioseq.models.registry` for the
input/output contract. Names are imported lazily.
"""

from bioseq._lazy import lazy_exports

_EXPORTS = {
    "ModelConfig": "registry", "register": "registry", "build_model": "registry",
    "make_config": "registry", "model_names": "registry", "config_to_dict": "registry",
    "KmerLogisticBaseline": "kmer_baseline", "probabilities": "outputs",
    "LSTMConfig": "lstm", "LSTMClassifier": "lstm",
    "TransformerConfig": "transformer", "TransformerClassifier": "transformer",
    "CNNConfig": "cnn", "CNNClassifier": "cnn",
}

__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
