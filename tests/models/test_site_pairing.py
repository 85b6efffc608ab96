"""Tests of bioseq.models.site_pairing: window maxima, features by hand, fitting, refining, records, tiles."""

from __future__ import annotations

import json

import numpy as np
import pytest

from bioseq.errors import InputError
from bioseq.models import site_pairing as sp
from bioseq.models.site_pairing import SitePairing, stitch_tiles

CLASSES = ("neither", "acceptor", "donor")


def brute(x, lo, hi):
    """max of x[lo:hi] clipped to x, 0 when empty."""
    part = x[max(lo, 0) : max(hi, 0)]
    return part.max() if part.size else 0.0


@pytest.mark.parametrize("a, b", [(1, 5), (-7, -2), (-3, 4), (10, 80), (40, 100), (0, 1), (70, 90)])
def test_window_maxima_equal_brute_force(a, b):
    x = np.random.default_rng(abs(a) * 100 + abs(b)).random(61).astype(np.float32)
    ahead, behind = sp._ahead(x, a, b), sp._behind(x, a, b)
    assert ahead.shape == behind.shape == x.shape
    assert np.array_equal(ahead, [brute(x, i + a, i + b) for i in range(x.size)])
    assert np.array_equal(behind, [brute(x, i - b + 1, i - a + 1) for i in range(x.size)])


def neutral(**weights) -> SitePairing:
    """A pairing whose logistic regressions are identity on chosen features (standardisation off)."""
    n = sp.n_features()
    record = {}
    for name in ("acceptor", "donor"):
        coef = np.zeros(n)
        for index, value in weights.get(name, {0: 1.0}).items():
            coef[index] = value
        record[name] = {"mean": [0.0] * n, "scale": [1.0] * n, "coef": coef.tolist(), "intercept": 0.0}
    return SitePairing(classes=CLASSES, weights=record)


def exon_of(proba_rows: dict[int, list[float]], n: int = 400) -> np.ndarray:
    proba = np.zeros((n, 3), np.float32)
    proba[:, 0] = 1
    for at, row in proba_rows.items():
        proba[at] = row
    return proba


def test_features_pair_an_acceptor_with_the_donor_that_ends_its_exon():
    # acceptor at 10, donor at 60 (an exon 10..60), the next acceptor at 200 (an intron 61..200)
    proba = exon_of({10: [0.1, 0.9, 0.0], 60: [0.2, 0.0, 0.8], 200: [0.3, 0.7, 0.0]})
    pairing = neutral()
    acceptor, donor = pairing.features(proba, "acceptor"), pairing.features(proba, "donor")
    assert acceptor.shape == donor.shape == (400, sp.n_features()) and acceptor.dtype == np.float32
    odds = sp._log_odds
    assert acceptor[10, 0] == pytest.approx(odds(np.float32(0.9)))
    assert acceptor[10, 1] == pytest.approx(odds(np.float32(0.8)))  # exon side 1-79 ahead: the donor at +50
    assert acceptor[10, 2:5] == pytest.approx([odds(0.0)] * 3)  # farther exon bins: nothing
    assert donor[60, 1] == pytest.approx(odds(np.float32(0.9)))  # exon side 1-79 behind: the acceptor at -50
    assert donor[60, 6] == pytest.approx(odds(np.float32(0.7)))  # intron side 100-999 ahead: the acceptor at +140
    assert acceptor[200, 6] == pytest.approx(odds(np.float32(0.8)))  # intron side 100-999 behind: the donor
    assert acceptor[200, 10] == pytest.approx(odds(np.float32(0.9)))  # competition 30-299: the acceptor at -190


def test_refine_is_the_logistic_of_the_weighted_features_and_rows_sum_to_one():
    proba = exon_of({10: [0.1, 0.9, 0.0], 60: [0.2, 0.0, 0.8]})
    pairing = neutral(acceptor={0: 1.0, 1: 1.0}, donor={0: 1.0})
    out = pairing.refine(proba)
    assert out.shape == proba.shape and out.dtype == np.float32
    assert np.allclose(out.sum(axis=1), 1, atol=1e-6) and out.min() >= 0
    # acceptor at 10: own log-odds + its donor's; a sigmoid of that
    z = sp._log_odds(np.float32(0.9)) + sp._log_odds(np.float32(0.8))
    assert out[10, 1] == pytest.approx(1 / (1 + np.exp(-z)), rel=1e-5)
    assert out[60, 2] == pytest.approx(0.8, rel=1e-5)  # donor weights: its own log-odds only
    assert np.all(proba == exon_of({10: [0.1, 0.9, 0.0], 60: [0.2, 0.0, 0.8]}))  # input untouched


