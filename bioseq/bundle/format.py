"""The bundle format: file names, config checks, bounded reads and the training-data hash.

See :mod:`bioseq.bundle` for the layout. Everything here reads or checks
JSON and safetensors; nothing is ever unpickled.

A bundle is untrusted data (bundles are shared between users of a
cluster), so every read is bounded and stays inside the bundle:

- each file (``config.json``, ``model.safetensors``, ``metrics.json``) and
  each ``members/<i>`` must resolve to a regular file (a directory) strictly
  inside the resolved bundle directory: a symlink that leaves the bundle, a
  broken or looping symlink, or a FIFO or device in place of a file (whose
  read would hang) is refused (:func:`bundle_path`);
- ``config.json`` holds at most ``MAX_CONFIG_BYTES`` (1 MiB),
  ``metrics.json`` ``MAX_METRICS_BYTES`` (64 MiB); JSON nested too deeply
  for the parser is refused, not a traceback;
- ``input.length`` is at most :data:`bioseq.models.registry.MAX_LENGTH`
  bases and a bundle has at most :data:`~bioseq.models.registry.MAX_OUTPUTS`
  classes; model options have their own bounds (:mod:`bioseq.models.registry`);
- the JSON header of ``model.safetensors`` holds at most
  ``MAX_HEADER_BYTES`` (16 MiB); the tensors the config describes, and so
  the weights that agree with it, take at most ``MAX_WEIGHT_BYTES`` (2 GiB,
  an ensemble's members together);
- an ensemble has at most ``MAX_MEMBERS`` (64) members.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import stat
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from bioseq import __version__
from bioseq.errors import InputError, MissingFileError
from bioseq.models.registry import MAX_LENGTH, MAX_OUTPUTS

__all__ = [
    "FORMAT",
    "FORMAT_VERSION",
    "ALPHABET",
    "WEIGHTS",
    "CONFIG",
    "METRICS",
    "data_hash",
    "MAX_CONFIG_BYTES",
    "MAX_METRICS_BYTES",
    "MAX_HEADER_BYTES",
    "MAX_WEIGHT_BYTES",
    "MAX_MEMBERS",
]

FORMAT = "bioseq-bundle"
FORMAT_VERSION = 1
ALPHABET = "bioseq-codes-v1"
WEIGHTS, CONFIG, METRICS = "model.safetensors", "config.json", "metrics.json"
FILES = (CONFIG, WEIGHTS, METRICS)
"""The files of a bundle (``metrics.json`` optional); an ensemble adds ``members/<i>``."""
TASKS = ("binary", "multiclass", "multilabel", "per_position")
INCONSISTENT = "the bundle is inconsistent (was config.json edited, or the weights replaced?)"

MAX_CONFIG_BYTES = 1 << 20  # config.json: 1 MiB
MAX_METRICS_BYTES = 64 << 20  # metrics.json: 64 MiB
MAX_HEADER_BYTES = 16 << 20  # the JSON header of model.safetensors: 16 MiB (~100,000 tensors)
MAX_WEIGHT_BYTES = 2 << 30  # the tensors of a bundle (an ensemble's members together): 2 GiB
MAX_MEMBERS = 64  # members of an ensemble

SAFETENSORS_DTYPES = {
    torch.float64: "F64",
    torch.float32: "F32",
    torch.float16: "F16",
    torch.bfloat16: "BF16",
    torch.int64: "I64",
    torch.int32: "I32",
    torch.int16: "I16",
    torch.int8: "I8",
    torch.uint8: "U8",
    torch.bool: "BOOL",
}
"""The dtype names of a safetensors header."""

TensorSpec = tuple[str, tuple[int, ...]]
"""A tensor's safetensors dtype name and shape."""


