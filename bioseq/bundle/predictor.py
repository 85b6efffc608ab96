"""The :class:`Bundle`: a loaded model with its classes, ready to score code arrays.

See :mod:`bioseq.bundle` for the data contract of :meth:`Bundle.predict_proba`.
"""

from __future__ import annotations

import dataclasses
import functools
import os
from pathlib import Path
from typing import Any

import numpy as np
import torch

from bioseq.bundle import ENSEMBLE
from bioseq.checks import positive_integer
from bioseq.codes import check_codes
from bioseq.errors import InputError
from bioseq.models.kinds import n_outputs_of
from bioseq.models.registry import model_kind

__all__ = ["Bundle", "Ensemble", "ENSEMBLE", "as_device"]


@dataclasses.dataclass(frozen=True, eq=False)
class Ensemble:
    """The model of an ensemble bundle: member bundles whose probabilities are averaged."""

    members: tuple[Bundle, ...]


@dataclasses.dataclass(frozen=True, eq=False)
class Bundle:
    """A loaded model bundle (see the module docstring); build it with :func:`load_bundle`.

    Attributes
    ----------
    model : object
        What the model's kind loads (:mod:`bioseq.models.kinds`): a
        ``torch.nn.Module`` in eval mode on the device given to
        :func:`load_bundle` for a network, a fitted estimator for the k-mer
        baseline; an :class:`Ensemble` holds the member bundles.
    config : dict
        The parsed ``config.json``.
    path : pathlib.Path
        The bundle directory.
    metrics : dict or None
        The parsed ``metrics.json``, if the bundle has one.
    """

    model: Any
    config: dict
    path: Path
    metrics: dict | None = None

    @property
    def task(self) -> str:
        """``"binary"``, ``"multiclass"`` or ``"multilabel"``."""
        return self.config["task"]

    @property
    def classes(self) -> tuple[str, ...]:
        """Class names in output order (for binary, ``classes[1]`` is the positive class)."""
        return tuple(self.config["classes"])

    @property
    def length(self) -> int | None:
        """The fixed input width ``L`` of the model, or ``None`` when it reads any width."""
        return self.config["input"]["length"]

    @property
    def per_position(self) -> bool:
        """Whether the model predicts a class for every position (task ``per_position``), not one per sequence."""
        return self.task == "per_position"

    @property
    def flank(self) -> int:
        """Context bases per side a per-position model crops from its output (0 for other models).

        An input of ``L`` bases gives predictions for its central ``L - 2 * flank`` positions.
        """
        return int(self.config["input"].get("flank", 0))

    @property
    def local(self) -> bool:
        """Whether each output reads only the ``flank`` bases around it (an ensemble: every member's does).

        Then a region predicted in pieces, or variants sharing one reference
        prediction, give exactly what one input per position would
        (:class:`bioseq.models.per_position.PerPositionKind`).
        """
        if isinstance(self.model, Ensemble):
            return all(member.local for member in self.model.members)
        return bool(getattr(model_kind(self.model_name), "local", False))

    @functools.cached_property  # parsed and checked once (load_bundle checked it already)
    def site_pairing(self):
        """The second stage fitted for this splice model (:class:`bioseq.models.site_pairing.SitePairing`), or None.

        ``bioseq train`` fits one on the validation genes of a per-base splice
        dataset (with ``--ensemble N``, on the ensemble's predictions);
        ``bioseq ensemble --test DS`` fits one for an ensemble of splice
        models on the validation genes of the per-base dataset ``DS``.
        """
        record = self.config.get("site_pairing")
        if record is None:
            return None
        from bioseq.bundle.format import check_site_pairing

        return check_site_pairing(self.config, self.path)

    @property
    def model_name(self) -> str:
        """The registry name of the model (:func:`bioseq.models.registry.model_kind`), or ``"ensemble"``."""
        return self.config["model"]["name"]

    def check_codes(self, codes: np.ndarray) -> np.ndarray:
        """Check that ``codes`` is ``(N, L)`` uint8 of the width this model reads.

        Raises
        ------
        InputError
            On another type, dtype or rank, invalid codes, no columns, or a
            width other than the bundle's fixed ``length``.
        """
        check_codes(codes)
        if codes.ndim != 2:
            raise InputError(
                f"codes must be a 2-D (N, L) array, got shape {codes.shape}",
                fix="Encode sequences with bioseq.encode.encode()",
            )
        width, length = codes.shape[1], self.length
        if length is not None and width != length:
            raise InputError(
                f"the codes are {width} positions wide, but this model was trained on windows of exactly "
                f"{length} bases",
                path=self.path,
                fix=f"Resize intervals to {length} bp around their centre (Interval.resize({length})), or "
                f"encode sequences with length={length} (bioseq.predict.predict_sequences does both)",
            )
        if width == 0 and codes.shape[0]:
            raise InputError("the codes hold no bases (width 0)", fix="Pass non-empty sequences")
        if self.per_position and width <= 2 * self.flank:
            raise InputError(
                f"the codes are {width} positions wide, but this per-position model reads {self.flank} bases of "
                f"context on each side, so it needs more than {2 * self.flank}",
                path=self.path,
                fix=f"Add {self.flank} bases of context (N past a contig end) on each side of the region to predict",
            )
        return codes

    def predict_proba(
        self,
        codes: np.ndarray,
        *,
        batch_size: int = 256,
        device: str | torch.device | None = None,
        rc_average: bool = False,
    ) -> np.ndarray:
        """Class probabilities of each sequence, computed in batches.

        Parameters
        ----------
        codes : numpy.ndarray, shape ``(N, L)``, dtype uint8
            Right-padded with ``PAD``; ``L`` must equal :attr:`length` when that is set.
        batch_size : int, default 256
            Sequences per forward pass; the result does not depend on it.
        device : str or torch.device, optional
            Where to run; default the model's device. The model is moved
            there for the call and back afterwards (the baseline runs on the CPU).
        rc_average : bool, default False
            Average each sequence's logits with those of its reverse
            complement (padding stays at the right); for the baseline, the
            probabilities. An ensemble averages its members' probabilities
            (each computed with ``rc_average``).

        Returns
        -------
        numpy.ndarray, float32
            ``(N,)`` for binary, ``(N, C)`` for multiclass and multilabel,
            ``(N, L - 2 * flank, C)`` for a per-position model (a softmax over
            the classes at each of the central positions).

        Raises
        ------
        InputError
            On bad codes (see :meth:`check_codes`), a batch size < 1, an
            unavailable device, a model that returns logits of the wrong
            shape, or a batch that does not fit in memory.
        """
        codes = self.check_codes(codes)
        batch_size = positive_integer(batch_size, "batch_size")
        if not isinstance(rc_average, bool):
            raise InputError(f"rc_average must be True or False, got {rc_average!r}")
        n_out = n_outputs_of(self.task, len(self.classes))
        if rc_average and self.per_position:
            raise InputError(
                "rc_average does not apply to a per-position model: its classes belong to one strand",
                path=self.path,
                fix="Predict the reverse complement as the other strand instead",
            )
        if isinstance(self.model, Ensemble):  # the mean of the members' probabilities
            shape = (codes.shape[0], codes.shape[1] - 2 * self.flank) if self.per_position else (codes.shape[0],)
            out = np.zeros((*shape, n_out), dtype=np.float32)
            for member in self.model.members:
                proba = member.predict_proba(codes, batch_size=batch_size, device=device, rc_average=rc_average)
                out += proba.reshape(out.shape)
            out /= len(self.model.members)
        else:
            try:
                out = model_kind(self.model_name).predict_proba(
                    self.model,
                    codes,
                    task=self.task,
                    n_outputs=n_out,
                    batch_size=batch_size,
                    device=None if device is None else as_device(device),
                    rc_average=rc_average,
                )
            except InputError as exc:
                if exc.path is not None:
                    raise
                raise InputError(exc.problem, path=self.path, fix=exc.fix) from None
        return out[:, 0] if self.task == "binary" else out

    def predict_substitutions(
        self,
        codes: np.ndarray,
        rows: np.ndarray,
        at: np.ndarray,
        bases: np.ndarray,
        *,
        side: int,
        batch_size: int = 256,
        device: str | torch.device | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Per-position probabilities of reference inputs and of one-base substitutions in them.

        Substitution ``i`` writes base ``bases[i]`` at position ``at[i]``
        (0-based) of input ``rows[i]``; its prediction is that of the ``2 *
        side + 1`` bases centred there, ``codes[rows[i], at[i] - side : at[i]
        + side + 1]`` edited, as :meth:`predict_proba` would give it. A model
        that can (the per-base CNN) recomputes only the positions each
        substitution reaches; an ensemble averages its members'.

        Parameters
        ----------
        codes : numpy.ndarray, shape ``(K, L)``, dtype uint8
            Reference inputs of a per-position model.
        rows, at : numpy.ndarray, shape ``(S,)``, integer
        bases : numpy.ndarray, shape ``(S,)``, dtype uint8
            Base codes (:mod:`bioseq.alphabet`).
        side : int
            ``2 * side + 1 > 2 * flank``; ``side <= at[i] < L - side``.
        batch_size : int, default 256
            Reference inputs (with their substitutions) per forward pass.
        device : str or torch.device, optional

        Returns
        -------
        reference : numpy.ndarray, shape ``(K, L - 2 * flank, C)``, float32
        substituted : numpy.ndarray, shape ``(S, 2 * side + 1 - 2 * flank, C)``, float32

        Raises
        ------
        InputError
            On a model that is not per-position, bad codes or bases, or a
            substitution outside its input or too close to an end.
        """
        if not self.per_position:
            raise InputError(f"substitutions are scored per position, but this is a {self.task} model", path=self.path)
        codes = self.check_codes(codes)
        bases = np.asarray(bases).reshape(-1)
        check_codes(bases)
        rows, at = (np.asarray(a).reshape(-1) for a in (rows, at))
        side = int(side)
        if not (rows.size == at.size == bases.size):
            raise InputError(
                f"rows, at and bases must have one entry per substitution, got {rows.size}, {at.size} and {bases.size}"
            )
        if rows.size and (
            not np.issubdtype(rows.dtype, np.integer)
            or not np.issubdtype(at.dtype, np.integer)
            or rows.min() < 0
            or rows.max() >= codes.shape[0]
            or at.min() < side
            or at.max() >= codes.shape[1] - side
        ):
            raise InputError(
                f"each substitution must name an input (0..{codes.shape[0] - 1}) and a position at least {side} "
                f"bases inside it ({codes.shape[1]} wide)",
                path=self.path,
                fix="Widen the reference inputs around the substitutions",
            )
        if 2 * side + 1 <= 2 * self.flank:
            raise InputError(
                f"side {side} gives windows of {2 * side + 1} bases, but the model reads {self.flank} on each side",
                path=self.path,
                fix=f"Use side >= {self.flank}",
            )
        batch_size = positive_integer(batch_size, "batch_size")
        rows, at = rows.astype(np.int64), at.astype(np.int64)
        if isinstance(self.model, Ensemble):
            parts = [
                m.predict_substitutions(codes, rows, at, bases, side=side, batch_size=batch_size, device=device)
                for m in self.model.members
            ]
            return tuple((sum(p[i] for p in parts) / len(parts)).astype(np.float32) for i in range(2))
        return model_kind(self.model_name).predict_substitutions(
            self.model,
            codes,
            rows,
            at,
            bases,
            side=side,
            n_outputs=n_outputs_of(self.task, len(self.classes)),
            batch_size=batch_size,
            device=None if device is None else as_device(device),
        )

    def __repr__(self) -> str:
        return (
            f"Bundle({os.fspath(self.path)!r}, model={self.model_name!r}, task={self.task!r}, "
            f"classes={self.classes!r}, length={self.length!r})"
        )


def as_device(device: str | torch.device) -> torch.device:
    try:
        target = torch.device(device)
    except (RuntimeError, TypeError):
        raise InputError(f"device {device!r} is not a torch device", fix="Use 'cpu', 'cuda' or 'cuda:0'") from None
    if target.type == "cuda" and not torch.cuda.is_available():
        raise InputError(f"device {device!r} is not available: torch sees no CUDA GPU", fix="Use device='cpu'")
    return target
