"""In-silico saturation mutagenesis (ISM): the target's logit for every single-base substitution.

Data contract
-------------
codes : numpy.ndarray, shape ``(N, L)``, dtype uint8
    Codes of :mod:`bioseq.alphabet`, rows right-padded with ``PAD``;
    positions 0-based.
:func:`ism` returns ``(N, 4, L)`` float32: entry ``[n, b, i]`` is the target's
    logit (:mod:`bioseq.interpret.targets`) for sequence ``n`` with position
    ``i`` set to base ``b`` (A, C, G, T = 0..3). The observed base's entry is
    the reference logit. Positions holding ``N``, another IUPAC code or
    ``PAD`` are not mutated: their four entries are the reference logit.
:func:`ism_attributions` returns an :class:`~bioseq.interpret.attributions.Attributions`:
    ``hypothetical`` = the deltas ``ism - reference`` mean-centred over the
    four bases at each position, ``attributions`` = ``hypothetical`` at the
    observed base (zero elsewhere, at ``N`` and at padding), ``scores`` = the
    model's probability of the target (:meth:`bioseq.bundle.Bundle.predict_proba`).

What the logit is, per model kind
---------------------------------
Networks: the model's logit, computed under ``torch.inference_mode`` in
eval mode (binary: the single logit, negated for the negative class;
multiclass, multilabel: the class's logit; per-position: the class's logit
at output ``position``). Other kinds (the k-mer baseline): the log-odds
``log(p / (1 - p))`` of the probability its kind predicts, which is its
logit for a binary or multilabel model. Ensembles: the mean of the members'
logits (each member on its own logit).

Every mutant is scored in batches of ``batch_size``. With ``fast`` the
mutants of a convolutional classifier, or of a local per-position model
(:mod:`bioseq.interpret.fast_ism`), recompute only what a mutation can change,
and those of an LSTM classifier restart its first layer at the mutation from
the reference's states (:mod:`bioseq.interpret.lstm_ism`); the result equals
the full computation up to float rounding.
"""

from __future__ import annotations

import contextlib

import numpy as np

from bioseq.checks import is_integer
from bioseq.errors import InputError, option
from bioseq.models.network import evaluating

__all__ = ["ism", "ism_attributions"]

_GROUP_POSITIONS = 1 << 16
"""Sequence positions scored per group (a group's mutants and reference maps are held at once)."""
_CONV_CHUNK = 4
"""The CNN's receptive-field path scores this many times ``batch_size`` mutants per pass (each is a small window)."""
_CONV_CPU_PASS = 512
"""At most this many mutants per pass of the receptive-field path on a CPU, where larger passes leave the cache."""


def ism(
    bundle, codes: np.ndarray, *, target=None, position=None, batch_size: int = 256, device=None, fast=None
) -> np.ndarray:
    """The target's logit for every single-base substitution of each sequence (see the module docstring).

    Parameters
    ----------
    bundle : Bundle, str or os.PathLike
        A loaded bundle, or a bundle or training run directory (loaded on the CPU).
    codes : numpy.ndarray, shape ``(N, L)``, dtype uint8
        Right-padded with ``PAD``; ``L`` the bundle's fixed width when it has one.
    target : str or int, optional
        The class explained (:func:`~bioseq.interpret.targets.resolve_target`).
    position : int, optional
        Per-position models only: the output position (default the centre).
    batch_size : int, default 256
        Mutant sequences per forward pass (the CNN's receptive-field path,
        whose passes read small windows, takes 4 times as many, at most 512
        on a CPU).
    device : str or torch.device, optional
        Where networks run (default where they are); they are moved back after.
    fast : bool or None, default None
        None: recompute only each mutation's receptive field (an LSTM
        classifier: its first layer from the mutation on) when every
        (member) model allows it, else score every mutant in full. True:
        require it. False: always in full.

    Returns
    -------
    numpy.ndarray, shape ``(N, 4, L)``, dtype float32

    Raises
    ------
    InputError
        On bad codes, an unknown target, a bad position, batch size or
        device, ``fast=True`` for a model without a fast path, or a batch
        that does not fit in memory.
    """
    values, _, _ = _ism(bundle, codes, target, position, batch_size, device, fast)
    return values.astype(np.float32)


def ism_attributions(
    bundle, codes: np.ndarray, *, target=None, position=None, batch_size: int = 256, device=None, fast=None
):
    """ISM as attributions: mean-centred deltas (hypothetical) and their observed-base projection.

    Parameters
    ----------
    bundle, codes, target, position, batch_size, device, fast
        As :func:`ism`.

    Returns
    -------
    bioseq.interpret.attributions.Attributions
        ``method = "ism"``; arrays ``(N, 4, L)`` float32 and ``scores`` ``(N,)``
        float32 (see the module docstring).

    Raises
    ------
    InputError
        As :func:`ism`.
    """
    from bioseq.interpret.attributions import Attributions
    from bioseq.interpret.targets import target_score

    values, reference, (bundle, codes, index, name, position) = _ism(
        bundle, codes, target, position, batch_size, device, fast
    )
    deltas = values - reference[:, None, None]  # (N, 4, L), float64
    hypothetical = deltas - deltas.mean(axis=1, keepdims=True)
    observed = codes[:, None, :] == np.arange(4, dtype=np.uint8)[None, :, None]  # (N, 4, L): A, C, G, T only
    proba = bundle.predict_proba(codes, batch_size=batch_size, device=device)
    scores = np.asarray(target_score(proba, bundle, index, position), dtype=np.float32)
    return Attributions(
        (hypothetical * observed).astype(np.float32), hypothetical.astype(np.float32), scores, name, index, "ism"
    )


