"""The bundle format: file names, config checks and the training-data hash.

See :mod:`bioseq.bundle` for the layout. Everything here reads or checks
JSON and safetensors; nothing is ever unpickled.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from bioseq import __version__
from bioseq.errors import InputError, MissingFileError

__all__ = ["FORMAT", "FORMAT_VERSION", "ALPHABET", "WEIGHTS", "CONFIG", "METRICS", "data_hash"]

FORMAT = "bioseq-bundle"
FORMAT_VERSION = 1
ALPHABET = "bioseq-codes-v1"
WEIGHTS, CONFIG, METRICS = "model.safetensors", "config.json", "metrics.json"
TASKS = ("binary", "multiclass", "multilabel")
INCONSISTENT = "the bundle is inconsistent (was config.json edited, or the weights replaced?)"


def read_json(root: Path, name: str) -> dict:
    path = root / name
    if not path.is_file():
        raise MissingFileError(f"the bundle has no {name}", path=root,
                               fix="Save it again with save_bundle; a bundle holds config.json and model.safetensors")
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"{name} is not valid JSON ({exc})", path=root,
                         fix="Restore it or save the bundle again") from None
    if not isinstance(value, dict):
        raise InputError(f"{name} holds a {type(value).__name__}, not a JSON object", path=root)
    return value


def read_weights(root: Path, kind: str) -> dict:
    path = root / WEIGHTS
    if not path.is_file():
        raise MissingFileError(f"the bundle has no {WEIGHTS}", path=root, fix="Save the bundle again")
    from safetensors import SafetensorError
    if kind == "pt":
        from safetensors.torch import load_file
        load = lambda: load_file(path, device="cpu")  # noqa: E731 - maps GPU-saved weights to the CPU
    else:
        from safetensors.numpy import load_file
        load = lambda: load_file(path)  # noqa: E731
    try:
        return load()
    except (SafetensorError, OSError, ValueError, TypeError) as exc:
        raise InputError(f"{WEIGHTS} cannot be read ({exc})", path=root,
                         fix="The file is corrupt or not safetensors; save the bundle again") from None


def check_config(config: dict, root: Path) -> tuple[str, dict]:
    """Check the fields :func:`load_bundle` relies on; return the model name and options."""
    if config.get("format") != FORMAT:
        raise InputError(f"config.json has format {config.get('format')!r}, not {FORMAT!r}: this is not a bioseq "
                         "model bundle", path=root, fix="Pass a directory written by save_bundle or 'bioseq train'")
    version = config.get("format_version")
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise InputError(f"config.json has format_version {version!r}, not a positive integer", path=root)
    if version > FORMAT_VERSION:
        raise InputError(f"the bundle has format_version {version}, but this bioseq ({__version__}) reads "
                         f"version {FORMAT_VERSION} at most", path=root, fix="Upgrade bioseq")
    model = config.get("model")
    if not (isinstance(model, dict) and isinstance(model.get("name"), str) and isinstance(model.get("options"), dict)):
        raise InputError("config.json needs \"model\": {\"name\": ..., \"options\": {...}}", path=root)
    check_classes(config.get("task"), config.get("classes"), root)
    spec = config.get("input")
    if not (isinstance(spec, dict) and spec.get("encoding") == "codes" and spec.get("alphabet") == ALPHABET):
        raise InputError(f"config.json input must have encoding 'codes' and alphabet {ALPHABET!r}, got {spec!r}",
                         path=root, fix="This bioseq reads only models of uint8 base codes")
    check_length(spec.get("length"), root)
    return model["name"], model["options"]


def check_classes(task, classes, root: Path | None) -> tuple[str, ...]:
    where = "config.json: " if root is not None else ""
    if task not in TASKS:
        raise InputError(f"{where}task must be one of {', '.join(TASKS)}, got {task!r}", path=root)
    if isinstance(classes, str) or not isinstance(classes, Sequence):
        raise InputError(f"{where}classes must be a list of class names, got {classes!r}", path=root)
    classes = tuple(classes)
    if not all(isinstance(c, str) and c for c in classes) or len(set(classes)) != len(classes):
        raise InputError(f"{where}classes must be distinct non-empty strings, got {list(classes)!r}", path=root)
    need = {"binary": len(classes) == 2, "multiclass": len(classes) >= 3, "multilabel": len(classes) >= 1}[task]
    if not need:
        raise InputError(f"{where}task {task!r} cannot have {len(classes)} classes", path=root,
                         fix="binary needs 2 classes, multiclass 3 or more, multilabel 1 or more")
    return classes


def check_length(length, root: Path | None) -> int | None:
    if length is not None and (isinstance(length, bool) or not isinstance(length, (int, np.integer)) or length < 1):
        raise InputError(f"{'config.json: ' if root else ''}length must be a positive integer or null, "
                         f"got {length!r}", path=root)
    return None if length is None else int(length)


def compare_shapes(expected: Mapping[str, tuple], found: Mapping[str, tuple], root: Path | None, why: str) -> None:
    """Raise naming the first tensor that is missing from ``found``, unexpected, or of another shape."""
    for key, shape in expected.items():
        if key not in found:
            raise InputError(f"tensor {key!r} is missing from the weights; {why}", path=root)
        if tuple(found[key]) != tuple(shape):
            raise InputError(f"tensor {key!r} has shape {tuple(found[key])} in the weights but {tuple(shape)} in "
                             f"the model the config describes; {why}", path=root)
    extra = [key for key in found if key not in expected]
    if extra:
        raise InputError(f"tensor {extra[0]!r} in the weights is unexpected; {why}", path=root)


def plain(value: Any, where: str) -> Any:
    """``value`` as JSON-ready plain values: numpy/torch scalars and arrays converted, NaN/inf -> None."""
    if isinstance(value, Mapping):
        return {str(k): plain(v, f"{where}[{k!r}]") for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v, where) for v in value]
    if isinstance(value, (np.ndarray, torch.Tensor)):
        return plain(value.tolist(), where)
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    raise InputError(f"{where} holds a {type(value).__name__}, which JSON cannot store",
                     fix="Pass numbers, strings, lists and dicts")


def data_hash(codes: np.ndarray, labels: np.ndarray | None) -> str:
    """SHA-256 of training data: the arrays' bytes, shapes and dtypes (order matters).

    Parameters
    ----------
    codes : numpy.ndarray, shape ``(N, L)``, dtype uint8
    labels : numpy.ndarray, shape ``(N,)`` or ``(N, C)``, or None

    Returns
    -------
    str
        64 hex digits, for ``config.json`` ``data.sha256``.

    Raises
    ------
    InputError
        On an object array or something that is not an array.
    """
    digest = hashlib.sha256(b"bioseq-data-v1\0")
    for name, array in (("codes", codes), ("labels", labels)):
        if array is None:
            digest.update(f"{name}:none;".encode())
            continue
        if isinstance(array, torch.Tensor):
            array = array.detach().cpu().numpy()
        if not isinstance(array, np.ndarray) or array.dtype == object:
            raise InputError(f"{name} must be a numeric numpy array, got {type(array).__name__}")
        digest.update(f"{name}:{array.dtype.str}:{array.shape};".encode())
        rows = array.reshape(array.shape[0], -1) if array.ndim else array.reshape(1, 1)
        step = max(1, (1 << 24) // max(1, rows.shape[1] * array.itemsize))  # ~16 MB per update
        for start in range(0, rows.shape[0], step):
            digest.update(np.ascontiguousarray(rows[start:start + step]))
    return digest.hexdigest()
