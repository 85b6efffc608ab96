"""The :class:`Attributions` of a set of sequences: what every explanation method returns.

Data contract
-------------
attributions : numpy.ndarray, shape ``(N, 4, L)``, dtype float32
    Contribution of the observed base at each position (channels A, C, G, T;
    positions 0-based along the last axis): the hypothetical contribution of
    the observed base (``hypothetical * one_hot``), zero at the other three
    bases and at padding (``PAD`` positions).
hypothetical : numpy.ndarray, shape ``(N, 4, L)``, dtype float32
    Hypothetical contribution of each of the 4 bases at each position, the
    input of TF-MoDISco; zero at padding.
scores : numpy.ndarray, shape ``(N,)``, dtype float32
    The model's probability of the target class (per-position models: at the
    target position), as :meth:`bioseq.bundle.Bundle.predict_proba` gives it.

This module imports neither torch nor captum.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from bioseq.errors import InputError

__all__ = ["Attributions"]


@dataclasses.dataclass(frozen=True, eq=False)
class Attributions:
    """Attributions of ``N`` sequences of width ``L`` to one target (see the module docstring).

    Attributes
    ----------
    attributions : numpy.ndarray, shape ``(N, 4, L)``, dtype float32
    hypothetical : numpy.ndarray, shape ``(N, 4, L)``, dtype float32
    scores : numpy.ndarray, shape ``(N,)``, dtype float32
    target : str
        The target class's name.
    target_index : int
        Its index in the bundle's ``classes``.
    method : str
        ``"grad_x_input"``, ``"integrated_gradients"``, ``"deeplift_shap"`` or ``"ism"``.

    Raises
    ------
    InputError
        On arrays of other shapes or dtypes.
    """

    attributions: np.ndarray
    hypothetical: np.ndarray
    scores: np.ndarray
    target: str
    target_index: int
    method: str

    def __post_init__(self) -> None:
        shape = getattr(self.attributions, "shape", None)
        for name in ("attributions", "hypothetical"):
            value = getattr(self, name)
            if not isinstance(value, np.ndarray) or value.dtype != np.float32 or value.ndim != 3 or value.shape[1] != 4:
                raise InputError(f"Attributions.{name} must be a float32 (N, 4, L) array, got {_describe(value)}")
        if self.hypothetical.shape != shape:
            raise InputError(f"Attributions.hypothetical has shape {self.hypothetical.shape}, attributions {shape}")
        if not isinstance(self.scores, np.ndarray) or self.scores.dtype != np.float32 or self.scores.shape != shape[:1]:
            raise InputError(f"Attributions.scores must be a float32 ({shape[0]},) array, got {_describe(self.scores)}")

    def __len__(self) -> int:
        return self.attributions.shape[0]


def _describe(value: object) -> str:
    if isinstance(value, np.ndarray):
        return f"a {value.dtype} array of shape {value.shape}"
    return type(value).__name__