def test_a_piece_with_margins_of_the_reach_refines_as_the_whole_does():
    rng = np.random.default_rng(0)
    raw = rng.dirichlet([8, 0.3, 0.3], size=250_000).astype(np.float32)
    pairing = neutral(acceptor={0: 1.0, 5: 0.5, 8: 0.3, 9: -0.2}, donor={0: 0.7, 4: 0.4, 8: 0.5})
    whole = pairing.refine(raw)
    start, end = 120_000, 121_000
    lo, hi = start - pairing.reach, end + pairing.reach
    assert pairing.reach == 99_999
    assert np.allclose(pairing.refine(raw[lo:hi])[start - lo : end - lo], whole[start:end], atol=1e-6)
    # a margin of 10 kb is too short for the 10-100 kb intron bin
    near = pairing.refine(raw[start - 10_000 : end + 10_000])[10_000:-10_000]
    assert not np.allclose(near, whole[start:end], atol=1e-6)


def synthetic_spans(n_spans: int, seed: int):
    """Acceptors and decoys scored alike by the model; only true acceptors have a donor 50-70 bp downstream."""
    rng = np.random.default_rng(seed)
    spans = []
    for _ in range(n_spans):
        proba = np.zeros((2_000, 3), np.float32)
        proba[:, 1:] = rng.uniform(0, 0.02, (2_000, 2))
        labels = np.zeros(2_000, np.uint8)
        for at in rng.choice(np.arange(200, 1_700, 150), size=6, replace=False):
            score = rng.uniform(0.4, 0.9)
            proba[at, 1] = score
            if rng.random() < 0.5:  # a true acceptor and the donor that ends its exon
                labels[at] = 1
                donor = at + rng.integers(50, 70)
                proba[donor, 2], labels[donor] = rng.uniform(0.5, 0.9), 2
        proba[:, 0] = 1 - proba[:, 1:].sum(axis=1)
        spans.append((proba, labels))
    return spans


def topk(scores, hit):
    k = int(hit.sum())
    return hit[np.argsort(-scores, kind="stable")[:k]].mean()


def test_fitting_learns_that_a_true_acceptor_has_a_donor_downstream():
    pairing = SitePairing.fit(synthetic_spans(30, seed=1), classes=CLASSES)
    test = synthetic_spans(20, seed=2)
    hit = np.concatenate([y for _, y in test]) == 1
    before = np.concatenate([p[:, 1] for p, _ in test])
    after = np.concatenate([pairing.refine(p)[:, 1] for p, _ in test])
    assert topk(before, hit) < 0.65  # the model's own scores do not tell them apart
    assert topk(after, hit) > 0.95  # a decoy 80-250 bp before a true site's donor may still rank high
    assert pairing.weights["acceptor"]["coef"][1] > 0  # the exon-side partner at 1-79 bp weighs in favour


def test_a_weighted_sample_of_the_background_fits_about_the_same_stage():
    spans = synthetic_spans(30, seed=1)
    whole = SitePairing.fit(spans, classes=CLASSES)
    sampled = SitePairing.fit(spans, classes=CLASSES, max_positions=15_000)  # a quarter of the 60,000 positions
    assert SitePairing.fit(spans, classes=CLASSES, max_positions=15_000).to_dict() == sampled.to_dict()  # seeded
    test = synthetic_spans(20, seed=2)
    hit = np.concatenate([y for _, y in test]) == 1
    for pairing in (whole, sampled):
        assert topk(np.concatenate([pairing.refine(p)[:, 1] for p, _ in test]), hit) > 0.95
    # the weights keep the probabilities those of all positions: the mean acceptor probability agrees
    means = [np.mean([pairing.refine(p)[:, 1].mean() for p, _ in test]) for pairing in (whole, sampled)]
    assert means[1] == pytest.approx(means[0], rel=0.25)
    with pytest.raises(InputError, match="max_positions"):
        SitePairing.fit(spans, classes=CLASSES, max_positions=0)


def test_the_record_round_trips_through_json_and_bad_records_are_refused():
    pairing = SitePairing.fit(synthetic_spans(10, seed=3), classes=CLASSES)
    record = json.loads(json.dumps(pairing.to_dict()))
    again = SitePairing.from_dict(record)
    proba = synthetic_spans(1, seed=4)[0][0]
    assert np.array_equal(again.refine(proba), pairing.refine(proba))
    bad = [
        ({**record, "version": 2}, "another bioseq version"),
        ({**record, "near": [[1, 30]]}, "another bioseq version"),
        ({**record, "classes": ["neither", "acceptor"]}, "include acceptor and donor"),
        ({**record, "classes": ["acceptor", "neither", "donor"]}, "background class first"),
        ({**record, "weights": {"acceptor": record["weights"]["acceptor"]}}, "weights for acceptor, donor"),
        (
            {**record, "weights": {**record["weights"], "donor": {**record["weights"]["donor"], "coef": [1.0]}}},
            r"donor.coef needs 11 numbers",
        ),
        (
            {**record, "weights": {**record["weights"], "donor": {**record["weights"]["donor"], "intercept": "x"}}},
            "must be numbers",
        ),
        (
            {**record, "weights": {**record["weights"], "donor": {**record["weights"]["donor"], "scale": [0.0] * 11}}},
            "scale must be > 0",
        ),
        ([], "must be a JSON object"),
    ]
    for value, message in bad:
        with pytest.raises(InputError, match=message):
            SitePairing.from_dict(value)


