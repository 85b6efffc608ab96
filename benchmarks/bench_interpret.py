"""Speed of in-silico saturation mutagenesis (ISM) against tangermeme, and of the gradient attributions.

Usage::

    python benchmarks/bench_interpret.py                      # 1,000 x 200 bp, cnn lstm transformer
    python benchmarks/bench_interpret.py --n 50 --models cnn  # a quick check

For each model (untrained, default options of the registry, fixed seed,
saved as a bundle in a temporary directory and loaded back), on the same
random sequences in the same run:

- ``bioseq.interpret.ism`` (``fast=None``: the receptive-field path for the
  CNN, every mutant in full for the others), against tangermeme's
  ``saturation_mutagenesis`` (its ``ism``, default options, ``raw_outputs``)
  on the same model, run by the Python of a side environment that has it
  (``--peer``; it imports bioseq from this checkout) on a module that maps
  the one-hot input to the model's ``forward_one_hot`` (or back to codes).
  The two outputs are asserted equal (relative tolerance ``--rtol`` of the
  largest logit); the seconds, sequences/s and the ratio tangermeme /
  bioseq (the speed-up) are printed.
- DeepLIFT/SHAP and integrated gradients throughput
  (:func:`bioseq.interpret.gradients.attribute`, default references and
  steps) on ``--gradient-n`` of the sequences, when that module imports.

CPU, ``--threads`` torch threads in both processes (default 2).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import numpy as np  # noqa: E402

SEED = 20261203
PEER = "/tmp/peers/bin/python"


def make_bundle(name: str, directory: Path, length: int):
    """An untrained ``name`` network at its default options, saved and loaded back (binary task)."""
    import torch

    from bioseq.bundle import load_bundle, save_bundle
    from bioseq.models.registry import model_kind

    torch.manual_seed(SEED)
    model = model_kind(name).build({}, n_outputs=1).eval()
    path = save_bundle(
        directory / name, model=model, model_name=name, model_options={}, task="binary",
        classes=("neg", "pos"), length=length,
    )  # fmt: skip
    return load_bundle(path)


def time_ours(bundle, codes: np.ndarray, batch_size: int) -> tuple[np.ndarray, float]:
    from bioseq.interpret.ism import ism

    start = time.perf_counter()
    values = ism(bundle, codes, batch_size=batch_size)
    return values, time.perf_counter() - start


def run_peer(python: str, bundle_dir: Path, codes_path: Path, out: Path, args) -> dict:
    """tangermeme's ISM in the side environment (:func:`peer_main`); its seconds and warnings."""
    command = [python, __file__, "--worker", str(bundle_dir), str(codes_path), str(out)]
    command += ["--threads", str(args.threads), "--batch-size", str(args.batch_size)]
    env = {**os.environ, "OMP_NUM_THREADS": str(args.threads), "MKL_NUM_THREADS": str(args.threads)}
    done = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    if done.returncode:
        raise SystemExit(f"tangermeme worker failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def peer_main(bundle_dir: str, codes_path: str, out: str, threads: int, batch_size: int) -> None:
    """In the side environment: tangermeme's saturation_mutagenesis on the bundle's model; writes (N, 4, L)."""
    import torch
    from tangermeme.saturation_mutagenesis import saturation_mutagenesis

    from bioseq.bundle import load_bundle

    torch.set_num_threads(threads)
    model = OneHotModel(load_bundle(bundle_dir).model).eval()
    codes = np.load(codes_path)
    x = torch.nn.functional.one_hot(torch.from_numpy(codes).long(), 4).permute(0, 2, 1).float()  # (N, 4, L)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        start = time.perf_counter()
        _, y_hat = saturation_mutagenesis(model, x, raw_outputs=True, batch_size=batch_size, device="cpu")
        seconds = time.perf_counter() - start
    np.save(out, y_hat[..., 0].numpy().astype(np.float32))  # (N, 4, L): the single logit
    notes = sorted({str(w.message).split(". ")[0] for w in caught if "tangermeme" in type(w.message).__name__.lower()})
    print(json.dumps({"seconds": seconds, "warnings": notes}))


def OneHotModel(model):  # noqa: N802 (a class factory: torch is imported only where needed)
    """A module reading one-hot ``(B, 4, L)`` float: the model's ``forward_one_hot``, or codes rebuilt from it."""
    import torch

    class _OneHot(torch.nn.Module):
        def __init__(self, inner) -> None:
            super().__init__()
            self.inner = inner

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            mask = x.sum(1) > 0  # (B, L): PAD columns are all zero
            if hasattr(self.inner, "forward_one_hot"):
                return self.inner.forward_one_hot(x, mask)
            codes = torch.where(mask, x.argmax(1), 15).to(torch.uint8)  # (B, L), PAD = 15
            return self.inner(codes)

    return _OneHot(model)


def gradient_rates(bundle, codes: np.ndarray, batch_size: int) -> dict:
    try:
        from bioseq.interpret.gradients import attribute
    except ImportError as exc:
        return {"skipped": str(exc)}
    rates = {}
    for method in ("deeplift_shap", "integrated_gradients"):
        start = time.perf_counter()
        try:
            attribute(bundle, codes, method=method, batch_size=batch_size)
        except Exception as exc:  # noqa: BLE001 (reported, not fatal: a model without a gradient path)
            rates[method] = f"failed: {type(exc).__name__}: {exc}"[:200]
            continue
        rates[method] = len(codes) / (time.perf_counter() - start)
    return rates


def bench_model(name: str, codes: np.ndarray, work: Path, args) -> None:
    bundle = make_bundle(name, work, codes.shape[1])
    ours, seconds = time_ours(bundle, codes, args.batch_size)
    n = len(codes)
    line = f"{name:12s} bioseq ism {seconds:8.2f} s {n / seconds:8.1f} seq/s"
    if args.peer != "none":
        out = work / f"{name}.tangermeme.npy"
        peer = run_peer(args.peer, bundle.path, work / "codes.npy", out, args)
        theirs = np.load(out)
        scale = float(np.abs(theirs).max())
        error = float(np.abs(theirs - ours).max())
        assert error <= args.rtol * scale, f"{name}: bioseq and tangermeme differ by {error:.3g} (scale {scale:.3g})"
        line += (
            f" | tangermeme {peer['seconds']:8.2f} s {n / peer['seconds']:8.1f} seq/s"
            f" | speed-up {peer['seconds'] / seconds:5.2f}x | max |diff| {error:.2g} of {scale:.2g}"
        )
        if peer["warnings"]:
            line += f" | tangermeme: {'; '.join(peer['warnings'])}"
    print(line, flush=True)
    if args.gradient_n:
        rates = gradient_rates(bundle, codes[: args.gradient_n], args.batch_size)
        shown = ", ".join(f"{k} {v:.1f} seq/s" if isinstance(v, float) else f"{k} {v}" for k, v in rates.items())
        print(f"{name:12s} gradients ({min(args.gradient_n, n)} seqs): {shown}", flush=True)


def parse_arguments(argv) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=1000, help="sequences")
    parser.add_argument("--length", type=int, default=200, help="bases per sequence")
    parser.add_argument("--models", nargs="+", default=["cnn", "lstm", "transformer"])
    parser.add_argument("--threads", type=int, default=2, help="torch threads (both processes)")
    parser.add_argument("--batch-size", type=int, default=256, help="mutants per forward pass (both tools)")
    parser.add_argument("--peer", default=PEER, help="Python with tangermeme, or 'none'")
    parser.add_argument("--rtol", type=float, default=1e-4, help="allowed difference, relative to the largest logit")
    parser.add_argument("--gradient-n", type=int, default=200, help="sequences for the gradient methods (0: skip)")
    parser.add_argument("--worker", nargs=3, metavar=("BUNDLE", "CODES", "OUT"), help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def main(argv=None) -> None:
    args = parse_arguments(argv)
    if args.worker:
        peer_main(*args.worker, threads=args.threads, batch_size=args.batch_size)
        return
    import torch

    torch.set_num_threads(args.threads)
    if args.peer != "none" and not Path(args.peer).exists():
        print(f"no tangermeme Python at {args.peer}: bioseq only", flush=True)
        args.peer = "none"
    codes = np.random.default_rng(SEED).integers(0, 4, (args.n, args.length)).astype(np.uint8)
    print(f"ISM of {args.n} x {args.length} bp, {args.threads} threads, batches of {args.batch_size}", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        np.save(work / "codes.npy", codes)
        for name in args.models:
            bench_model(name, codes, work, args)


if __name__ == "__main__":
    main()
