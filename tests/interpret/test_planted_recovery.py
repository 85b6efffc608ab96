"""Done-when test of interpretation on SYNTHETIC data with motifs planted at known positions.

A small CNN is trained on ``bioseq simulate planted`` data (2,000 sequences of
100 bp; half carry one TATA box sampled from the simulator's TATA PWM at a
random recorded position, half are background). Then, on the 200 positives
the model scores highest:

* DeepLIFT/SHAP: the position of the largest attribution (summed over bases)
  lies inside the planted TATA box for 0.895 of them (seed 0, 5 epochs; the
  test asks for >= 0.7);
* ISM: the mean absolute effect of a substitution inside the planted box is
  about 9x that of one in the background (asked: >= 3x, and larger in >= 80 %
  of the sequences);
* ``bioseq motifs`` (TF-MoDISco + TOMTOM) on all 1,000 positives: the best match of the strongest
  positive motif is the planted PWM when the planted MEME file is the
  database, and JASPAR CORE vertebrates ranks TBP (MA0108) among the first
  three (first in the run that set these numbers, q = 0.12).

About 70 s on 2 CPU cores, most of it training.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest

from bioseq.cli.main import main
from bioseq.interpret.explain import read_explanation
from bioseq.simulate.planted import simulate_planted, write_planted

pytestmark = pytest.mark.slow

CNN = {"channels": [32, 32], "kernel_sizes": [9, 5], "dilations": [1, 1], "pools": [1, 1], "head_hidden": 16}


@pytest.fixture(scope="module")
def planted(tmp_path_factory):
    from bioseq.train.config import config_from_options
    from bioseq.train.fit import train

    folder = tmp_path_factory.mktemp("planted")
    data = simulate_planted(n=2000, length=100, seed=0)
    write_planted(data, folder / "planted.csv", positions=folder / "planted.tsv", meme=folder / "planted.meme")
    options = {"train": folder / "planted.csv", "model": "cnn", "epochs": 5, "out": folder / "run", "lr": 3e-3}
    train(config_from_options({**options, "batch_size": 64, "model_options": {**CNN, "pooling": "max"}}))
    sites = {site.name: site for site in data.sites}
    return folder, sites


def _inside(names, sites, width: int) -> np.ndarray:
    mask = np.zeros((len(names), width), dtype=bool)
    for i, name in enumerate(names.tolist()):
        mask[i, sites[name].start : sites[name].end] = True
    return mask


@pytest.fixture(scope="module")
def deeplift(planted):
    folder, _ = planted
    exp = folder / "exp"
    args = ["explain", str(folder / "run"), "--input", str(folder / "planted.csv"), "--method", "deeplift_shap"]
    assert main([*args, "--label", "pos", "--top", "200", "--logos", "2", "--out", str(exp)]) == 0
    return exp


@pytest.fixture(scope="module")
def deeplift_all(planted):
    """DeepLIFT/SHAP of all 1,000 positives: MoDISco needs more than 100 seqlets of one sign (200 is borderline)."""
    folder, _ = planted
    exp = folder / "exp_all"
    args = ["explain", str(folder / "run"), "--input", str(folder / "planted.csv"), "--method", "deeplift_shap"]
    assert main([*args, "--label", "pos", "--logos", "0", "--out", str(exp)]) == 0
    return exp


def test_top_attributions_fall_on_the_planted_motifs(planted, deeplift):
    _, sites = planted
    meta, arrays = read_explanation(deeplift)
    assert meta["n"] == 200 and meta["target"] == "pos" and len(meta["logos"]) == 2
    per_base = arrays["attributions"].sum(axis=1)  # (N, L)
    inside = _inside(arrays["names"], sites, per_base.shape[1])
    hits = inside[np.arange(len(per_base)), per_base.argmax(axis=1)]
    fraction = hits.mean()
    assert fraction >= 0.7, f"the largest attribution is on the planted motif in {fraction:.3f} of the sequences"


def test_mutating_the_planted_motif_changes_the_score_more_than_background(planted, tmp_path):
    folder, sites = planted
    exp = tmp_path / "ism"
    args = ["explain", str(folder / "run"), "--input", str(folder / "planted.csv"), "--method", "ism"]
    assert main([*args, "--label", "pos", "--top", "100", "--logos", "0", "--out", str(exp)]) == 0
    _, arrays = read_explanation(exp)
    effect = np.abs(arrays["hypothetical"]).sum(axis=1) / 3  # (N, L): mean |logit change| of the 3 substitutions
    inside = _inside(arrays["names"], sites, effect.shape[1])
    ratio = effect[inside].mean() / effect[~inside].mean()
    per_sequence = np.array([effect[i, m].mean() > effect[i, ~m].mean() for i, m in enumerate(inside)])
    assert ratio >= 3, f"planted / background ISM effect {ratio:.2f}"
    assert per_sequence.mean() >= 0.8


def _best_matches(mot: Path) -> dict[str, list[dict]]:
    with open(mot / "motifs.tsv", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t"))
    by_motif: dict[str, list[dict]] = {}
    for row in rows:
        by_motif.setdefault(row["motif"], []).append(row)
    return by_motif


def test_modisco_and_tomtom_recover_the_planted_motif(planted, deeplift_all, tmp_path):
    folder, _ = planted
    mot = tmp_path / "mot"
    assert main(["motifs", str(deeplift_all), "--out", str(mot), "--motifs", str(folder / "planted.meme")]) == 0
    found = _best_matches(mot)
    positive = [name for name, rows in found.items() if rows[0]["sign"] == "+"]
    assert positive, found
    strongest = max(positive, key=lambda name: int(found[name][0]["seqlets"]))
    assert found[strongest][0]["match_id"] == "TATA_box" and found[strongest][0]["rank"] == "1"
    assert (mot / "motifs.html").is_file()
    jaspar = tmp_path / "mot_jaspar"
    assert main(["motifs", str(deeplift_all), "--out", str(jaspar)]) == 0
    rows = _best_matches(jaspar)[strongest]
    ranks = {row["match_name"]: int(row["rank"]) for row in rows if row["match_name"]}
    assert min((rank for name, rank in ranks.items() if "TBP" in name.upper()), default=99) <= 3, rows