def _ism(bundle, codes, target, position, batch_size, device, fast):
    """Values ``(N, 4, L)`` and reference logits ``(N,)`` (float64), and the resolved request."""
    from bioseq.bundle import as_bundle
    from bioseq.bundle.predictor import Ensemble, as_device
    from bioseq.interpret.targets import resolve_position, resolve_target

    bundle = as_bundle(bundle)
    codes = bundle.check_codes(codes)
    if isinstance(batch_size, bool) or not is_integer(batch_size) or batch_size < 1:
        raise InputError(f"batch_size must be a positive integer, got {batch_size!r}")
    if fast not in (None, True, False):
        raise InputError(f"fast must be True, False or None, got {fast!r}")
    device = None if device is None else as_device(device)
    index, name = resolve_target(bundle, target)
    position = resolve_position(bundle, codes.shape[1], position)
    members = bundle.model.members if isinstance(bundle.model, Ensemble) else (bundle,)
    paths = [_path(member, fast) for member in members]
    values = np.zeros((codes.shape[0], 4, codes.shape[1]))
    reference = np.zeros(codes.shape[0])
    for member, path in zip(members, paths):
        member_values, member_reference = _member_ism(
            member, codes, path, index=index, position=position, batch_size=int(batch_size), device=device
        )
        values += member_values / len(members)
        reference += member_reference / len(members)
    return values, reference, (bundle, codes, index, name, position)


def _path(member, fast) -> str:
    """``"conv"``, ``"local"``, ``"lstm"`` (the fast paths), ``"network"`` or ``"proba"`` (in full) for one bundle."""
    from torch import nn

    from bioseq.interpret.fast_ism import fast_structure
    from bioseq.interpret.lstm_ism import lstm_structure

    structure = None
    if fast is not False:
        structure = fast_structure(member) or ("lstm" if lstm_structure(member) else None)
    if fast is True and structure is None:
        raise InputError(
            f"model {member.model_name!r} has no fast ISM path (only convolutional classifiers with max/mean "
            "pooling, LSTM classifiers and local per-position models do)",
            path=member.path,
            fix=option("fast", "None", clause="Pass {} to score every mutant in full"),
        )
    return structure or ("network" if isinstance(member.model, nn.Module) else "proba")


