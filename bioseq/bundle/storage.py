"""Writing and reading bundle directories (atomically; JSON and safetensors only)."""

from __future__ import annotations

import datetime
import json
import os
import platform
import secrets
import shutil
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import torch
from torch import nn

from bioseq import __version__
from bioseq.errors import InputError, MissingFileError
from bioseq.models.kmer_baseline import MODEL_NAME as KMER_MODEL, KmerLogisticBaseline
from bioseq.models.registry import ModelConfig, build_model, config_to_dict, make_config
from bioseq.bundle.format import (
    ALPHABET, CONFIG, FORMAT, FORMAT_VERSION, INCONSISTENT, METRICS, WEIGHTS, check_classes, check_config,
    check_length, compare_shapes, plain, read_json, read_weights,
)
from bioseq.bundle.predictor import ENSEMBLE, Bundle, Ensemble, as_device

__all__ = ["save_bundle", "save_ensemble", "combine_bundles", "load_bundle"]


def save_bundle(directory: str | os.PathLike, *, model: nn.Module | KmerLogisticBaseline, model_name: str,
                model_options: Mapping[str, Any] | ModelConfig | None, task: str, classes: Sequence[str],
                length: int | None, training: Mapping[str, Any] | None = None,
                data: Mapping[str, Any] | None = None, metrics: Mapping[str, Any] | None = None) -> Path:
    """Save a trained model as a bundle directory, atomically.

    The files are written into a temporary sibling directory that is renamed
    to ``directory`` when complete; an existing bundle there is replaced only then.

    Parameters
    ----------
    directory : str or os.PathLike
        The bundle to create or replace (an existing directory must be a
        bundle or empty).
    model : torch.nn.Module or KmerLogisticBaseline
        The trained model (any device).
    model_name : str
        Its registry name, or ``"kmer_logistic"`` for the baseline.
    model_options : mapping or ModelConfig or None
        The options it was built with (checked against the registry); for
        the baseline ``None`` or its :meth:`~KmerLogisticBaseline.options`.
    task : {"binary", "multiclass", "multilabel"}
    classes : sequence of str
        Class names in output order (2 for binary, 3+ for multiclass).
    length : int or None
        Fixed input width used in training, or ``None`` for variable width.
    training, data, metrics : mapping, optional
        Hyperparameters, ``{"sha256", "n_train", "n_valid"}`` (see
        :func:`data_hash`) and metrics; JSON-ready values (numpy scalars and
        arrays are converted, NaN becomes null).

    Returns
    -------
    pathlib.Path
        ``directory``.

    Raises
    ------
    InputError
        On a model that does not match ``model_name``/``model_options`` (the
        first mismatching tensor is named), ``n_outputs`` that do not fit the
        task and classes, bad classes or length, values JSON cannot hold, or
        a ``directory`` that is a file or a non-empty non-bundle directory.
    """
    target = Path(directory)
    classes = check_classes(task, classes, None)
    length = check_length(length, None)
    n_outputs = 1 if task == "binary" else len(classes)
    if model_name == KMER_MODEL:
        options, weights = _baseline_weights(model, model_options, task, n_outputs)
    else:
        options, weights = _torch_weights(model, model_name, model_options, n_outputs)
    config = _bundle_config({"name": model_name, "options": options}, task, classes, length, training, data)
    texts = {CONFIG: json.dumps(config, indent=2, allow_nan=False) + "\n"}
    if metrics is not None:
        texts[METRICS] = json.dumps(plain(metrics, "metrics"), indent=2, allow_nan=False) + "\n"
    _write_directory(target, weights, texts)
    return target


