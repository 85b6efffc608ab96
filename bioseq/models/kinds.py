"""The model-kind protocol: how one kind of model is built, trained, stored, loaded and run.

Every layer that handles a model (training, tuning, bundles, prediction,
evaluation, scanning, the workflow) asks the kind of the model's name
(:func:`bioseq.models.registry.model_kind`) what to do, and never tests the
name itself. A new kind of model plugs in by subclassing :class:`ModelKind`
and registering an instance (:func:`bioseq.models.registry.register_kind`);
neural networks need only the ``@register(name, ConfigClass)`` decorator, which
registers a :class:`~bioseq.models.network.NetworkKind`.

Two ways to train
-----------------
``trainer = "lightning"``
    :meth:`ModelKind.build` returns an untrained ``torch.nn.Module`` that
    :mod:`bioseq.train` fits in epochs with Lightning (checkpoints, resume,
    DDP, early stopping on any metric, the loss included).
``trainer = "fit"``
    :meth:`ModelKind.fit` returns a fitted model in one call (a scikit-learn
    estimator, say): no epochs, no checkpoints, no loss to monitor.

Storage contract
----------------
A bundle stores a model as named arrays in ``model.safetensors``
(:meth:`ModelKind.arrays`, :meth:`ModelKind.load`) plus its JSON options in
``config.json`` (:meth:`ModelKind.check_options`); never a pickle.
:meth:`ModelKind.expected_arrays` gives the dtype and shape of every array
from the options alone, so an untrusted bundle is checked against its
header before any array is read.

Prediction contract
-------------------
:meth:`ModelKind.predict_proba` takes codes ``(N, L)`` uint8 (checked by the
caller: :meth:`bioseq.bundle.Bundle.check_codes`) and returns float32
probabilities ``(N, n_outputs)``: the positive class for a binary task
(``n_outputs = 1``), a softmax for multiclass, independent sigmoids for
multilabel.

A *per-position* kind (:attr:`ModelKind.per_position`, e.g.
:class:`bioseq.models.per_position.PerPositionKind`) scores every base of
the input's central region instead: it takes codes ``(N, L)`` uint8 with
``L > context`` and returns float32 probabilities ``(N, L - context,
n_outputs)``, a softmax over the classes at each position. ``context`` (a
model option, even) is the total input context cropped from the output:
:meth:`ModelKind.flank` ``= context // 2`` bases on each side, so output
position ``j`` scores input position ``flank + j`` (0-based). Window
classifiers have a flank of 0.

This module imports neither torch nor scikit-learn.
"""

from __future__ import annotations

import abc
from collections.abc import Mapping
from typing import Any, ClassVar, Literal

import numpy as np

__all__ = ["ModelKind", "ArraySpec", "array_specs", "n_outputs_of"]

ArraySpec = tuple[str, tuple[int, ...]]
"""An array's safetensors dtype name (``"F32"``, ``"F64"``, ...) and shape."""

_NUMPY_NAMES = {
    "float64": "F64",
    "float32": "F32",
    "float16": "F16",
    "int64": "I64",
    "int32": "I32",
    "int16": "I16",
    "int8": "I8",
    "uint8": "U8",
    "bool": "BOOL",
}
_TORCH_NAMES = {**{f"torch.{key}": value for key, value in _NUMPY_NAMES.items()}, "torch.bfloat16": "BF16"}


def array_specs(arrays: Mapping[str, Any]) -> dict[str, ArraySpec]:
    """The safetensors dtype name and shape of each torch tensor (any device, meta too) or numpy array."""
    specs = {}
    for key, value in arrays.items():
        dtype = str(value.dtype)
        specs[key] = (_TORCH_NAMES.get(dtype) or _NUMPY_NAMES.get(dtype) or dtype, tuple(value.shape))
    return specs


def n_outputs_of(task: str, n_classes: int) -> int:
    """Outputs per example: 1 for a binary task (the positive class), else one per class."""
    return 1 if task == "binary" else n_classes