def _member_ism(member, codes, path, *, index, position, batch_size, device):
    """One (non-ensemble) bundle's values ``(N, 4, L)`` and reference logits ``(N,)``, float64."""
    n, width = codes.shape
    values = np.empty((n, 4, width))
    reference = np.empty(n)
    group = max(1, min(batch_size, _GROUP_POSITIONS // width))
    with _model_mode(member, device, batch_size=batch_size, width=width) as target:
        for start in range(0, n, group):
            rows = codes[start : start + group]
            ref, (seq, pos, base, scores) = _GROUP[path](
                member, rows, index=index, position=position, batch_size=batch_size, device=target
            )
            block = np.repeat(ref[:, None, None], 4, axis=1).repeat(width, axis=2)  # (G, 4, L)
            block[seq, base, pos] = scores
            values[start : start + len(rows)] = block
            reference[start : start + len(rows)] = ref
    return values, reference


def _mutants(codes: np.ndarray, start: int = 0, stop: int | None = None):
    """The three substitutions of every A, C, G or T in ``codes[:, start:stop]``: ``seq, pos, base`` int64 ``(M,)``."""
    seq, pos = np.nonzero(codes[:, start:stop] < 4)
    seq, pos = np.repeat(seq, 3), np.repeat(pos + start, 3)
    base = (codes[seq, pos].astype(np.int64) + np.tile(np.arange(1, 4), len(seq) // 3)) % 4
    return seq.astype(np.int64), pos.astype(np.int64), base


def _mutated(rows: np.ndarray, seq, pos, base, offset: int = 0) -> np.ndarray:
    batch = rows[seq]  # (M, W) copy
    batch[np.arange(len(seq)), pos - offset] = base
    return batch


def _network_group(member, rows, *, index, position, batch_size, device):
    """Every mutant of ``rows`` through the whole network."""
    import torch

    from bioseq.interpret.targets import target_logit

    def score(batch: np.ndarray) -> np.ndarray:
        logits = member.model(torch.from_numpy(np.ascontiguousarray(batch)).to(device))
        return target_logit(logits, member, index, position).double().cpu().numpy()

    seq, pos, base = _mutants(rows)
    scores = np.empty(len(seq))
    for start in range(0, len(seq), batch_size):
        part = slice(start, start + batch_size)
        scores[part] = score(_mutated(rows, seq[part], pos[part], base[part]))
    ref = np.concatenate([score(rows[i : i + batch_size]) for i in range(0, len(rows), batch_size)])
    return ref, (seq, pos, base, scores)


def _proba_group(member, rows, *, index, position, batch_size, device):
    """Every mutant of ``rows`` through the kind's probabilities, as log-odds (the k-mer baseline)."""
    from bioseq.interpret.targets import target_logit
    from bioseq.models.kinds import n_outputs_of
    from bioseq.models.registry import model_kind

    kind = model_kind(member.model_name)
    n_out = n_outputs_of(member.task, len(member.classes))

    def score(batch: np.ndarray) -> np.ndarray:
        proba = kind.predict_proba(
            member.model, batch, task=member.task, n_outputs=n_out, batch_size=batch_size, device=device,
            rc_average=False,
        ).astype(np.float64)  # fmt: skip
        proba = np.clip(proba, 1e-12, 1 - 1e-12)
        return target_logit(np.log(proba) - np.log1p(-proba), member, index, position)

    seq, pos, base = _mutants(rows)
    scores = np.empty(len(seq))
    for start in range(0, len(seq), batch_size):
        part = slice(start, start + batch_size)
        scores[part] = score(_mutated(rows, seq[part], pos[part], base[part]))
    return score(rows), (seq, pos, base, scores)


def _conv_group(member, rows, *, index, position, batch_size, device):
    """Every mutant of ``rows`` through only its receptive cone (:func:`~bioseq.interpret.fast_ism.conv_logits`)."""
    import torch

    from bioseq.interpret.fast_ism import conv_logits
    from bioseq.interpret.targets import target_logit

    seq, pos, base = _mutants(rows)
    chunk = _CONV_CHUNK * batch_size  # a mutant's cone costs a fraction of a full pass
    if torch.device(device).type == "cpu":
        chunk = min(chunk, _CONV_CPU_PASS)
    ref, logits = conv_logits(member.model, torch.from_numpy(rows).to(device), seq, pos, base, batch_size=chunk)
    ref, scores = (target_logit(x, member, index, position).double().cpu().numpy() for x in (ref, logits))
    return ref, (seq, pos, base, scores)


def _lstm_group(member, rows, *, index, position, batch_size, device):
    """Every mutant of ``rows``, restarting the first LSTM layer at the mutation (:mod:`~bioseq.interpret.lstm_ism`)."""
    import torch

    from bioseq.interpret.lstm_ism import lstm_logits
    from bioseq.interpret.targets import target_logit

    seq, pos, base = _mutants(rows)
    ref, logits = lstm_logits(member.model, torch.from_numpy(rows).to(device), seq, pos, base, batch_size=batch_size)
    ref, scores = (target_logit(x, member, index, position).double().cpu().numpy() for x in (ref, logits))
    return ref, (seq, pos, base, scores)


def _local_group(member, rows, *, index, position, batch_size, device):
    """The mutants within reach of output ``position`` on its window alone; the others keep the reference."""
    import torch

    from bioseq.interpret.fast_ism import local_window
    from bioseq.interpret.targets import target_logit

    begin, low, high = local_window(member, position)
    windows = rows[:, begin : begin + 2 * member.flank + 1]  # (G, 2 * flank + 1): one output, index 0

    def score(batch: np.ndarray) -> np.ndarray:
        logits = member.model(torch.from_numpy(np.ascontiguousarray(batch)).to(device))  # (B, 1, C)
        return target_logit(logits, member, index, 0).double().cpu().numpy()

    seq, pos, base = _mutants(rows, low, high)
    scores = np.empty(len(seq))
    for start in range(0, len(seq), batch_size):
        part = slice(start, start + batch_size)
        scores[part] = score(_mutated(windows, seq[part], pos[part], base[part], offset=begin))
    ref = np.concatenate([score(windows[i : i + batch_size]) for i in range(0, len(rows), batch_size)])
    return ref, (seq, pos, base, scores)


_GROUP = {
    "network": _network_group,
    "proba": _proba_group,
    "conv": _conv_group,
    "lstm": _lstm_group,
    "local": _local_group,
}


@contextlib.contextmanager
def _model_mode(member, device, *, batch_size: int, width: int):
    """A network in eval mode on ``device`` under ``torch.inference_mode``, restored after; other kinds as they are."""
    import torch
    from torch import nn

    model = member.model
    if not isinstance(model, nn.Module):
        yield device
        return
    try:
        with evaluating(model, device) as target, torch.inference_mode():
            yield target
    except (torch.OutOfMemoryError, MemoryError) as exc:
        raise InputError(
            f"in-silico mutagenesis ran out of memory on {device or 'the model device'} with batches of {batch_size} "
            f"rows of {width} positions",
            path=member.path,
            fix=option("batch_size", "N", clause="Lower the batch size ({})"),
        ) from exc
