"""bioseq.interpret.explain (the EXP folder, reruns, top-N, BED tracks) and bioseq.interpret.tracks_out.

A tiny untrained CNN bundle stands in for a model: these tests check the job's
plumbing; what the attributions mean is tested in test_planted_recovery.py.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from bioseq.bundle import load_bundle, save_bundle
from bioseq.errors import InputError
from bioseq.interpret import explain as explain_module
from bioseq.interpret.explain import explain, rc_attributions, read_explanation
from bioseq.interpret.tracks_out import genome_values, track_file_name, write_attribution_track
from bioseq.models.registry import build_model

CNN = {"channels": [4], "kernel_sizes": [3], "dilations": [1], "pools": [1], "head_hidden": 4}
WIDTH = 24
_rng = np.random.default_rng(3)
SEQUENCES = ["".join(_rng.choice(list("ACGT"), WIDTH - (i % 3))) for i in range(12)]
GENOME = "".join(_rng.choice(list("ACGT"), 200))


@pytest.fixture(scope="module")
def bundle_dir(tmp_path_factory):
    torch.manual_seed(0)
    path = tmp_path_factory.mktemp("bundle") / "cnn"
    options = {**CNN, "n_outputs": 1}
    model = build_model("cnn", options)
    save_bundle(path, model=model, model_name="cnn", model_options=options, task="binary",
                classes=("neg", "pos"), length=WIDTH)  # fmt: skip
    return path


@pytest.fixture(scope="module")
def fasta(tmp_path_factory):
    path = tmp_path_factory.mktemp("input") / "seqs.fa"
    path.write_text("".join(f">s{i}\n{s}\n" for i, s in enumerate(SEQUENCES)))
    return path


@pytest.fixture(scope="module")
def genome(tmp_path_factory):
    path = tmp_path_factory.mktemp("genome") / "g.fa"
    path.write_text(f">chrA\n{GENOME}\n>chrB\nACGTACGTACGT\n")
    return path


def test_exp_folder_holds_the_contracted_arrays_and_metadata(bundle_dir, fasta, tmp_path):
    out = tmp_path / "exp"
    summary = explain(bundle_dir, fasta, out, method="grad_x_input", logos=0)
    assert not summary["already_done"]
    with np.load(out / "attributions.npz", allow_pickle=False) as data:
        arrays = {k: data[k] for k in data.files}
    n = len(SEQUENCES)
    assert arrays["attributions"].shape == arrays["hypothetical"].shape == (n, 4, WIDTH)
    assert arrays["attributions"].dtype == arrays["hypothetical"].dtype == np.float32
    assert arrays["codes"].dtype == np.uint8 and arrays["codes"].shape == (n, WIDTH)
    assert arrays["lengths"].dtype == np.int64 and arrays["lengths"].tolist() == [len(s) for s in SEQUENCES]
    assert arrays["names"].tolist() == [f"s{i}" for i in range(n)] and arrays["scores"].dtype == np.float32
    # observed-base attributions: zero at the other bases and at padding
    assert np.count_nonzero(arrays["attributions"], axis=1).max() <= 1
    assert not arrays["attributions"][2, :, WIDTH - 2 :].any()
    meta = json.loads((out / "explain.json").read_text())
    assert meta["format"] == "bioseq-explain" and meta["format_version"] == 1
    assert meta["method"] == "grad_x_input" and meta["target"] == "pos" and meta["target_index"] == 1
    assert meta["classes"] == ["neg", "pos"] and meta["n"] == n and meta["length"] == WIDTH
    assert meta["regions"] is None and meta["model_name"] == "cnn" and meta["logos"] == []
    assert set(meta["options"]) >= {"references", "steps", "seed", "batch_size"}
    assert set(meta) >= {"model", "input", "rc_average", "seconds", "versions"}
    probs = load_bundle(bundle_dir).predict_proba(arrays["codes"])
    np.testing.assert_allclose(arrays["scores"], probs, rtol=1e-5, atol=1e-6)
    assert read_explanation(out)[0]["n"] == n


def test_a_rerun_is_a_no_op_and_another_request_needs_overwrite(bundle_dir, fasta, tmp_path):
    out = tmp_path / "exp"
    explain(bundle_dir, fasta, out, method="grad_x_input", logos=0)
    stamp = (out / "attributions.npz").stat().st_mtime_ns
    again = explain(bundle_dir, fasta, out, method="grad_x_input", logos=0, batch_size=3)
    assert again["already_done"] and (out / "attributions.npz").stat().st_mtime_ns == stamp
    with pytest.raises(InputError, match="another request") as refused:
        explain(bundle_dir, fasta, out, method="grad_x_input", logos=0, top=2)
    assert "overwrite=True" in str(refused.value)
    replaced = explain(bundle_dir, fasta, out, method="grad_x_input", logos=0, top=2, overwrite=True)
    assert replaced["n"] == 2 and not replaced["already_done"]
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "notes.txt").write_text("mine")
    with pytest.raises(InputError, match="not an explanation"):
        explain(bundle_dir, fasta, tmp_path / "other", method="grad_x_input", logos=0)


def test_top_keeps_the_highest_scoring_sequences_in_decreasing_order(bundle_dir, fasta, tmp_path):
    every = explain(bundle_dir, fasta, tmp_path / "all", method="grad_x_input", logos=0)
    assert every["selection"] == f"all {len(SEQUENCES)}"
    _, arrays = read_explanation(tmp_path / "all")
    summary = explain(bundle_dir, fasta, tmp_path / "top", method="grad_x_input", logos=0, top=4, target="neg")
    _, top = read_explanation(tmp_path / "top")
    expected = np.argsort(-(1 - arrays["scores"]), kind="stable")[:4]
    assert top["names"].tolist() == arrays["names"][expected].tolist()
    np.testing.assert_allclose(top["scores"], 1 - arrays["scores"][expected], rtol=1e-5, atol=1e-6)
    assert summary["target"] == "neg" and summary["target_index"] == 0
    assert summary["selection"] == f"the 4 highest-scoring of {len(SEQUENCES)}"


def test_too_many_sequences_without_top_are_refused(bundle_dir, fasta, tmp_path, monkeypatch):
    monkeypatch.setattr(explain_module, "MAX_SEQUENCES", 5)
    with pytest.raises(InputError, match="more than 5 sequences"):
        explain(bundle_dir, fasta, tmp_path / "exp", method="grad_x_input", logos=0)
    assert not (tmp_path / "exp").exists()
    assert explain(bundle_dir, fasta, tmp_path / "exp", method="grad_x_input", logos=0, top=5)["n"] == 5


def test_bad_requests_fail_before_any_work(bundle_dir, fasta, tmp_path):
    with pytest.raises(InputError, match="unknown method 'shap'"):
        explain(bundle_dir, fasta, tmp_path / "e", method="shap")
    with pytest.raises(InputError, match="top"):
        explain(bundle_dir, fasta, tmp_path / "e", top=0)
    with pytest.raises(InputError, match="window width of BED"):
        explain(bundle_dir, fasta, tmp_path / "e", length=10)
    assert not (tmp_path / "e").exists()


def test_bed_input_records_windows_and_writes_the_track(bundle_dir, genome, tmp_path):
    import pyBigWig

    bed = tmp_path / "r.bed"
    bed.write_text("chrA\t40\t50\tp\t0\t+\nchrA\t46\t56\tm\t0\t-\nchrA\t0\t4\tedge\t0\t+\n")
    out = tmp_path / "exp"
    summary = explain(bundle_dir, bed, out, method="grad_x_input", reference=genome, logos=1)
    stem = summary["logos"][0]  # the top-scoring window's logo, on genomic coordinates
    assert (out / "logos" / f"{stem}.png").stat().st_size > 0 and (out / "logos" / f"{stem}.svg").stat().st_size > 0
    assert summary["regions"] == [["chrA", 33, 57, "+"], ["chrA", 39, 63, "-"], ["chrA", -10, 14, "+"]]
    assert summary["track"] == "attributions.pos.bw"
    _, arrays = read_explanation(out)
    per_base = arrays["attributions"].sum(axis=1)  # (N, L)
    with pyBigWig.open(str(out / "attributions.pos.bw")) as track:
        assert track.chroms() == {"chrA": len(GENOME)}
        assert track.values("chrA", 33, 34)[0] == pytest.approx(per_base[0, 0], abs=1e-6)
        # base 62 lies in the minus window only, at its first (5') position
        assert track.values("chrA", 62, 63)[0] == pytest.approx(per_base[1, 0], abs=1e-6)
        # base 45 in both windows: the mean
        both = (per_base[0, 45 - 33] + per_base[1, 62 - 45]) / 2
        assert track.values("chrA", 45, 46)[0] == pytest.approx(both, abs=1e-6)
        assert track.values("chrA", 0, 1)[0] == pytest.approx(per_base[2, 10], abs=1e-6)  # off-contig bases left out


def test_ism_goes_through_saturation_mutagenesis_and_rc_average_maps_back(bundle_dir, fasta, tmp_path):
    plain = explain(bundle_dir, fasta, tmp_path / "ism", method="ism", logos=0, top=3)
    both = explain(bundle_dir, fasta, tmp_path / "ism_rc", method="ism", logos=0, top=3, rc_average=True)
    assert plain["method"] == both["method"] == "ism" and both["rc_average"]
    _, arrays = read_explanation(tmp_path / "ism")
    hypothetical = arrays["hypothetical"]
    np.testing.assert_allclose(hypothetical.mean(axis=1)[arrays["codes"] < 4], 0, atol=1e-5)  # mean-centred


def test_rc_attributions_flips_bases_and_positions_within_the_length():
    values = np.arange(2 * 4 * 5, dtype=np.float32).reshape(2, 4, 5)
    out = rc_attributions(values, np.array([5, 3]))
    assert out[0, 0, 0] == values[0, 3, 4] and out[0, 2, 1] == values[0, 1, 3]
    assert out[1, 0, 0] == values[1, 3, 2] and (out[1, :, 3:] == values[1, :, 3:]).all()  # padding kept
    np.testing.assert_array_equal(rc_attributions(out, np.array([5, 3])), values)  # an involution


def test_genome_values_average_overlaps_and_follow_the_strand():
    attributions = np.zeros((2, 4, 3), dtype=np.float32)
    attributions[0, 0] = [1, 2, 3]  # + window at 10..13
    attributions[1, 1] = [10, 20, 30]  # - window at 11..14: position 0 is base 13
    values = genome_values(attributions, [("c", 10, 13, "+"), ("c", 11, 14, "-")])
    positions, track = values["c"]
    assert positions.tolist() == [10, 11, 12, 13]
    assert track.tolist() == pytest.approx([1, (2 + 30) / 2, (3 + 20) / 2, 10])
    assert track_file_name("a b/c") == "attributions.a_b_c.bw"
    with pytest.raises(InputError, match="2 regions were given for 3"):
        genome_values(np.zeros((3, 4, 3)), [("c", 0, 3, "+")] * 2)


def test_a_track_on_an_unknown_contig_is_refused(tmp_path):
    with pytest.raises(InputError, match="no contig 'chrZ'"):
        write_attribution_track(tmp_path / "x.bw", np.zeros((1, 4, 3)), [("chrZ", 0, 3, "+")], contigs=[("chrA", 9)])