def combine_bundles(members: Sequence[str | os.PathLike | Bundle], *, training: Mapping[str, Any] | None = None,
                    data: Mapping[str, Any] | None = None, path: str | os.PathLike = ".") -> Bundle:
    """Check several bundles and combine them, in memory, into one that averages them.

    The result predicts exactly what :func:`save_ensemble` followed by
    :func:`load_bundle` would (score it before writing anything).

    Parameters
    ----------
    members : sequence of path or Bundle
        Two or more bundles (or run directories, loaded on the CPU), none of
        them an ensemble, with the same task and classes. Their fixed input
        widths must agree; a member that reads any width (the k-mer baseline)
        fits any.
    training, data : mapping, optional
        As for :func:`save_bundle`.
    path : str or os.PathLike, default "."
        The :attr:`Bundle.path` of the result (where it will be saved).

    Returns
    -------
    Bundle
        ``model`` is an :class:`Ensemble` of the member bundles; ``config``
        is the ``config.json`` :func:`save_ensemble` writes.

    Raises
    ------
    InputError
        On fewer than two members, a member that does not load or is itself
        an ensemble, or members that disagree on task, classes or input
        width (the member is named).
    """
    count = 1 if isinstance(members, (str, os.PathLike, Bundle)) else len(members)
    if count < 2:
        raise InputError(f"an ensemble needs two or more members, got {count}",
                         fix="Pass two or more training run or bundle directories")
    loaded = [member if isinstance(member, Bundle) else load_bundle(member) for member in members]
    first = loaded[0]
    for bundle in loaded:
        if bundle.model_name == ENSEMBLE:
            raise InputError("this ensemble member is itself an ensemble", path=bundle.path,
                             fix=f"Pass its members ({bundle.path / 'members'}/0, 1, ...) instead")
        _check_member(first, bundle)
    widths = {bundle.length for bundle in loaded} - {None}
    if len(widths) > 1:
        wide = next(b for b in loaded if b.length == max(widths))
        raise InputError(f"this ensemble member reads windows of {wide.length} bases, but another reads "
                         f"{min(widths)}", path=wide.path, fix="Ensemble only bundles trained on the same data")
    names = [bundle.model_name for bundle in loaded]
    member_model = names[0] if len(set(names)) == 1 else "+".join(names)
    model = {"name": ENSEMBLE, "options": {"members": len(loaded), "member_model": member_model}}
    config = _bundle_config(model, first.task, first.classes, widths.pop() if widths else None, training, data)
    return Bundle(model=Ensemble(tuple(loaded)), config=config, path=Path(path))


def save_ensemble(directory: str | os.PathLike, members: Sequence[str | os.PathLike | Bundle], *,
                  training: Mapping[str, Any] | None = None, data: Mapping[str, Any] | None = None,
                  metrics: Mapping[str, Any] | None = None) -> Path:
    """Save several bundles as one bundle that averages their probabilities.

    The members are seeds of one model (``bioseq train --ensemble``) or
    different models trained on the same data (``bioseq ensemble``: say an
    LSTM, a Transformer and a CNN). They are copied into
    ``directory/members/0, 1, ...``, so the ensemble moves as one directory;
    it is written atomically like :func:`save_bundle`.
    :meth:`Bundle.predict_proba` of the loaded ensemble is the mean of its
    members' probabilities. ``model.options.member_model`` is the members'
    model name, or their names joined by ``+`` in member order when they differ.

    Parameters
    ----------
    directory : str or os.PathLike
        The ensemble bundle to create or replace.
    members : sequence of path or Bundle
        As for :func:`combine_bundles` (a loaded member is copied from its
        :attr:`Bundle.path`).
    training, data, metrics : mapping, optional
        As for :func:`save_bundle`.

    Returns
    -------
    pathlib.Path
        ``directory``.

    Raises
    ------
    InputError
        As :func:`combine_bundles` does.
    """
    target = Path(directory)
    ensemble = combine_bundles(members, training=training, data=data, path=target)

    def fill(tmp: Path) -> None:
        for i, bundle in enumerate(ensemble.model.members):
            shutil.copytree(bundle.path, tmp / "members" / str(i))
        (tmp / CONFIG).write_text(json.dumps(ensemble.config, indent=2, allow_nan=False) + "\n", encoding="utf-8")
        if metrics is not None:
            (tmp / METRICS).write_text(json.dumps(plain(metrics, "metrics"), indent=2, allow_nan=False) + "\n",
                                       encoding="utf-8")

    _replace_directory(target, fill)
    return target


def _bundle_config(model: dict, task: str, classes, length, training, data) -> dict:
    """The ``config.json`` of a bundle (see :mod:`bioseq.bundle`)."""
    versions = {"bioseq": __version__, "torch": torch.__version__, "python": platform.python_version()}
    if model["name"] == KMER_MODEL:
        import sklearn
        versions["scikit-learn"] = sklearn.__version__
    return {
        "format": FORMAT, "format_version": FORMAT_VERSION, "model": model,
        "task": task, "classes": list(classes),
        "input": {"encoding": "codes", "length": length, "alphabet": ALPHABET},
        "training": plain(training or {}, "training"),
        "data": {"sha256": None, "n_train": None, "n_valid": None, **plain(data or {}, "data")},
        "versions": versions,
        "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
    }


