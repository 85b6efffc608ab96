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

from bioseq.errors import InputError, option
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
    """

    any_length = True
    per_position = True

    def flank(self, options: Mapping[str, Any] | None) -> int:
        """``context // 2`` of the checked options (imports the model's module)."""
        return self.make_config(options).context // 2

    def predict_proba(
        self, model, codes: np.ndarray, *, task: str, n_outputs: int, batch_size: int, device, rc_average: bool
    ) -> np.ndarray:
        """Softmax over classes at every central position, in batches of ``batch_size`` sequences.

        Parameters
        ----------
        model : torch.nn.Module
        codes : numpy.ndarray, shape ``(N, L)``, dtype uint8
            ``L > context``.
        task : str
            ``"per_position"`` (not read: the output is always a softmax per position).
        n_outputs : int
        batch_size : int
        device : torch.device, str or None
            None runs where the model is; the model goes back there afterwards.
        rc_average : bool
            Must be False: per-position classes are strand-specific.

        Returns
        -------
        numpy.ndarray, shape ``(N, L - context, n_outputs)``, dtype float32

        Raises
        ------
        InputError
            On ``rc_average``, codes not ``(N, L)`` or not wider than the
            context, a model that breaks the output contract, or running out
            of memory.
        """
        import torch

        if rc_average:
            raise InputError(
                f"model {self.name!r} predicts strand-specific classes at each position, so averaging a sequence "
                "with its reverse complement would mix the strands",
                fix="Predict the reverse complement explicitly as the other strand (its positions read backwards)",
            )
        context = self.model_context(model)
        if codes.ndim != 2:
            raise InputError(f"model {self.name!r} takes codes (N, L), got an array of shape {codes.shape}")
        check_input_width(self.name, codes.shape[1], context)
        out = np.empty((codes.shape[0], codes.shape[1] - context, n_outputs), dtype=np.float32)
        home = next(model.parameters(), torch.empty(0)).device
        target = home if device is None else device
        was_training = model.training
        model.eval()
        model.to(target)
        try:
            with torch.inference_mode():
                for start in range(0, codes.shape[0], batch_size):
                    batch = np.ascontiguousarray(codes[start : start + batch_size])  # (B, L)
                    logits = self.per_position_logits(model, batch, target, n_outputs)  # (B, W, n_outputs)
                    out[start : start + batch.shape[0]] = torch.softmax(logits, dim=-1).cpu().numpy()
        except (torch.OutOfMemoryError, MemoryError, RuntimeError) as exc:
            if not isinstance(exc, (torch.OutOfMemoryError, MemoryError)) and "can't allocate memory" not in str(exc):
                raise
            raise InputError(
                f"model {self.name!r} ran out of memory on {target} for a batch of "
                f"{min(batch_size, codes.shape[0])} sequences of {codes.shape[1]} positions",
                fix=f"Lower the batch size ({option('batch_size', 'N')}) or score shorter windows",
            ) from None
        finally:
            model.to(home)
            model.train(was_training)
        return out

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

    def per_position_logits(self, model, batch: np.ndarray, device, n_outputs: int):
        """Logits ``(B, L - context, n_outputs)`` float32 of codes ``(B, L)``, their shape checked.

        Raises
        ------
        InputError
            When the model returns anything else.
        """
        import torch

        if not batch.flags.writeable:  # a memory-mapped dataset: torch wants writable memory
            batch = batch.copy()
        logits = model(torch.from_numpy(batch).to(device))
        expected = (batch.shape[0], batch.shape[1] - self.model_context(model), n_outputs)
        if not isinstance(logits, torch.Tensor) or tuple(logits.shape) != expected:
            shape = tuple(logits.shape) if isinstance(logits, torch.Tensor) else type(logits).__name__
            raise InputError(
                f"model {self.name!r} returned logits of shape {shape}, expected {expected}",
                fix="The model breaks the per-position (B, L) -> (B, L - context, n_outputs) contract",
            )
        return logits.float()
