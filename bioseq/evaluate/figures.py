"""Figure helpers shared by the evaluation plots and the model comparison.

Figures are drawn on matplotlib's Agg canvas directly (no ``pyplot``), so
plotting works without a display, never changes the user's matplotlib
backend, and keeps no figure alive after the call. Images are written at
:data:`DPI` dots per inch, as PNG, PDF or SVG by the file's extension, and
atomically, so a failed plot leaves no file. Importing this module does not
import matplotlib.
"""

from __future__ import annotations

import os
from pathlib import Path

from bioseq.errors import InputError
from bioseq.io.handles import atomic_output

__all__ = ["DPI", "IMAGE_FORMATS", "image_format", "new_figure", "save_figure", "colour"]

DPI = 120
IMAGE_FORMATS = {".png": "png", ".pdf": "pdf", ".svg": "svg"}
"""File extension -> matplotlib format name."""


def image_format(path: str | os.PathLike) -> str:
    """The image format of ``path`` by its extension (case-insensitive): ``"png"``, ``"pdf"`` or ``"svg"``.

    Call it before any work, so that a bad name fails first.

    Raises
    ------
    InputError
        On another extension.
    """
    suffix = Path(path).suffix.lower()
    if suffix not in IMAGE_FORMATS:
        raise InputError(
            f"cannot tell the image format from the extension {suffix!r}",
            path=path,
            fix="End the file name in .png (or .pdf, .svg)",
        )
    return IMAGE_FORMATS[suffix]


def new_figure(width: float, height: float):
    """A new ``matplotlib.figure.Figure`` of ``width`` x ``height`` inches on an Agg canvas (constrained layout)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width, height), dpi=DPI, layout="constrained")
    FigureCanvasAgg(figure)
    return figure


def save_figure(figure, path: str | os.PathLike, fmt: str) -> Path:
    """Write ``figure`` to ``path`` in format ``fmt`` (see :func:`image_format`), atomically; return the path."""
    with atomic_output(path) as handle:
        figure.savefig(handle, format=fmt, dpi=DPI)
    return Path(path)


def colour(index: int, count: int) -> tuple[float, float, float, float]:
    """The RGBA colour of series ``index`` of ``count``: tab10 up to 10 series, else tab20 (repeating after 20)."""
    from matplotlib import colormaps

    return colormaps["tab10" if count <= 10 else "tab20"](index % 20)
