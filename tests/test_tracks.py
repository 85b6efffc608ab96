"""Tests of bioseq.tracks: chunked per-position prediction along a region, in genome orientation.

``SiteFake`` stands in for a per-position bundle (Contract 2): it calls a donor
(0.9) at the G of every GT and an acceptor (0.9) at the G of every AG, and
otherwise gives small values that depend on every base within ``flank`` of
the position (their mean code, and the share of N), so a wrong flank or a
window shifted by one base changes the numbers. The other test modules of
annotate import it from here.
"""

from __future__ import annotations

import numpy as np
import pytest

from bioseq.codes import encode
from bioseq.errors import InputError, MissingContigError
from bioseq.io.reference import Reference
from bioseq.tracks import check_per_position, predict_blocks, predict_region

A, C, G, T, N = 0, 1, 2, 3, 4


class SiteFake:
    """A duck-typed per-position bundle: ``(n, L)`` uint8 -> ``(n, L - 2 * flank, 3)`` float32."""

    per_position = True
    classes = ("neither", "acceptor", "donor")
    path = None

    def __init__(self, flank: int = 5) -> None:
        self.flank = flank
        self.calls: list[tuple[int, int]] = []

    def predict_proba(self, codes: np.ndarray, *, batch_size: int = 256, device=None) -> np.ndarray:
        codes = np.asarray(codes, dtype=np.uint8)
        self.calls.append(codes.shape)
        f, width = self.flank, codes.shape[1] - 2 * self.flank
        window = np.lib.stride_tricks.sliding_window_view(codes, 2 * f + 1, axis=1)  # (n, W, 2f + 1)
        centre, before, after = (
            codes[:, f : f + width],
            codes[:, f - 1 : f - 1 + width],
            codes[:, f + 1 : f + 1 + width],
        )
        shade = window.mean(axis=-1) / 100 + (window == N).mean(axis=-1) / 20  # (n, W), < 0.1
        donor = np.where((centre == G) & (after == T), 0.9, shade)
        acceptor = np.where((centre == G) & (before == A), 0.9, 0.01)
        return np.stack([1 - donor - acceptor, acceptor, donor], axis=-1).astype(np.float32)  # (n, W, 3)


class PairedFake(SiteFake):
    """The fake with a second stage: acceptors weighed by the donor 1-79 bp after them, donors by their own odds."""

    def __init__(self) -> None:
        super().__init__()
        from bioseq.models.site_pairing import SitePairing, n_features

        n = n_features()
        weights = {
            "acceptor": {
                "mean": [0.0] * n,
                "scale": [1.0] * n,
                "coef": [1.0, 2.0] + [0.0] * (n - 2),
                "intercept": -1.0,
            },
            "donor": {"mean": [0.0] * n, "scale": [1.0] * n, "coef": [0.5] + [0.0] * (n - 1), "intercept": 0.0},
        }
        self.site_pairing = SitePairing(classes=self.classes, weights=weights)


class WindowFake:
    """A window classifier: one value per sequence."""

    per_position = False
    flank = 0
    classes = ("no", "yes")
    path = None


_rng = np.random.default_rng(3)
RANDOM = "".join(_rng.choice(list("ACGT"), 240))
MOTIFS = "GGGGGGACGGGGGGCTGGGGG"  # on -: a donor at the C of AC (7), an acceptor at the C of CT (14)


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    path = tmp_path_factory.mktemp("genome") / "g.fa"
    path.write_text(f">r\n{RANDOM}\n>m\n{MOTIFS}\n")
    with Reference(path) as ref:
        yield ref


def _direct(fake: SiteFake, seq: str, start: int, end: int, strand: str = "+") -> np.ndarray:
    """The fake on the hand-cut window ``[start - flank, end + flank)``, N past the ends, in genome order."""
    f = fake.flank
    text = "".join(seq[i] if 0 <= i < len(seq) else "N" for i in range(start - f, end + f))
    if strand == "-":
        text = text.translate(str.maketrans("ACGTN", "TGCAN"))[::-1]
    proba = fake.predict_proba(encode([text])[0])[0]
    return proba[::-1] if strand == "-" else proba


@pytest.mark.parametrize("strand", ["+", "-"])
def test_a_region_equals_the_model_on_its_hand_cut_window(reference, strand):
    fake = SiteFake()
    got = predict_region(fake, reference, "r", 50, 120, strand=strand, chunk=1000)
    assert got.shape == (70, 3) and got.dtype == np.float32
    np.testing.assert_array_equal(got, _direct(fake, RANDOM, 50, 120, strand))


