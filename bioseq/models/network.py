"""The kind of every neural network: a ``torch.nn.Module`` built from a config, trained with Lightning.

``@register(name, ConfigClass, lr=..., space=...)`` (:mod:`bioseq.models.registry`)
registers a :class:`NetworkKind` for a model class; nothing else is needed
for it to train, tune, save, load, predict, evaluate and scan. See
:mod:`bioseq.models.kinds` for the protocol and :mod:`bioseq.models.registry`
for the ``forward`` contract: codes ``(B, L)`` uint8 in, logits
``(B, n_outputs)`` out.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from typing import Any

import numpy as np

from bioseq.errors import InputError, option
from bioseq.models.kinds import ArraySpec, ModelKind, array_specs

__all__ = ["NetworkKind", "TRAINING_SPACE", "evaluating"]


@contextlib.contextmanager
def evaluating(model, device=None) -> Iterator:
    """``model`` (a ``torch.nn.Module``) in eval mode on ``device`` (default where it is); yields that device.

    Its mode and device are put back afterwards, whatever happens inside (as tangermeme leaves a model as it found it).
    """
    import torch

    home = next(model.parameters(), torch.empty(0)).device
    target = home if device is None else device
    was_training = model.training
    model.eval()
    model.to(target)
    try:
        yield target
    finally:
        model.to(home)
        model.train(was_training)


TRAINING_SPACE = {
    "lr": {"low": 3e-4, "high": 3e-3, "log": True},
    "weight_decay": {"low": 1e-3, "high": 1e-1, "log": True},
    "model_options.dropout": {"low": 0.0, "high": 0.3},
}
"""The training settings every network's default search space varies (a kind's ``space`` adds or overrides)."""


class NetworkKind(ModelKind):
    """A ``torch.nn.Module`` class and its config, registered under ``name`` (:func:`bioseq.models.registry.register`).

    A kind can be declared before its module is imported (``module=``, as
    :mod:`bioseq.models.builtin` declares bioseq's own): its traits, default
    learning rate and search space are then known without importing torch, and
    the classes are bound when the module's ``@register`` runs, on first use.

    Parameters
    ----------
    name : str
    config_class : type of ModelConfig, optional
    model_class : type of torch.nn.Module, optional
        Given together, or neither when ``module`` is given.
    module : str, optional
        The module whose ``@register(name, ...)`` binds the classes.
    lr : float or None
        Its default peak learning rate.
    space : mapping, optional
        Its default search space, on top of :data:`TRAINING_SPACE`.
    """

    trainer = "lightning"
    distributed = True
    weights_format = "pt"

    def __init__(
        self,
        *,
        name: str,
        config_class: type | None = None,
        model_class: type | None = None,
        module: str | None = None,
        lr: float | None = None,
        space: Mapping[str, Mapping[str, Any]] | None = None,
    ) -> None:
        if (model_class is None) != (config_class is None) or (model_class is None and module is None):
            raise ValueError("a NetworkKind needs config_class and model_class, or the module that registers them")
        self.name, self.module = name, module if model_class is None else model_class.__module__
        self._classes = None if model_class is None else (config_class, model_class)
        self.default_lr = lr
        self.search_space = {**TRAINING_SPACE, **(space or {})}

    def bind(self, config_class: type, model_class: type) -> None:
        """Attach the classes of a kind declared by ``module`` (called by ``@register``)."""
        self._classes = (config_class, model_class)

    @property
    def bound(self) -> bool:
        """Whether the classes are attached (the module was imported)."""
        return self._classes is not None

    @property
    def config_class(self) -> type:
        return self._load()[0]

    @property
    def model_class(self) -> type:
        return self._load()[1]

    def _load(self) -> tuple[type, type]:
        if self._classes is None:
            import importlib

            importlib.import_module(self.module)  # its @register binds the classes
            if self._classes is None:
                raise ValueError(f"{self.module} did not register a model named {self.name!r}")
        return self._classes

    def option_names(self) -> list[str]:
        import dataclasses

        return [field.name for field in dataclasses.fields(self.config_class) if field.name != "n_outputs"]

    def make_config(self, options: Mapping[str, Any] | None):
        """The checked config (:func:`bioseq.models.registry.make_config`)."""
        from bioseq.models.registry import check_config

        return check_config(self.name, self.config_class, options)

    def check_options(self, options: Mapping[str, Any] | None, *, n_outputs: int | None = None) -> dict[str, Any]:
        from bioseq.models.registry import config_to_dict

        config = self.make_config(options)
        if n_outputs is not None and config.n_outputs != n_outputs:
            raise InputError(
                f"model option n_outputs is {config.n_outputs}, but the task and classes need {n_outputs}",
                fix="Use 1 for binary and the number of classes otherwise",
            )
        return config_to_dict(config)

    def build(self, options: Mapping[str, Any], *, n_outputs: int | None = None):
        options = dict(options or {})
        if n_outputs is not None:
            options["n_outputs"] = n_outputs
        return self.model_class(self.make_config(options))

    def bundle_options(self, model, options, *, task: str, n_outputs: int) -> dict[str, Any]:
        from torch import nn

        from bioseq.models.registry import ModelConfig, config_to_dict

        if not isinstance(model, nn.Module):
            raise InputError(f"model {self.name!r} must be a torch.nn.Module, got {type(model).__name__}")
        if isinstance(options, ModelConfig):
            options = config_to_dict(options)
        elif not isinstance(options, Mapping):
            raise InputError(f"model_options must be a mapping or a ModelConfig, got {type(options).__name__}")
        return self.check_options(options, n_outputs=n_outputs)

    def arrays(self, model) -> dict[str, Any]:
        return {key: value.detach().to("cpu").contiguous().clone() for key, value in model.state_dict().items()}

    def expected_arrays(self, options: Mapping[str, Any], *, task: str, n_outputs: int) -> dict[str, ArraySpec]:
        """The state_dict of a fresh model built on the meta device (no memory); every option is bounded first."""
        import torch

        config = self.make_config(options)
        if config.n_outputs != n_outputs:
            raise InputError(
                f"model option n_outputs is {config.n_outputs}, but task {task!r} needs {n_outputs}",
                fix="Save the bundle again with save_bundle",
            )
        try:
            with torch.device("meta"):
                model = self.build(options)
        except (RuntimeError, NotImplementedError):  # a constructor that needs real values
            model = self.build(options)
        return array_specs(model.state_dict())

    def load(self, arrays: Mapping[str, Any], options: Mapping[str, Any], *, task: str, device):
        model = self.build(options)
        model.load_state_dict(dict(arrays), strict=True)
        return model.to(device).eval()

    def nbytes(self, model) -> int:
        return sum(value.numel() * value.element_size() for value in model.state_dict().values())

    def predict_proba(
        self, model, codes: np.ndarray, *, task: str, n_outputs: int, batch_size: int, device, rc_average: bool
    ) -> np.ndarray:
        import torch

        self.check_request(model, codes, rc_average=rc_average)
        out = np.empty(self.output_shape(model, codes, n_outputs), dtype=np.float32)
        with evaluating(model, device) as target, torch.inference_mode(), self.memory_errors(target, codes, batch_size):
            for start in range(0, codes.shape[0], batch_size):
                batch = np.ascontiguousarray(codes[start : start + batch_size])  # (B, L)
                if not batch.flags.writeable:  # a read-only memory map: torch wants writable memory
                    batch = batch.copy()
                proba = self.batch_proba(model, batch, target, task=task, n_outputs=n_outputs, rc_average=rc_average)
                out[start : start + batch.shape[0]] = proba
        return out

    @contextlib.contextmanager
    def memory_errors(self, device, codes: np.ndarray, batch_size: int) -> Iterator:
        """Turn running out of memory on ``device`` into an :class:`InputError` that names the batch and the fix."""
        import torch

        try:
            yield
        except (torch.OutOfMemoryError, MemoryError, RuntimeError) as exc:
            if not isinstance(exc, (torch.OutOfMemoryError, MemoryError)) and "can't allocate memory" not in str(exc):
                raise
            raise InputError(
                f"model {self.name!r} ran out of memory on {device} for a batch of "
                f"{min(batch_size, codes.shape[0])} sequences of {codes.shape[1]} positions",
                fix=f"Lower the batch size ({option('batch_size', 'N')})",
            ) from None

    def check_request(self, model, codes: np.ndarray, *, rc_average: bool) -> None:
        """Refuse what this kind cannot predict before any batch runs (nothing for a window classifier)."""

    def output_shape(self, model, codes: np.ndarray, n_outputs: int) -> tuple[int, ...]:
        """The shape of :meth:`predict_proba`'s result for ``codes``: ``(N, n_outputs)``."""
        return (codes.shape[0], n_outputs)

    def batch_proba(self, model, batch: np.ndarray, device, *, task: str, n_outputs: int, rc_average: bool):
        """Probabilities ``(B, n_outputs)`` of one batch of codes ``(B, L)`` (writable, contiguous)."""
        from bioseq.encode.transforms import reverse_complement
        from bioseq.models.outputs import probabilities

        logits = self._logits(model, batch, device, n_outputs)  # (B, n_outputs)
        if rc_average:
            logits = (logits + self._logits(model, reverse_complement(batch), device, n_outputs)) / 2
        return probabilities(logits, task).cpu().numpy().reshape(batch.shape[0], -1)

    def _logits(self, model, batch: np.ndarray, device, n_outputs: int):
        import torch

        logits = model(torch.from_numpy(batch).to(device))
        expected = (batch.shape[0], n_outputs)
        if not isinstance(logits, torch.Tensor) or tuple(logits.shape) != expected:
            shape = tuple(logits.shape) if isinstance(logits, torch.Tensor) else type(logits).__name__
            raise InputError(
                f"model {self.name!r} returned logits of shape {shape}, expected {expected}",
                fix="The model breaks the (B, L) -> (B, n_outputs) contract",
            )
        return logits.float()
