"""Everything :func:`~bioseq.bundle.load_bundle` checks before it reads a tensor.

A bundle is untrusted data, so it is checked in this order, each check
bounded, and the first failure is one :class:`~bioseq.errors.InputError`
naming the bundle (:mod:`bioseq.bundle.format` has the bounds):

1. ``config.json``: a regular file inside the bundle, at most
   ``MAX_CONFIG_BYTES``, valid JSON; its format, version, task, classes
   (at most ``MAX_OUTPUTS``) and ``input.length`` (at most ``MAX_LENGTH``).
2. ``metrics.json``, when there is one: the same, at most ``MAX_METRICS_BYTES``.
3. An ensemble: ``members`` from 2 to ``MAX_MEMBERS``; each ``members/<i>``
   a directory inside the ensemble, checked from step 1 (a member that is
   itself an ensemble is refused before its members are looked at), with the
   ensemble's task and classes; the members' tensors together at most
   ``MAX_WEIGHT_BYTES``.
4. A model: its name and options (every size bounded, see
   :mod:`bioseq.models.registry`), ``n_outputs`` against the classes; its
   kind gives the name, dtype and shape of each tensor from the options
   alone (a network is built on the meta device: no memory), which together
   take at most ``MAX_WEIGHT_BYTES``.
5. ``model.safetensors``: a regular file inside the bundle whose header (at
   most ``MAX_HEADER_BYTES``, read without the tensors) lists exactly those
   tensors, dtypes and shapes.

Nothing here unpickles or reads a tensor.
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

from bioseq.bundle import ENSEMBLE
from bioseq.bundle.format import (
    CONFIG,
    INCONSISTENT,
    MAX_CONFIG_BYTES,
    MAX_MEMBERS,
    MAX_METRICS_BYTES,
    METRICS,
    TensorSpec,
    bundle_path,
    check_config,
    check_total_bytes,
    check_weight_bytes,
    compare_tensors,
    read_header,
    read_json,
)
from bioseq.errors import InputError
from bioseq.models.kinds import n_outputs_of
from bioseq.models.registry import model_kind

__all__ = ["Checked", "check_bundle"]


@dataclasses.dataclass(frozen=True)
class Checked:
    """A bundle whose files, config and weights header passed every check; no tensor is read yet.

    Attributes
    ----------
    root : pathlib.Path
        The bundle directory (a member's: ``ENSEMBLE/members/<i>``).
    config, metrics : dict, dict or None
        The parsed ``config.json`` and ``metrics.json``.
    tensors : dict of str to (str, tuple of int)
        Safetensors dtype name and shape of each tensor (empty for an ensemble).
    nbytes : int
        Bytes of its tensors (an ensemble: its members' together).
    members : tuple of Checked
        An ensemble's members.
    """

    root: Path
    config: dict
    metrics: dict | None
    tensors: dict[str, TensorSpec]
    nbytes: int
    members: tuple[Checked, ...] = ()


def check_bundle(root: Path, *, member: bool = False) -> Checked:
    """Check the bundle directory ``root`` as the module docstring says, reading no tensor.

    Parameters
    ----------
    root : pathlib.Path
        An existing directory.
    member : bool, default False
        Whether ``root`` is an ensemble's member (which may not be an ensemble).

    Returns
    -------
    Checked

    Raises
    ------
    MissingFileError
        When ``config.json``, ``model.safetensors`` or a member is missing.
    InputError
        On the first check that fails (see the module docstring).
    """
    config = read_json(root, CONFIG, MAX_CONFIG_BYTES)
    name, options = check_config(config, root)
    metrics = read_json(root, METRICS, MAX_METRICS_BYTES) if os.path.lexists(root / METRICS) else None
    if name == ENSEMBLE:
        if member:  # refused before its own members are looked at: no nesting, no loops
            raise InputError(
                "an ensemble member is itself an ensemble", path=root, fix="Save the ensemble again with save_ensemble"
            )
        members = _check_members(root, config, options)
        nbytes = sum(m.nbytes for m in members)
        check_total_bytes(nbytes, root, f"the {len(members)} ensemble members together")
        return Checked(root, config, metrics, {}, nbytes, members)
    expected = _expected_tensors(root, name, options, config)
    _check_output_layout(root, name, options, config)
    nbytes = check_weight_bytes(expected, root, f"config.json: model {name!r} with these options")
    compare_tensors(expected, read_header(root), root, INCONSISTENT)
    return Checked(root, config, metrics, expected, nbytes)


def _expected_tensors(root: Path, name: str, options: dict, config: dict) -> dict[str, TensorSpec]:
    """Dtype and shape of each tensor the config describes (from the options alone; nothing is allocated)."""
    try:
        kind = model_kind(name)
        return kind.expected_arrays(
            options, task=config["task"], n_outputs=n_outputs_of(config["task"], len(config["classes"]))
        )
    except (InputError, TypeError) as exc:
        problem = exc.problem if isinstance(exc, InputError) else str(exc)
        raise InputError(f"config.json: {problem}", path=root, fix=getattr(exc, "fix", None)) from None


def _check_output_layout(root: Path, name: str, options: dict, config: dict) -> None:
    """A per-position kind needs task ``per_position`` and the ``input.flank`` of its options, and only it."""
    kind = model_kind(name)
    flank = config["input"].get("flank", 0)
    if kind.per_position != (config["task"] == "per_position") or (kind.per_position and flank != kind.flank(options)):
        raise InputError(
            f"config.json: model {name!r} and task {config['task']!r} with input.flank {flank} disagree",
            path=root,
            fix="Save the bundle again with save_bundle",
        )


def _check_members(root: Path, config: dict, options: dict) -> tuple[Checked, ...]:
    count = options.get("members")
    if isinstance(count, bool) or not isinstance(count, int) or not 2 <= count <= MAX_MEMBERS:
        raise InputError(
            f"config.json: an ensemble needs 'members' >= 2 and <= {MAX_MEMBERS}, got {count!r}",
            path=root,
            fix="Save the ensemble again with save_ensemble",
        )
    members = []
    for i in range(count):
        bundle_path(root, f"members/{i}", directory=True)  # a real directory inside the ensemble
        member = check_bundle(root / "members" / str(i), member=True)
        spec = member.config
        if (
            (spec["task"], spec["classes"]) != (config["task"], config["classes"])
            or spec["input"]["length"] not in (None, config["input"]["length"])
            or spec["input"].get("flank", 0) != config["input"].get("flank", 0)
        ):
            raise InputError(
                "this ensemble member's task, classes, length or flank differ from the ensemble's config.json",
                path=member.root,
                fix="Save the ensemble again with save_ensemble",
            )
        members.append(member)
    return tuple(members)
