"""Checkpoints: read with weights_only, refused in one line when foreign, crafted or of other settings."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from bioseq.errors import InputError
from bioseq.train.checkpoints import check_signature, read_checkpoint, step_seed
from bioseq.train.config import config_from_options
from bioseq.train.fit import train

REPO = Path(__file__).resolve().parents[2]
TINY = {"channels": [4], "kernel_sizes": [3], "dilations": [1], "pools": [1]}


@pytest.fixture(scope="module")
def table(uci_head) -> Path:
    return uci_head


@pytest.fixture(scope="module")
def finished(table, tmp_path_factory) -> Path:
    run = tmp_path_factory.mktemp("ckpt_run") / "run"
    train(config_from_options({"train": table, "model": "cnn", "epochs": 1, "model_options": TINY, "out": run}))
    return run


class Payload:
    """Unpickling this runs ``touch <path>``: what a crafted checkpoint would do to a weights_only=False load."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __reduce__(self):
        return os.system, (f"touch {self.path}",)


def _cli_train(*args) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "bioseq.cli.main", "train", *map(str, args)], capture_output=True, text=True, timeout=300
    )


@pytest.mark.slow
def test_a_pickled_payload_is_refused_and_never_runs(finished, table, tmp_path):
    pwned = tmp_path / "pwned"
    crafted = tmp_path / "crafted.ckpt"
    good = torch.load(finished / "checkpoints" / "last.ckpt", weights_only=True)
    torch.save({**good, "callbacks": {"x": Payload(pwned)}}, crafted)
    with pytest.raises(InputError, match="cannot be loaded safely") as refused:
        read_checkpoint(crafted)
    assert str(crafted) in str(refused.value) and "\n" not in str(refused.value)
    result = _cli_train(
        "--train",
        table,
        "--model",
        "cnn",
        "--epochs",
        "2",
        "--out",
        tmp_path / "run",
        "--resume",
        crafted,
        *[f"--model-option={k}={v}" for k, v in TINY.items()],
    )
    assert result.returncode == 1 and "cannot be loaded safely" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr
    assert not pwned.exists()


def test_a_foreign_checkpoint_is_refused(tmp_path):
    path = tmp_path / "lightning.ckpt"
    torch.save(
        {
            "state_dict": {"w": torch.zeros(2)},
            "epoch": 3,
            "global_step": 10,
            "callbacks": {"ModelCheckpoint": {"best_model_path": str(tmp_path / "evil.pkl")}},
        },
        path,
    )
    with pytest.raises(InputError, match="not a checkpoint written by bioseq train"):
        read_checkpoint(path)
    (tmp_path / "garbage.ckpt").write_bytes(b"\x00" * 100)
    with pytest.raises(InputError, match="cannot be loaded safely"):
        read_checkpoint(tmp_path / "garbage.ckpt")
    with pytest.raises(InputError, match="no checkpoint to resume from"):
        read_checkpoint(tmp_path / "absent.ckpt")


@pytest.mark.slow
def test_a_checkpoint_of_other_settings_is_refused_naming_the_setting(finished, table, tmp_path):
    checkpoint = read_checkpoint(finished / "checkpoints" / "last.ckpt")
    signature = dict(checkpoint["bioseq"]["signature"])
    check_signature(checkpoint, signature, "x")  # its own signature passes
    with pytest.raises(InputError, match=r"lr differs \(the checkpoint has 0.002, this run 0.01\)"):
        check_signature(checkpoint, {**signature, "lr": 0.01}, "x")
    with pytest.raises(InputError, match="the training data differs"):
        check_signature(checkpoint, {**signature, "train_sha256": "0" * 64}, "x")
    check_signature(checkpoint, {**signature, "epochs": 9}, "x", allow=("epochs",))  # train longer: allowed
    # through the command line: resume the run's last.ckpt into a run of another learning rate
    result = _cli_train(
        "--train",
        table,
        "--model",
        "cnn",
        "--epochs",
        "1",
        "--lr",
        "0.01",
        "--out",
        tmp_path / "r",
        "--resume",
        finished / "checkpoints" / "last.ckpt",
        *[f"--model-option={k}={v}" for k, v in TINY.items()],
    )
    assert result.returncode == 1 and "other settings: lr differs" in result.stderr, result.stderr[-2000:]
    assert "--overwrite" in result.stderr and "Traceback" not in result.stderr


def test_lightning_state_cannot_name_files(finished, table, tmp_path):
    """A checkpoint whose Lightning state names other files (ModelCheckpoint's best_model_path, which Lightning
    would load or delete) changes nothing: bioseq's paths come from the run directory."""
    run = tmp_path / "run"
    train(config_from_options({"train": table, "model": "cnn", "epochs": 1, "model_options": TINY, "out": run}))
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me")
    last = run / "checkpoints" / "last.ckpt"
    checkpoint = torch.load(last, weights_only=True)
    checkpoint["callbacks"]["ModelCheckpoint{'monitor': 'val_mcc'}"] = {
        "best_model_path": str(victim),
        "kth_best_model_path": str(victim),
        "last_model_path": str(victim),
        "best_k_models": {str(victim): torch.tensor(1.0)},
    }
    torch.save(checkpoint, last)
    (run / "complete.json").unlink()
    train(
        config_from_options(
            {"train": table, "model": "cnn", "epochs": 2, "model_options": TINY, "out": run, "resume": "last"}
        )
    )
    assert victim.read_text() == "keep me"
    assert (run / "complete.json").is_file()


def test_checkpoints_are_always_loaded_with_weights_only():
    """No torch.load in bioseq without weights_only=True."""
    offences = []
    for path in sorted((REPO / "bioseq").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and ast.unparse(node.func) == "torch.load":
                safe = any(
                    k.arg == "weights_only" and isinstance(k.value, ast.Constant) and k.value.value is True
                    for k in node.keywords
                )
                if not safe:
                    offences.append(f"{path.relative_to(REPO)}:{node.lineno}")
    assert not offences, offences


def test_step_seeds_depend_only_on_seed_step_and_rank():
    assert step_seed(0, 5) == step_seed(0, 5)
    assert len({step_seed(0, 5), step_seed(0, 6), step_seed(1, 5), step_seed(0, 5, rank=1)}) == 4
    assert 0 <= step_seed(-3, 10**9) < 2**63
