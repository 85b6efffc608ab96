"""Throughput of bioseq's LSTM, Transformer and CNN at default size on CPU.

Usage::

    python benchmarks/bench_models.py            # 1 and 2 threads, L = 70 and 200
    python benchmarks/bench_models.py --quick    # 1 thread, L = 70, for a smoke test

Batch 128 of deterministic random codes (A, C, G, T with 1% N), each row
between 0.8 L and L bases long and right-padded with PAD. Figures are
sequences/s, best of 5 (3 with --quick), for a training step's forward + backward ("train",
train mode) and for inference ("infer", eval mode, ``torch.no_grad``).

Each figure has its ratio to a plain-torch model of the same sizes measured
in the same run, alternately with it: the same layers, fed a ready float one-hot (or the codes,
for the Transformer's embedding), without bioseq's on-device encoding,
input checks, masking of padded positions or packed sequences (the
Transformer baseline is ``nn.TransformerEncoder`` with a key padding mask and
no positions). A ratio near 1 says that handling padding correctly costs
little.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import torch
from torch import nn

from bioseq.models.registry import build_model

SEED = 20240601
BATCH = 128


def make_codes(n: int, length: int, *, seed: int = SEED) -> torch.Tensor:
    """``(n, length)`` uint8 codes with 1% N, rows 0.8 L..L long, right-padded with PAD."""
    g = torch.Generator().manual_seed(seed)
    codes = torch.randint(0, 4, (n, length), generator=g, dtype=torch.uint8)
    codes[torch.rand(n, length, generator=g) < 0.01] = 4
    lengths = torch.randint(int(0.8 * length), length + 1, (n,), generator=g)
    codes[torch.arange(length)[None, :] >= lengths[:, None]] = 15
    return codes


class _PlainLSTM(nn.Module):
    """Same sizes as the default LSTMClassifier; unpacked LSTM, unmasked mean pooling."""

    def __init__(self) -> None:
        super().__init__()
        self.stem = nn.Sequential(nn.Conv1d(4, 64, 9, padding=4), nn.BatchNorm1d(64), nn.ReLU(), nn.MaxPool1d(2))
        self.lstm = nn.LSTM(64, 64, num_layers=2, batch_first=True, bidirectional=True, dropout=0.1)
        self.head = nn.Sequential(nn.Dropout(0.1), nn.Linear(128, 64), nn.GELU(), nn.Dropout(0.1), nn.Linear(64, 1))

    def forward(self, one_hot: torch.Tensor) -> torch.Tensor:
        out, _ = self.lstm(self.stem(one_hot).transpose(1, 2))  # (B, L/2, 128)
        return self.head(out.mean(1))


class _PlainTransformer(nn.Module):
    """Same sizes as the default TransformerClassifier; nn.TransformerEncoder, no positions."""

    def __init__(self) -> None:
        super().__init__()
        self.embed = nn.Embedding(16, 64)
        self.stem = nn.Sequential(nn.Conv1d(64, 64, 9, padding=4), nn.BatchNorm1d(64), nn.GELU())
        self.cls = nn.Parameter(torch.zeros(1, 1, 64))
        layer = nn.TransformerEncoderLayer(
            64, 4, 256, dropout=0.1, activation="gelu", batch_first=True, norm_first=True
        )
        self.encoder = nn.TransformerEncoder(layer, 3, enable_nested_tensor=False)
        self.norm = nn.LayerNorm(64)
        self.head = nn.Sequential(nn.Dropout(0.1), nn.Linear(64, 64), nn.GELU(), nn.Dropout(0.1), nn.Linear(64, 1))

    def forward(self, codes: torch.Tensor) -> torch.Tensor:
        h = self.stem(self.embed(codes.long()).transpose(1, 2)).transpose(1, 2)  # (B, L, 64)
        h = torch.cat([self.cls.expand(h.shape[0], 1, -1), h], dim=1)
        pad = torch.cat([torch.zeros(h.shape[0], 1, dtype=torch.bool), codes == 15], dim=1)
        return self.head(self.norm(self.encoder(h, src_key_padding_mask=pad))[:, 0])


class _PlainCNN(nn.Sequential):
    """Same sizes as the default CNNClassifier; unmasked global max pooling."""

    def __init__(self) -> None:
        layers: list[nn.Module] = []
        for c_in, c_out, kernel, pool in [(4, 64, 15, 2), (64, 128, 9, 2), (128, 128, 5, 1)]:
            layers += [nn.Conv1d(c_in, c_out, kernel, padding="same"), nn.BatchNorm1d(c_out), nn.ReLU()]
            layers += [nn.MaxPool1d(pool, ceil_mode=True), nn.Dropout(0.1)] if pool > 1 else [nn.Dropout(0.1)]
        layers += [
            nn.AdaptiveMaxPool1d(1),
            nn.Flatten(),
            nn.Dropout(0.1),
            nn.Linear(128, 64),
            nn.GELU(),
            nn.Dropout(0.1),
            nn.Linear(64, 1),
        ]
        super().__init__(*layers)


def _one_hot(codes: torch.Tensor) -> torch.Tensor:
    return (codes.unsqueeze(1) == torch.arange(4, dtype=torch.uint8).view(4, 1)).float()  # (B, 4, L)


BASELINES = {  # model -> (plain model factory, its input from the codes)
    "lstm": (_PlainLSTM, _one_hot),
    "transformer": (_PlainTransformer, lambda codes: codes),
    "cnn": (_PlainCNN, _one_hot),
}


def _step(model: nn.Module, x: torch.Tensor, mode: str) -> float:
    """Seconds of one training forward + backward, or of one no-grad inference pass."""
    start = time.perf_counter()
    if mode == "train":
        model.zero_grad(set_to_none=True)
        model(x).sum().backward()
    else:
        with torch.no_grad():
            model(x)
    return time.perf_counter() - start


def _best_pair(
    ours: nn.Module, x: torch.Tensor, plain: nn.Module, plain_x: torch.Tensor, mode: str, repeats: int
) -> tuple[float, float]:
    """Best times of both models, measured alternately so that load changes hit both alike."""
    for model in (ours, plain):
        model.train(mode == "train")
    _step(ours, x, mode), _step(plain, plain_x, mode)  # warm up
    times = [(_step(ours, x, mode), _step(plain, plain_x, mode)) for _ in range(repeats)]
    return min(t[0] for t in times), min(t[1] for t in times)


def run(quick: bool = False) -> list[dict]:
    """All figures as dicts: model, params, threads, length, mode, value (seq/s), baseline_value, ratio."""
    threads = [1] if quick or (os.cpu_count() or 1) < 2 else [1, 2]
    lengths = [70] if quick else [70, 200]
    repeats = 3 if quick else 5
    saved = torch.get_num_threads()
    rows = []
    try:
        for name, (plain_factory, plain_input) in BASELINES.items():
            torch.manual_seed(0)
            model, plain = build_model(name), plain_factory()
            params = sum(p.numel() for p in model.parameters())
            for n_threads in threads:
                torch.set_num_threads(n_threads)
                for length in lengths:
                    codes = make_codes(BATCH, length)
                    for mode in ("train", "infer"):
                        ours, theirs = _best_pair(model, codes, plain, plain_input(codes), mode, repeats)
                        rows.append(
                            {
                                "model": name,
                                "params": params,
                                "threads": n_threads,
                                "length": length,
                                "mode": mode,
                                "value": BATCH / ours,
                                "baseline_value": BATCH / theirs,
                                "ratio": theirs / ours,
                            }
                        )
    finally:
        torch.set_num_threads(saved)
    return rows


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="1 thread, L = 70 only")
    args = parser.parse_args(argv)
    repeats = 3 if args.quick else 5
    print(f"batch {BATCH}, sequences/s, best of {repeats}; ratio = bioseq / plain torch of the same sizes")
    for row in run(quick=args.quick):
        print(
            f"{row['model']:12s} {row['params']:>8,d} params  {row['threads']} thread(s)  L={row['length']:<4d}"
            f"{row['mode']:6s} {row['value']:9,.0f} seq/s  {row['ratio']:.2f}x plain ({row['baseline_value']:,.0f})"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
