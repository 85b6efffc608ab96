"""What callers pass for a model, resolved: a :class:`Bundle` and the width of its genomic windows.

:func:`as_bundle` turns a bundle directory (or a training run directory) into
a loaded :class:`~bioseq.bundle.Bundle`; :func:`window_width` gives the
width in bp of the windows cut from a genome for it (its fixed input length
``L``, or the width the caller chose for a model that reads any width).
:mod:`bioseq.predict`, :mod:`bioseq.scan` and
:mod:`bioseq.evaluate.bundle_eval` share both.
"""

from __future__ import annotations

import os

from bioseq.bundle.predictor import Bundle
from bioseq.bundle.storage import load_bundle
from bioseq.checks import positive_integer
from bioseq.errors import InputError, option

__all__ = ["as_bundle", "window_width"]


PER_POSITION_COMMANDS = "bioseq annotate (tracks of a genome) or bioseq score-variants"
WINDOW_COMMANDS = "bioseq predict, bioseq scan or bioseq evaluate"


def as_bundle(bundle: Bundle | str | os.PathLike, *, device=None, per_position: bool | None = None) -> Bundle:
    """``bundle`` itself, or the bundle loaded from that directory onto ``device`` (default the CPU).

    Parameters
    ----------
    bundle : Bundle, str or os.PathLike
        A loaded bundle (returned as it is, wherever it lives), a bundle
        directory or a training run directory.
    device : str or torch.device, optional
        Where to load a bundle given as a directory.
    per_position : bool, optional
        What the caller serves: True only a per-position model, False only a
        model of one value per sequence, None either.

    Raises
    ------
    InputError
        When ``bundle`` is neither, is of the other kind than ``per_position``
        asks (the message names the commands that serve it), or as
        :func:`~bioseq.bundle.load_bundle`.
    """
    if isinstance(bundle, (str, os.PathLike)):
        bundle = load_bundle(bundle, device="cpu" if device is None else device)
    elif not isinstance(bundle, Bundle):
        raise InputError(f"bundle must be a Bundle or a bundle directory, got {type(bundle).__name__}")
    if per_position is not None and bundle.per_position != per_position:
        if bundle.per_position:
            problem = "this model predicts a class for every position, not one value per sequence"
            fix = f"Use {PER_POSITION_COMMANDS} with it"
        else:
            problem = "this model predicts one value per sequence, not a class for every position"
            fix = f"Use {WINDOW_COMMANDS} with it, or train a per-position model on a per-base dataset"
        raise InputError(problem, path=bundle.path, fix=fix)
    return bundle


def window_width(bundle: Bundle, length: int | None) -> int:
    """The window width for genomic intervals: the bundle's fixed length, or ``length``.

    Raises
    ------
    InputError
        When ``length`` is missing for a variable-width model, differs from a
        fixed-width model's length, or is not a positive integer.
    """
    if length is not None:
        length = positive_integer(length, "length")
    if bundle.length is None:
        if length is None:
            raise InputError(
                "the model reads sequences of any width, so the window width is not known",
                path=bundle.path,
                fix=option(
                    "length",
                    "N",
                    clause="Pass {} (the window width in bp)",
                    otherwise="Use a model trained on fixed-width windows (bioseq train --length N)",
                ),
            )
        return length
    if length is not None and length != bundle.length:
        raise InputError(
            f"{option('length', str(length))} differs from the {bundle.length} bp windows the model was trained on",
            path=bundle.path,
            fix=f"Leave out {option('length')} for this model",
        )
    return bundle.length
