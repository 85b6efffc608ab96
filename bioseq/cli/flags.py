"""Flags that several ``bioseq`` commands share, defined once so that their names, defaults and help agree.

========================  ====================================================  ==========================
helper                    flags                                                 commands
========================  ====================================================  ==========================
add_model_argument        ``RUN`` (dest ``model``)                              evaluate, predict, scan
add_inference_flags       ``--batch-size``, ``--device``, ``--rc-average``,     evaluate, predict, scan
                          ``--threshold`` (not for scan)
add_out_flag              ``--out``                                             every command that writes
add_reference_flag        ``--reference``                                       predict, scan
add_column_flags          ``--sequence-column``, ``--label-column``             encode, ensemble, evaluate,
                                                                                split
add_seed_flag             ``--seed``                                            simulate, split
add_fractions_flag        ``--fractions TRAIN VALID TEST``                      split
========================  ====================================================  ==========================

:func:`inference_options` turns the parsed inference flags into the
:class:`~bioseq.inference.InferenceOptions` that ``predict_file``,
``scan_genome`` and ``evaluate_bundle`` take. Importing this module does not
import torch.
"""

from __future__ import annotations

import argparse
import dataclasses

from bioseq.inference import InferenceOptions

__all__ = [
    "add_column_flags",
    "add_fractions_flag",
    "add_inference_flags",
    "add_model_argument",
    "add_out_flag",
    "add_reference_flag",
    "add_seed_flag",
    "inference_options",
]

_DEFAULTS = InferenceOptions()


def add_model_argument(parser: argparse.ArgumentParser) -> None:
    """The positional ``RUN``: a training run or bundle directory (``args.model``)."""
    parser.add_argument("model", metavar="RUN", help="training run or bundle directory")


def add_inference_flags(parser: argparse.ArgumentParser, *, threshold: bool = True) -> None:
    """``--threshold`` (unless ``threshold`` is False), ``--batch-size``, ``--device`` and ``--rc-average``.

    Their defaults are those of :class:`~bioseq.inference.InferenceOptions`.
    """
    if threshold:
        parser.add_argument(
            "--threshold",
            type=float,
            default=_DEFAULTS.threshold,
            help="predict a class when its probability is above this (binary and multi-label; "
            f"default {_DEFAULTS.threshold})",
        )
    parser.add_argument(
        "--batch-size",
        type=int,
        default=_DEFAULTS.batch_size,
        help=f"sequences per batch (default {_DEFAULTS.batch_size})",
    )
    parser.add_argument("--device", default=_DEFAULTS.device, help="cpu, cuda, cuda:1, mps (default cpu)")
    parser.add_argument(
        "--rc-average", action="store_true", help="average the prediction with that of the reverse complement"
    )


def inference_options(args: argparse.Namespace) -> InferenceOptions:
    """The :class:`~bioseq.inference.InferenceOptions` of the inference flags in ``args``.

    Flags the command does not have (``--threshold`` for scan) keep their defaults.

    Raises
    ------
    InputError
        On a value :class:`~bioseq.inference.InferenceOptions` refuses (``--batch-size 0``,
        ``--threshold 1``), before any model is loaded.
    """
    given = {
        field.name: getattr(args, field.name)
        for field in dataclasses.fields(InferenceOptions)
        if hasattr(args, field.name)
    }
    return InferenceOptions(**given)


def add_out_flag(
    parser: argparse.ArgumentParser, *, help: str, required: bool = True, metavar: str | None = None
) -> None:
    """``--out``: where the command writes (``help`` says what)."""
    parser.add_argument("--out", required=required, metavar=metavar, help=help)


def add_reference_flag(parser: argparse.ArgumentParser, *, help: str, required: bool = False) -> None:
    """``--reference``: a genome FASTA or GenBank/EMBL (``help`` says what for)."""
    parser.add_argument("--reference", required=required, help=help)


def add_column_flags(parser: argparse.ArgumentParser) -> None:
    """``--sequence-column`` and ``--label-column``: the columns of a labelled table."""
    parser.add_argument(
        "--sequence-column", default="sequence", help="table column of the sequences (default sequence)"
    )
    parser.add_argument("--label-column", default="label", help="table column of the labels (default label)")


def add_seed_flag(parser: argparse.ArgumentParser) -> None:
    """``--seed``: the random seed (default 0)."""
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")


def add_fractions_flag(parser: argparse.ArgumentParser, *, help: str) -> None:
    """``--fractions TRAIN VALID TEST``, default ``0.8 0.1 0.1`` (``help`` says of what)."""
    parser.add_argument(
        "--fractions",
        nargs=3,
        type=float,
        default=(0.8, 0.1, 0.1),
        metavar=("TRAIN", "VALID", "TEST"),
        help=f"{help} (default 0.8 0.1 0.1)",
    )
