"""Tests of bioseq.cli.flags: the shared flags parse to the defaults of InferenceOptions and back."""

from __future__ import annotations

import argparse

import pytest

from bioseq.cli.flags import add_inference_flags, add_model_argument, inference_options
from bioseq.cli.main import build_parser
from bioseq.errors import InputError
from bioseq.inference import InferenceOptions


def _parser(threshold: bool) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser()
    add_model_argument(parser)
    add_inference_flags(parser, threshold=threshold)
    return parser


def test_flags_give_inference_options():
    assert inference_options(_parser(True).parse_args(["run"])) == InferenceOptions()
    args = _parser(True).parse_args(
        ["run", "--batch-size", "8", "--device", "cpu", "--rc-average", "--threshold", "0.9"]
    )
    assert args.model == "run"
    assert inference_options(args) == InferenceOptions(batch_size=8, device="cpu", rc_average=True, threshold=0.9)
    scan = _parser(False).parse_args(["run", "--batch-size", "4"])  # no --threshold: the default is kept
    assert not hasattr(scan, "threshold") and inference_options(scan) == InferenceOptions(batch_size=4)
    with pytest.raises(InputError, match="batch_size must be a positive integer, got 0"):
        inference_options(_parser(True).parse_args(["run", "--batch-size", "0"]))


@pytest.mark.parametrize(
    "command, flags",
    [
        (["predict", "r", "--input", "x.fa", "--out", "p.tsv"], {"threshold", "batch_size", "device", "rc_average"}),
        (["evaluate", "r", "--data", "t.csv"], {"threshold", "batch_size", "device", "rc_average", "sequence_column"}),
        (["scan", "r", "--reference", "g.fa", "--out", "t.bw"], {"batch_size", "device", "rc_average"}),
    ],
)
def test_commands_share_the_flags(command, flags):
    args = build_parser().parse_args(command)
    assert flags <= set(vars(args)) and args.model == "r"
    assert ("threshold" in vars(args)) == (command[0] != "scan")
    assert inference_options(args) == InferenceOptions()
