"""Model configs and the registry that finds a model by name.

Every bioseq model is a small :class:`torch.nn.Module` built from a
keyword-only config dataclass (a subclass of :class:`ModelConfig`) and
registered under a name::

    @register("cnn", CNNConfig)
    class CNNClassifier(nn.Module):
        def __init__(self, config: CNNConfig) -> None: ...
        def forward(self, x: torch.Tensor) -> torch.Tensor: ...

Data contract of ``forward``
----------------------------
x : torch.Tensor, shape ``(B, L)``
    uint8 base codes of :mod:`bioseq.alphabet` (A, C, G, T, N = 0..4, other
    IUPAC letters 5..14, ``PAD`` = 15 after the end of shorter sequences).
    Models one-hot encode or tokenise on their own device; padding is found
    from ``PAD`` (no separate lengths).
returns : torch.Tensor, shape ``(B, n_outputs)``, float
    Logits: one for a binary task (the positive class), one per class for
    multi-class (softmax) and multi-label (independent sigmoids) tasks. What
    the logits mean is the training code's business, not the model's.

:func:`build_model` checks every option against the config's fields and
types and names the allowed values when one is wrong, so a typo in a YAML
config or on the command line gets one clear sentence.

Bounds
------
A bundle's ``config.json`` is untrusted data, and ``bioseq train
--model-option`` goes through the same configs, so every size-like option is
bounded before a model is built (:func:`check_maximum` in each config's
``__post_init__``). The bounds are generous for real models; what a model
actually asks for is bounded again, in bytes, when a bundle is loaded
(:data:`bioseq.bundle.format.MAX_WEIGHT_BYTES`).

``MAX_LENGTH`` = 2**20 (1,048,576)
    Input width in bases (``input.length`` of a bundle), learned-position
    tables, strides, pooling widths, dilations and a convolution's span
    ``(kernel - 1) * dilation + 1``.
``MAX_WIDTH`` = 8192
    Hidden sizes, ``d_model``, conv channels, head sizes.
``MAX_LAYERS`` = 256
    Stacked layers (LSTM, Transformer blocks, conv layers).
``MAX_HEADS`` = 256
    Attention heads.
``MAX_KERNEL`` = 4096
    Convolution widths.
``MAX_FF_MULT`` = 64
    Transformer MLP width as a multiple of ``d_model``.
``MAX_OUTPUTS`` = 65536
    ``n_outputs``, and the number of classes of a bundle.
"""

from __future__ import annotations

import dataclasses
import difflib
import numbers
import types
import typing
from collections.abc import Callable, Mapping
from typing import Any, Literal, get_args, get_origin

from torch import nn

from bioseq.errors import InputError

__all__ = ["ModelConfig", "register", "build_model", "make_config", "model_names", "config_to_dict",
           "check_maximum", "MAX_LENGTH", "MAX_WIDTH", "MAX_LAYERS", "MAX_HEADS", "MAX_KERNEL", "MAX_FF_MULT",
           "MAX_OUTPUTS"]

MAX_LENGTH = 1 << 20  # bases: ~1 Mb (per-base splice models read 15 kb, some peers 200 kb+)
MAX_WIDTH = 8192  # hidden sizes, d_model, channels
MAX_LAYERS = 256  # stacked layers
MAX_HEADS = 256  # attention heads
MAX_KERNEL = 4096  # convolution widths
MAX_FF_MULT = 64  # Transformer MLP width / d_model
MAX_OUTPUTS = 1 << 16  # logits per example, classes of a bundle


def check_maximum(model: str, maximum: int, **values: int | tuple) -> None:
    """Check config values (every element of tuple values) are ``<= maximum``.

    Parameters
    ----------
    model : str
        The model name, for the message.
    maximum : int
        The bound (one of this module's ``MAX_*`` constants).
    **values : int or tuple of int
        Option name -> value.

    Raises
    ------
    InputError
        Naming the model, the option, the bound and the value.
    """
    for name, value in values.items():
        items = value if isinstance(value, tuple) else (value,)
        if any(v > maximum for v in items):
            raise InputError(f"model {model!r} option {name!r} must be <= {maximum}, got {value!r}",
                             fix="Use a smaller value")


@dataclasses.dataclass(kw_only=True)
class ModelConfig:
    """Options every model has.

    Parameters
    ----------
    n_outputs : int, default 1
        Logits per example: 1 for binary, the number of classes otherwise.
    dropout : float, default 0.1
        Dropout rate used by the model's blocks and head.
    """

    n_outputs: int = 1
    dropout: float = 0.1

    def __post_init__(self) -> None:
        if self.n_outputs < 1:
            raise InputError(f"n_outputs must be >= 1, got {self.n_outputs}")
        if self.n_outputs > MAX_OUTPUTS:
            raise InputError(f"n_outputs must be <= {MAX_OUTPUTS}, got {self.n_outputs}")
        if not 0.0 <= self.dropout < 1.0:
            raise InputError(f"dropout must be in [0, 1), got {self.dropout}")


