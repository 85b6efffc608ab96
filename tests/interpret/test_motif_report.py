"""bioseq.interpret.motif_report: the MOT folder from an EXP folder (MoDISco faked, then for real: slow)."""

from __future__ import annotations

import base64
import csv
import json

import numpy as np
import pytest
from support import TATA_PWM

import bioseq.interpret.motif_report as report
from bioseq.errors import InputError
from bioseq.interpret.motif_report import COLUMNS, run_motifs
from bioseq.interpret.motifs import Motif

TATA = np.array(TATA_PWM)


def planted_exp(folder, *, n=500, length=100, seed=0, regions=None):
    """An EXP folder: TATA boxes sampled from the PWM at random places, hypothetical contributions
    0.5 x scale x log2(pwm / 0.25) there (scale uniform in 0.5..1.5 per sequence) and N(0, 0.05) noise."""
    rng = np.random.default_rng(seed)
    codes = rng.integers(0, 4, (n, length)).astype(np.uint8)
    hypothetical = rng.normal(0, 0.05, (n, length, 4))
    starts = rng.integers(5, length - len(TATA) - 5, n)
    for i, start in enumerate(starts):
        codes[i, start : start + len(TATA)] = [rng.choice(4, p=row) for row in TATA]
        hypothetical[i, start : start + len(TATA)] += 0.5 * rng.uniform(0.5, 1.5) * np.log2(TATA / 0.25)
    hypothetical = np.moveaxis(hypothetical, 2, 1).astype(np.float32)  # (N, 4, L)
    attributions = np.moveaxis(np.eye(4, dtype=np.float32)[codes], 2, 1) * hypothetical
    folder.mkdir()
    np.savez(
        folder / "attributions.npz", attributions=attributions, hypothetical=hypothetical, codes=codes,
        lengths=np.full(n, length, dtype=np.int64), names=np.array([f"s{i}" for i in range(n)]),
        scores=np.ones(n, dtype=np.float32),
    )  # fmt: skip
    meta = {
        "format": "bioseq-explain", "format_version": 1, "method": "deeplift_shap", "target": "promoter",
        "target_index": 1, "classes": ["background", "promoter"], "model": "runs/cnn/bundle", "model_name": "cnn",
        "input": "seqs.csv", "n": n, "length": length, "rc_average": False, "options": {}, "regions": regions,
    }  # fmt: skip
    (folder / "explain.json").write_text(json.dumps(meta))
    return folder, starts


def _read_tsv(path):
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle, delimiter="\t"))


def test_report_files(tmp_path, monkeypatch):
    regions = [["chr1", 1000, 1050, "+"], ["chr2", 2000, 2050, "-"], ["chr2", 0, 50, "+"]]
    exp, _ = planted_exp(tmp_path / "exp", n=3, length=50, regions=regions)
    found = [
        Motif("pos_1", TATA, TATA - 0.25, 120, "+", [(0, 10, 18), (1, 10, 18)]),
        Motif("neg_1", np.full((6, 4), 0.25), np.zeros((6, 4)), 30, "-", []),
    ]
    monkeypatch.setattr(report, "discover_motifs", lambda *args, **kwargs: found)
    summary = run_motifs(exp, tmp_path / "mot", top=3)
    out = tmp_path / "mot"
    rows = _read_tsv(out / "motifs.tsv")
    assert set(COLUMNS) <= set(rows[0]) and {"motif", "seqlets", "match_id", "match_name", "q_value"} <= set(rows[0])
    tata = [r for r in rows if r["motif"] == "pos_1"]
    assert [r["rank"] for r in tata] == ["1", "2", "3"] and tata[0]["match_name"] == "TBP"
    assert tata[0]["seqlets"] == "120" and tata[0]["consensus"] == "TATAAAAG" and float(tata[0]["q_value"]) < 0.05
    assert summary["motifs"][0]["best_match"]["match_name"] == "TBP"
    assert summary["database"]["source"] == "JASPAR" and summary["database"]["release"].startswith("JASPAR")
    page = (out / "motifs.html").read_text()
    png = page.split('src="data:image/png;base64,')[1].split('"')[0]
    assert base64.b64decode(png).startswith(b"\x89PNG") and "deeplift_shap" in page and "TBP" in page
    assert {p.name for p in (out / "logos").iterdir()} >= {"pos_1.png", "pos_1.svg", "neg_1.png", "neg_1.svg"}
    assert "MOTIF pos_1 TATAAAAG" in (out / "motifs.meme").read_text()
    assert json.loads((out / "summary.json").read_text())["format"] == "bioseq-motifs"
    seqlets = [
        (r["sequence"], r["start"], r["chrom"], r["genome_start"], r["genome_end"])
        for r in _read_tsv(out / "seqlets.tsv")
    ]
    assert seqlets == [
        ("s0", "10", "chr1", "1010", "1018"),
        ("s1", "10", "chr2", "2032", "2040"),
    ]  # - strand: from the end


