"""Sequence logos of attributions and of motifs (logomaker), as PNG or SVG.

Data contract
-------------
* An attribution logo draws a ``(4, L)`` float array (rows A, C, G, T,
  positions along the last axis, as one sequence of ``attributions`` in an
  explanation): each letter is scaled by its attribution, positive ones above
  the axis and negative ones below it (letters stay upright).
* A motif logo draws a ``(W, 4)`` matrix (columns A, C, G, T): a PWM
  (probabilities) as information content in bits, a CWM (contributions) as is.
* Coordinates. Without ``chrom`` the x axis is the 0-based position in the
  sequence, ``start + i`` for column ``i``. With ``chrom``, ``start`` is the
  0-based genomic coordinate of column 0 (BED convention, half-open
  intervals) and the ticks show **1-based** genome positions, as genome
  browsers do: column ``i`` is labelled ``start + i + 1``; the axis label
  names the region as ``chrom:start+1-start+L`` (1-based, inclusive).
* ``highlight`` spans are ``(begin, end)`` in the same coordinates as
  ``start`` (0-based, half-open; genomic when ``chrom`` is given).

Figures are drawn on a :class:`matplotlib.figure.Figure` with the Agg canvas
(no ``pyplot``), so the user's matplotlib backend is never changed, and are
written atomically. Importing this module imports neither matplotlib nor logomaker.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from bioseq.errors import InputError
from bioseq.evaluate.figures import image_format, new_figure, save_figure

__all__ = ["plot_logo", "plot_motif_logo", "information_content"]

_BASES = list("ACGT")
_LOGO_FORMATS = ("png", "svg")


def _image_format(path: str | os.PathLike) -> str:
    fmt = image_format(path)
    if fmt not in _LOGO_FORMATS:
        raise InputError(f"logos are written as PNG or SVG, not {fmt}", path=path, fix="End the name in .png or .svg")
    return fmt


def plot_logo(
    attributions: np.ndarray,
    *,
    path: str | os.PathLike,
    title: str | None = None,
    start: int = 0,
    chrom: str | None = None,
    highlight: Sequence[tuple[int, int]] = (),
) -> Path:
    """Draw the attribution logo of one sequence (see the module docstring for the coordinates).

    Parameters
    ----------
    attributions : numpy.ndarray, float (4, L)
        Rows A, C, G, T.
    path : str or os.PathLike
        Output file, ``.png`` or ``.svg``.
    title : str, optional
    start : int, default 0
        Coordinate of column 0 (0-based; genomic when ``chrom`` is given).
    chrom : str, optional
        Chromosome: the x axis shows 1-based genome positions.
    highlight : sequence of (int, int)
        Spans ``[begin, end)`` to shade, in the coordinates of ``start``.

    Returns
    -------
    pathlib.Path
        ``path``, written atomically.

    Raises
    ------
    InputError
        On another shape, non-finite values, a span outside the window or another file extension.
    """
    fmt = _image_format(path)
    values = np.asarray(attributions, dtype=np.float64)
    if values.ndim != 2 or values.shape[0] != 4 or values.shape[1] == 0:
        raise InputError(f"attributions have shape {values.shape}, not (4, L)", fix="Give one sequence's (4, L) array")
    if not np.isfinite(values).all():
        raise InputError("attributions hold NaN or infinite values", fix="Recompute the attributions")
    length = values.shape[1]
    spans = [(int(a), int(b)) for a, b in highlight]
    for a, b in spans:
        if not start <= a < b <= start + length:
            raise InputError(
                f"highlight span [{a}, {b}) is empty or outside the window [{start}, {start + length})",
                fix="Give 0-based half-open spans inside the window",
            )
    shift = start + (1 if chrom is not None else 0)  # x of column i (coordinate start + i) is i + shift
    figure = new_figure(min(max(4.0, 0.12 * length + 1.5), 30.0), 2.2)
    ax = figure.add_subplot()
    _draw(values.T, ax, index=np.arange(length) + shift)
    for a, b in spans:
        ax.axvspan(a - start + shift - 0.5, b - start + shift - 0.5, color="gold", alpha=0.25, zorder=-1, lw=0)
    ax.axhline(0, color="0.5", lw=0.5)
    ax.set_xlim(shift - 0.5, shift + length - 0.5)
    ax.set_ylabel("attribution")
    if chrom is not None:
        ax.set_xlabel(f"{chrom} position (1-based; window {chrom}:{start + 1:,}-{start + length:,})")
        ax.xaxis.set_major_formatter("{x:,.0f}")
    else:
        ax.set_xlabel("position (0-based)")
    if title:
        ax.set_title(title, fontsize="medium")
    return save_figure(figure, path, fmt)


def information_content(pwm: np.ndarray) -> np.ndarray:
    """The information content logo heights of a PWM (float (W, 4)): ``p * (2 - H)`` in bits, H the row entropy."""
    p = np.asarray(pwm, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        entropy = -np.where(p > 0, p * np.log2(p), 0.0).sum(axis=1, keepdims=True)
    return p * (2.0 - entropy)


def plot_motif_logo(
    matrix: np.ndarray, *, path: str | os.PathLike, kind: str = "pwm", title: str | None = None
) -> Path:
    """Draw a motif logo: a PWM as information content (bits) or a CWM as contributions.

    Parameters
    ----------
    matrix : numpy.ndarray, float (W, 4)
        Columns A, C, G, T; a PWM's rows sum to 1.
    path : str or os.PathLike
        Output file, ``.png`` or ``.svg``.
    kind : {"pwm", "cwm"}
    title : str, optional

    Returns
    -------
    pathlib.Path
    """
    fmt = _image_format(path)
    if kind not in ("pwm", "cwm"):
        raise InputError(f"unknown logo kind {kind!r}", fix="Use 'pwm' or 'cwm'")
    values = np.asarray(matrix, dtype=np.float64)
    if values.ndim != 2 or values.shape[1] != 4 or values.shape[0] == 0 or not np.isfinite(values).all():
        raise InputError(f"the motif matrix has shape {values.shape} or non-finite values; (W, 4) expected")
    heights = information_content(values) if kind == "pwm" else values
    figure = new_figure(max(2.5, 0.3 * len(values) + 1.0), 1.8)
    ax = figure.add_subplot()
    _draw(heights, ax, index=np.arange(1, len(values) + 1))
    ax.set_ylabel("bits" if kind == "pwm" else "contribution")
    if kind == "pwm":
        ax.set_ylim(0, 2)
    else:
        ax.axhline(0, color="0.5", lw=0.5)
    if title:
        ax.set_title(title, fontsize="medium")
    return save_figure(figure, path, fmt)


def _draw(heights: np.ndarray, ax, *, index: np.ndarray) -> None:
    """Letters of ``heights`` (float (L, 4)) on ``ax`` at x positions ``index``."""
    import logomaker
    import pandas as pd

    frame = pd.DataFrame(heights, columns=_BASES, index=index)
    with warnings.catch_warnings():  # an all-zero matrix: logomaker widens its equal y limits itself
        warnings.filterwarnings("ignore", "Attempting to set identical", UserWarning)
        logomaker.Logo(frame, ax=ax, color_scheme="classic", flip_below=False, baseline_width=0)
    low, high = ax.get_ylim()  # logomaker's limits end at the tallest letter: leave it some room
    ax.set_ylim(low - 0.05 * (high - low) * (low < 0), high + 0.05 * (high - low) * (high > 0))
    ax.spines[["top", "right"]].set_visible(False)
