"""``bioseq annotate`` end to end with a real (untrained) per_base_cnn bundle on a tiny FASTA."""

from __future__ import annotations

import json

import numpy as np
import pyBigWig
import pytest
import torch

from bioseq.bundle import load_bundle, save_bundle
from bioseq.cli.main import main
from bioseq.io.reference import Reference
from bioseq.models.registry import model_kind
from bioseq.tracks import predict_region

OPTIONS = {"context": 20, "channels": 4}
_rng = np.random.default_rng(11)
GENOME = {"chr1": "".join(_rng.choice(list("ACGT"), 300)), "chr2": "".join(_rng.choice(list("ACGT"), 40))}


@pytest.fixture(scope="module")
def bundle(tmp_path_factory):
    torch.manual_seed(0)
    path = tmp_path_factory.mktemp("bundle") / "per_base"
    save_bundle(
        path,
        model=model_kind("per_base_cnn").build(OPTIONS, n_outputs=3).eval(),
        model_name="per_base_cnn",
        model_options=OPTIONS,
        task="per_position",
        classes=["neither", "acceptor", "donor"],
        length=None,
    )
    return path


@pytest.fixture(scope="module")
def genome(tmp_path_factory):
    path = tmp_path_factory.mktemp("genome") / "tiny.fa"
    path.write_text("".join(f">{name}\n{seq}\n" for name, seq in GENOME.items()))
    return path


def test_annotate_writes_tracks_that_match_the_model(bundle, genome, tmp_path, capsys):
    out = tmp_path / "tracks"
    status = main(
        ["annotate", str(bundle), "--reference", str(genome), "--out", str(out), "--chunk", "37", "--threshold", "0.3"]
    )
    assert status == 0, capsys.readouterr().err
    assert "bioseq annotate: 680 positions" in capsys.readouterr().err
    names = sorted(p.name for p in out.iterdir())
    assert names == [
        "acceptor.minus.bw",
        "acceptor.plus.bw",
        "donor.minus.bw",
        "donor.plus.bw",
        "sites.bed",
        "summary.json",
    ]
    summary = json.loads((out / "summary.json").read_text())
    assert summary["flank"] == 10 and summary["chunk"] == 37 and summary["device"] == "cpu"
    model = load_bundle(bundle)
    with Reference(genome) as ref:
        for strand, word in (("+", "plus"), ("-", "minus")):
            whole = predict_region(model, ref, "chr1", 0, 300, strand=strand, chunk=5000)  # one input
            with pyBigWig.open(str(out / f"donor.{word}.bw")) as bw:
                assert bw.chroms() == {"chr1": 300, "chr2": 40}
                np.testing.assert_allclose(bw.values("chr1", 0, 300), whole[:, 2], atol=1e-5)
    sites = [line.split("\t") for line in (out / "sites.bed").read_text().splitlines()]
    assert all(int(score) >= 300 and end == str(int(start) + 1) for _, start, end, _, score, _ in sites)
    total = sum(n for strands in summary["sites"].values() for n in strands.values())
    assert len(sites) == total


def test_one_strand_and_regions(bundle, genome, tmp_path, capsys):
    bed = tmp_path / "r.bed"
    bed.write_text("chr2\t5\t25\n")
    out = tmp_path / "tracks"
    args = ["annotate", str(bundle), "--reference", str(genome), "--regions", str(bed), "--strands", "-"]
    assert main([*args, "--out", str(out)]) == 0, capsys.readouterr().err
    assert sorted(p.name for p in out.iterdir()) == ["acceptor.minus.bw", "donor.minus.bw", "sites.bed", "summary.json"]
    with pyBigWig.open(str(out / "acceptor.minus.bw")) as bw:
        assert bw.chroms() == {"chr2": 40} and len(bw.intervals("chr2")) == 20


def test_input_errors_print_one_line(bundle, genome, tmp_path, capsys):
    bed = tmp_path / "r.bed"
    bed.write_text("chr1\t0\t10\nchrUn\t0\t10\n")
    out = tmp_path / "tracks"
    assert main(["annotate", str(bundle), "--reference", str(genome), "--regions", str(bed), "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert "bioseq annotate: error:" in err and "r.bed, line 2" in err and "Traceback" not in err
    assert main(["annotate", str(bundle), "--reference", str(genome), "--out", str(out), "--rc-average"]) == 1
    assert "--rc-average does not apply" in capsys.readouterr().err
    assert not out.exists()


def test_a_window_classifier_points_to_scan(genome, tmp_path, capsys):
    path = save_bundle(
        tmp_path / "window",
        model=model_kind("cnn").build({}, n_outputs=1),
        model_name="cnn",
        model_options={},
        task="binary",
        classes=["a", "b"],
        length=50,
    )
    assert main(["annotate", str(path), "--reference", str(genome), "--out", str(tmp_path / "o")]) == 1
    assert "bioseq scan" in capsys.readouterr().err


def test_the_second_stage_of_the_bundle_is_used_unless_no_pairing(bundle, genome, tmp_path, capsys):
    from bioseq.models.site_pairing import SitePairing, n_features

    n = n_features()
    coef = [1.0, 1.5] + [0.0] * (n - 2)
    weights = {
        name: {"mean": [0.0] * n, "scale": [1.0] * n, "coef": coef, "intercept": 0.5} for name in ("acceptor", "donor")
    }
    paired = tmp_path / "paired"
    paired.mkdir()
    for name in ("model.safetensors", "config.json"):
        (paired / name).write_bytes((bundle / name).read_bytes())
    config = json.loads((paired / "config.json").read_text())
    config["site_pairing"] = SitePairing(classes=tuple(config["classes"]), weights=weights).to_dict()
    (paired / "config.json").write_text(json.dumps(config))
    loaded = load_bundle(paired)
    with Reference(genome) as ref:
        raw = predict_region(loaded, ref, "chr1", 0, 300, strand="-", chunk=37)
    want = loaded.site_pairing.refine(raw[::-1])[::-1]
    for flags, expected in (([], want), (["--no-pairing"], raw)):
        out = tmp_path / f"out{len(flags)}"
        argv = ["annotate", str(paired), "--reference", str(genome), "--out", str(out), "--chunk", "37", *flags]
        assert main(argv) == 0
        with pyBigWig.open(str(out / "donor.minus.bw")) as bw:
            got = np.asarray(bw.values("chr1", 0, 300), dtype=np.float32)
        assert np.allclose(got, expected[:, 2], atol=1e-6)
        summary = json.loads((out / "summary.json").read_text())
        assert (summary["site_pairing"] is None) == bool(flags)
    assert not np.allclose(want[:, 2], raw[:, 2], atol=1e-3)
    capsys.readouterr()