def _check_member(first: Bundle, other: Bundle) -> None:
    for what in ("task", "classes"):
        if getattr(other, what) != getattr(first, what):
            raise InputError(f"this ensemble member has {what} {getattr(other, what)!r}, but "
                             f"{first.path} has {getattr(first, what)!r}", path=other.path,
                             fix="Ensemble only bundles trained on the same data")


def _baseline_weights(model, model_options, task: str, n_outputs: int):
    if not isinstance(model, KmerLogisticBaseline):
        raise InputError(f"model_name {KMER_MODEL!r} needs a KmerLogisticBaseline, got {type(model).__name__}")
    own = model.options()
    differ = [key for key, value in dict(model_options or {}).items() if own.get(key, object()) != value]
    if differ:
        raise InputError(f"model_options {differ[0]}={dict(model_options)[differ[0]]!r} differs from the "
                         f"model's own options {own}", fix="Pass model_options=None for the k-mer baseline")
    arrays = model.to_arrays()
    if model.task != task:
        raise InputError(f"the model was fitted for a {model.task} task, not {task!r}")
    compare_shapes(model.array_shapes(n_outputs), {k: v.shape for k, v in arrays.items()}, None,
                    "the model does not fit the classes")
    return model.options(), ("np", arrays)


def _torch_weights(model, model_name: str, model_options, n_outputs: int):
    if not isinstance(model, nn.Module):
        raise InputError(f"model must be a torch.nn.Module or KmerLogisticBaseline, got {type(model).__name__}")
    if isinstance(model_options, ModelConfig):
        config = model_options
    elif isinstance(model_options, Mapping):
        config = make_config(model_name, model_options)
    else:
        raise InputError(f"model_options must be a mapping or a ModelConfig, got {type(model_options).__name__}")
    options = config_to_dict(config)
    make_config(model_name, options)  # an unknown name or option raises here, with the choices
    if options.get("n_outputs") != n_outputs:
        raise InputError(f"model option n_outputs is {options.get('n_outputs')}, but the task and classes "
                         f"need {n_outputs}", fix="Use 1 for binary and the number of classes otherwise")
    tensors = {key: value.detach().to("cpu").contiguous().clone() for key, value in model.state_dict().items()}
    compare_shapes(_shapes_of(model_name, options), {k: tuple(v.shape) for k, v in tensors.items()}, None,
                    f"the model does not match model {model_name!r} with these model_options")
    return options, ("pt", tensors)


def _shapes_of(model_name: str, options: dict) -> dict[str, tuple]:
    """The state_dict shapes of a fresh model, built on the meta device where it can be (no memory)."""
    try:
        with torch.device("meta"):
            model = build_model(model_name, options)
    except (RuntimeError, NotImplementedError):  # a constructor that needs real values
        model = build_model(model_name, options)
    return {key: tuple(value.shape) for key, value in model.state_dict().items()}


def _write_directory(target: Path, weights: tuple[str, dict], texts: dict[str, str]) -> None:
    """Write the bundle files into a temporary sibling, then rename it over ``target``."""

    def fill(tmp: Path) -> None:
        kind, tensors = weights
        if kind == "pt":
            from safetensors.torch import save_file
        else:
            from safetensors.numpy import save_file
        save_file(tensors, tmp / WEIGHTS, metadata={"format": kind})
        for name, text in texts.items():
            (tmp / name).write_text(text, encoding="utf-8")

    _replace_directory(target, fill)


