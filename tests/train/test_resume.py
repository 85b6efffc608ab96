"""A training run killed at any point and resumed ends exactly where an uninterrupted run of its seed ends.

One small CNN run on a motif table (800 training, 300 validation random
sequences, half with a planted TATAAT; reverse-complement augmentation and
dropout on, so every source of
randomness is exercised) is the reference. Each test stops a run of the same
settings somewhere (SIGTERM or SIGINT in this process, SIGKILL of a child
process), resumes it, and requires the same metrics (to 1e-6) and bit-identical
weights. CPU runs are deterministic (Lightning's ``deterministic=True``), so
the tolerance only absorbs JSON rounding.
"""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import lightning.pytorch as pl
import numpy as np
import pytest
import torch

from bioseq.bundle import load_bundle
from bioseq.errors import InputError
from bioseq.interrupt import Interrupted
from bioseq.train.config import config_from_options
from bioseq.train.fit import train

pytestmark = pytest.mark.slow


def _motif_table(path: Path, n: int, rng: np.random.Generator) -> Path:
    """Random 60 bp sequences; every other one carries TATAAT at a random place (label ``promoter``)."""
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["sequence", "label"])
        for i in range(n):
            bases = list(rng.choice(list("ACGT"), 60))
            if i % 2:
                start = int(rng.integers(0, 55))
                bases[start : start + 6] = "TATAAT"
            writer.writerow(["".join(bases), "promoter" if i % 2 else "background"])
    return path


@pytest.fixture(scope="module")
def tables(tmp_path_factory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("resume_data")
    rng = np.random.default_rng(0)
    return _motif_table(folder / "train.csv", 800, rng), _motif_table(folder / "valid.csv", 300, rng)


def options(tables, out: Path, **changes) -> dict:
    train_csv, valid_csv = tables
    return {
        "train": str(train_csv),
        "valid": str(valid_csv),
        "model": "cnn",
        "epochs": 3,
        "patience": 10,
        "rc_augment": True,
        "seed": 5,
        "lr": 5e-3,
        "accelerator": "cpu",
        "out": str(out),
        "model_options": {"channels": [16, 16, 16], "dropout": 0.2},
        **changes,
    }


@pytest.fixture(scope="module")
def reference(tables, tmp_path_factory) -> Path:
    """The uninterrupted run."""
    run = tmp_path_factory.mktemp("reference") / "run"
    result = train(config_from_options(options(tables, run)))
    assert result.metrics["valid"]["mcc"] > 0.3  # it learns, so the metrics compared below mean something
    return run


def assert_same_run(run: Path, reference: Path) -> None:
    """Same validation metrics (to 1e-6) and the same weights, bit for bit."""
    found = json.loads((run / "metrics.json").read_text())["valid"]
    expected = json.loads((reference / "metrics.json").read_text())["valid"]
    for key, value in expected.items():
        if isinstance(value, float):
            assert found[key] == pytest.approx(value, abs=1e-6), key
    assert found["confusion_matrix"] == expected["confusion_matrix"]
    mine, theirs = load_bundle(run).model.state_dict(), load_bundle(reference).model.state_dict()
    assert mine.keys() == theirs.keys()
    assert all(torch.equal(mine[k], theirs[k]) for k in mine)
    # The bundle holds the best epoch's weights; the last checkpoint holds the final ones (and the optimiser),
    # which a resume that went astray after the best epoch would change.
    final, expected_final = (torch.load(r / "checkpoints" / "last.ckpt", weights_only=True) for r in (run, reference))
    assert final["global_step"] == expected_final["global_step"]
    for key, value in expected_final["state_dict"].items():
        assert torch.equal(final["state_dict"][key], value), key
    assert (run / "complete.json").is_file()
    assert not list(run.rglob("*.part")), list(run.rglob("*.part"))


class SignalAt(pl.Callback):
    """Send ``sig`` to this process at one point of training."""

    def __init__(self, where: str, epoch: int = 0, batch: int = 0, sig: int = signal.SIGTERM) -> None:
        self.where, self.epoch, self.batch, self.sig = where, epoch, batch, sig

    def _at(self, trainer, where: str, batch: int) -> None:
        if where == self.where and trainer.current_epoch == self.epoch and batch == self.batch:
            os.kill(os.getpid(), self.sig)

    def on_sanity_check_start(self, trainer, module) -> None:
        self._at(trainer, "sanity", 0)

    def on_train_batch_start(self, trainer, module, batch, batch_idx) -> None:
        self._at(trainer, "train", batch_idx)

    def on_validation_batch_start(self, trainer, module, batch, batch_idx, dataloader_idx=0) -> None:
        if not trainer.sanity_checking:
            self._at(trainer, "validation", batch_idx)


@pytest.mark.parametrize(
    ("where", "epoch", "batch"),
    [
        ("train", 0, 3),  # mid-epoch, before any epoch ended
        ("train", 1, 17),  # mid-epoch, after an epoch ended
        ("validation", 1, 2),  # during validation: it finishes, then last.ckpt is written
        ("sanity", 0, 0),  # before training started: no checkpoint yet
    ],
)
def test_sigterm_anywhere_then_resume_gives_the_uninterrupted_run(tables, reference, tmp_path, where, epoch, batch):
    run = tmp_path / "run"
    with pytest.raises(Interrupted) as stopped:
        train(config_from_options(options(tables, run)), callbacks=[SignalAt(where, epoch, batch)])
    assert stopped.value.exit_status == 143 and "SIGTERM" in str(stopped.value)
    assert not list(run.rglob("*.part")) and not (run / "complete.json").exists()
    with pytest.raises(InputError, match="did not finish.*--resume last"):
        load_bundle(run)
    checkpoint = run / "checkpoints" / "last.ckpt"
    if where == "sanity":
        assert not checkpoint.exists() and "no checkpoint" in str(stopped.value)
    else:
        assert f"{checkpoint}" in str(stopped.value) and "--resume last" in str(stopped.value)
    train(config_from_options(options(tables, run, resume="last" if checkpoint.exists() else "auto")))
    assert_same_run(run, reference)


def test_sigint_stops_with_status_130_and_resumes(tables, reference, tmp_path):
    run = tmp_path / "run"
    with pytest.raises(Interrupted) as stopped:
        train(config_from_options(options(tables, run)), callbacks=[SignalAt("train", 2, 4, signal.SIGINT)])
    assert stopped.value.exit_status == 130 and "SIGINT" in str(stopped.value)
    train(config_from_options(options(tables, run, resume="auto")))
    assert_same_run(run, reference)


_KILLER = textwrap.dedent("""
    import json, os, signal, sys
    import lightning.pytorch as pl
    from bioseq.train.config import config_from_options
    from bioseq.train.fit import train

    options, where, epoch, batch = json.loads(sys.argv[1]), sys.argv[2], int(sys.argv[3]), int(sys.argv[4])

    def die():
        os.kill(os.getpid(), signal.SIGKILL)

    class Kill(pl.Callback):
        def on_train_batch_start(self, trainer, module, batch_, batch_idx):
            if where == "train" and (trainer.current_epoch, batch_idx) == (epoch, batch):
                die()
        def on_validation_batch_start(self, trainer, module, batch_, batch_idx, dataloader_idx=0):
            if (where == "validation" and not trainer.sanity_checking
                    and (trainer.current_epoch, batch_idx) == (epoch, batch)):
                die()

    if where == "checkpoint":  # die half-way through writing last.ckpt at the end of `epoch`
        import bioseq.train.checkpoints as checkpoints
        original = checkpoints.RunCheckpoints.save
        def save(self, trainer, path):
            if path.name == "last.ckpt" and trainer.current_epoch == epoch and trainer.global_step > 0:
                with checkpoints.atomic_path(path) as tmp:
                    trainer.save_checkpoint(tmp, weights_only=False)
                    with open(tmp, "r+b") as handle:
                        handle.truncate(os.path.getsize(tmp) // 2)
                    die()
            original(self, trainer, path)
        checkpoints.RunCheckpoints.save = save
    if where == "bundle":  # die while the bundle's weights are being written, after training
        import safetensors.torch
        def save_file(tensors, filename, metadata=None):
            open(filename, "wb").write(b"partial")
            die()
        safetensors.torch.save_file = save_file
    if where == "plots":  # die after the bundle, while the plots are written
        import bioseq.evaluate.plots
        bioseq.evaluate.plots.plot_all = lambda *a, **k: die()
    train(config_from_options(options), callbacks=[Kill()])
""")


def bioseq_train(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "bioseq.cli.main", "train", *args],
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
    )


