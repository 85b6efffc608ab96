"""Speed of bioseq's readers and encoders against their peers, in one run.

Usage::

    python benchmarks/bench_io.py            # full sizes (a few minutes)
    python benchmarks/bench_io.py --quick    # small sizes, for a smoke test

Every figure is measured on one thread next to its baseline in the same
process, so the ratios hold on any machine even when absolute speeds do not.
Peers that are not installed (``pip install -e '.[bench]'``) are skipped.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

for _var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "NUMEXPR_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_encode  # noqa: E402
import bench_fasta  # noqa: E402
import bench_reference  # noqa: E402

SECTIONS = (("FASTA", bench_fasta), ("encoders", bench_encode), ("reference", bench_reference))


def copy_speed(size: int = 256 << 20) -> float:
    """numpy copy bandwidth in GB/s (best of 5), the machine's yardstick."""
    src = np.ones(size, dtype=np.uint8)
    dst = np.empty_like(src)
    best = float("inf")
    for _ in range(5):
        start = time.perf_counter()
        np.copyto(dst, src)
        best = min(best, time.perf_counter() - start)
    return size / best / 1e9


def _fmt(value) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:,.1f}" if abs(value) >= 10 else f"{value:.2f}"
    return str(value)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes for a smoke test")
    args = parser.parse_args(argv)
    try:
        import torch

        torch.set_num_threads(1)
    except ImportError:  # pragma: no cover
        pass
    print(f"machine yardstick: numpy copy {copy_speed():.2f} GB/s (one thread)")
    header = ("figure", "value", "unit", "baseline", "baseline value", "ratio", "target")
    for title, module in SECTIONS:
        rows = module.run(quick=args.quick)
        print(f"\n## {title}")
        print("\t".join(header))
        for row in rows:
            print(
                "\t".join(
                    _fmt(row.get(key))
                    for key in ("figure", "value", "unit", "baseline", "baseline_value", "ratio", "target")
                )
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
