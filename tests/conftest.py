"""Shared test fixtures.

``shared_data`` is the read-only folder of real public datasets that sits
beside the repository (``../shared/data``) on developer machines and in CI;
tests that need it are skipped where it is absent. Nothing here touches the
network.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

_WORKERS = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
if _WORKERS > 1:  # pytest-xdist workers share the cores: torch, BLAS and subprocesses get their share each
    _SHARE = str(max(1, (os.cpu_count() or 1) // _WORKERS))
    for _name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ.setdefault(_name, _SHARE)

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))  # tests/support.py, shared helpers
SHARED = Path(os.environ.get("BIOSEQ_SHARED_DATA", REPO.parent / "shared" / "data"))


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """Path to ``../shared/data``; skips the test when it is not there."""
    if not SHARED.is_dir():
        pytest.skip(f"shared data folder {SHARED} is absent")
    return SHARED


@pytest.fixture(scope="session")
def example_data() -> Path:
    """Path to the repository's bundled ``data/`` folder."""
    return REPO / "data"


@pytest.fixture(scope="session")
def uci_head(tmp_path_factory, example_data) -> Path:
    """The first 300 rows of the UCI splice table (three classes, 60 bp): enough for a one-epoch run."""
    path = tmp_path_factory.mktemp("uci_head") / "splice.csv"
    path.write_text("".join((example_data / "uci_splice.csv").read_text().splitlines(keepends=True)[:301]))
    return path


@pytest.fixture(scope="session")
def phix(shared_data) -> Path:
    """``shared/data/genomes/phix174``: phiX174 and a Y. pestis plasmid as GenBank, FASTA, GFF3 and BED."""
    folder = shared_data / "genomes" / "phix174"
    if not (folder / "NC_001422.gbk").exists():
        pytest.skip("genomes/phix174 is absent")
    return folder
