"""GPU checks in under five minutes: AMP (bf16), SDPA attention kernels, DDP, throughput and MFU.

Usage (on a machine with a CUDA GPU)::

    python benchmarks/gpu_check.py                 # prints a table, writes gpu_check.json to $OUT or .
    python benchmarks/gpu_check.py --compile       # also times torch.compile'd models

For each model at its default size (L = 200, batch 512): sequences/s of a
training step in fp32 and bf16 autocast, of inference in bf16, the FLOPs of
one step (``torch.utils.flop_counter``) and the model FLOP utilisation
against the card's dense bf16 peak. It checks that the Transformer's
attention runs through the flash / memory-efficient SDPA kernels (it forces
each backend in turn), runs ``bioseq.train`` end to end with
``precision="bf16-mixed"`` and ``"16-mixed"``, loads the GPU-trained bundle
on the CPU and on the GPU (same probabilities), times GPU prediction with
reverse-complement averaging, and with two or more GPUs a 2-process DDP
run; with one GPU the DDP row says so.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

PEAK_BF16_TFLOPS = {"H100": 989.0, "H200": 989.0, "A100": 312.0, "L40S": 362.0, "A10": 125.0}


def peak_tflops(name: str) -> float | None:
    return next((v for k, v in PEAK_BF16_TFLOPS.items() if k in name), None)


def step_flops(model, x, y) -> int:
    from torch.utils.flop_counter import FlopCounterMode

    with FlopCounterMode(display=False) as counter:
        loss = torch.nn.functional.binary_cross_entropy_with_logits(model(x)[:, 0], y)
        loss.backward()
    model.zero_grad(set_to_none=True)
    return counter.get_total_flops()


def timed(fn, repeats: int = 20) -> float:
    for _ in range(3):
        fn()
    torch.cuda.synchronize()
    start = time.perf_counter()
    for _ in range(repeats):
        fn()
    torch.cuda.synchronize()
    return (time.perf_counter() - start) / repeats


def model_rows(batch: int, length: int, compile_models: bool) -> list[dict]:
    from bioseq.models.registry import build_model

    device = torch.device("cuda")
    x = torch.randint(0, 4, (batch, length), dtype=torch.uint8, device=device)
    y = torch.randint(0, 2, (batch,), device=device).float()
    peak = peak_tflops(torch.cuda.get_device_name())
    rows = []
    for name in ("cnn", "lstm", "transformer"):
        for compiled in (False, True) if compile_models else (False,):
            torch.manual_seed(0)
            model = build_model(name, {"n_outputs": 1}).to(device)
            runner = torch.compile(model) if compiled else model
            optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)

            def train_step(autocast: bool, runner=runner, optimizer=optimizer):
                with torch.autocast("cuda", dtype=torch.bfloat16, enabled=autocast):
                    loss = torch.nn.functional.binary_cross_entropy_with_logits(runner(x)[:, 0].float(), y)
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                optimizer.step()

            flops = step_flops(model, x, y)
            fp32 = timed(lambda: train_step(False))
            bf16 = timed(lambda: train_step(True))
            model.eval()
            with torch.inference_mode(), torch.autocast("cuda", dtype=torch.bfloat16):
                infer = timed(lambda runner=runner: runner(x))
            rows.append(
                {
                    "model": name + (" (compiled)" if compiled else ""),
                    "params": sum(p.numel() for p in model.parameters()),
                    "train_fp32_seq_s": batch / fp32,
                    "train_bf16_seq_s": batch / bf16,
                    "infer_bf16_seq_s": batch / infer,
                    "step_gflop": flops / 1e9,
                    "mfu_bf16": None if peak is None else flops / bf16 / (peak * 1e12),
                }
            )
    return rows


def sdpa_backends(length: int = 512) -> dict:
    """Which fused SDPA kernels accept the Transformer's attention (no padding / with padding)."""
    from torch.nn.attention import SDPBackend, sdpa_kernel

    from bioseq.models.registry import build_model

    model = build_model("transformer", {"n_outputs": 1}).cuda().eval()
    full = torch.randint(0, 4, (64, length), dtype=torch.uint8, device="cuda")
    padded = full.clone()
    padded[:, length // 2 :] = 15
    result = {}
    for backend in (
        SDPBackend.FLASH_ATTENTION,
        SDPBackend.EFFICIENT_ATTENTION,
        SDPBackend.CUDNN_ATTENTION,
        SDPBackend.MATH,
    ):
        for label, x in (("no padding", full), ("padding mask", padded)):
            try:
                with sdpa_kernel(backend), torch.inference_mode(), torch.autocast("cuda", dtype=torch.bfloat16):
                    model(x)
                result[f"{backend.name} / {label}"] = "ok"
            except RuntimeError as exc:
                result[f"{backend.name} / {label}"] = f"refused ({str(exc).splitlines()[0][:80]})"
    return result


def lightning_runs(tmp: Path) -> dict:
    """bioseq.train end to end on the GPU with bf16-mixed and 16-mixed (2 epochs of synthetic promoters),
    then the GPU-trained bundle loaded on the CPU and on the GPU: both must give the same probabilities."""
    from bioseq.bundle import load_bundle
    from bioseq.io.tables import read_labelled
    from bioseq.train.config import config_from_options
    from bioseq.train.fit import train

    rng = np.random.default_rng(0)
    seqs = ["".join(rng.choice(list("ACGT"), 200)) for _ in range(8000)]
    labels = rng.integers(0, 2, 8000)
    seqs = [s[:90] + "TATAAT" + s[96:] if y else s for s, y in zip(seqs, labels)]
    table = tmp / "train.csv"
    table.write_text("sequence,label\n" + "".join(f"{s},{y}\n" for s, y in zip(seqs, labels)))
    out = {}
    for precision in ("bf16-mixed", "16-mixed"):
        start = time.perf_counter()
        run = tmp / f"run_{precision}"
        result = train(
            config_from_options(
                {
                    "train": table,
                    "model": "transformer",
                    "epochs": 2,
                    "precision": precision,
                    "accelerator": "gpu",
                    "out": run,
                }
            )
        )
        out[precision] = {
            "seconds": round(time.perf_counter() - start, 1),
            "valid_accuracy": result.metrics["valid"]["accuracy"],
        }
    codes = read_labelled(table).codes()[0][:2000]
    on_cpu = load_bundle(tmp / "run_bf16-mixed", device="cpu").predict_proba(codes)
    gpu_bundle = load_bundle(tmp / "run_bf16-mixed", device="cuda")
    on_gpu = gpu_bundle.predict_proba(codes, batch_size=1024)
    start = time.perf_counter()
    many = np.tile(codes, (10, 1))
    gpu_bundle.predict_proba(many, batch_size=2048, rc_average=True)
    torch.cuda.synchronize()
    out["bundle_cpu_vs_gpu_max_abs_diff"] = float(np.abs(on_cpu - on_gpu).max())
    out["predict_rc_average_seq_s"] = round(len(many) / (time.perf_counter() - start))
    return out


def ddp_run(tmp: Path) -> str:
    if torch.cuda.device_count() < 2:
        return f"skipped: {torch.cuda.device_count()} GPU(s) visible; DDP needs 2"
    table = tmp / "train.csv"
    command = [
        sys.executable,
        "-m",
        "bioseq.cli.main",
        "train",
        "--train",
        str(table),
        "--model",
        "cnn",
        "--epochs",
        "1",
        "--devices",
        "2",
        "--accelerator",
        "gpu",
        "--out",
        str(tmp / "ddp"),
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=240)
    return "ok" if done.returncode == 0 else f"failed: {done.stderr[-400:]}"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--compile", action="store_true", help="also time torch.compile'd models")
    parser.add_argument("--batch", type=int, default=512)
    parser.add_argument("--length", type=int, default=200)
    args = parser.parse_args(argv)
    if not torch.cuda.is_available():
        print("gpu_check.py: no CUDA device", file=sys.stderr)
        return 1
    out = Path(os.environ.get("OUT", "."))
    report = {"device": torch.cuda.get_device_name(), "torch": torch.__version__, "cuda": torch.version.cuda}
    with tempfile.TemporaryDirectory() as tmp:
        sections = (
            ("models", lambda: model_rows(args.batch, args.length, args.compile)),
            ("sdpa", sdpa_backends),
            ("lightning", lambda: lightning_runs(Path(tmp))),
            ("ddp", lambda: ddp_run(Path(tmp))),
        )
        for name, section in sections:  # each section on its own: one failure keeps the others' figures
            start = time.perf_counter()
            try:
                report[name] = section()
            except Exception as exc:  # noqa: BLE001 - a check script reports every failure and goes on
                report[name] = f"failed: {type(exc).__name__}: {exc}"[:600]
            print(f"gpu_check.py: {name} done in {time.perf_counter() - start:.0f} s", file=sys.stderr, flush=True)
            (out / "gpu_check.json").write_text(json.dumps(report, indent=2))
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
