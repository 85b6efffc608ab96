"""``bioseq explain`` and ``bioseq motifs`` on the command line: outputs, reruns, one-line errors."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from bioseq.bundle import save_bundle
from bioseq.cli.explain import _METHODS
from bioseq.cli.main import main
from bioseq.interpret.explain import METHODS
from bioseq.models.registry import build_model

CNN = {"channels": [4], "kernel_sizes": [3], "dilations": [1], "pools": [1], "head_hidden": 4}
WIDTH = 20


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    torch.manual_seed(0)
    path = tmp_path_factory.mktemp("bundle") / "cnn"
    options = {**CNN, "n_outputs": 3}
    save_bundle(path, model=build_model("cnn", options), model_name="cnn", model_options=options,
                task="multiclass", classes=("EI", "IE", "N"), length=WIDTH)  # fmt: skip
    return path


@pytest.fixture(scope="module")
def table(tmp_path_factory):
    rng = np.random.default_rng(0)
    path = tmp_path_factory.mktemp("table") / "splice.csv"
    rows = [f"{'EI IE N'.split()[i % 3]},{''.join(rng.choice(list('ACGT'), WIDTH))}" for i in range(9)]
    path.write_text("label,sequence\n" + "\n".join(rows) + "\n")
    return path


def test_explain_writes_exp_then_says_already_done(run, table, tmp_path, capsys):
    out = tmp_path / "exp"
    args = ["explain", str(run), "--input", str(table), "--method", "grad_x_input", "--out", str(out)]
    assert main([*args, "--label", "IE", "--target", "IE", "--logos", "0"]) == 0
    meta = json.loads((out / "explain.json").read_text())
    assert meta["n"] == 3 and meta["target"] == "IE" and meta["label"] == "IE"
    assert "grad_x_input attributions of 'IE' for all 3 sequences" in capsys.readouterr().err
    assert main([*args, "--label", "IE", "--target", "IE", "--logos", "0"]) == 0
    assert "already done" in capsys.readouterr().err
    assert main([*args, "--label", "EI", "--logos", "0"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "another request" in err and "--overwrite" in err and "Traceback" not in err


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--target", "XX"], "target class 'XX' is not a class of this model"),
        (["--label", "XX"], "no row of the table has the label 'XX'"),
        (["--top", "0"], "top"),
        (["--length", "50"], "does not apply to FASTA or table input"),
    ],
)
def test_explain_errors_are_one_line(run, table, tmp_path, capsys, extra, message):
    code = main(["explain", str(run), "--input", str(table), "--out", str(tmp_path / "e"), "--logos", "0", *extra])
    err = capsys.readouterr().err
    assert code == 1 and message in err and err.startswith("bioseq explain: error:") and err.count("\n") == 1
    assert not (tmp_path / "e").exists()


def test_bed_without_reference_names_the_flag(run, tmp_path, capsys):
    bed = tmp_path / "r.bed"
    bed.write_text("chr1\t10\t20\tx\t0\t+\n")
    assert main(["explain", str(run), "--input", str(bed), "--out", str(tmp_path / "e")]) == 1
    assert "--reference 'genome.fa'" in capsys.readouterr().err


def test_motifs_refuses_a_folder_that_is_no_explanation(tmp_path, capsys):
    (tmp_path / "exp").mkdir()
    code = main(["motifs", str(tmp_path / "exp"), "--out", str(tmp_path / "mot")])
    err = capsys.readouterr().err
    assert code == 1 and err.startswith("bioseq motifs: error:") and err.count("\n") == 1
    assert not (tmp_path / "mot").exists()


def test_the_methods_the_cli_offers_are_the_library_s():
    assert set(_METHODS) == set(METHODS)