class ModelKind(abc.ABC):
    """One kind of model (see the module docstring); an instance is registered under :attr:`name`.

    Attributes
    ----------
    name : str
        The registry name (``model.name`` in a bundle, ``model`` in a training config).
    trainer : {"lightning", "fit"}
        How :mod:`bioseq.train` trains it.
    devices : {"any", "cpu"}
        Where it runs: ``"cpu"`` kinds never ask for a GPU (the workflow
        requests none for their jobs) and refuse another device.
    distributed : bool
        Whether it can train on several devices or nodes at once (DDP).
    seeded : bool
        Whether models of different seeds differ, so that an ensemble of
        seeds means something.
    any_length : bool
        Whether it reads sequences of any length (its bundle has no fixed
        input width); otherwise a bundle records the training width.
    per_position : bool
        Whether it predicts every position of the input's central region
        ``(N, L - 2 * flank, n_outputs)`` rather than one row per sequence
        (see the module docstring and :meth:`flank`).
    weights_format : {"pt", "np"}
        Whether :meth:`arrays` gives torch tensors or numpy arrays.
    default_lr : float or None
        Peak learning rate when a training config sets none (lightning kinds).
    search_space : mapping
        ``bioseq tune``'s default search space (setting -> ``low``/``high``/``log``
        or ``choices``; ``model_options.<option>`` for the kind's options).
    """

    name: str
    trainer: ClassVar[Literal["lightning", "fit"]]
    devices: ClassVar[Literal["any", "cpu"]] = "any"
    distributed: ClassVar[bool] = False
    seeded: ClassVar[bool] = True
    any_length: ClassVar[bool] = False
    per_position: ClassVar[bool] = False
    weights_format: ClassVar[Literal["pt", "np"]]
    default_lr: float | None = None
    search_space: Mapping[str, Mapping[str, Any]] = {}

    @abc.abstractmethod
    def option_names(self) -> list[str]:
        """The options a user may set (``model_options``), without ``n_outputs`` and ``seed``."""

    @abc.abstractmethod
    def check_options(self, options: Mapping[str, Any] | None, *, n_outputs: int | None = None) -> dict[str, Any]:
        """The options checked and completed with their defaults, as JSON-ready values.

        Parameters
        ----------
        options : mapping or None
            Options as a user, a training config or a bundle's ``config.json`` gives them.
        n_outputs : int, optional
            When given, the outputs the task needs; options that say otherwise are an error.

        Raises
        ------
        InputError
            Naming the option, the value and what is allowed.
        """

    def build(self, options: Mapping[str, Any], *, n_outputs: int) -> Any:
        """An untrained model (lightning kinds: a ``torch.nn.Module``)."""
        raise NotImplementedError(f"model {self.name!r} is trained by fit(), not built")

    def fit(
        self,
        options: Mapping[str, Any],
        *,
        codes: np.ndarray,
        labels: np.ndarray,
        task: str,
        classes: tuple[str, ...],
        seed: int,
    ) -> Any:
        """A model fitted in one call (``trainer = "fit"`` kinds).

        Parameters
        ----------
        options : mapping
            Its options (:meth:`check_options`).
        codes : numpy.ndarray, shape ``(N, L)``, dtype uint8
        labels : numpy.ndarray
            ``(N,)`` int class indices or ``(N, C)`` 0/1 for multilabel.
        task : {"binary", "multiclass", "multilabel"}
        classes : tuple of str
            Class names in output order.
        seed : int
        """
        raise NotImplementedError(f"model {self.name!r} trains with Lightning; build() it")

    @abc.abstractmethod
    def bundle_options(
        self, model: Any, options: Mapping[str, Any] | None, *, task: str, n_outputs: int
    ) -> dict[str, Any]:
        """The ``model.options`` a bundle of ``model`` stores: ``options`` checked against the model.

        Raises
        ------
        InputError
            On a model of another kind, or options that disagree with it or with the task.
        """

    @abc.abstractmethod
    def arrays(self, model: Any) -> dict[str, Any]:
        """The arrays a bundle stores (CPU, contiguous; torch tensors or numpy arrays per :attr:`weights_format`)."""

    @abc.abstractmethod
    def expected_arrays(self, options: Mapping[str, Any], *, task: str, n_outputs: int) -> dict[str, ArraySpec]:
        """The dtype and shape of every array of a model of these options, without building one in memory."""

    @abc.abstractmethod
    def load(self, arrays: Mapping[str, Any], options: Mapping[str, Any], *, task: str, device: Any) -> Any:
        """The model rebuilt from :meth:`arrays` and its options, ready to predict (eval mode) on ``device``."""

    @abc.abstractmethod
    def predict_proba(
        self,
        model: Any,
        codes: np.ndarray,
        *,
        task: str,
        n_outputs: int,
        batch_size: int,
        device: Any,
        rc_average: bool,
    ) -> np.ndarray:
        """Probabilities ``(N, n_outputs)``, float32, computed in batches of ``batch_size`` (see the module docstring).

        ``device`` None runs where the model is; ``rc_average`` averages each
        sequence with its reverse complement (padding stays at the right).
        """

    def flank(self, options: Mapping[str, Any] | None) -> int:
        """Input bases on each side of the scored region that a per-position model reads as context.

        Parameters
        ----------
        options : mapping or None
            The model's options (:meth:`check_options`).

        Returns
        -------
        int
            ``context // 2`` for a per-position kind; 0 for a window classifier.
        """
        return 0

    def nbytes(self, model: Any) -> int:
        """Bytes of the arrays a bundle of ``model`` holds."""
        return sum(
            int(np.prod(shape, dtype=np.int64)) * _itemsize(dtype)
            for dtype, shape in array_specs(self.arrays(model)).values()
        )

    def versions(self) -> dict[str, str]:
        """Versions of the libraries this kind depends on beyond bioseq, torch and Python (for ``config.json``)."""
        return {}

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r})"


def _itemsize(dtype: str) -> int:
    return {"F64": 8, "I64": 8, "F32": 4, "I32": 4, "F16": 2, "BF16": 2, "I16": 2}.get(dtype, 1)