def bundle_path(root: Path, name: str, *, directory: bool = False) -> Path:
    """``root / name`` resolved, once it is known to be a regular file (directory) inside ``root``.

    Parameters
    ----------
    root : pathlib.Path
        The bundle directory.
    name : str
        A path relative to ``root``, e.g. ``"config.json"`` or ``"members/1"``.
    directory : bool, default False
        Whether a directory is expected rather than a regular file.

    Returns
    -------
    pathlib.Path
        The resolved path, strictly inside the resolved ``root``.

    Raises
    ------
    MissingFileError
        When nothing is there.
    InputError
        On a symlink that leaves the bundle (or leads back to it), a broken
        or looping symlink, or something else than a regular file (directory):
        a FIFO or device, whose read would hang or never end.
    """
    path = root / name
    if not os.path.lexists(path):
        raise MissingFileError(
            f"the bundle has no {name}",
            path=root,
            fix="Save it again; a bundle holds config.json and model.safetensors",
        )
    try:
        real, base = path.resolve(strict=True), root.resolve(strict=True)
        mode = os.stat(real).st_mode
    except (OSError, RuntimeError) as exc:  # a broken link; a loop (RuntimeError before Python 3.13)
        raise InputError(
            f"{name} is a symlink that cannot be followed ({type(exc).__name__})",
            path=root,
            fix="Replace it by the file itself, or save the bundle again",
        ) from None
    if real == base or not real.is_relative_to(base):
        raise InputError(
            f"{name} leads outside the bundle directory (to {real}); a bundle's files must lie inside it",
            path=root,
            fix="Replace the symlink by a copy, or save the bundle again",
        )
    if (stat.S_ISDIR if directory else stat.S_ISREG)(mode):
        return real
    raise InputError(
        f"{name} is a {_kind(mode)}, not a {'directory' if directory else 'regular file'}",
        path=root,
        fix="Replace it, or save the bundle again",
    )


def _kind(mode: int) -> str:
    kinds = (
        (stat.S_ISDIR, "directory"),
        (stat.S_ISREG, "regular file"),
        (stat.S_ISFIFO, "named pipe (FIFO)"),
        (stat.S_ISCHR, "character device"),
        (stat.S_ISBLK, "block device"),
        (stat.S_ISSOCK, "socket"),
    )
    return next((kind for test, kind in kinds if test(mode)), "special file")


def read_bytes(path: Path, limit: int, *, root: Path, name: str, whole: bool = True) -> bytes:
    """Up to ``limit`` bytes of the regular file ``path``; with ``whole``, refuse a longer file.

    The file is opened without blocking and checked on the open handle, so a
    FIFO put in its place after :func:`bundle_path` looked still cannot hang.
    """
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError as exc:
        raise InputError(f"{name} cannot be opened ({exc.strerror})", path=root) from None
    with os.fdopen(fd, "rb") as handle:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise InputError(
                f"{name} is a {_kind(info.st_mode)}, not a regular file",
                path=root,
                fix="Replace it, or save the bundle again",
            )
        data = b"" if whole and info.st_size > limit else handle.read(limit + 1 if whole else limit)
    if whole and (info.st_size > limit or len(data) > limit):
        raise InputError(
            f"{name} is larger than the {limit:,} bytes a bundle's {name} may hold",
            path=root,
            fix="Save the bundle again with smaller metrics or training records",
        )
    return data


def read_json(root: Path, name: str, limit: int) -> dict:
    """The JSON object in ``root / name`` (at most ``limit`` bytes; see :func:`bundle_path`)."""
    data = read_bytes(bundle_path(root, name), limit, root=root, name=name)
    try:
        value = json.loads(data.decode("utf-8"))
    except ValueError as exc:  # JSONDecodeError, UnicodeDecodeError, an integer of over 4300 digits
        raise InputError(
            f"{name} is not valid JSON ({exc})", path=root, fix="Restore it or save the bundle again"
        ) from None
    except RecursionError:
        raise InputError(
            f"{name} nests lists or objects too deeply to be read", path=root, fix="Restore it or save the bundle again"
        ) from None
    if not isinstance(value, dict):
        raise InputError(f"{name} holds a {type(value).__name__}, not a JSON object", path=root)
    return value


def read_header(root: Path) -> dict[str, TensorSpec]:
    """The dtype and shape of each tensor in ``model.safetensors``, from its header only (no tensor is read).

    Raises
    ------
    MissingFileError, InputError
        As :func:`bundle_path` does; on a header longer than
        ``MAX_HEADER_BYTES`` or a file that is not safetensors.
    """
    path = bundle_path(root, WEIGHTS)
    start = read_bytes(path, 8, root=root, name=WEIGHTS, whole=False)
    size = int.from_bytes(start.ljust(8, b"\0"), "little")  # safetensors: u64 header size, then the JSON header
    if len(start) < 8 or size > MAX_HEADER_BYTES:
        why = f"{len(start)} bytes long" if len(start) < 8 else f"its header claims {size:,} bytes"
        raise InputError(
            f"{WEIGHTS} cannot be read ({why}; at most {MAX_HEADER_BYTES:,} header bytes are allowed)",
            path=root,
            fix="The file is corrupt or not safetensors; save the bundle again",
        )
    from safetensors import SafetensorError, safe_open

    try:
        with safe_open(path, framework="pt") as handle:
            names = handle.keys()
            return {key: (handle.get_slice(key).get_dtype(), tuple(handle.get_slice(key).get_shape())) for key in names}
    except (SafetensorError, OSError, ValueError, TypeError) as exc:
        raise InputError(
            f"{WEIGHTS} cannot be read ({exc})",
            path=root,
            fix="The file is corrupt or not safetensors; save the bundle again",
        ) from None


