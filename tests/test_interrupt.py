"""SIGTERM/SIGINT: every command stops with one line, status 128 + signal, and no temporary file left.

The signal is sent by the process to itself at a chosen moment: while the
N-th output file is being committed (its temporary ``.part`` is complete and
about to be renamed), which is the worst moment for a half-written output.
The command runs in a child process through a small driver, so the real
signal handlers and exit status are exercised.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from bioseq.interrupt import Interrupted, deferred, handle_signals, pending, raise_pending

REPO = Path(__file__).resolve().parents[1]
SIM = REPO / "data" / "sim"
TINY_CNN = [
    "--model",
    "cnn",
    "--model-option",
    "channels=[4]",
    "--model-option",
    "kernel_sizes=[3]",
    "--model-option",
    "dilations=[1]",
    "--model-option",
    "pools=[1]",
]

_DRIVER = textwrap.dedent("""
    import os, signal, sys
    import bioseq.io.atomic as atomic
    signum, nth = int(sys.argv[1]), int(sys.argv[2])
    original, calls = atomic._set_modes, [0]
    def set_modes(tmp, umask):  # called when a temporary output is complete, just before its rename
        calls[0] += 1
        if calls[0] == nth:
            os.kill(os.getpid(), signum)
        original(tmp, umask)
    atomic._set_modes = set_modes
    from bioseq.cli.main import main
    sys.exit(main(sys.argv[3:]))