@pytest.mark.parametrize(
    ("where", "epoch", "batch", "extra"),
    [
        ("train", 1, 20, {"checkpoint_steps": 8}),  # resumes from the step-16 checkpoint, mid-epoch
        ("validation", 1, 3, {}),  # resumes from the end of epoch 0
        ("checkpoint", 1, 0, {}),  # last.ckpt half-written: the previous one is whole
        ("bundle", 0, 0, {}),  # training had ended: only the outputs are written again
        ("plots", 0, 0, {}),
    ],
)
def test_sigkill_anywhere_then_the_printed_command_finishes_the_run(
    tables, reference, tmp_path, where, epoch, batch, extra
):
    run = tmp_path / "run"
    killed = subprocess.run(
        [sys.executable, "-c", _KILLER, json.dumps(options(tables, run, **extra)), where, str(epoch), str(batch)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-2000:]
    assert not (run / "complete.json").exists()
    if where in ("checkpoint", "bundle"):
        assert list(run.rglob("*.part")), "the kill should have left a temporary file behind"
    # the state of an interrupted run is visible to every reader
    evaluate = subprocess.run(
        [sys.executable, "-m", "bioseq.cli.main", "evaluate", str(run), "--data", str(tables[1])],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert evaluate.returncode == 1 and "did not finish" in evaluate.stderr and "Traceback" not in evaluate.stderr
    assert "--resume last" in evaluate.stderr
    resumed = bioseq_train("--config", str(run / "config.yaml"), "--resume", "last")
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert_same_run(run, reference)


def test_cli_sigterm_prints_where_to_resume_and_exits_143(tables, reference, tmp_path):
    run = tmp_path / "run"
    args = [
        "--train",
        str(tables[0]),
        "--valid",
        str(tables[1]),
        "--model",
        "cnn",
        "--epochs",
        "3",
        "--patience",
        "10",
        "--rc-augment",
        "--seed",
        "5",
        "--lr",
        "5e-3",
        "--accelerator",
        "cpu",
        "--model-option",
        "channels=[16, 16, 16]",
        "--model-option",
        "dropout=0.2",
        "--out",
        str(run),
    ]
    process = subprocess.Popen(
        [sys.executable, "-m", "bioseq.cli.main", "train", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
    )
    deadline = time.monotonic() + 300
    while not (run / "checkpoints" / "last.ckpt").exists() and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=300)
    assert process.returncode == 143, stderr[-3000:]
    last = stderr.strip().splitlines()[-1]
    assert last.startswith("bioseq train: stopped by SIGTERM; checkpoint ") and "--resume last" in last, last
    assert "Traceback" not in stderr and not list(run.rglob("*.part"))
    command = last.split("continue with: ", 1)[1].split()
    assert command[:2] == ["bioseq", "train"]
    resumed = bioseq_train(*command[2:])
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert_same_run(run, reference)
