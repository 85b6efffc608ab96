"""The kind of per-position networks: a class probability for every base of the input's central region.

Data contract
-------------
A per-position network maps codes ``(B, L)`` uint8 (:mod:`bioseq.alphabet`)
to logits ``(B, L - context, n_outputs)`` float, channels last, with
``L > context``. ``context`` (a model option, even, ``>= 0``) is the total
input context cropped from the output, SpliceAI's naming (80 / 400 / 2,000 /
10,000): ``flank = context // 2`` bases on each side, so output position
``j`` scores input position ``flank + j`` (0-based). :class:`PerPositionKind`
turns the logits into a softmax over the classes at each position,
``(N, L - context, n_outputs)`` float32. The classes belong to the strand the
codes read (e.g. neither / acceptor / donor on the plus strand): score the
other strand by predicting the reverse complement.

Importing this module imports neither torch nor scikit-learn (the kinds are
declared in :mod:`bioseq.models.builtin`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from bioseq.errors import InputError
from bioseq.models.network import NetworkKind
from bioseq.models.registry import MAX_LENGTH

__all__ = ["PerPositionKind", "check_context", "check_input_width"]


def check_context(model: str, context: int, n_outputs: int) -> None:
    """Check a per-position config's ``context`` (even, ``0..MAX_LENGTH``) and ``n_outputs`` (``>= 2``).

    Raises
    ------
    InputError
        Naming the model, the option and the value.
    """
    if context < 0 or context % 2 or context > MAX_LENGTH:
        raise InputError(
            f"model {model!r} option 'context' must be an even number of bases in 0..{MAX_LENGTH} "
            f"(the total context, half on each side), got {context}",
            fix="Use e.g. 80, 400, 2000 or 10000",
        )
    if n_outputs < 2:
        raise InputError(
            f"model {model!r} needs at least 2 outputs (a softmax over classes at each position), got {n_outputs}",
            fix="Label at least two classes, e.g. 'neither' and the site",
        )


def check_input_width(model: str, width: int, context: int) -> None:
    """Check an input of ``width`` bases leaves at least one position to score after ``context``.

    Raises
    ------
    InputError
        Naming the width, the context and the fix.
    """
    if width <= context:
        raise InputError(
            f"model {model!r} got sequences {width} bases wide, but it reads {context // 2} bases of context on "
            f"each side (context {context}), so it needs more than {context}",
            fix=f"Add {context // 2} bases of context (N past a contig end) on each side of the region to score",
        )


class PerPositionKind(NetworkKind):
    """A per-position network (see the module docstring), declared or registered like any :class:`NetworkKind`.

    Its config has an even ``context`` option; :meth:`flank` is half of it.
    ``@register(name, ConfigClass)`` in the declared ``module`` binds the
    classes (:mod:`bioseq.models.builtin` declares bioseq's own).

    Parameters
    ----------
    local : bool, default False
        Whether the output at a base depends only on the ``flank`` bases
        around it (valid convolutions), so that a long region predicted in
        pieces, or variants that share one reference prediction, give exactly
        what one input per base would. A recurrent or attention model reads
        its whole input and is not local.
    **kwargs
        As :class:`NetworkKind`.
    """

    any_length = True
    per_position = True

    def __init__(self, *, local: bool = False, **kwargs) -> None:
        super().__init__(**kwargs)
        self.local = bool(local)

    def flank(self, options: Mapping[str, Any] | None) -> int:
        """``context // 2`` of the checked options (imports the model's module)."""
        return self.make_config(options).context // 2

    def check_request(self, model, codes: np.ndarray, *, rc_average: bool) -> None:
        """Refuse ``rc_average`` (per-position classes belong to one strand) and codes not ``(N, L > context)``."""
        if rc_average:
            raise InputError(
                f"model {self.name!r} predicts strand-specific classes at each position, so averaging a sequence "
                "with its reverse complement would mix the strands",
                fix="Predict the reverse complement explicitly as the other strand (its positions read backwards)",
            )
        if codes.ndim != 2:
            raise InputError(f"model {self.name!r} takes codes (N, L), got an array of shape {codes.shape}")
        check_input_width(self.name, codes.shape[1], self.model_context(model))

    def output_shape(self, model, codes: np.ndarray, n_outputs: int) -> tuple[int, ...]:
        """``(N, L - context, n_outputs)``: a softmax over the classes at every central position."""
        return (codes.shape[0], codes.shape[1] - self.model_context(model), n_outputs)

    def batch_proba(self, model, batch: np.ndarray, device, *, task: str, n_outputs: int, rc_average: bool):
        """Softmax ``(B, L - context, n_outputs)`` of one batch of codes ``(B, L)``; ``task`` is not read."""
        import torch

        return torch.softmax(self.per_position_logits(model, batch, device, n_outputs), dim=-1).cpu().numpy()

    def model_context(self, model) -> int:
        """The ``context`` of a built model, read from its ``config`` (every registered network keeps it).

        Raises
        ------
        InputError
            When the model has no ``config.context``.
        """
        context = getattr(getattr(model, "config", None), "context", None)
        if not isinstance(context, int):
            raise InputError(
                f"model {self.name!r} has no config.context, so its output width is unknown",
                fix="Keep the config a per-position model is built from as model.config",
            )
        return context

    def predict_substitutions(
        self,
        model,
        codes: np.ndarray,
        rows: np.ndarray,
        at: np.ndarray,
        bases: np.ndarray,
        *,
        side: int,
        n_outputs: int,
        batch_size: int,
        device,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Softmax of reference inputs and of one-base substitutions in them (see :meth:`Bundle.predict_substitutions`).

        A model with a ``substitution_logits(codes, rows, at, bases, side=)``
        method (:meth:`bioseq.models.per_base_cnn.PerBaseCNN.substitution_logits`)
        computes both at once, recomputing only what each substitution
        reaches; any other predicts the reference inputs and the edited
        windows in full. ``batch_size`` reference inputs (with their
        substitutions) or windows go through per pass.

        Returns
        -------
        reference : numpy.ndarray, shape ``(K, L - context, n_outputs)``, float32
        substituted : numpy.ndarray, shape ``(S, 2 * side + 1 - context, n_outputs)``, float32
        """
        import torch

        from bioseq.models.network import evaluating

        if not hasattr(model, "substitution_logits"):
            windows = codes[rows[:, None], at[:, None] + np.arange(-side, side + 1)]  # (S, 2 * side + 1)
            windows[:, side] = bases
            predict = {"task": "per_position", "n_outputs": n_outputs, "batch_size": batch_size, "device": device}
            return (
                self.predict_proba(model, codes, rc_average=False, **predict),
                self.predict_proba(model, windows, rc_average=False, **predict),
            )
        self.check_request(model, codes, rc_average=False)
        context = self.model_context(model)
        reference = np.empty((codes.shape[0], codes.shape[1] - context, n_outputs), dtype=np.float32)
        substituted = np.empty((rows.size, 2 * side + 1 - context, n_outputs), dtype=np.float32)
        order = np.argsort(rows, kind="stable")
        bounds = np.searchsorted(rows[order], np.arange(0, codes.shape[0] + batch_size, batch_size))
        with evaluating(model, device) as target, torch.inference_mode(), self.memory_errors(target, codes, batch_size):
            for number, start in enumerate(range(0, codes.shape[0], batch_size)):
                mine = order[bounds[number] : bounds[number + 1]]
                batch = torch.from_numpy(np.ascontiguousarray(codes[start : start + batch_size])).to(target)
                ref, alt = model.substitution_logits(
                    batch,
                    torch.from_numpy(rows[mine] - start).to(target),
                    torch.from_numpy(at[mine]).to(target),
                    torch.from_numpy(bases[mine]).to(target),
                    side=side,
                )
                reference[start : start + batch.shape[0]] = torch.softmax(ref.float(), dim=-1).cpu().numpy()
                substituted[mine] = torch.softmax(alt.float(), dim=-1).cpu().numpy()
        return reference, substituted

    def per_position_logits(self, model, batch: np.ndarray, device, n_outputs: int):
        """Logits ``(B, L - context, n_outputs)`` float32 of codes ``(B, L)``, their shape checked.

        Raises
        ------
        InputError
            When the model returns anything else.
        """
        import torch

        logits = model(torch.from_numpy(batch).to(device))
        expected = (batch.shape[0], batch.shape[1] - self.model_context(model), n_outputs)
        if not isinstance(logits, torch.Tensor) or tuple(logits.shape) != expected:
            shape = tuple(logits.shape) if isinstance(logits, torch.Tensor) else type(logits).__name__
            raise InputError(
                f"model {self.name!r} returned logits of shape {shape}, expected {expected}",
                fix="The model breaks the per-position (B, L) -> (B, L - context, n_outputs) contract",
            )
        return logits.float()