_REGISTRY: dict[str, tuple[type[ModelConfig], type[nn.Module]]] = {}


def register(name: str, config_class: type[ModelConfig]) -> Callable[[type[nn.Module]], type[nn.Module]]:
    """Class decorator that registers a model and its config under ``name``."""

    def decorate(model_class: type[nn.Module]) -> type[nn.Module]:
        if name in _REGISTRY and _REGISTRY[name][1] is not model_class:
            raise ValueError(f"a model named {name!r} is already registered")
        _REGISTRY[name] = (config_class, model_class)
        model_class.config_class = config_class
        model_class.name = name
        return model_class

    return decorate


def _load_builtin_models() -> None:
    """Import the modules that register bioseq's own models (on first use, not at import)."""
    from bioseq.models import cnn, lstm, transformer  # noqa: F401


def model_names() -> list[str]:
    """Names of the registered models."""
    _load_builtin_models()
    return sorted(_REGISTRY)


def _lookup(name: str) -> tuple[type[ModelConfig], type[nn.Module]]:
    _load_builtin_models()
    if name not in _REGISTRY:
        close = difflib.get_close_matches(str(name), _REGISTRY, n=1)
        raise InputError(
            f"unknown model {name!r}; the models are {', '.join(sorted(_REGISTRY))}",
            fix=f"Did you mean {close[0]!r}?" if close else None,
        )
    return _REGISTRY[name]


def make_config(name: str, options: Mapping[str, Any] | None = None) -> ModelConfig:
    """Build and check the config of model ``name`` from plain options.

    Raises
    ------
    InputError
        On an unknown model, an unknown option (with the close match and the
        list of options), or a value of the wrong type or outside a
        ``Literal``'s choices.
    """
    config_class, _ = _lookup(name)
    options = dict(options or {})
    fields = {f.name: f for f in dataclasses.fields(config_class)}
    hints = typing.get_type_hints(config_class)
    for key, value in options.items():
        if key not in fields:
            close = difflib.get_close_matches(str(key), fields, n=1)
            raise InputError(
                f"model {name!r} has no option {str(key)!r}; its options are {', '.join(sorted(fields))}",
                fix=f"Did you mean {close[0]!r}?" if close else None,
            )
        options[key] = _coerce(name, key, value, hints[key])
    return config_class(**options)


def build_model(name: str, options: Mapping[str, Any] | None = None) -> nn.Module:
    """Build model ``name`` from plain options (see :func:`make_config`)."""
    config = make_config(name, options)
    _, model_class = _lookup(name)
    return model_class(config)


def config_to_dict(config: ModelConfig) -> dict[str, Any]:
    """The config as JSON-ready plain values (tuples become lists)."""
    return {k: list(v) if isinstance(v, tuple) else v for k, v in dataclasses.asdict(config).items()}


def _coerce(model: str, key: str, value: Any, hint: Any) -> Any:
    """Check ``value`` against a field's type hint; ints pass as floats, lists as tuples."""
    origin, args = get_origin(hint), get_args(hint)
    where = f"model {model!r} option {key!r}"
    if origin is Literal:
        if value not in args:
            raise InputError(f"{where} is {value!r}; allowed values: {', '.join(map(repr, args))}")
        return value
    if origin in (types.UnionType, typing.Union):
        errors = []
        for arg in args:
            if arg is type(None):
                if value is None:
                    return None
                continue
            try:
                return _coerce(model, key, value, arg)
            except InputError as exc:
                errors.append(exc)
        raise errors[0] if errors else InputError(f"{where} cannot be {value!r}")
    if origin is tuple:
        if not isinstance(value, (list, tuple)):
            raise InputError(f"{where} must be a list, got {value!r}")
        inner = args[0] if args else Any
        return tuple(_coerce(model, key, v, inner) for v in value)
    if hint is Any:
        return value
    if hint in (int, float) and isinstance(value, bool):
        raise InputError(f"{where} must be a number, got {value!r}")
    if hint is float and isinstance(value, numbers.Real):
        try:
            return float(value)
        except OverflowError:  # an integer of hundreds of digits
            raise InputError(f"{where} is too large for a float (an integer of {len(str(value))} digits)") from None
    if hint is int and isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(hint, type) and not isinstance(value, hint):
        raise InputError(f"{where} must be {hint.__name__}, got {value!r} ({type(value).__name__})")
    return value