""")


def run_killed(
    args: list[str], *, nth: int = 1, signum: int = signal.SIGTERM, cwd: Path | None = None
) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", _DRIVER, str(int(signum)), str(nth), *map(str, args)],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=cwd,
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
    )


@pytest.fixture(scope="module")
def trained(tmp_path_factory, uci_head) -> dict[str, Path]:
    """Two tiny finished runs on 300 UCI splice rows, and the table."""
    folder = tmp_path_factory.mktemp("interrupt")
    table = uci_head
    runs = {}
    for name, seed in (("a", 1), ("b", 2)):
        runs[name] = folder / name
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "bioseq.cli.main",
                "train",
                "--train",
                str(table),
                *TINY_CNN,
                "--epochs",
                "1",
                "--seed",
                str(seed),
                "--out",
                str(runs[name]),
            ],
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert done.returncode == 0, done.stderr[-2000:]
    return {"table": table, **runs}


def _commands(trained: dict[str, Path], out: Path) -> dict[str, list]:
    table, a, b = trained["table"], trained["a"], trained["b"]
    genome, gtf = SIM / "genome.fa", SIM / "genes.gtf"
    return {
        "train": ["train", "--train", table, *TINY_CNN, "--epochs", "1", "--out", out / "run"],
        "evaluate": ["evaluate", a, "--data", table, "--out", out / "eval"],
        "predict": ["predict", a, "--input", table, "--out", out / "predictions.tsv"],
        "scan": [
            "scan",
            a,
            "--reference",
            genome,
            "--chroms",
            "chr1",
            "--step",
            "5000",
            "--class",
            "EI",
            "--out",
            out / "track.bw",
        ],
        "compare": ["compare", a, b, "--out", out / "cmp"],
        "ensemble": ["ensemble", a, b, "--out", out / "mix"],
        "tune": ["tune", "--train", table, "--model", "kmer_logistic", "--trials", "2", "--out", out / "tune"],
        "split": ["split", table, "--out", out / "split"],
        "encode": ["encode", table, "-o", out / "codes.npz"],
        "dataset promoters": [
            "dataset",
            "promoters",
            "--genome",
            genome,
            "--annotation",
            gtf,
            "--length",
            "100",
            "--test-chroms",
            "chr4",
            "--valid-chroms",
            "chr3",
            "--out",
            out / "prom",
        ],
        "dataset splice-sites": [
            "dataset",
            "splice-sites",
            "--genome",
            genome,
            "--annotation",
            gtf,
            "--site",
            "both",
            "--length",
            "40",
            "--test-chroms",
            "chr4",
            "--valid-chroms",
            "chr3",
            "--out",
            out / "splice",
        ],
        "simulate": ["simulate", "--out", out / "sim", "--seed", "1"],
    }


@pytest.mark.slow
@pytest.mark.parametrize(
    "command",
    [
        "train",
        "evaluate",
        "predict",
        "scan",
        "compare",
        "ensemble",
        "tune",
        "split",
        "encode",
        "dataset promoters",
        "dataset splice-sites",
        "simulate",
    ],
)
def test_sigterm_while_writing_leaves_no_part_file(trained, tmp_path, command):
    out = tmp_path / "out"
    out.mkdir()
    before = {p: p.stat().st_mtime_ns for p in trained["a"].rglob("*") if p.is_file()}
    result = run_killed(_commands(trained, out)[command], nth=2 if command.startswith("dataset") else 1)
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 143, result.stderr[-3000:]
    assert lines and lines[-1].startswith(f"bioseq {command.split()[0]}: stopped by SIGTERM"), lines[-3:]
    assert "Traceback" not in result.stderr
    assert not [p for p in out.rglob("*") if ".part" in p.name], sorted(out.rglob("*"))
    # the inputs (a finished run) were not touched
    assert {p: p.stat().st_mtime_ns for p in trained["a"].rglob("*") if p.is_file()} == before


@pytest.mark.slow
def test_sigint_exits_130_and_a_rerun_finishes(trained, tmp_path):
    out = tmp_path / "out"
    args = _commands(trained, out)["predict"]
    result = run_killed(args, signum=signal.SIGINT)
    assert result.returncode == 130 and "stopped by SIGINT" in result.stderr and "Traceback" not in result.stderr
    assert not (out / "predictions.tsv").exists() and not list(out.glob(".*part*"))
    again = subprocess.run(
        [sys.executable, "-m", "bioseq.cli.main", *map(str, args)], capture_output=True, text=True, timeout=600
    )
    assert again.returncode == 0 and (out / "predictions.tsv").is_file()


@pytest.mark.slow
def test_an_unfinished_run_is_refused_by_every_reader(trained, tmp_path):
    out = tmp_path / "out"
    train = _commands(trained, out)["train"]
    assert run_killed(train, nth=3).returncode == 143  # after config.yaml and the first checkpoint
    run = out / "run"
    assert (run / "config.yaml").is_file() and not (run / "complete.json").exists()
    for args in (
        ["evaluate", run, "--data", trained["table"]],
        ["predict", run, "--input", trained["table"], "--out", out / "p.tsv"],
        ["compare", run, trained["a"], "--out", out / "c"],
        ["ensemble", run, trained["a"], "--out", out / "m"],
    ):
        refused = subprocess.run(
            [sys.executable, "-m", "bioseq.cli.main", *map(str, args)], capture_output=True, text=True, timeout=300
        )
        assert refused.returncode == 1, (args[0], refused.stderr[-2000:])
        line = refused.stderr.strip()
        assert "\n" not in line and "did not finish" in line and "Traceback" not in line
        assert f"bioseq train --config {run / 'config.yaml'} --resume last" in line


def test_deferred_signals_wait_for_the_step_and_a_second_one_raises():
    before = signal.getsignal(signal.SIGINT)  # Python's default, or SIG_IGN in a job started in the background
    with pytest.raises(Interrupted) as stopped:
        with deferred():
            os.kill(os.getpid(), signal.SIGTERM)
            assert pending() == signal.SIGTERM  # recorded, not raised: the step goes on
            with pytest.raises(Interrupted):
                os.kill(os.getpid(), signal.SIGTERM)  # a second signal does not wait
            assert pending() == signal.SIGTERM
    assert stopped.value.exit_status == 143 and pending() is None
    with handle_signals(), pytest.raises(Interrupted) as direct:
        os.kill(os.getpid(), signal.SIGINT)
    assert direct.value.exit_status == 130 and str(direct.value) == "stopped by SIGINT"
    raise_pending()  # nothing pending: nothing happens
    assert signal.getsignal(signal.SIGINT) is before  # the handlers are restored
