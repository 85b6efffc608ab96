"""How a trained model is run over many sequences: batch size, device, strand averaging, decision threshold.

:class:`InferenceOptions` is the one ``options`` parameter of
:func:`bioseq.predict.predict_sequences`, :func:`bioseq.predict.predict_file`,
:func:`bioseq.scan.scan_genome` and
:func:`bioseq.evaluate.bundle_eval.evaluate_bundle`; ``bioseq predict``,
``scan`` and ``evaluate`` build it from ``--batch-size``, ``--device``,
``--rc-average`` and ``--threshold`` (:func:`bioseq.cli.flags.inference_options`).
None of the options changes the probabilities except ``rc_average``; the
threshold only decides which class a probability predicts. Importing this
module does not import torch.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

import numpy as np

from bioseq.checks import boolean, check_threshold, positive_integer
from bioseq.errors import InputError

if TYPE_CHECKING:
    import torch

    from bioseq.bundle import Bundle

__all__ = ["InferenceOptions", "as_options"]


@dataclasses.dataclass(frozen=True, kw_only=True)
class InferenceOptions:
    """Settings of a model run that do not depend on the input; checked when made.

    Parameters
    ----------
    batch_size : int, default 256
        Sequences per forward pass; the probabilities do not depend on it.
    device : str or torch.device, optional
        ``"cpu"``, ``"cuda"``, ``"cuda:1"``, ``"mps"``; default the bundle's
        device (a bundle loaded from a directory is loaded onto this device,
        else onto the CPU). Availability is checked when the model runs.
    rc_average : bool, default False
        Average each sequence's prediction with that of its reverse complement.
    threshold : float, default 0.5
        A binary or multi-label model predicts a class when its probability is
        above this (multi-class takes the arg-max). Sets the ``predicted``
        column and the threshold-dependent metrics; scanning ignores it.

    Raises
    ------
    InputError
        On a batch size below 1 or not an integer, a device that is neither a
        string nor a ``torch.device``, a non-bool ``rc_average``, or a
        threshold outside (0, 1).

    Examples
    --------
    >>> InferenceOptions(batch_size=64, rc_average=True)
    InferenceOptions(batch_size=64, device=None, rc_average=True, threshold=0.5)
    """

    batch_size: int = 256
    device: str | torch.device | None = None
    rc_average: bool = False
    threshold: float = 0.5

    def __post_init__(self) -> None:
        set_ = object.__setattr__  # frozen: store the checked, normalised values
        set_(self, "batch_size", positive_integer(self.batch_size, "batch_size"))
        set_(self, "rc_average", boolean(self.rc_average, "rc_average"))
        set_(self, "threshold", check_threshold(self.threshold))
        if isinstance(self.device, str) and not self.device.strip():
            raise InputError(
                "device is an empty string",
                fix="Name a device such as 'cpu' or 'cuda', or leave it unset for the bundle's own",
            )
        if not (self.device is None or isinstance(self.device, str) or _is_torch_device(self.device)):
            raise InputError(
                f"device must be a string such as 'cuda' or a torch.device, got {type(self.device).__name__}"
            )

    def predict_proba(self, bundle: Bundle, codes: np.ndarray) -> np.ndarray:
        """``bundle.predict_proba(codes)`` run with these options (:meth:`bioseq.bundle.Bundle.predict_proba`)."""
        return bundle.predict_proba(codes, batch_size=self.batch_size, device=self.device, rc_average=self.rc_average)


def _is_torch_device(value) -> bool:
    """Whether ``value`` is a ``torch.device``, told without importing torch."""
    kind = type(value)
    return kind.__module__ == "torch" and kind.__name__ == "device"


def as_options(options: InferenceOptions | None) -> InferenceOptions:
    """``options``, or the default :class:`InferenceOptions` for ``None``.

    Raises
    ------
    InputError
        When ``options`` is anything else (a dict, say).
    """
    if options is None:
        return InferenceOptions()
    if not isinstance(options, InferenceOptions):
        raise InputError(
            f"options must be an InferenceOptions, got {type(options).__name__}",
            fix="Build them with bioseq.inference.InferenceOptions(batch_size=..., device=...)",
        )
    return options