def _replace_directory(target: Path, fill) -> None:
    """Run ``fill(tmp)`` on a temporary sibling of ``target``, then rename it over ``target``."""
    if target.exists() and not target.is_dir():
        raise InputError("this is a file; a bundle is a directory", path=target, fix="Choose another path")
    if target.is_dir() and any(target.iterdir()) and not (target / CONFIG).is_file():
        raise InputError("the directory holds other files and no config.json; refusing to replace it",
                         path=target, fix="Choose a new directory, or empty this one")
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.parent / f".{target.name}.{secrets.token_hex(6)}.part"
    tmp.mkdir()  # the usual permissions (mkdtemp would make it private)
    try:
        fill(tmp)
        if target.exists():
            old = target.parent / f".{target.name}.old-{secrets.token_hex(4)}"
            os.rename(target, old)
            try:
                os.rename(tmp, target)
            except BaseException:
                os.rename(old, target)
                raise
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.rename(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def load_bundle(directory: str | os.PathLike, *, device: str | torch.device = "cpu") -> Bundle:
    """Load a bundle written by :func:`save_bundle` (JSON and safetensors only, no pickle).

    Parameters
    ----------
    directory : str or os.PathLike
        The bundle directory, or a run directory of ``bioseq train`` (its
        ``bundle/`` sub-directory is used).
    device : str or torch.device, default "cpu"
        Where to put the model; weights saved from a GPU load on the CPU.
        The k-mer baseline always runs on the CPU.

    Returns
    -------
    Bundle

    Raises
    ------
    MissingFileError
        When the directory, ``config.json`` or ``model.safetensors`` is missing.
    InputError
        On a config that is not a bioseq bundle, a newer ``format_version``,
        an unknown model or option, weights that do not match the config (the
        first mismatching tensor is named), a corrupt file, or an unavailable device.
    """
    root = Path(directory)
    if not (root / CONFIG).exists() and (root / "bundle" / CONFIG).exists():
        root = root / "bundle"  # a training run directory
    if not root.is_dir():
        raise (InputError if root.exists() else MissingFileError)(
            "this is not a bundle directory" if root.exists() else "the bundle directory does not exist",
            path=root, fix="Pass the directory that save_bundle (or 'bioseq train') wrote")
    target = as_device(device)
    config = read_json(root, CONFIG)
    name, options = check_config(config, root)
    metrics = read_json(root, METRICS) if (root / METRICS).exists() else None
    n_outputs = 1 if config["task"] == "binary" else len(config["classes"])
    if name == ENSEMBLE:
        return _load_ensemble(root, config, options, metrics, target)
    if name == KMER_MODEL:
        arrays = read_weights(root, "np")
        try:
            expected = KmerLogisticBaseline(**options).array_shapes(n_outputs)
        except (InputError, TypeError) as exc:
            raise InputError(f"config.json: bad {KMER_MODEL} options ({exc})", path=root) from None
        compare_shapes(expected, {k: v.shape for k, v in arrays.items()}, root, INCONSISTENT)
        model = KmerLogisticBaseline.from_arrays(arrays, options, task=config["task"])
    else:
        try:
            built = make_config(name, options)
            model = build_model(name, options)
        except InputError as exc:
            raise InputError(f"config.json: {exc.problem}", path=root, fix=exc.fix) from None
        if built.n_outputs != n_outputs:
            raise InputError(f"config.json: model option n_outputs is {built.n_outputs}, but task "
                             f"{config['task']!r} with {len(config['classes'])} classes needs {n_outputs}; "
                             + INCONSISTENT, path=root)
        tensors = read_weights(root, "pt")
        compare_shapes({k: tuple(v.shape) for k, v in model.state_dict().items()},
                        {k: tuple(v.shape) for k, v in tensors.items()}, root, INCONSISTENT)
        model.load_state_dict(tensors, strict=True)
        model.to(target).eval()
    return Bundle(model=model, config=config, path=root, metrics=metrics)


def _load_ensemble(root: Path, config: dict, options: dict, metrics, target) -> Bundle:
    count = options.get("members")
    if isinstance(count, bool) or not isinstance(count, int) or count < 2:
        raise InputError(f"config.json: an ensemble needs 'members' >= 2, got {count!r}", path=root)
    members = tuple(load_bundle(root / "members" / str(i), device=target) for i in range(count))
    for member in members:
        if member.model_name == ENSEMBLE:
            raise InputError("an ensemble member is itself an ensemble", path=member.path)
        if (member.task, member.classes) != (config["task"], tuple(config["classes"])) or \
                member.length not in (None, config["input"]["length"]):
            raise InputError("this ensemble member's task, classes or length differ from the ensemble's "
                             "config.json", path=member.path, fix="Save the ensemble again with save_ensemble")
    return Bundle(model=Ensemble(members), config=config, path=root, metrics=metrics)
