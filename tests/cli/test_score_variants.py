"""Tests of ``bioseq score-variants`` end to end with a real (untrained) window-classifier bundle."""

from __future__ import annotations

import json
import signal

import numpy as np
import pysam
import pytest
import torch

import bioseq.cli.main as cli
import bioseq.variants.vcf_job as job_module
from bioseq.bundle import save_bundle
from bioseq.interrupt import Interrupted
from bioseq.models.registry import build_model

CNN = {"channels": [4], "kernel_sizes": [3], "dilations": [1], "pools": [1], "head_hidden": 4, "n_outputs": 1}
WIDTH = 30
GENOME = "".join(np.random.default_rng(5).choice(list("ACGT"), 400))


@pytest.fixture
def bioseq(monkeypatch):
    """``main`` with the score-variants command registered (until the lead adds it to COMMANDS)."""
    if "score_variants" not in cli.COMMANDS:
        monkeypatch.setattr(cli, "COMMANDS", (*cli.COMMANDS, "score_variants"))
    return cli.main


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    folder = tmp_path_factory.mktemp("score_cli")
    torch.manual_seed(0)
    save_bundle(
        folder / "bundle",
        model=build_model("cnn", CNN),
        model_name="cnn",
        model_options=CNN,
        task="binary",
        classes=("other", "donor"),
        length=WIDTH,
    )
    (folder / "g.fa").write_text(f">chr1\n{GENOME}\n")
    wrong = "A" if GENOME[299] != "A" else "C"
    records = [
        ("chr1", 2, GENOME[1], "G" if GENOME[1] != "G" else "T"),  # near the contig start: N-padded window
        ("chr1", 101, GENOME[100], ",".join(b for b in "ACGT" if b != GENOME[100])),  # three ALTs
        ("chr1", 300, wrong, "T" if wrong != "T" else "G"),  # REF differs from the genome
        ("chr1", 399, GENOME[398], GENOME[398] + "GT"),  # an insertion near the end
        ("1", 151, GENOME[150:153], GENOME[150]),  # a deletion on chr1's alias (last: tabix sees another contig)
    ]
    (folder / "in.vcf").write_text(
        "##fileformat=VCFv4.2\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n"
        + "".join(f"{c}\t{p}\t.\t{r}\t{a}\t.\t.\t.\n" for c, p, r, a in records)
    )
    return folder


def args(inputs, out, *extra) -> list[str]:
    return [
        "score-variants", str(inputs / "bundle"), "--vcf", str(inputs / "in.vcf"),
        "--reference", str(inputs / "g.fa"), "--out", str(out), *extra,
    ]  # fmt: skip


def test_window_classifier_end_to_end(bioseq, inputs, tmp_path, capsys):
    out, tsv = tmp_path / "out.vcf.gz", tmp_path / "out.tsv"
    assert bioseq(args(inputs, out, "--tsv", str(tsv), "--batch-size", "2")) == 0
    assert "6 variants scored" in capsys.readouterr().err
    with pysam.VariantFile(str(out)) as scored:
        assert scored.header.info["BIOSEQ_REF"].number == "A"
        records = list(scored)
    assert len(records) == 5  # every record, the REF mismatch included (unscored)
    multi = records[1]
    assert len(multi.info["BIOSEQ_REF"]) == 3 and len(set(multi.info["BIOSEQ_REF"])) == 1  # one reference window
    for ref, alt, diff in zip(multi.info["BIOSEQ_REF"], multi.info["BIOSEQ_ALT"], multi.info["BIOSEQ_DIFF"]):
        assert 0 <= ref <= 1 and 0 <= alt <= 1 and diff == pytest.approx(alt - ref, abs=2e-4)
    assert "BIOSEQ_REF" not in records[2].info and "BIOSEQ_REF" in records[4].info
    assert (tmp_path / "out.vcf.gz.tbi").is_file()
    rows = tsv.read_text().splitlines()
    assert rows[0].split("\t")[5:] == ["ref_donor", "alt_donor", "diff_donor"] and len(rows) == 1 + 6
    summary = json.loads((tmp_path / "out.vcf.gz.summary.json").read_text())
    assert summary["counts"]["ref_mismatch"] == 1 and summary["scored"] == 6 and summary["counts"]["records"] == 5