def test_bad_arguments_are_refused():
    pairing = neutral()
    with pytest.raises(InputError, match=r"shape \(n, 3\)"):
        pairing.refine(np.zeros((5, 2), np.float32))
    with pytest.raises(InputError, match="float probabilities"):
        pairing.features(np.zeros((5, 3), np.int64), "donor")
    with pytest.raises(InputError, match="site must be one of"):
        pairing.features(np.zeros((5, 3), np.float32), "neither")
    with pytest.raises(InputError, match="no|0 acceptors"):
        SitePairing.fit([(np.full((50, 3), 1 / 3, np.float32), np.zeros(50, np.uint8))], classes=CLASSES)
    with pytest.raises(InputError, match="labels for 50 positions"):
        SitePairing.fit([(np.full((50, 3), 1 / 3, np.float32), np.zeros(49, np.uint8))], classes=CLASSES)
    with pytest.raises(InputError, match="include acceptor and donor"):
        SitePairing.fit([], classes=("neither", "tss"))
    with pytest.raises(InputError, match="c must be"):
        SitePairing.fit([], classes=CLASSES, c=0)


def test_stitched_tiles_give_back_each_strand_in_transcript_orientation():
    rng = np.random.default_rng(5)
    width, flank = 4, 3
    plus = rng.random((12, 3)).astype(np.float32)  # positions 100..112 of chr1 +, in genome order
    minus = rng.random((8, 3)).astype(np.float32)  # positions 200..208 of chr1 -, in transcript order (208 first)
    tiles, regions, labels = [], [], []
    for i in range(3):
        tiles.append(plus[i * width : (i + 1) * width])
        regions.append(f"chr1:{100 + i * width - flank}-{100 + (i + 1) * width + flank}(+)")
    for i in range(2):  # the tile of 204..208 holds transcript positions 0..3
        tiles.append(minus[i * width : (i + 1) * width])
        regions.append(f"chr1:{208 - (i + 1) * width - flank}-{208 - i * width + flank}(-)")
    tiles.append(plus[:width])  # a tile apart from the others: a run of its own
    regions.append(f"chr2:{50 - flank}-{54 + flank}(+)")
    proba = np.stack(tiles)
    labels = (proba[..., 0] > 0.5).astype(np.uint8)
    order = rng.permutation(len(tiles))
    runs = stitch_tiles([regions[i] for i in order], proba[order], labels[order])
    got = sorted((len(p), p[0, 0]) for p, _ in runs)
    assert got == sorted([(12, plus[0, 0]), (8, minus[0, 0]), (4, plus[0, 0])])
    for p, y in runs:
        assert y.shape == (len(p),) and np.array_equal(y, (p[:, 0] > 0.5).astype(np.uint8))
        if len(p) == 12:
            assert np.array_equal(p, plus)
        if len(p) == 8:
            assert np.array_equal(p, minus)
    with pytest.raises(InputError, match="is not chrom:start-end"):
        stitch_tiles(["chr1:1-8"], proba[:1], labels[:1])
    with pytest.raises(InputError, match="for N regions"):
        stitch_tiles(regions[:2], proba, labels)


def as_tiles(spans, width: int = 400, flank: int = 5):
    """Each span cut into tiles of ``width`` on a contig of its own (+ strand), as a per-base split stores them."""
    regions, proba, labels = [], [], []
    for number, (p, y) in enumerate(spans):
        for start in range(0, len(y), width):
            regions.append(f"span{number}:{start - flank}-{start + width + flank}(+)")
            proba.append(p[start : start + width])
            labels.append(y[start : start + width])
    return regions, np.stack(proba), np.stack(labels)


def test_fit_on_tiles_fits_the_stitched_runs_or_says_why_not(caplog):
    spans = synthetic_spans(12, seed=3)
    regions, proba, labels = as_tiles(spans)
    fitted = sp.fit_on_tiles(regions, proba, labels, classes=CLASSES)
    direct = SitePairing.fit(spans, classes=CLASSES)
    for site in ("acceptor", "donor"):
        np.testing.assert_allclose(fitted.weights[site]["coef"], direct.weights[site]["coef"], rtol=1e-3, atol=1e-4)
    assert sp.fit_on_tiles(regions, proba[..., :2], labels, classes=("neither", "acceptor")) is None
    with caplog.at_level("INFO", logger="bioseq.models.site_pairing"):
        assert sp.fit_on_tiles(regions, proba, np.zeros_like(labels), classes=CLASSES) is None
        assert sp.fit_on_tiles(["chr1:1-8"] * len(proba), proba, labels, classes=CLASSES) is None
    assert [r.message.startswith("no site pairing: ") for r in caplog.records] == [True, True]