def read_weights(root: Path, kind: str) -> dict:
    """The tensors (``kind="pt"``) or numpy arrays (``"np"``) of ``model.safetensors``; check the header first."""
    path = bundle_path(root, WEIGHTS)
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
        raise InputError(
            f"{WEIGHTS} cannot be read ({exc})",
            path=root,
            fix="The file is corrupt or not safetensors; save the bundle again",
        ) from None


def check_config(config: dict, root: Path) -> tuple[str, dict]:
    """Check the fields :func:`load_bundle` relies on; return the model name and options."""
    if config.get("format") != FORMAT:
        raise InputError(
            f"config.json has format {config.get('format')!r}, not {FORMAT!r}: this is not a bioseq model bundle",
            path=root,
            fix="Pass a directory written by save_bundle or 'bioseq train'",
        )
    version = config.get("format_version")
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise InputError(f"config.json has format_version {version!r}, not a positive integer", path=root)
    if version > FORMAT_VERSION:
        raise InputError(
            f"the bundle has format_version {version}, but this bioseq ({__version__}) reads "
            f"version {FORMAT_VERSION} at most",
            path=root,
            fix="Upgrade bioseq",
        )
    model = config.get("model")
    if not (isinstance(model, dict) and isinstance(model.get("name"), str) and isinstance(model.get("options"), dict)):
        raise InputError('config.json needs "model": {"name": ..., "options": {...}}', path=root)
    check_classes(config.get("task"), config.get("classes"), root)
    spec = config.get("input")
    if not (isinstance(spec, dict) and spec.get("encoding") == "codes" and spec.get("alphabet") == ALPHABET):
        raise InputError(
            f"config.json input must have encoding 'codes' and alphabet {ALPHABET!r}, got {spec!r}",
            path=root,
            fix="This bioseq reads only models of uint8 base codes",
        )
    check_length(spec.get("length"), root)
    check_flank(spec.get("flank", 0), config["task"], root)
    if "site_pairing" in config:
        check_site_pairing(config, root)
    return model["name"], model["options"]


def check_site_pairing(config: dict, root: Path | None):
    """The bundle's second stage (:class:`bioseq.models.site_pairing.SitePairing`), checked against its classes."""
    from bioseq.models.site_pairing import SitePairing

    if config.get("task") != "per_position":
        raise InputError("config.json: site_pairing is for per-position models only", path=root)
    try:
        pairing = SitePairing.from_dict(config["site_pairing"])
    except InputError as exc:
        raise InputError(f"config.json: {exc.problem}", path=root, fix=exc.fix) from None
    if pairing.classes != tuple(config["classes"]):
        raise InputError(
            f"config.json: site_pairing was fitted for classes {list(pairing.classes)}, the model has "
            f"{config['classes']}",
            path=root,
            fix=INCONSISTENT,
        )
    return pairing


def check_classes(task, classes, root: Path | None) -> tuple[str, ...]:
    where = "config.json: " if root is not None else ""
    if task not in TASKS:
        raise InputError(f"{where}task must be one of {', '.join(TASKS)}, got {task!r}", path=root)
    if isinstance(classes, str) or not isinstance(classes, Sequence):
        raise InputError(f"{where}classes must be a list of class names, got {classes!r}", path=root)
    classes = tuple(classes)
    if not all(isinstance(c, str) and c for c in classes) or len(set(classes)) != len(classes):
        raise InputError(f"{where}classes must be distinct non-empty strings, got {list(classes)!r}", path=root)
    need = {
        "binary": len(classes) == 2,
        "multiclass": len(classes) >= 3,
        "multilabel": len(classes) >= 1,
        "per_position": len(classes) >= 2,
    }[task]
    if not need:
        raise InputError(
            f"{where}task {task!r} cannot have {len(classes)} classes",
            path=root,
            fix="binary needs 2 classes, multiclass 3 or more, multilabel 1 or more, per_position 2 or more "
            "(the first is the background, e.g. neither, acceptor, donor)",
        )
    if len(classes) > MAX_OUTPUTS:
        raise InputError(
            f"{where}classes holds {len(classes)} names, more than the {MAX_OUTPUTS} a model may predict", path=root
        )
    return classes


