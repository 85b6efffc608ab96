"""bioseq.interpret.logos: attribution and motif logos as PNG and SVG, genomic axes, bad input."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import numpy as np
import pytest

from bioseq.errors import InputError
from bioseq.interpret.logos import information_content, plot_logo, plot_motif_logo

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _attributions(length=30, seed=0):
    return np.random.default_rng(seed).normal(size=(4, length)).astype(np.float32)


def test_png_and_svg_by_suffix(tmp_path):
    png = plot_logo(_attributions(), path=tmp_path / "a.png", title="seq1")
    svg = plot_logo(_attributions(), path=tmp_path / "a.svg")
    assert png.read_bytes().startswith(PNG_MAGIC)
    assert ET.parse(svg).getroot().tag.endswith("svg")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.png", "a.svg"]  # no temporary left


def test_genomic_axis_is_one_based(tmp_path):
    from matplotlib import rc_context

    with rc_context({"svg.fonttype": "none"}):  # keep text as text in the SVG
        path = plot_logo(_attributions(60), path=tmp_path / "g.svg", chrom="chr1", start=1000, highlight=[(1010, 1018)])
    text = path.read_text()
    assert "chr1 position (1-based; window chr1:1,001-1,060)" in text  # BED 1000-1060 is 1-based 1,001-1,060
    assert "1,010" in text and "1,060" in text  # ticks at 1-based genome positions
    with rc_context({"svg.fonttype": "none"}):
        plain = plot_logo(_attributions(60), path=tmp_path / "p.svg").read_text()
    assert "position (0-based)" in plain


def test_motif_logo_and_information_content(tmp_path):
    pwm = np.array([[1.0, 0, 0, 0], [0.25, 0.25, 0.25, 0.25], [0.5, 0.5, 0, 0]])
    assert np.allclose(information_content(pwm).sum(axis=1), [2.0, 0.0, 1.0])
    assert plot_motif_logo(pwm, path=tmp_path / "m.png").read_bytes().startswith(PNG_MAGIC)
    assert plot_motif_logo(pwm - 0.25, path=tmp_path / "c.svg", kind="cwm").stat().st_size > 0


@pytest.mark.parametrize(
    "values, kwargs",
    [
        (np.zeros((30, 4)), {}),  # (L, 4) instead of (4, L)
        (np.full((4, 5), np.nan), {}),
        (np.zeros((4, 5)), {"highlight": [(3, 9)]}),  # span beyond the window
        (np.zeros((4, 5)), {"start": 100, "highlight": [(2, 4)]}),  # span in the wrong coordinates
    ],
)
def test_bad_input(tmp_path, values, kwargs):
    with pytest.raises(InputError):
        plot_logo(values, path=tmp_path / "x.png", **kwargs)
    assert not any(tmp_path.iterdir())


def test_bad_suffix(tmp_path):
    with pytest.raises(InputError, match="PNG or SVG"):
        plot_logo(_attributions(), path=tmp_path / "x.pdf")
    with pytest.raises(InputError):
        plot_motif_logo(np.full((3, 4), 0.25), path=tmp_path / "x.jpg")
