"""Peak memory of bioseq on one very long sequence line, as a multiple of the file size.

Usage::

    python benchmarks/bench_long_line.py             # a 200 MB single-line FASTA (and table)
    python benchmarks/bench_long_line.py --quick     # 20 MB, for a smoke test
    python benchmarks/bench_long_line.py --size-mb 500

Writes a FASTA file holding one record on a single line (and a CSV table
whose first sequence is that line) to a temporary folder, then runs each
command in a fresh subprocess and reports its peak RSS minus the peak of a
subprocess that only imports what the command imports, divided by the file
size. The peak is ``ru_maxrss`` of the children of a small wrapper process,
so the large RSS of whoever starts the benchmark does not leak into it
(Linux counts a child's pre-``exec`` memory in its ``ru_maxrss``).
No timings. Temporary files are deleted.

Figures (Linux, a 200 MB line, 191 MiB file): ``bioseq inspect`` 2.0x
(387 MB over the imports, 440 MB in all; before streaming 13.0x, 2.5 GB),
the reader alone 2.0x, ``bioseq encode`` 2.0x (was 2.7x),
``read_fasta_codes`` 2.0x, ``read_table`` and ``bioseq inspect`` on the
table 2.0x (the table was refused before: csv's 128 kB field limit). The
floor is 2x: the reader builds the sequence as bytes and returns a ``str``.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

for _var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "NUMEXPR_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import numpy as np  # noqa: E402

SEED = 20240601
TARGET = 3.0  # peak growth / file size

_MEASURE = (
    "import resource, subprocess, sys\n"
    "done = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)\n"
    "assert done.returncode in (0, 1), done.stderr.decode()[-2000:]\n"
    "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
)
_CLI = "import sys; from bioseq.cli.main import build_parser, main; build_parser(); main(sys.argv[1:])"
_CLI_IMPORTS = "from bioseq.cli.main import build_parser; build_parser()"
_READER = (
    "import sys; from bioseq.io.fasta import read_fasta\nprint(sum(len(r.sequence) for r in read_fasta(sys.argv[1])))"
)
_CODES = "import sys; from bioseq.io.fasta_codes import read_fasta_codes; read_fasta_codes(sys.argv[1])"
_TABLE = "import sys; from bioseq.io.tables import read_table; read_table(sys.argv[1])"


def write_line(folder: Path, size: int, *, seed: int = SEED) -> tuple[Path, Path]:
    """Write ``size`` random bases on one line as FASTA and as a table; return both paths."""
    rng = np.random.default_rng(seed)
    letters = np.frombuffer(b"ACGT", dtype=np.uint8)
    fasta, table = folder / "long.fa", folder / "long.csv"
    with open(fasta, "wb") as fa, open(table, "wb") as csv:
        fa.write(b">chrLong a single line\n")
        csv.write(b"sequence,label\n")
        for start in range(0, size, 8 << 20):
            block = letters[rng.integers(0, 4, min(8 << 20, size - start))].tobytes()
            fa.write(block)
            csv.write(block)
        fa.write(b"\n")
        csv.write(b",pos\nACGT,neg\n")
    return fasta, table


def peak_mb(code: str, *args: str) -> float:
    """Peak RSS (MB) of ``python -c code args`` in a fresh process."""
    done = subprocess.run(
        [sys.executable, "-c", _MEASURE, sys.executable, "-c", code, *args], capture_output=True, text=True, check=True
    )
    return int(done.stdout.split()[-1]) / 1024


def run(size: int) -> list[dict]:
    """One row per command: peak RSS growth in MB and its ratio to the file size."""
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench_long_line_") as tmp:
        fasta, table = write_line(Path(tmp), size)
        out = Path(tmp) / "codes.npz"
        cases = [
            ("bioseq inspect (FASTA)", _CLI, _CLI_IMPORTS, ("inspect", str(fasta)), fasta),
            ("bioseq inspect --json (table)", _CLI, _CLI_IMPORTS, ("inspect", "--json", str(table)), table),
            ("bioseq encode (FASTA)", _CLI, _CLI_IMPORTS, ("encode", str(fasta), "-o", str(out)), fasta),
            ("read_fasta, the reader alone", _READER, "import bioseq.io.fasta", (str(fasta),), fasta),
            ("read_fasta_codes", _CODES, "import bioseq.io.fasta_codes", (str(fasta),), fasta),
            ("read_table (table)", _TABLE, "import bioseq.io.tables", (str(table),), table),
        ]
        for figure, code, baseline, args, path in cases:
            growth = peak_mb(code, *args) - peak_mb(baseline)
            rows.append(
                {
                    "figure": figure,
                    "value": growth,
                    "unit": "MB",
                    "file_mb": path.stat().st_size / 2**20,
                    "ratio": growth * 2**20 / path.stat().st_size,
                    "target": TARGET,
                }
            )
    return rows


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="a 20 MB line, for a smoke test")
    parser.add_argument("--size-mb", type=int, default=200, help="bases on the line, in millions (default 200)")
    args = parser.parse_args(argv)
    size = 20_000_000 if args.quick else args.size_mb * 1_000_000
    for row in run(size):
        print(
            f"{row['figure']}: peak RSS growth {row['value']:.0f} MB for a {row['file_mb']:.0f} MB file "
            f"= {row['ratio']:.2f}x the file (target < {row['target']:g}x)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
