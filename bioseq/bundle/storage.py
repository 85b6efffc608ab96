"""Writing and reading bundle directories (atomically; JSON and safetensors only)."""

from __future__ import annotations

import datetime
import json
import os
import platform
import shutil
import stat
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import torch

from bioseq import __version__
from bioseq.bundle.format import (
    ALPHABET,
    CONFIG,
    FILES,
    FORMAT,
    FORMAT_VERSION,
    INCONSISTENT,
    MAX_MEMBERS,
    METRICS,
    WEIGHTS,
    check_classes,
    check_length,
    check_site_pairing,
    check_total_bytes,
    check_weight_bytes,
    compare_tensors,
    plain,
    read_weights,
)
from bioseq.bundle.predictor import ENSEMBLE, Bundle, Ensemble, as_device
from bioseq.bundle.verify import Checked, check_bundle
from bioseq.errors import InputError, MissingFileError
from bioseq.io.atomic import atomic_directory
from bioseq.models.kinds import array_specs, n_outputs_of
from bioseq.models.registry import ModelConfig, model_kind
from bioseq.rundir import require_complete

__all__ = ["save_bundle", "save_ensemble", "combine_bundles", "load_bundle"]


def save_bundle(
    directory: str | os.PathLike,
    *,
    model: Any,
    model_name: str,
    model_options: Mapping[str, Any] | ModelConfig | None,
    task: str,
    classes: Sequence[str],
    length: int | None,
    training: Mapping[str, Any] | None = None,
    data: Mapping[str, Any] | None = None,
    metrics: Mapping[str, Any] | None = None,
) -> Path:
    """Save a trained model as a bundle directory, atomically.

    The files are written into a temporary sibling directory that is renamed
    to ``directory`` when complete; an existing bundle there is replaced only then.

    Parameters
    ----------
    directory : str or os.PathLike
        The bundle to create or replace (an existing directory must be a
        bundle or empty).
    model : object
        The trained model (any device): a ``torch.nn.Module`` for a neural
        network, or whatever its kind fits (:mod:`bioseq.models.kinds`).
    model_name : str
        Its registry name (:func:`bioseq.models.registry.model_kind`).
    model_options : mapping or ModelConfig or None
        The options it was built with, checked by its kind against the model
        and the task (for a kind fitted in one call, None takes the model's own).
    task : {"binary", "multiclass", "multilabel", "per_position"}
        ``per_position`` for a model that predicts a class per base (its kind says ``per_position``).
    classes : sequence of str
        Class names in output order (2 for binary, 3+ for multiclass, 2+ for per-position with the
        background first).
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
    kind = model_kind(model_name)
    if kind.per_position != (task == "per_position"):
        raise InputError(
            f"model {model_name!r} predicts "
            + ("a class per position" if kind.per_position else "one value per sequence")
            + f", but the task is {task!r}",
            fix="Use task 'per_position' for a per-position model and only for one",
        )
    n_outputs = n_outputs_of(task, len(classes))
    options = kind.bundle_options(model, model_options, task=task, n_outputs=n_outputs)
    arrays = kind.arrays(model)
    expected = kind.expected_arrays(options, task=task, n_outputs=n_outputs)
    compare_tensors(
        expected, array_specs(arrays), None, f"the model does not match model {model_name!r} with these model_options"
    )
    check_weight_bytes(expected, None, f"model {model_name!r}")  # load_bundle would refuse it
    flank = kind.flank(options) if kind.per_position else 0
    config = _bundle_config({"name": model_name, "options": options}, task, classes, length, training, data, flank)
    texts = {CONFIG: json.dumps(config, indent=2, allow_nan=False) + "\n"}
    if metrics is not None:
        texts[METRICS] = json.dumps(plain(metrics, "metrics"), indent=2, allow_nan=False) + "\n"
    _write_directory(target, (kind.weights_format, arrays), texts)
    return target


def combine_bundles(
    members: Sequence[str | os.PathLike | Bundle],
    *,
    training: Mapping[str, Any] | None = None,
    data: Mapping[str, Any] | None = None,
    path: str | os.PathLike = ".",
) -> Bundle:
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
        On fewer than two or more than ``MAX_MEMBERS`` (64) members, a
        member that does not load or is itself an ensemble, members whose
        tensors together take more than ``MAX_WEIGHT_BYTES`` (2 GiB), or
        members that disagree on task, classes or input width (the member is named).
    """
    count = 1 if isinstance(members, (str, os.PathLike, Bundle)) else len(members)
    if count < 2:
        raise InputError(
            f"an ensemble needs two or more members, got {count}",
            fix="Pass two or more training run or bundle directories",
        )
    if count > MAX_MEMBERS:
        raise InputError(
            f"an ensemble holds at most {MAX_MEMBERS} members, got {count}",
            fix="Pass fewer training run or bundle directories",
        )
    loaded, nbytes = [], 0
    for member in members:  # one at a time: at most one member beyond the bound is ever held
        bundle = member if isinstance(member, Bundle) else load_bundle(member)
        if bundle.model_name == ENSEMBLE:
            raise InputError(
                "this ensemble member is itself an ensemble",
                path=bundle.path,
                fix=f"Pass its members ({bundle.path / 'members'}/0, 1, ...) instead",
            )
        _check_member(loaded[0] if loaded else bundle, bundle)
        nbytes += model_kind(bundle.model_name).nbytes(bundle.model)
        check_total_bytes(nbytes, bundle.path, f"this and the {len(loaded)} ensemble members before it together")
        loaded.append(bundle)
    first = loaded[0]
    widths = {bundle.length for bundle in loaded} - {None}
    if len(widths) > 1:
        wide = next(b for b in loaded if b.length == max(widths))
        raise InputError(
            f"this ensemble member reads windows of {wide.length} bases, but another reads {min(widths)}",
            path=wide.path,
            fix="Ensemble only bundles trained on the same data",
        )
    names = [bundle.model_name for bundle in loaded]
    member_model = names[0] if len(set(names)) == 1 else "+".join(names)
    model = {"name": ENSEMBLE, "options": {"members": len(loaded), "member_model": member_model}}
    width = widths.pop() if widths else None
    config = _bundle_config(model, first.task, first.classes, width, training, data, first.flank)
    return Bundle(model=Ensemble(tuple(loaded)), config=config, path=Path(path))


