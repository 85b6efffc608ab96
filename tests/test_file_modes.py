"""Everything bioseq writes has the usual permissions: ``0o666 & ~umask`` for files, ``0o777 & ~umask`` for folders.

Each writer runs in a subprocess started with the umask under test
(``preexec_fn``), so the test process's umask is never changed. Every file
and folder under the output is walked and its mode compared exactly; the
file lists are exact too, so a leftover temporary ``.part`` fails the test.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
UMASKS = {0o022: (0o644, 0o755), 0o002: (0o664, 0o775)}

HELPERS = """
import os, sys
from pathlib import Path
from bioseq.io.atomic import atomic_directory, atomic_output, atomic_path

root = Path(sys.argv[1])
with atomic_output(root / "deep" / "er" / "out.txt", "w") as handle:  # creates the folders too
    handle.write("text")
with atomic_path(root / "index.bin") as tmp:  # a library that makes its file private, like mkstemp
    os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT, 0o600))
with atomic_directory(root / "bundle") as tmp:
    (tmp / "sub").mkdir(mode=0o700)
    os.close(os.open(tmp / "sub" / "weights", os.O_WRONLY | os.O_CREAT, 0o600))
    (tmp / "config.json").write_text("{}")
"""


def run(args: list[str], umask: int, cwd: Path) -> subprocess.CompletedProcess:
    """Run ``args`` with ``umask`` set in the child only; fail with its output if it fails."""
    done = subprocess.run(
        args,
        check=False,
        cwd=cwd,
        preexec_fn=lambda: os.umask(umask),
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done


def bioseq(*args: str, umask: int, cwd: Path) -> subprocess.CompletedProcess:
    return run([sys.executable, "-m", "bioseq.cli.main", *args], umask, cwd)


def modes(root: Path) -> dict[str, int]:
    """``{relative path: mode bits}`` of ``root`` and everything under it (``"."`` is ``root``)."""
    found = {".": root.stat().st_mode & 0o777}
    for path in root.rglob("*"):
        found[str(path.relative_to(root))] = path.lstat().st_mode & 0o777
    return found


def check_modes(root: Path, umask: int) -> dict[str, int]:
    """Assert every folder under ``root`` has the folder mode and every file the file mode."""
    file_mode, dir_mode = UMASKS[umask]
    found = modes(root)
    expected = {name: dir_mode if (root / name).is_dir() else file_mode for name in found}
    assert {k: oct(v) for k, v in found.items()} == {k: oct(v) for k, v in expected.items()}
    return found


@pytest.mark.parametrize("umask", UMASKS, ids=["umask022", "umask002"])
def test_the_three_helpers(tmp_path, umask):
    run([sys.executable, "-c", HELPERS, str(tmp_path / "out")], umask, tmp_path)
    found = check_modes(tmp_path / "out", umask)
    assert sorted(found) == [
        ".",
        "bundle",
        "bundle/config.json",
        "bundle/sub",
        "bundle/sub/weights",
        "deep",
        "deep/er",
        "deep/er/out.txt",
        "index.bin",
    ]


@pytest.mark.parametrize("umask", UMASKS, ids=["umask022", "umask002"])
def test_fai_written_beside_a_fasta(tmp_path, umask, example_data):
    folder = tmp_path / "genome"
    folder.mkdir()
    shutil.copyfile(example_data / "phiX174.fa", folder / "phiX.fa")
    code = "import sys; from bioseq.io import Reference; Reference(sys.argv[1]).close()"
    run([sys.executable, "-c", code, str(folder / "phiX.fa")], umask, tmp_path)
    assert sorted(p.name for p in folder.iterdir()) == ["phiX.fa", "phiX.fa.fai"]
    assert oct((folder / "phiX.fa.fai").stat().st_mode & 0o777) == oct(UMASKS[umask][0])


@pytest.mark.parametrize("umask", UMASKS, ids=["umask022", "umask002"])
@pytest.mark.parametrize("kind", ["splice-sites", "promoters"])
def test_dataset(tmp_path, umask, kind, example_data):
    genome = tmp_path / "genome"
    genome.mkdir()
    for name in ("genome.fa", "genes.gtf"):
        shutil.copyfile(example_data / "sim" / name, genome / name)
    options = ["--site", "donor"] if kind == "splice-sites" else ["--negatives", "shuffle"]
    bioseq(
        "dataset",
        kind,
        "--genome",
        str(genome / "genome.fa"),
        "--annotation",
        str(genome / "genes.gtf"),
        "--valid-chroms",
        "chr3",
        "--test-chroms",
        "chr4",
        "--out",
        str(tmp_path / "out" / "data"),
        *options,
        umask=umask,
        cwd=tmp_path,
    )
    found = check_modes(tmp_path / "out", umask)
    assert sorted(found) == [".", "data", "data/summary.json", "data/test.csv", "data/train.csv", "data/valid.csv"]
    assert sorted(p.name for p in genome.iterdir()) == ["genes.gtf", "genome.fa", "genome.fa.fai"]
    assert oct((genome / "genome.fa.fai").stat().st_mode & 0o777) == oct(UMASKS[umask][0])


@pytest.mark.parametrize("umask", UMASKS, ids=["umask022", "umask002"])
def test_simulate(tmp_path, umask):
    bioseq(
        "simulate",
        "--out",
        str(tmp_path / "out" / "sim"),
        "--chromosomes",
        "1",
        "--length",
        "30000",
        "--genes",
        "4",
        "--reads",
        "200",
        umask=umask,
        cwd=tmp_path,
    )
    found = check_modes(tmp_path / "out", umask)
    assert sorted(found) == [
        ".",
        "sim",
        "sim/genes.gtf",
        "sim/genome.fa",
        "sim/genome.fa.fai",
        "sim/rnaseq.bam",
        "sim/rnaseq.bam.bai",
        "sim/truth.json",
    ]


@pytest.mark.slow
@pytest.mark.parametrize("umask", UMASKS, ids=["umask022", "umask002"])
def test_training_run_directory(tmp_path, umask, example_data):
    table = tmp_path / "train.csv"
    table.write_text("".join(example_data.joinpath("uci_splice.csv").read_text().splitlines(True)[:201]))
    bioseq(
        "train",
        "--train",
        str(table),
        "--model",
        "cnn",
        "--epochs",
        "1",
        "--batch-size",
        "64",
        "--model-option",
        "channels=[16, 16, 16]",
        "--out",
        str(tmp_path / "out" / "run"),
        "--accelerator",
        "cpu",
        umask=umask,
        cwd=tmp_path,
    )
    found = check_modes(tmp_path / "out", umask)
    assert not [name for name in found if name.endswith(".part")]
    for name in ("run/bundle/config.json", "run/bundle/model.safetensors", "run/config.yaml"):
        assert name in found