def test_user_motif_file_and_unmatched_motif(tmp_path, monkeypatch):
    exp, _ = planted_exp(tmp_path / "exp", n=3, length=50)
    database = tmp_path / "mine.meme"
    database.write_text("MOTIF tata TBPlike\nletter-probability matrix: alength= 4 w= 8\n")
    with open(database, "a") as handle:
        handle.writelines(" ".join(map(str, row)) + "\n" for row in TATA)
    monkeypatch.setattr(report, "discover_motifs", lambda *args, **kwargs: [])
    summary = run_motifs(exp, tmp_path / "mot", database=database)
    assert summary["motifs"] == [] and summary["database"] == {"source": "file", "path": str(database)}
    assert _read_tsv(tmp_path / "mot" / "motifs.tsv") == []
    monkeypatch.setattr(report, "match_motifs", lambda *args, **kwargs: [])  # a motif without a match
    monkeypatch.setattr(report, "discover_motifs", lambda *a, **k: [Motif("pos_1", TATA, TATA, 25, "+", [])])
    run_motifs(exp, tmp_path / "mot", database=database)  # rerun over the old folder: replaced whole
    (row,) = _read_tsv(tmp_path / "mot" / "motifs.tsv")
    assert row["motif"] == "pos_1" and row["match_id"] == "" and row["q_value"] == ""


def test_not_an_explanation(tmp_path):
    (tmp_path / "exp").mkdir()
    with pytest.raises(InputError):
        run_motifs(tmp_path / "exp", tmp_path / "mot")
    assert not (tmp_path / "mot").exists()


@pytest.mark.slow
def test_planted_tata_box_is_found_and_named(tmp_path):
    exp, starts = planted_exp(tmp_path / "exp")
    summary = run_motifs(exp, tmp_path / "mot", leiden_runs=2)
    first = summary["motifs"][0]
    assert first["sign"] == "+"
    assert "TATAAAA" in first["consensus"] or "TTTTATA" in first["consensus"]  # MoDISco picks the strand
    assert first["best_match"]["match_name"] == "TBP" and first["best_match"]["q_value"] < 0.05
    rows = _read_tsv(tmp_path / "mot" / "motifs.tsv")
    assert rows[0]["match_id"].startswith("MA0108")
    seqlets = [r for r in _read_tsv(tmp_path / "mot" / "seqlets.tsv") if r["motif"] == first["name"]]
    planted = [
        int(r["start"]) < starts[int(r["sequence"][1:])] + len(TATA) and int(r["end"]) > starts[int(r["sequence"][1:])]
        for r in seqlets
    ]
    # the seqlets lie on the planted boxes (0.90 in the run that set this; the rest are TATA-like noise anywhere)
    assert len(seqlets) == first["seqlets"] and np.mean(planted) >= 0.85
    before = (tmp_path / "mot" / "motifs.tsv").read_text()
    run_motifs(exp, tmp_path / "mot", leiden_runs=2)  # a rerun replaces MOT whole, with the same motifs
    assert (tmp_path / "mot" / "motifs.tsv").read_text() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["exp", "mot"]  # no temporary left


def test_too_few_seqlets_is_a_report_without_motifs_that_says_why(tmp_path, monkeypatch):
    from bioseq.interpret.motifs import TooFewSeqlets

    def too_few(*args, **kwargs):
        raise TooFewSeqlets("MoDISco found too few seqlets in 5 sequences", fix="Explain more sequences")

    monkeypatch.setattr(report, "discover_motifs", too_few)
    exp, _ = planted_exp(tmp_path / "exp", n=5)
    summary = run_motifs(exp, tmp_path / "mot", database=[])
    assert summary["motifs"] == [] and "too few seqlets" in summary["note"]
    assert "too few seqlets" in (tmp_path / "mot" / "motifs.html").read_text()
    assert _read_tsv(tmp_path / "mot" / "motifs.tsv") == []
