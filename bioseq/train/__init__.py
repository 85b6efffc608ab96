"""Training: the validated config, data splits and loaders, the Lightning module, ``train()``.

Names are imported lazily (Lightning only when training starts).
"""

from bioseq._lazy import lazy_exports

_EXPORTS = {
    "TrainConfig": "config",
    "load_config": "config",
    "config_from_options": "config",
    "train": "fit",
    "TrainResult": "fit",
    "SequenceSet": "data",
    "split_validation": "data",
    "make_loader": "data",
    "ClassifierModule": "module",
    "check_ranks": "cluster",
}

__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
