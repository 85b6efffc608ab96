"""Peak memory on one very long line: a small multiple of the line, not a dozen.

A FASTA record longer than two read chunks is streamed in 1 MB pieces
(:class:`bioseq.io.fastx.LongRecord`), summaries count letters a slice at a
time, and tables split plain lines without :mod:`csv`'s four-bytes-per-letter
field buffer. Each command runs in a fresh subprocess; its peak RSS
(``ru_maxrss`` of the children of a small wrapper process, so that earlier
children of the test process do not count) minus the peak of a subprocess
that only imports what the command imports is compared with the line size.
Before streaming, ``bioseq inspect`` needed about 13 times the line.
``benchmarks/bench_long_line.py`` measures the same on 200 MB.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

LINE = 25_000_000
BOUND = 3.0  # peak growth / line size; about 2.1 is reached (the reader builds a str from bytes)
_MEASURE = (
    "import resource, subprocess, sys\n"
    "done = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)\n"
    "assert done.returncode == 0, done.stderr.decode()[-2000:]\n"
    "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
)


def peak_mb(code: str, *args: str) -> float:
    """Peak RSS in MB of ``python -c code args`` (Linux reports ru_maxrss in kB)."""
    done = subprocess.run(
        [sys.executable, "-c", _MEASURE, sys.executable, "-c", code, *args],
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    return int(done.stdout.split()[-1]) / 1024


@pytest.fixture(scope="module")
def long_line(tmp_path_factory) -> Path:
    """One FASTA record on a single 25 MB line, and a table whose first sequence is that line."""
    folder = tmp_path_factory.mktemp("long_line")
    letters = np.frombuffer(b"ACGT", dtype=np.uint8)[np.random.default_rng(0).integers(0, 4, LINE)].tobytes()
    (folder / "long.fa").write_bytes(b">chrLong one line\n" + letters + b"\n")
    (folder / "long.csv").write_bytes(b"sequence,label\n" + letters + b",pos\nACGT,neg\n")
    return folder


CLI = "import sys; from bioseq.cli.main import build_parser, main; build_parser(); main(sys.argv[1:])"
CLI_IMPORTS = "from bioseq.cli.main import build_parser; build_parser()"


def growth(code: str, baseline: str, *args: str) -> float:
    return (peak_mb(code, *args) - peak_mb(baseline)) * 2**20 / LINE


def test_inspect_streams_a_long_line(long_line):
    ratio = growth(CLI, CLI_IMPORTS, "inspect", str(long_line / "long.fa"))
    assert ratio < BOUND, f"bioseq inspect grew by {ratio:.2f} x the line"


def test_reader_alone(long_line):
    code = "import sys; from bioseq.io.fasta import read_fasta; [len(r.sequence) for r in read_fasta(sys.argv[1])]"
    ratio = growth(code, "import bioseq.io.fasta", str(long_line / "long.fa"))
    assert ratio < BOUND, f"read_fasta grew by {ratio:.2f} x the line"


def test_encode_and_table_read(long_line, tmp_path):
    ratio = growth(CLI, CLI_IMPORTS, "encode", str(long_line / "long.fa"), "-o", str(tmp_path / "x.npz"))
    assert ratio < BOUND, f"bioseq encode grew by {ratio:.2f} x the line"
    code = "import sys; from bioseq.io.tables import read_table; read_table(sys.argv[1])"
    ratio = growth(code, "import bioseq.io.tables", str(long_line / "long.csv"))
    assert ratio < BOUND, f"read_table grew by {ratio:.2f} x the line"
