"""Tests of bioseq.datasets.hard_negatives: a model's false sites, and the windows a dataset adds around them."""

from __future__ import annotations

import numpy as np
import pytest

from bioseq.alphabet import PAD
from bioseq.datasets.hard_negatives import _peaks, false_sites
from bioseq.errors import InputError
from bioseq.io.interval import Interval
from bioseq.io.reference import Reference

CLASSES = ("neither", "acceptor", "donor")


class GTModel:
    """A per-position 'model' that calls a donor at every G followed by T (flank 2), with a fixed probability.

    Codes arrive as read on the strand, so on ``-`` it sees the reverse complement.
    """

    per_position, classes, flank, path = True, CLASSES, 2, "gt-model"

    def predict_proba(self, codes, batch_size=64, device=None):
        codes = np.asarray(codes)
        body = codes[:, self.flank : codes.shape[1] - self.flank]  # (n, w)
        after = codes[:, self.flank + 1 : codes.shape[1] - self.flank + 1]
        gt = (body == 2) & (after == 3) & (body != PAD)
        proba = np.zeros(body.shape + (3,), dtype=np.float32)
        proba[..., 2] = np.where(gt, 0.9, 0.0)
        proba[..., 0] = 1 - proba[..., 2]
        return proba


def test_peaks_keep_one_maximum_per_neighbourhood():
    score = np.array([0, 0.2, 0.5, 0.1, 0, 0, 0, 0.3, 0.3, 0, -1, 0.4], dtype=np.float32)
    assert _peaks(score, 1).tolist() == [2, 7, 11]  # the plateau 7-8 keeps its first base
    assert _peaks(score, 5).tolist() == [2, 11]  # 0.3 at 7 is within 5 of 11's 0.4
    assert _peaks(np.zeros(5, np.float32), 1).size == 0  # a score of 0 is never a false site
    assert _peaks(np.array([0.5], np.float32), 3).tolist() == [0]


@pytest.fixture
def genome(tmp_path):
    rng = np.random.default_rng(0)
    seq = list(rng.choice(list("AG"), 400))  # no T on +, no G on -: only the planted GTs below
    for p in (50, 120, 200, 300):
        seq[p : p + 2] = "GT"
    seq[350:352] = "AC"  # GT on the minus strand, read 5'->3' from position 351 down
    path = tmp_path / "g.fa"
    path.write_text(">c1\n" + "".join(seq) + "\n")
    return path


def test_false_sites_are_the_model_calls_that_are_not_true_sites(genome):
    def labels(contig, strand):
        truth = np.zeros(400, np.uint8)
        if strand == "+":
            truth[120] = 2  # a true donor: never returned
        return truth

    with Reference(genome) as reference:
        sites, stats = false_sites(GTModel(), reference, ["c1"], labels, count=10, held=[Interval("c1", 290, 310)])
        positions, minus = sites["c1"]
        assert sorted(zip(positions.tolist(), minus.tolist())) == [(50, False), (200, False), (351, True)]
        assert stats["count"] == 3 and stats["min_score"] == pytest.approx(0.9)
        top, _ = false_sites(GTModel(), reference, ["c1"], labels, count=1)
        assert sum(p.size for p, _ in top.values()) == 1
        none, stats = false_sites(GTModel(), reference, ["c1"], labels, count=0)
        assert none == {} and stats["count"] == 0 and stats["min_score"] is None


def test_false_sites_refuse_a_window_classifier(genome):
    class Window(GTModel):
        per_position, classes = False, ("neg", "pos")

    with Reference(genome) as reference, pytest.raises(InputError, match="per-position splice model") as caught:
        false_sites(Window(), reference, ["c1"], lambda c, s: np.zeros(400, np.uint8), count=3)
    assert "gt-model" in str(caught.value)
    with Reference(genome) as reference, pytest.raises(InputError, match="count"):
        false_sites(GTModel(), reference, ["c1"], lambda c, s: np.zeros(400, np.uint8), count=-1)