def save_ensemble(
    directory: str | os.PathLike,
    members: Sequence[str | os.PathLike | Bundle],
    *,
    training: Mapping[str, Any] | None = None,
    data: Mapping[str, Any] | None = None,
    metrics: Mapping[str, Any] | None = None,
    site_pairing: Mapping[str, Any] | None = None,
) -> Path:
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
    site_pairing : mapping, optional
        For an ensemble of splice models: the second stage fitted on the
        ensemble's own predictions of held-out genes
        (:meth:`bioseq.models.site_pairing.SitePairing.to_dict`), kept in
        ``config.json`` as a trained bundle keeps its own.

    Returns
    -------
    pathlib.Path
        ``directory``.

    Raises
    ------
    InputError
        As :func:`combine_bundles` does, or on a ``site_pairing`` record that
        does not fit the members' task and classes.
    """
    target = Path(directory)
    ensemble = combine_bundles(members, training=training, data=data, path=target)
    for bundle in ensemble.model.members:
        _check_copyable(bundle.path)
    config = dict(ensemble.config)
    if site_pairing is not None:
        config["site_pairing"] = plain(site_pairing, "site_pairing")
        check_site_pairing(config, None)

    def fill(tmp: Path) -> None:
        for i, bundle in enumerate(ensemble.model.members):
            _copy_member(bundle.path, tmp / "members" / str(i))
        (tmp / CONFIG).write_text(json.dumps(config, indent=2, allow_nan=False) + "\n", encoding="utf-8")
        if metrics is not None:
            (tmp / METRICS).write_text(
                json.dumps(plain(metrics, "metrics"), indent=2, allow_nan=False) + "\n", encoding="utf-8"
            )

    _replace_directory(target, fill)
    return target


def _bundle_config(model: dict, task: str, classes, length, training, data, flank: int = 0) -> dict:
    """The ``config.json`` of a bundle (see :mod:`bioseq.bundle`); ``input.flank`` only for a per-position model."""
    versions = {"bioseq": __version__, "torch": torch.__version__, "python": platform.python_version()}
    if model["name"] != ENSEMBLE:
        versions.update(model_kind(model["name"]).versions())
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "model": model,
        "task": task,
        "classes": list(classes),
        "input": {
            "encoding": "codes",
            "length": length,
            "alphabet": ALPHABET,
            **({"flank": int(flank)} if task == "per_position" else {}),
        },
        "training": plain(training or {}, "training"),
        "data": {"sha256": None, "n_train": None, "n_valid": None, **plain(data or {}, "data")},
        "versions": versions,
        "created": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
    }


def _check_member(first: Bundle, other: Bundle) -> None:
    for what in ("task", "classes", "flank"):
        if getattr(other, what) != getattr(first, what):
            raise InputError(
                f"this ensemble member has {what} {getattr(other, what)!r}, but "
                f"{first.path} has {getattr(first, what)!r}",
                path=other.path,
                fix="Ensemble only bundles trained on the same data",
            )


def _check_copyable(source: Path) -> None:
    """Refuse an ensemble member directory that holds a symlink (its content could be anything, anywhere)."""
    with os.scandir(source) as entries:
        link = next((entry.name for entry in entries if entry.is_symlink()), None)
    if link is not None:
        raise InputError(
            f"this ensemble member holds a symlink ({link}); an ensemble copies only the regular files of its members",
            path=source,
            fix="Replace the symlink by a copy of the file, or save the member again",
        )


def _copy_member(source: Path, dest: Path) -> None:
    """Copy the bundle files of a member (and nothing else) into the new directory ``dest``, never through a link."""
    dest.mkdir(parents=True)
    for name in FILES:
        if name == METRICS and not os.path.lexists(source / name):
            continue
        flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
        try:
            fd = os.open(source / name, flags)
        except OSError as exc:  # ELOOP: a symlink put there since _check_copyable
            raise InputError(
                f"this ensemble member's {name} cannot be copied ({exc.strerror})",
                path=source,
                fix="Replace a symlink by a copy of the file, or save the member again",
            ) from None
        with os.fdopen(fd, "rb") as src:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                raise InputError(f"this ensemble member's {name} is not a regular file", path=source)
            with open(dest / name, "xb") as out:
                shutil.copyfileobj(src, out)


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
    """Run ``fill(tmp)`` on a temporary sibling of ``target``, then swap it in (:func:`atomic_directory`)."""
    if target.exists() and not target.is_dir():
        raise InputError("this is a file; a bundle is a directory", path=target, fix="Choose another path")
    if target.is_dir() and any(target.iterdir()) and not (target / CONFIG).is_file():
        raise InputError(
            "the directory holds other files and no config.json; refusing to replace it",
            path=target,
            fix="Choose a new directory, or empty this one",
        )
    with atomic_directory(target) as tmp:
        fill(tmp)


def load_bundle(
    directory: str | os.PathLike, *, device: str | torch.device = "cpu", complete_run: bool = True
) -> Bundle:
    """Load a bundle written by :func:`save_bundle` (JSON and safetensors only, no pickle).

    Parameters
    ----------
    directory : str or os.PathLike
        The bundle directory, or a run directory of ``bioseq train`` (its
        ``bundle/`` sub-directory is used).
    device : str or torch.device, default "cpu"
        Where to put the model; weights saved from a GPU load on the CPU.
        The k-mer baseline always runs on the CPU.
    complete_run : bool, default True
        Refuse the bundle of a training run directory that did not finish
        (:func:`bioseq.rundir.require_complete`); ``bioseq train`` passes
        False to score its own bundle before it marks the run complete.

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
        first mismatching tensor is named), a corrupt file, an unavailable device,
        or (``complete_run``) a training run that did not finish; on a size
        above its bound, a symlink that leaves the bundle, a FIFO or device
        in place of a file (:mod:`bioseq.bundle.verify` lists the checks, made
        before any tensor is read).
    """
    if complete_run:
        require_complete(directory)
    root = Path(directory)
    if not (root / CONFIG).exists() and (root / "bundle" / CONFIG).exists():
        root = root / "bundle"  # a training run directory
    if not root.is_dir():
        raise (InputError if root.exists() else MissingFileError)(
            "this is not a bundle directory" if root.exists() else "the bundle directory does not exist",
            path=root,
            fix="Pass the directory that save_bundle (or 'bioseq train') wrote",
        )
    target = as_device(device)
    return _materialize(check_bundle(root), target)


def _materialize(checked: Checked, target: torch.device) -> Bundle:
    """Read the weights of a checked bundle (its members') and build the model on ``target``."""
    root, config = checked.root, checked.config
    name, options = config["model"]["name"], config["model"]["options"]
    if name == ENSEMBLE:
        model = Ensemble(tuple(_materialize(member, target) for member in checked.members))
    else:
        kind = model_kind(name)
        arrays = read_weights(root, kind.weights_format)
        compare_tensors(checked.tensors, array_specs(arrays), root, INCONSISTENT)  # replaced since the check?
        model = kind.load(arrays, options, task=config["task"], device=target)
    return Bundle(model=model, config=config, path=root, metrics=checked.metrics)