@pytest.mark.parametrize("strand", ["+", "-"])
def test_halves_chunks_and_batches_give_the_whole(reference, strand):
    fake = SiteFake()
    whole = predict_region(fake, reference, "r", 0, 240, strand=strand, chunk=5000)
    for cut in (1, 77, 120, 239):
        halves = [
            predict_region(fake, reference, "r", a, b, strand=strand, chunk=31) for a, b in ((0, cut), (cut, 240))
        ]
        np.testing.assert_array_equal(np.concatenate(halves), whole)
    for chunk, batch_size in ((1, 7), (7, 1), (50, 3), (239, 2)):
        got = predict_region(fake, reference, "r", 0, 240, strand=strand, chunk=chunk, batch_size=batch_size)
        np.testing.assert_array_equal(got, whole)


def test_contig_ends_are_read_as_n(reference):
    fake = SiteFake(flank=5)
    start = predict_region(fake, reference, "r", 0, 3)
    np.testing.assert_array_equal(start, _direct(fake, RANDOM, 0, 3))
    end = predict_region(fake, reference, "r", 236, 240, strand="-")
    np.testing.assert_array_equal(end, _direct(fake, RANDOM, 236, 240, "-"))
    # Position 0 on +: the window is 5 N then RANDOM[0:6]; no GT there, so the donor value is the shade.
    assert RANDOM[0:2] != "GT"
    window = encode(["NNNNN" + RANDOM[:6]])[0]
    shade = window.mean() / 100 + 5 / 11 / 20
    assert start[0, 2] == pytest.approx(shade, rel=1e-6)


def test_minus_strand_sites_sit_on_the_complement_bases(reference):
    fake = SiteFake()
    # MOTIFS on + reads ...G A C G...: on - this is ...C G T C..., a GT whose G is the complement of the
    # C at position 7: a minus-strand donor at 7. ...G C T G... on + is ...C A G C... on -: the AG's G
    # is the complement of the C at 14, a minus-strand acceptor at 14. No GT or AG on +.
    minus = predict_region(fake, reference, "m", 0, len(MOTIFS), strand="-")
    plus = predict_region(fake, reference, "m", 0, len(MOTIFS), strand="+")
    assert np.flatnonzero(minus[:, 2] >= 0.5).tolist() == [7]
    assert np.flatnonzero(minus[:, 1] >= 0.5).tolist() == [14]
    assert not (plus[:, 1:] >= 0.5).any()
    assert minus[7, 2] == pytest.approx(0.9)


def test_blocks_are_contiguous_and_bounded(reference):
    fake = SiteFake()
    blocks = list(predict_blocks(fake, reference, "r", 10, 200, chunk=20, batch_size=3))
    starts = [start for start, _ in blocks]
    sizes = [proba.shape[0] for _, proba in blocks]
    assert starts == [10, 70, 130, 190] and sizes == [60, 60, 60, 10]
    assert all(shape == (min(3, n), 30) for shape, n in zip(fake.calls, (3, 3, 3, 1)))  # chunk + 2 * flank
    assert list(predict_blocks(fake, reference, "r", 5, 5)) == []
    assert predict_region(fake, reference, "r", 5, 5).shape == (0, 3)


def test_bad_input_is_refused(reference):
    with pytest.raises(InputError, match="bioseq scan"):
        predict_region(WindowFake(), reference, "r", 0, 10)
    with pytest.raises(InputError, match="bioseq scan"):
        check_per_position(object())
    with pytest.raises(InputError, match="not inside r"):
        predict_region(SiteFake(), reference, "r", 200, 241)
    with pytest.raises(MissingContigError):
        predict_region(SiteFake(), reference, "chrZ", 0, 10)
    for kwargs in ({"strand": "."}, {"chunk": 0}, {"batch_size": 0}):
        with pytest.raises(InputError):
            predict_region(SiteFake(), reference, "r", 0, 10, **kwargs)


def test_a_model_output_of_the_wrong_shape_is_refused(reference):
    fake = SiteFake()
    fake.flank = 4  # reads 2 * 4 more bases than it says: outputs 2 positions too many
    fake.predict_proba = lambda codes, **kw: SiteFake(flank=3).predict_proba(codes)
    with pytest.raises(InputError, match="returned probabilities of shape"):
        predict_region(fake, reference, "r", 0, 10)


def test_paired_predictions_of_a_region_split_in_two_equal_the_whole(reference):
    bundle, size = PairedFake(), reference.length("r")
    for strand in ("+", "-"):
        whole = predict_region(bundle, reference, "r", 0, size, strand=strand, chunk=37, pairing=True)
        parts = [predict_region(bundle, reference, "r", a, b, strand=strand, chunk=37, pairing=True)
                 for a, b in ((0, 101), (101, size))]  # fmt: skip
        assert whole.shape == (size, 3) and np.allclose(np.concatenate(parts), whole, atol=1e-6)
        raw = predict_region(bundle, reference, "r", 0, size, strand=strand, chunk=37)
        step = -1 if strand == "-" else 1
        assert np.allclose(whole, bundle.site_pairing.refine(raw[::step])[::step], atol=1e-6)
    with pytest.raises(InputError, match="no site-pairing second stage"):
        predict_region(SiteFake(), reference, "r", 0, size, pairing=True)
