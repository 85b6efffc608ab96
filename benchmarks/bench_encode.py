"""Speed of bioseq's encoders against tangermeme and a plain numpy baseline.

Usage::

    python benchmarks/bench_encode.py            # 200,000 x 200 bp
    python benchmarks/bench_encode.py --quick    # 10,000 x 200 bp, for a smoke test

One thread. The data are deterministic random sequences (A, C, G, T with 1% N)
held as uint8 codes; tangermeme gets the same sequences as strings (one string
of everything for "whole", one string of 256 concatenated sequences per
batch), so it does not pay for encoding either. Figures are Mb/s of sequence,
best of 3, each with its ratio to a baseline measured in the same run:

- one-hot uint8 and float32, whole array and batches of 256, against
  ``tangermeme.utils.one_hot_encode`` with the same output dtype (rows
  skipped when it is not installed). The targets (>= 1.5x) are set against
  tangermeme's uint8 output, as the issue measured it. tangermeme's default
  int8 output is its fastest path (a numba kernel returning a transposed
  ``(4, n)`` view of an ``(n, 4)`` array, no conversion): it is shown in
  extra rows, as is tangermeme made into the same contiguous ``(B, 4, L)``
  batch bioseq returns. A model needs that batch, so the batched target is
  set on that row; tangermeme on 256 concatenated sequences as one string
  (its ``(4, 256 L)`` result is not a batch) is reported beside it.
- 6-mer token ids against the straightforward numpy rolling hash (int64
  codes, ``sum(codes[:, j:j+T] << 2*(k-1-j))``, N windows from a rolling sum
  of ``codes > 3``).
"""

from __future__ import annotations

import argparse
import os
import sys
import time

for _var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "NUMEXPR_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import numpy as np  # noqa: E402
import torch  # noqa: E402

from bioseq.encode.kmer import KmerTokenizer  # noqa: E402
from bioseq.encode.onehot import one_hot  # noqa: E402

torch.set_num_threads(1)

SEED = 20240601
BATCH = 256
K = 6
TARGET_ONE_HOT = 1.5
TARGET_KMER = 4.0


def make_codes(n: int, length: int, *, seed: int = SEED) -> np.ndarray:
    """``(n, length)`` uint8 codes of A, C, G, T with 1% N."""
    rng = np.random.default_rng(seed)
    codes = rng.integers(0, 4, size=(n, length), dtype=np.uint8)
    codes[rng.random((n, length)) < 0.01] = 4
    return codes


def rolling_hash_ids(codes: np.ndarray, k: int = K) -> np.ndarray:
    """The straightforward numpy k-mer ids: the baseline of the tokenizer figure."""
    c = codes.astype(np.int64)
    t = c.shape[1] - k + 1
    ids = sum(c[:, j : j + t] << 2 * (k - 1 - j) for j in range(k))
    bad = np.zeros((c.shape[0], c.shape[1] + 1), dtype=np.int64)
    np.cumsum(c > 3, axis=1, out=bad[:, 1:])
    ids += 5  # the special tokens come first
    ids[bad[:, k:] - bad[:, :-k] > 0] = 1  # [UNK]
    return ids


def best_of(fn, repeats: int = 3) -> float:
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def _each(fn, items):
    def run_all():
        for item in items:
            fn(item)

    return run_all


def _row(figure, bases, seconds, baseline, baseline_seconds, target) -> dict:
    value = bases / seconds / 1e6
    base = None if baseline_seconds is None else bases / baseline_seconds / 1e6
    return {
        "figure": figure,
        "value": value,
        "unit": "Mb/s",
        "baseline": baseline,
        "baseline_value": base,
        "ratio": None if base is None else value / base,
        "target": target,
    }


def _tangermeme():
    try:
        from tangermeme.utils import one_hot_encode
    except ImportError:
        return None
    return one_hot_encode


