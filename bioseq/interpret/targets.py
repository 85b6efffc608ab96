"""Which model output an explanation explains: the target class and, for per-position models, the position.

Data contract
-------------
A *target* is a class of the bundle (:attr:`bioseq.bundle.Bundle.classes`),
named or indexed; :func:`resolve_target` returns its index in ``classes``
and its name. What is explained is the target's *logit*:

``binary``
    The model's single logit (the positive class ``classes[1]``); the
    negative class ``classes[0]`` is explained by minus that logit.
``multiclass``, ``multilabel``
    The logit of that class (output column ``index``).
``per_position``
    The logit of that class at output position ``position`` (0-based over
    the ``L - 2 * flank`` central positions: output position ``j`` scores
    input position ``flank + j``); :func:`resolve_position` checks it and
    defaults to the centre of the output.

:func:`target_logit` and :func:`target_score` pick that output from a batch
of logits (numpy or torch, any leading batch size) or of probabilities.
This module imports neither torch nor captum.
"""

from __future__ import annotations

from bioseq.checks import is_integer
from bioseq.errors import InputError, option

__all__ = ["BACKGROUND", "resolve_target", "resolve_position", "target_logit", "target_score"]

BACKGROUND = frozenset({"background", "neither", "none", "negative", "neg", "n", "other", "no", "false"})
"""Class names (lowercased) that the default target of a multiclass or per-position model skips."""


def resolve_target(bundle, target: str | int | None) -> tuple[int, str]:
    """The index in ``bundle.classes`` and the name of the class to explain.

    Parameters
    ----------
    bundle : bioseq.bundle.Bundle
    target : str, int or None
        A class name, or its index in ``bundle.classes``. None: the positive
        class ``classes[1]`` of a binary model, the first label of a
        multilabel one, else the first class whose name is not in
        :data:`BACKGROUND` (the first class when all are).

    Returns
    -------
    tuple of (int, str)

    Raises
    ------
    InputError
        On an unknown name or an index out of range (the message lists the classes).
    """
    classes = tuple(bundle.classes)
    listed = ", ".join(map(repr, classes))
    if target is None:
        if bundle.task == "binary":
            return 1, classes[1]
        if bundle.task == "multilabel":
            return 0, classes[0]
        index = next((i for i, name in enumerate(classes) if name.lower() not in BACKGROUND), 0)
        return index, classes[index]
    if isinstance(target, str):
        if target not in classes:
            raise InputError(
                f"target class {target!r} is not a class of this model, whose classes are {listed}",
                path=getattr(bundle, "path", None),
                fix=option("target", "CLASS", clause="Name one of them ({})"),
            )
        return classes.index(target), target
    if not is_integer(target) or not 0 <= int(target) < len(classes):
        raise InputError(
            f"target must be a class name or an index 0..{len(classes) - 1}, got {target!r} (classes: {listed})",
            path=getattr(bundle, "path", None),
            fix=option("target", "CLASS", clause="Name one of the classes ({})"),
        )
    return int(target), classes[int(target)]


def resolve_position(bundle, length: int, position: int | None) -> int | None:
    """The output position whose logit a per-position model explains (None for other models).

    Parameters
    ----------
    bundle : bioseq.bundle.Bundle
    length : int
        Width ``L`` of the input codes.
    position : int or None
        0-based over the ``L - 2 * flank`` output positions; None: the centre,
        ``(L - 2 * flank) // 2``. Must be None for a model of one output per sequence.

    Returns
    -------
    int or None

    Raises
    ------
    InputError
        On a position given to a model of one output per sequence, or out of range.
    """
    if not bundle.per_position:
        if position is not None:
            raise InputError(
                "position applies only to a per-position model; this one gives one output per sequence",
                path=getattr(bundle, "path", None),
                fix=option("position", "J", clause="Drop {}", otherwise="Drop the position"),
            )
        return None
    outputs = length - 2 * bundle.flank
    if outputs < 1:
        raise InputError(
            f"the codes are {length} positions wide, but this per-position model reads {bundle.flank} bases of "
            f"context on each side, so it needs more than {2 * bundle.flank}",
            path=getattr(bundle, "path", None),
        )
    if position is None:
        return outputs // 2
    if not is_integer(position) or not 0 <= int(position) < outputs:
        raise InputError(
            f"position must be an output position 0..{outputs - 1} (input position flank + position, flank "
            f"{bundle.flank}), got {position!r}",
            path=getattr(bundle, "path", None),
            fix=option("position", "J", clause="Pass {} in range, or leave it unset for the centre"),
        )
    return int(position)


def target_logit(logits, bundle, index: int, position: int | None):
    """The target's logit of each row: ``(B, n_outputs)`` or ``(B, L', n_outputs)`` -> ``(B,)``.

    Works on numpy arrays and torch tensors alike (see the module docstring for what is picked).
    """
    if position is not None:
        logits = logits[:, position]  # (B, n_outputs)
    if bundle.task == "binary":
        return logits[:, 0] if index == 1 else -logits[:, 0]
    return logits[:, index]


def target_score(proba, bundle, index: int, position: int | None):
    """The target's probability of each row, from :meth:`Bundle.predict_proba`'s output -> ``(N,)``."""
    if bundle.task == "binary":
        return proba if index == 1 else 1 - proba
    if position is not None:
        proba = proba[:, position]  # (N, C)
    return proba[:, index]
