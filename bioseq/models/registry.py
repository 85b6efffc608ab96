"""The registry that finds a kind of model by name, and the configs of neural networks.

Every layer asks the registry for a model's kind (:func:`model_kind`, a
:class:`~bioseq.models.kinds.ModelKind`) and never tests the name itself. A
neural network is a small :class:`torch.nn.Module` built from a keyword-only
config dataclass (a subclass of :class:`ModelConfig`) and registered under a
name, with its default learning rate and search space::

    @register("my_cnn", MyConfig, lr=2e-3, space={"model_options.width": {"choices": [32, 64]}})
    class MyCNN(nn.Module):
        def __init__(self, config: MyConfig) -> None: ...
        def forward(self, x: torch.Tensor) -> torch.Tensor: ...

Any other kind of model registers an instance of its own
:class:`~bioseq.models.kinds.ModelKind` with :func:`register_kind`. bioseq's
own kinds are declared in :mod:`bioseq.models.builtin` without importing
them (their modules' ``@register`` binds the classes on first use), so that
asking a kind what it runs on costs neither torch nor scikit-learn.

Data contract of a network's ``forward``
----------------------------------------
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
import functools
import typing
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Literal, get_args, get_origin

import numpy as np

from bioseq.errors import InputError
from bioseq.models.kinds import ModelKind

if TYPE_CHECKING:
    from torch import nn

__all__ = [
    "ModelConfig",
    "register",
    "register_kind",
    "model_kind",
    "build_model",
    "make_config",
    "check_config",
    "model_names",
    "config_to_dict",
    "check_maximum",
    "MAX_LENGTH",
    "MAX_WIDTH",
    "MAX_LAYERS",
    "MAX_HEADS",
    "MAX_KERNEL",
    "MAX_FF_MULT",
    "MAX_OUTPUTS",
]

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
            raise InputError(
                f"model {model!r} option {name!r} must be <= {maximum}, got {value!r}", fix="Use a smaller value"
            )


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


_REGISTRY: dict[str, ModelKind] = {}


def register_kind(kind: ModelKind) -> ModelKind:
    """Register a kind of model under ``kind.name`` (see :mod:`bioseq.models.kinds`).

    Raises
    ------
    ValueError
        When another kind has that name.
    """
    known = _REGISTRY.get(kind.name)
    if known is not None and known != kind:
        raise ValueError(f"a model named {kind.name!r} is already registered")
    _REGISTRY[kind.name] = kind
    return kind


def register(
    name: str,
    config_class: type[ModelConfig],
    *,
    lr: float | None = None,
    space: Mapping[str, Mapping[str, Any]] | None = None,
) -> Callable[[type[nn.Module]], type[nn.Module]]:
    """Class decorator that registers a neural network and its config under ``name``.

    Parameters
    ----------
    name : str
    config_class : type of ModelConfig
    lr : float, optional
        The default peak learning rate of the model (a training config's ``lr`` wins).
    space : mapping, optional
        Its default search space for ``bioseq tune``, on top of the training settings every network varies
        (:data:`bioseq.models.network.TRAINING_SPACE`).
    """
    from bioseq.models.network import NetworkKind

    _load_builtin_models()  # a declared kind of this name waits for its classes

    def decorate(model_class: type[nn.Module]) -> type[nn.Module]:
        known = _REGISTRY.get(name)
        if known is None:
            _REGISTRY[name] = NetworkKind(
                name=name, config_class=config_class, model_class=model_class, lr=lr, space=space
            )
        elif isinstance(known, NetworkKind) and not known.bound and known.module == model_class.__module__:
            known.bind(config_class, model_class)
        elif getattr(known, "model_class", None) is not model_class:
            raise ValueError(f"a model named {name!r} is already registered")
        model_class.config_class = config_class
        model_class.name = name
        return model_class

    return decorate


def _load_builtin_models() -> None:
    """Declare bioseq's own kinds (:mod:`bioseq.models.builtin`; their modules are imported on first use)."""
    from bioseq.models.builtin import BUILTIN

    for kind in BUILTIN:
        _REGISTRY.setdefault(kind.name, kind)


def model_names() -> list[str]:
    """Names of the registered kinds of model."""
    _load_builtin_models()
    return sorted(_REGISTRY)


def model_kind(name: str) -> ModelKind:
    """The registered kind of model ``name`` (:class:`~bioseq.models.kinds.ModelKind`).

    Raises
    ------
    InputError
        On an unknown name, listing the names and the close match.
    """
    _load_builtin_models()
    if name not in _REGISTRY:
        close = difflib.get_close_matches(str(name), _REGISTRY, n=1)
        raise InputError(
            f"unknown model {name!r}; the models are {', '.join(sorted(_REGISTRY))}",
            fix=f"Did you mean {close[0]!r}?" if close else None,
        )
    return _REGISTRY[name]


def _network(name: str):
    kind = model_kind(name)
    if not hasattr(kind, "config_class"):
        raise InputError(
            f"model {name!r} is not a neural network built from a config",
            fix="Use bioseq.models.model_kind(name) for any kind of model",
        )
    return kind


def make_config(name: str, options: Mapping[str, Any] | None = None) -> ModelConfig:
    """Build and check the config of neural network ``name`` from plain options.

    Raises
    ------
    InputError
        On an unknown model, an unknown option (with the close match and the
        list of options), or a value of the wrong type or outside a
        ``Literal``'s choices.
    """
    return _network(name).make_config(options)


def check_config(name: str, config_class: type[ModelConfig], options: Mapping[str, Any] | None) -> ModelConfig:
    """``config_class`` built from plain options, each checked against its field's type (see :func:`make_config`)."""
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
    """Build neural network ``name`` from plain options (see :func:`make_config`)."""
    return _network(name).build(options or {})


def config_to_dict(config: ModelConfig) -> dict[str, Any]:
    """The config as JSON-ready plain values (tuples become lists)."""
    return {k: list(v) if isinstance(v, tuple) else v for k, v in dataclasses.asdict(config).items()}


def _coerce(model: str, key: str, value: Any, hint: Any) -> Any:
    """``value`` checked against a field's type hint by pydantic in strict mode (``"64"`` is no int), after the
    two conversions a config allows: numpy scalars become Python scalars and lists become tuples (YAML and JSON
    have no tuples); ints pass as floats."""
    from pydantic import ValidationError

    value = _plain(value)
    try:
        return _adapter(hint).validate_python(value)
    except ValidationError as exc:
        raise InputError(_type_problem(f"model {model!r} option {key!r}", value, hint, exc.errors()[0])) from None


@functools.cache
def _adapter(hint: Any):
    from pydantic import ConfigDict, TypeAdapter

    return TypeAdapter(hint, config=ConfigDict(strict=True))


def _plain(value: Any) -> Any:
    if isinstance(value, (list, tuple)):
        return tuple(_plain(item) for item in value)
    return value.item() if isinstance(value, np.generic) else value


def _type_problem(where: str, value: Any, hint: Any, error: Mapping[str, Any]) -> str:
    """One sentence for pydantic's first error about ``value``."""
    kind, bad = error["type"], error.get("input", value)
    if kind == "literal_error":
        choices = next((get_args(arg) for arg in (hint, *get_args(hint)) if get_origin(arg) is Literal), ())
        return f"{where} is {bad!r}; allowed values: {', '.join(map(repr, choices))}"
    if kind == "tuple_type":
        return f"{where} must be a list, got {bad!r}"
    if kind in ("int_type", "float_type") and isinstance(bad, bool):
        return f"{where} must be a number, got {bad!r}"
    if kind == "float_type" and isinstance(bad, int):  # an integer of hundreds of digits
        return f"{where} is too large for a float (an integer of {len(str(bad))} digits)"
    expected = {"int_type": "int", "float_type": "float", "bool_type": "bool", "string_type": "str"}.get(kind)
    if expected:
        return f"{where} must be {expected}, got {bad!r} ({type(bad).__name__})"
    return f"{where} cannot be {bad!r} ({error['msg']})"