def one_hot_rows(codes: np.ndarray) -> list[dict]:
    tm = _tangermeme()
    n, length = codes.shape
    bases = codes.size
    batches = [codes[i : i + BATCH] for i in range(0, n, BATCH)]
    buffer = np.empty((BATCH, 4, length), dtype=np.uint8)
    full = batches if n % BATCH == 0 else batches[:-1]
    full_bases = sum(b.size for b in full)
    ours = {
        "whole uint8": best_of(lambda: one_hot(codes, dtype=np.uint8)),
        "batch uint8": best_of(_each(lambda b: one_hot(b, dtype=np.uint8), batches)),
        "batch uint8 out=": best_of(_each(lambda b: one_hot(b, dtype=np.uint8, out=buffer), full)),
        "whole float32": best_of(lambda: one_hot(codes)),
        "batch float32": best_of(_each(lambda b: one_hot(b), batches)),
    }
    theirs = dict.fromkeys(ours)
    if tm is not None:
        text = np.frombuffer(b"ACGTN", dtype=np.uint8)[codes].tobytes().decode("ascii")
        texts = [text[i * length : (i + BATCH) * length] for i in range(0, n, BATCH)]
        full_texts = texts[: len(full)]

        def tm_batch_contiguous(s):  # (4, B*L) view -> (B, 4, L) contiguous, what a model takes
            x = tm(s)
            return x.reshape(4, -1, length).permute(1, 0, 2).contiguous()

        uint8 = torch.uint8
        theirs["whole uint8"] = best_of(lambda: tm(text, dtype=uint8))
        theirs["batch uint8"] = best_of(_each(lambda s: tm(s, dtype=uint8), texts))
        theirs["batch uint8 out="] = best_of(_each(lambda s: tm(s, dtype=uint8), full_texts))
        theirs["whole uint8 vs int8 view"] = best_of(lambda: tm(text))
        theirs["batch uint8 vs int8 view"] = best_of(_each(tm, texts))
        ours["whole uint8 vs int8 view"] = ours["whole uint8"]
        ours["batch uint8 vs int8 view"] = ours["batch uint8"]
        theirs["whole float32"] = best_of(lambda: tm(text, dtype=torch.float32))
        theirs["batch float32"] = best_of(_each(lambda s: tm(s, dtype=torch.float32), texts))
        theirs["batch uint8 vs (B,4,L)"] = best_of(_each(tm_batch_contiguous, texts))
        ours["batch uint8 vs (B,4,L)"] = ours["batch uint8"]
    rows = []
    for name, seconds in ours.items():
        size = full_bases if "out=" in name else bases
        baseline = "tangermeme one_hot_encode" + (
            " + reshape to (B,4,L)"
            if "(B,4,L)" in name
            else " int8 (transposed view)"
            if "int8 view" in name
            else " float32"
            if "float32" in name
            else " uint8"
        )
        target = TARGET_ONE_HOT if name in ("whole uint8", "batch uint8 vs (B,4,L)") else None
        rows.append(
            _row(
                f"one-hot {name} ({BATCH}/batch)" if "batch" in name else f"one-hot {name}",
                size,
                seconds,
                baseline if tm else None,
                theirs[name],
                target,
            )
        )
    return rows


def kmer_rows(codes: np.ndarray) -> list[dict]:
    tokenizer = KmerTokenizer(k=K)
    check = codes[:1000]
    if not np.array_equal(tokenizer.encode(check), rolling_hash_ids(check)):
        raise RuntimeError("KmerTokenizer and the rolling-hash baseline disagree")
    ours = best_of(lambda: tokenizer.encode(codes))
    theirs = best_of(lambda: rolling_hash_ids(codes))
    return [_row(f"{K}-mer token ids", codes.size, ours, "numpy rolling hash (int64)", theirs, TARGET_KMER)]


def run(quick: bool = False) -> list[dict]:
    """All figures as dicts: figure, value, unit, baseline, baseline_value, ratio, target."""
    codes = make_codes(10_000 if quick else 200_000, 200)
    return one_hot_rows(codes) + kmer_rows(codes)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="10,000 sequences instead of 200,000")
    args = parser.parse_args(argv)
    for row in run(quick=args.quick):
        ratio = ""
        if row["ratio"] is not None:
            ratio = f"  {row['ratio']:.2f}x {row['baseline']} ({row['baseline_value']:,.0f})"
        target = "" if row["target"] is None else f"  [target >= {row['target']}x]"
        print(f"{row['figure']:42s} {row['value']:9,.0f} {row['unit']}{ratio}{target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