def test_same_scores_from_the_python_api_with_another_batch_size(bioseq, inputs, tmp_path):
    assert bioseq(args(inputs, tmp_path / "a.vcf", "--batch-size", "1")) == 0
    job_module.score_vcf(inputs / "bundle", inputs / "in.vcf", inputs / "g.fa", tmp_path / "b.vcf", batch_size=64)
    with pysam.VariantFile(str(tmp_path / "a.vcf")) as a, pysam.VariantFile(str(tmp_path / "b.vcf")) as b:
        for x, y in zip(a, b):
            assert x.info.get("BIOSEQ_ALT") == y.info.get("BIOSEQ_ALT")


def test_ref_mismatch_error_is_one_line_without_traceback(bioseq, inputs, tmp_path, capsys):
    assert bioseq(args(inputs, tmp_path / "out.vcf", "--ref-mismatch", "error")) == 1
    err = capsys.readouterr().err
    assert "bioseq score-variants: error:" in err and "differs from the genome" in err and "Traceback" not in err
    assert not (tmp_path / "out.vcf").exists()


def test_a_missing_vcf_is_an_error_without_traceback(bioseq, inputs, tmp_path, capsys):
    argv = args(inputs, tmp_path / "out.vcf")
    argv[argv.index("--vcf") + 1] = str(tmp_path / "missing.vcf")
    assert bioseq(argv) == 1
    err = capsys.readouterr().err
    assert err.startswith("bioseq score-variants: error:") and "missing.vcf" in err and "Traceback" not in err


def test_sigterm_leaves_no_partial_output_and_a_rerun_resumes(bioseq, inputs, tmp_path, monkeypatch, capsys):
    real = job_module.score_variants
    calls = []

    def killed(*a, **k):
        calls.append(len(a[1]))
        if len(calls) == 4:  # the options check, then pieces 0 and 1 are scored and saved; the third is killed
            raise Interrupted(signal.SIGTERM)
        return real(*a, **k)

    monkeypatch.setattr(job_module, "score_variants", killed)
    argv = args(inputs, tmp_path / "out.vcf.gz", "--tsv", str(tmp_path / "out.tsv"), "--piece", "2")
    assert bioseq(argv) == 143
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.vcf.gz.parts"]  # no output, the pieces kept
    parts = tmp_path / "out.vcf.gz.parts"
    assert sorted(p.name for p in parts.iterdir()) == ["piece-000000.json", "piece-000001.json", "request.json"]
    monkeypatch.setattr(job_module, "score_variants", real)
    assert bioseq(argv) == 0
    assert "2 of 3 pieces kept from an earlier run" in capsys.readouterr().err
    assert not parts.exists()
    assert bioseq([*args(inputs, tmp_path / "whole.vcf.gz", "--tsv", str(tmp_path / "whole.tsv"))]) == 0
    assert (tmp_path / "out.tsv").read_text() == (tmp_path / "whole.tsv").read_text()
    with pysam.VariantFile(str(tmp_path / "out.vcf.gz")) as a, pysam.VariantFile(str(tmp_path / "whole.vcf.gz")) as b:
        assert [str(x) for x in a] == [str(y) for y in b]


def test_pieces_of_another_request_are_discarded(bioseq, inputs, tmp_path):
    parts = tmp_path / "out.vcf.parts"
    parts.mkdir()
    (parts / "request.json").write_text('{"model": "another"}')
    (parts / "piece-000000.json").write_text('{"format": "bioseq-variant-piece", "piece": 0, "results": []}')
    assert bioseq(args(inputs, tmp_path / "out.vcf")) == 0
    assert not parts.exists()
    summary = json.loads((tmp_path / "out.vcf.summary.json").read_text())
    assert summary["pieces"]["reused"] == 0 and summary["scored"] == 6


def test_workers_give_the_scores_of_one_process(bioseq, inputs, tmp_path):
    assert bioseq(args(inputs, tmp_path / "one.vcf", "--piece", "2")) == 0
    assert bioseq(args(inputs, tmp_path / "two.vcf", "--piece", "2", "--workers", "2")) == 0
    assert (tmp_path / "one.vcf").read_text() == (tmp_path / "two.vcf").read_text()
    summary = json.loads((tmp_path / "two.vcf.summary.json").read_text())
    assert summary["pieces"] == {"total": 3, "reused": 0, "scored": 3}