def check_length(length, root: Path | None) -> int | None:
    where = "config.json: input." if root else ""
    if length is not None and (isinstance(length, bool) or not isinstance(length, (int, np.integer)) or length < 1):
        raise InputError(f"{where}length must be a positive integer or null, got {length!r}", path=root)
    if length is not None and length > MAX_LENGTH:
        raise InputError(
            f"{where}length is {length} bases, more than the {MAX_LENGTH} a model may read",
            path=root,
            fix="Train on shorter windows, or set length to null for any width",
        )
    return None if length is None else int(length)


def check_flank(flank, task: str, root: Path | None) -> int:
    """``input.flank``: the context bases per side a per-position model crops from its output (0 otherwise)."""
    where = "config.json: input." if root else ""
    if isinstance(flank, bool) or not isinstance(flank, (int, np.integer)) or not 0 <= flank <= MAX_LENGTH:
        raise InputError(f"{where}flank must be an integer from 0 to {MAX_LENGTH}, got {flank!r}", path=root)
    if flank and task != "per_position":
        raise InputError(f"{where}flank is {flank}, but a {task} model predicts one value per sequence", path=root)
    return int(flank)


def tensor_specs(tensors: Mapping[str, Any]) -> dict[str, TensorSpec]:
    """Safetensors dtype name and shape of each torch tensor (any device, meta included)."""
    return {
        key: (SAFETENSORS_DTYPES.get(value.dtype, str(value.dtype)), tuple(value.shape))
        for key, value in tensors.items()
    }


def check_weight_bytes(specs: Mapping[str, TensorSpec], root: Path | None, what: str) -> int:
    """The bytes ``specs`` take; raise when that is more than ``MAX_WEIGHT_BYTES``.

    Parameters
    ----------
    specs : mapping of str to (dtype name, shape)
    root : pathlib.Path or None
        The bundle, for the message.
    what : str
        What asks for them, e.g. ``"config.json: model 'lstm' with these options"``.
    """
    total = sum(_ITEMSIZE.get(dtype, 8) * math.prod(shape) for dtype, shape in specs.values())
    check_total_bytes(total, root, what)
    return total


def check_total_bytes(total: int, root: Path | None, what: str) -> None:
    """Raise when ``total`` bytes of tensors are more than ``MAX_WEIGHT_BYTES``."""
    if total > MAX_WEIGHT_BYTES:
        raise InputError(
            f"{what} needs {total:,} bytes of tensors, more than the {MAX_WEIGHT_BYTES:,} "
            "(MAX_WEIGHT_BYTES) a bundle may hold",
            path=root,
            fix="Use a smaller model, or check that config.json was not edited",
        )


_ITEMSIZE = {"F64": 8, "F32": 4, "F16": 2, "BF16": 2, "I64": 8, "I32": 4, "I16": 2, "I8": 1, "U8": 1, "BOOL": 1}


def compare_tensors(
    expected: Mapping[str, TensorSpec], found: Mapping[str, TensorSpec], root: Path | None, why: str
) -> None:
    """Raise naming the first tensor that is missing from ``found``, unexpected, or of another shape or dtype."""
    for key, (dtype, shape) in expected.items():
        if key not in found:
            raise InputError(f"tensor {key!r} is missing from the weights; {why}", path=root)
        if tuple(found[key][1]) != tuple(shape):
            raise InputError(
                f"tensor {key!r} has shape {tuple(found[key][1])} in the weights but {tuple(shape)} "
                f"in the model the config describes; {why}",
                path=root,
            )
        if found[key][0] != dtype:
            raise InputError(
                f"tensor {key!r} has dtype {found[key][0]} in the weights but {dtype} in the model "
                f"the config describes; {why}",
                path=root,
            )
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
    raise InputError(
        f"{where} holds a {type(value).__name__}, which JSON cannot store", fix="Pass numbers, strings, lists and dicts"
    )


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
            digest.update(np.ascontiguousarray(rows[start : start + step]))
    return digest.hexdigest()
