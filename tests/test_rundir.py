"""Run directories have a state: new, incomplete or complete (bioseq.rundir, bioseq.train.resume)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bioseq.bundle import load_bundle
from bioseq.cli.main import main
from bioseq.errors import InputError
from bioseq.evaluate.compare import read_run_metrics
from bioseq.rundir import MARKER, clear_run, require_complete, resume_command, run_of, run_state
from bioseq.train.config import config_from_options
from bioseq.train.fit import train

TINY = {"channels": [4], "kernel_sizes": [3], "dilations": [1], "pools": [1]}


@pytest.fixture(scope="module")
def table(uci_head) -> Path:
    return uci_head


def options(table: Path, out: Path, **changes) -> dict:
    return {"train": table, "model": "cnn", "epochs": 1, "model_options": TINY, "out": out, **changes}


def test_states_and_the_run_a_path_belongs_to(table, tmp_path):
    run = tmp_path / "run"
    assert run_state(run) == "new" and run_of(run) is None
    run.mkdir()
    (run / "notes.txt").write_text("mine")
    assert run_state(run) == "new"  # other files do not make a run
    train(config_from_options(options(table, run)))
    assert run_state(run) == "complete"
    marker = json.loads((run / MARKER).read_text())
    assert marker["signature"]["model"] == "cnn" and len(marker["signature"]["train_sha256"]) == 64
    for inside in (run, run / "bundle", run / "metrics.json", run / "evaluation" / "test"):
        assert run_of(inside) == run
    (run / MARKER).unlink()
    assert run_state(run) == "incomplete"
    for inside in (run, run / "bundle", run / "metrics.json"):
        with pytest.raises(InputError, match="did not finish") as refused:
            require_complete(inside)
        assert resume_command(run) in str(refused.value)
    with pytest.raises(InputError, match="did not finish"):
        load_bundle(run / "bundle")
    with pytest.raises(InputError, match="did not finish"):
        read_run_metrics(run)
    clear_run(run)
    assert sorted(p.name for p in run.iterdir()) == ["notes.txt"]  # only what bioseq wrote is removed


def test_a_finished_run_is_not_trained_over_without_overwrite(table, tmp_path, capsys):
    run = tmp_path / "run"
    args = [
        "train",
        "--train",
        str(table),
        "--model",
        "cnn",
        "--epochs",
        "1",
        "--out",
        str(run),
        *[f"--model-option={k}={v}" for k, v in TINY.items()],
    ]
    assert main(args) == 0
    bundle = run / "bundle" / "model.safetensors"
    first = bundle.stat().st_mtime_ns
    capsys.readouterr()
    assert main(args + ["--seed", "3"]) == 1
    err = capsys.readouterr().err.strip()
    assert "holds a finished training run" in err and "--overwrite" in err and "\n" not in err
    assert bundle.stat().st_mtime_ns == first
    # --resume auto with the same settings: already complete, nothing is trained or written
    assert main(args + ["--resume", "auto"]) == 0
    assert bundle.stat().st_mtime_ns == first
    # --resume auto with other settings: refused, unless --overwrite, which starts again
    assert main(args + ["--seed", "3", "--resume", "auto"]) == 1
    assert "other settings" in capsys.readouterr().err
    (run / "plots" / "stale.png").write_bytes(b"old")
    (run / "notes.txt").write_text("mine")
    assert main(args + ["--seed", "3", "--overwrite"]) == 0
    assert not (run / "plots" / "stale.png").exists() and (run / "notes.txt").read_text() == "mine"
    assert json.loads((run / MARKER).read_text())["signature"]["seed"] == 3


def test_overwrite_removes_the_old_outputs_before_training(table, tmp_path):
    """Killed right after an --overwrite started, the directory holds none of the old run's results."""
    run = tmp_path / "run"
    train(config_from_options(options(table, run)))
    from bioseq.train import fit

    original = fit._fit

    def stop(*args, **kwargs):
        raise KeyboardInterrupt  # stands in for a kill at the first step of the new run

    fit._fit = stop
    try:
        with pytest.raises(KeyboardInterrupt):
            train(config_from_options(options(table, run, seed=9, overwrite=True)))
    finally:
        fit._fit = original
    assert run_state(run) == "incomplete"
    assert not (run / "bundle").exists() and not (run / "metrics.json").exists()
    with pytest.raises(InputError, match="did not finish"):
        read_run_metrics(run)


def test_an_interrupted_run_asks_for_resume_or_overwrite(table, tmp_path):
    run = tmp_path / "run"
    train(config_from_options(options(table, run)))
    (run / MARKER).unlink()  # as if killed while writing the plots
    with pytest.raises(InputError, match="holds an interrupted training run") as refused:
        train(config_from_options(options(table, run)))
    assert resume_command(run) in str(refused.value)
    result = train(config_from_options(options(table, run, resume="last")))  # finishes without training again
    assert run_state(run) == "complete" and result.metrics["valid"]["accuracy"] > 0
