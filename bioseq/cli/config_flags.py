"""Command-line flags generated from a pydantic config, so flags and YAML never drift apart.

Each field of the model becomes ``--field-name``: numbers and paths take a
value, ``Literal`` fields list their choices, booleans get ``--x/--no-x``,
and ``dict`` fields take repeated ``KEY=VALUE`` pairs whose values are read
as YAML scalars (``--model-option n_layers=4 --model-option pooling=cls``).
Flags left out are ``None`` and do not override the config file.
"""

from __future__ import annotations

import argparse
import types
import typing
from pathlib import Path
from typing import Any, Literal, get_args, get_origin

import yaml
from pydantic import BaseModel

from bioseq.errors import InputError

__all__ = ["add_config_flags", "flag_values"]


def _choices(annotation: Any) -> tuple | None:
    args = get_args(annotation) if get_origin(annotation) in (types.UnionType, typing.Union) else (annotation,)
    found: list = []
    for arg in args:
        if get_origin(arg) is Literal:
            found.extend(get_args(arg))
    return tuple(found) or None


def _converter(annotation: Any):
    args = get_args(annotation) if get_origin(annotation) in (types.UnionType, typing.Union) else (annotation,)
    kinds = [a for a in args if a is not type(None) and get_origin(a) is not Literal]
    literals = _choices(annotation) or ()
    base = kinds[0] if kinds else str

    def convert(text: str):
        if text in map(str, literals):
            return next(v for v in literals if str(v) == text)
        if base is Path:
            return Path(text)
        if base in (int, float):
            try:
                return base(text)
            except ValueError:
                raise argparse.ArgumentTypeError(f"expected {base.__name__}, got {text!r}") from None
        return text

    return convert


def _metavar(name: str, annotation: Any, choices: tuple | None) -> str:
    args = get_args(annotation) if get_origin(annotation) in (types.UnionType, typing.Union) else (annotation,)
    kinds = [a for a in args if a is not type(None) and get_origin(a) is not Literal]
    words = [{int: "N", float: "X", Path: "PATH"}.get(k, name.upper()) for k in kinds]
    if not choices:
        return words[0] if words else name.upper()
    listed = "{" + ",".join(map(str, choices)) + "}"
    return "|".join(words + [listed]) if words else listed


def add_config_flags(parser: argparse.ArgumentParser, model: type[BaseModel], *, skip: tuple[str, ...] = ()) -> None:
    """Add a flag for every field of ``model`` (except ``skip``)."""
    for name, field in model.model_fields.items():
        if name in skip:
            continue
        flag = "--" + name.replace("_", "-")
        help_text = field.description or ""
        annotation = field.annotation
        if annotation is bool:
            parser.add_argument(
                flag,
                dest=name,
                action=argparse.BooleanOptionalAction,
                default=None,
                help=f"{help_text} (default {field.default})".strip(),
            )
        elif get_origin(annotation) is dict or annotation is dict:
            singular = flag.rstrip("s")
            parser.add_argument(
                singular,
                dest=name,
                action="append",
                metavar="KEY=VALUE",
                default=None,
                help="model option, repeatable; values are read as YAML (e.g. n_layers=4)",
            )
        else:
            choices = _choices(annotation)
            default = None if field.is_required() else field.default
            shown = f" (default {default})" if default is not None else ""
            parser.add_argument(
                flag,
                dest=name,
                type=_converter(annotation),
                default=None,
                metavar=_metavar(name, annotation, choices),
                help=f"{help_text}{shown}".strip(),
            )


def flag_values(args: argparse.Namespace, model: type[BaseModel]) -> dict[str, Any]:
    """The flags the user gave, as config fields (``None`` for flags left out)."""
    values: dict[str, Any] = {}
    for name, field in model.model_fields.items():
        value = getattr(args, name, None)
        if value is not None and (get_origin(field.annotation) is dict or field.annotation is dict):
            value = _pairs(value, name)
        values[name] = value
    return values


def _pairs(items: list[str], name: str) -> dict[str, Any]:
    result = {}
    for item in items:
        key, sep, text = item.partition("=")
        if not sep or not key:
            raise InputError(
                f"--{name.replace('_', '-').rstrip('s')} {item!r} is not KEY=VALUE",
                fix="Write e.g. --model-option n_layers=4",
            )
        try:
            result[key.strip()] = yaml.safe_load(text)
        except yaml.YAMLError:
            result[key.strip()] = text
    return result
