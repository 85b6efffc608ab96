"""bioseq.interpret.motif_match: MEME/JASPAR files, offline JASPAR, TOMTOM matches and their q-values."""

from __future__ import annotations

import numpy as np
import pytest
from support import TATA_PWM

from bioseq.errors import InputError
from bioseq.interpret.motif_match import (
    MotifRecord,
    benjamini_hochberg,
    jaspar_motifs,
    jaspar_release,
    match_motifs,
    read_motif_file,
    write_motifs,
)

TATA = np.array(TATA_PWM)  # T A T A A A A G


@pytest.fixture(scope="module")
def jaspar():
    return jaspar_motifs()  # JASPAR CORE vertebrates, offline: about 3 s


def _records():
    rng = np.random.default_rng(1)
    other = rng.dirichlet(np.ones(4), size=5)
    return [MotifRecord("MA0108.3", "TBP", TATA, 40), MotifRecord("m2", "", other, 13)]


@pytest.mark.parametrize("suffix", [".meme", ".jaspar"])
def test_round_trip(tmp_path, suffix):
    records = _records()
    path = write_motifs(records, tmp_path / f"motifs{suffix}")
    back = read_motif_file(path)
    assert [r.id for r in back] == ["MA0108.3", "m2"]
    assert back[0].name == "TBP"
    assert [r.sites for r in back] == [40, 13]
    tolerance = 1e-6 if suffix == ".meme" else 0.01 / 13  # JASPAR stores counts with 2 decimals
    for a, b in zip(records, back, strict=True):
        assert b.pwm.shape == a.pwm.shape
        assert np.allclose(b.pwm, a.pwm, atol=tolerance)


def test_bad_motif_files(tmp_path):
    (tmp_path / "empty.meme").write_text("MEME version 4\n\nALPHABET= ACGT\n")
    with pytest.raises(InputError, match="no motif"):
        read_motif_file(tmp_path / "empty.meme")
    (tmp_path / "bad.meme").write_text("MOTIF a\nletter-probability matrix: alength= 4 w= 2\n0.1 0.9\n0.5 0.5\n")
    with pytest.raises(InputError, match="2 values, not 4"):
        read_motif_file(tmp_path / "bad.meme")
    with pytest.raises(InputError, match="extension"):
        read_motif_file(tmp_path / "motifs.xyz")
    with pytest.raises(InputError, match="does not exist"):
        read_motif_file(tmp_path / "missing.meme")


def test_benjamini_hochberg():
    p = np.array([[0.01, 0.04, 0.03, 0.5]])
    # sorted 0.01, 0.03, 0.04, 0.5 -> x 4/rank: 0.04, 0.06, 0.0533, 0.5 -> running minimum from the top
    assert np.allclose(benjamini_hochberg(p), [[0.04, 0.0533333, 0.0533333, 0.5]])


def test_jaspar_offline(jaspar):
    assert jaspar_release().startswith("JASPAR")
    assert len(jaspar) > 500
    tbp = [r for r in jaspar if r.id.startswith("MA0108")]
    assert tbp and tbp[0].name == "TBP"
    assert np.allclose(tbp[0].pwm.sum(axis=1), 1.0)
    with pytest.raises(InputError, match="no JASPAR release"):
        jaspar_motifs(release="JASPAR1999")


def test_self_match_and_tata_box(jaspar):
    query = next(r for r in jaspar if r.name == "GATA1")
    matches = match_motifs([query, MotifRecord("tata", "", TATA)], jaspar, top=5)
    assert [m.rank for m in matches] == [1, 2, 3, 4, 5] * 2
    self_match = matches[0]
    assert (self_match.motif, self_match.match_id, self_match.orientation) == (query.id, query.id, "+")
    assert self_match.q_value < 1e-3 and self_match.p_value <= self_match.q_value
    tata = [m for m in matches if m.motif == "tata"]
    assert "TBP" in [m.match_name for m in tata]  # JASPAR MA0108 among the best hits
    assert all(a.p_value <= b.p_value for a, b in zip(tata, tata[1:]))


def test_reverse_complement_matches_on_minus_strand(jaspar):
    rc = MotifRecord("rc", "", TATA[::-1, ::-1])
    best = match_motifs([rc], jaspar, top=1)[0]
    assert (best.match_name, best.orientation) == ("TBP", "-")
    with pytest.raises(InputError):
        match_motifs([rc], jaspar, top=0)
