"""The model kind of the k-mer logistic baseline (:mod:`bioseq.models.kmer_baseline`).

What :mod:`bioseq.models.kinds` asks of a kind, for the scikit-learn estimator
:class:`~bioseq.models.kmer_baseline.KmerLogisticBaseline`. Importing this
module imports neither scikit-learn nor torch (the estimator is imported when
a model is fitted or loaded), so the workflow can ask what the model runs on
at parse time.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from bioseq.errors import InputError
from bioseq.models.kinds import ArraySpec, ModelKind

if TYPE_CHECKING:
    from bioseq.models.kmer_baseline import KmerLogisticBaseline

__all__ = ["KmerKind"]


class KmerKind(ModelKind):
    """The model kind of :class:`~bioseq.models.kmer_baseline.KmerLogisticBaseline`: fitted in one call, on the CPU,
    any input length, stored as two float64 arrays (``coef``, ``intercept``)."""

    name = "kmer_logistic"
    trainer = "fit"
    devices = "cpu"
    seeded = False  # lbfgs on a convex problem: every seed gives the same model
    any_length = True
    weights_format = "np"
    search_space = {
        "model_options.k": {"low": 2, "high": 6},
        "model_options.C": {"low": 1e-2, "high": 1e2, "log": True},
    }

    def option_names(self) -> list[str]:
        from bioseq.models.kmer_baseline import KmerLogisticBaseline

        return [name for name in KmerLogisticBaseline().get_params() if name != "seed"]

    def check_options(self, options: Mapping[str, Any] | None, *, n_outputs: int | None = None) -> dict[str, Any]:
        from bioseq.models.kmer_baseline import KmerLogisticBaseline

        if isinstance(options, Mapping) and "seed" in options:
            raise InputError(
                f"model {self.name!r} takes its seed from the training seed, not from its options",
                fix="Remove seed from model_options",
            )
        return {
            key: value
            for key, value in KmerLogisticBaseline.from_options(options or {}).options().items()
            if key != "seed"
        }

    def fit(self, options, *, codes, labels, task, classes, seed) -> KmerLogisticBaseline:
        from bioseq.models.kmer_baseline import KmerLogisticBaseline

        model = KmerLogisticBaseline(**options, seed=seed)
        return model.fit(codes, labels, task=task, n_classes=len(classes))

    def bundle_options(self, model, options, *, task: str, n_outputs: int) -> dict[str, Any]:
        from bioseq.models.kmer_baseline import KmerLogisticBaseline

        if not isinstance(model, KmerLogisticBaseline):
            raise InputError(f"model {self.name!r} needs a KmerLogisticBaseline, got {type(model).__name__}")
        own = model.options()
        given = dict(options or {})
        differ = [key for key, value in given.items() if own.get(key, object()) != value]
        if differ:
            raise InputError(
                f"model_options {differ[0]}={given[differ[0]]!r} differs from the model's own options {own}",
                fix="Pass the options the model was built with, or none",
            )
        if getattr(model, "task_", None) != task:
            raise InputError(f"the model was fitted for a {getattr(model, 'task_', None)} task, not {task!r}")
        return own

    def arrays(self, model: KmerLogisticBaseline) -> dict[str, np.ndarray]:
        return model.to_arrays()

    def expected_arrays(self, options: Mapping[str, Any], *, task: str, n_outputs: int) -> dict[str, ArraySpec]:
        from bioseq.models.kmer_baseline import KmerLogisticBaseline

        shapes = KmerLogisticBaseline.from_options(options).array_shapes(n_outputs)
        return {key: ("F64", shape) for key, shape in shapes.items()}

    def load(self, arrays, options, *, task: str, device) -> KmerLogisticBaseline:
        from bioseq.models.kmer_baseline import KmerLogisticBaseline

        return KmerLogisticBaseline.from_arrays(arrays, options, task=task)  # always on the CPU

    def predict_proba(self, model, codes, *, task, n_outputs, batch_size, device, rc_average) -> np.ndarray:
        from bioseq.encode.transforms import reverse_complement

        if device is not None and str(device).split(":")[0] != "cpu":
            raise InputError(f"the {self.name} model runs on the CPU, not {str(device)!r}", fix="Leave device unset")
        out = np.empty((codes.shape[0], n_outputs), dtype=np.float32)
        for start in range(0, codes.shape[0], batch_size):
            batch = codes[start : start + batch_size]
            proba = model.predict_proba(batch)
            if rc_average:
                proba = (proba + model.predict_proba(reverse_complement(batch))) / 2
            out[start : start + batch.shape[0]] = proba[:, 1:] if task == "binary" else proba
        return out

    def versions(self) -> dict[str, str]:
        import sklearn

        return {"scikit-learn": sklearn.__version__}
