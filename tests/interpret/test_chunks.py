"""bioseq.interpret.chunks: a killed explanation keeps its finished chunks, and the rerun equals an uninterrupted run.

The chunk size is lowered to 5 sequences so that 12 sequences make 3 chunks.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from bioseq.bundle import save_bundle
from bioseq.errors import InputError
from bioseq.interpret import chunks
from bioseq.interpret.explain import explain, read_explanation
from bioseq.models.registry import build_model

CNN = {"channels": [4], "kernel_sizes": [3], "dilations": [1], "pools": [1], "head_hidden": 4}
WIDTH = 24
_rng = np.random.default_rng(5)
SEQUENCES = ["".join(_rng.choice(list("ACGT"), WIDTH)) for _ in range(12)]


@pytest.fixture(scope="module")
def bundle_dir(tmp_path_factory):
    torch.manual_seed(0)
    path = tmp_path_factory.mktemp("bundle") / "cnn"
    options = {**CNN, "n_outputs": 1}
    save_bundle(path, model=build_model("cnn", options), model_name="cnn", model_options=options, task="binary",
                classes=("neg", "pos"), length=WIDTH)  # fmt: skip
    return path


@pytest.fixture()
def fasta(tmp_path):
    path = tmp_path / "seqs.fa"
    path.write_text("".join(f">s{i}\n{s}\n" for i, s in enumerate(SEQUENCES)))
    return path


@pytest.fixture(autouse=True)
def small_chunks(monkeypatch):
    monkeypatch.setattr(chunks, "CHUNK", 5)


class Killed(Exception):
    pass


def _kill_after(monkeypatch, n: int) -> list:
    """Make the attribution of chunk n + 1 raise (as a SIGTERM would stop the job); returns the chunks computed."""
    real, calls = chunks._attribute, []

    def attribute(bundle, codes, *args):
        if len(calls) == n:
            raise Killed
        calls.append(len(codes))
        return real(bundle, codes, *args)

    monkeypatch.setattr(chunks, "_attribute", attribute)
    return calls


def _killed_run(monkeypatch, after: int, *args, **options) -> None:
    """explain(*args, **options) killed while computing chunk ``after + 1``."""
    with monkeypatch.context() as patch:
        _kill_after(patch, after)
        with pytest.raises(Killed):
            explain(*args, **options)


def test_a_killed_explanation_resumes_and_equals_an_uninterrupted_one(bundle_dir, fasta, tmp_path, monkeypatch):
    options = {"method": "deeplift_shap", "references": 4, "logos": 0}
    explain(bundle_dir, fasta, tmp_path / "whole", **options)
    out = tmp_path / "exp"
    _killed_run(monkeypatch, 2, bundle_dir, fasta, out, **options)
    assert not out.exists()
    assert sorted(p.name for p in (tmp_path / "exp.parts").glob("piece-*")) == ["piece-000000.npz", "piece-000001.npz"]
    calls = _kill_after(monkeypatch, 99)
    summary = explain(bundle_dir, fasta, out, **options)
    assert calls == [2]  # only the last chunk (sequences 10-11) was computed again
    assert not summary["already_done"] and not (tmp_path / "exp.parts").exists()
    _, resumed = read_explanation(out)
    _, whole = read_explanation(tmp_path / "whole")
    for key in ("attributions", "hypothetical", "scores", "codes"):
        np.testing.assert_array_equal(resumed[key], whole[key])


def test_chunks_of_another_request_are_discarded(bundle_dir, fasta, tmp_path, monkeypatch):
    out = tmp_path / "exp"
    _killed_run(monkeypatch, 1, bundle_dir, fasta, out, method="grad_x_input", logos=0)
    calls = _kill_after(monkeypatch, 99)
    explain(bundle_dir, fasta, out, method="integrated_gradients", steps=4, logos=0)
    assert calls == [5, 5, 2]


def test_an_unreadable_chunk_is_named(bundle_dir, fasta, tmp_path, monkeypatch):
    out = tmp_path / "exp"
    _killed_run(monkeypatch, 1, bundle_dir, fasta, out, method="grad_x_input", logos=0)
    piece = tmp_path / "exp.parts" / "piece-000000.npz"
    piece.write_bytes(b"not a numpy file")
    with pytest.raises(InputError, match="cannot read a stored chunk") as caught:
        explain(bundle_dir, fasta, out, method="grad_x_input", logos=0)
    assert "piece-000000.npz" in caught.value.render()
    piece.unlink()
    explain(bundle_dir, fasta, out, method="grad_x_input", logos=0)
    assert read_explanation(out)[1]["attributions"].shape == (12, 4, WIDTH)
