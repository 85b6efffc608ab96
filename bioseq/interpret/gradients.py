"""Gradient attributions of a model's target logit to each base of its input.

Data contract
-------------
Input: a :class:`~bioseq.bundle.Bundle` of a network that reads a one-hot
input (``model.one_hot(codes)`` gives ``(B, 4, L)``, ``model.forward_one_hot(one_hot,
mask)`` the logits; an ensemble of such), and codes ``(N, L)`` uint8 of
:mod:`bioseq.alphabet`, right-padded with ``PAD``. Output: an
:class:`~bioseq.interpret.attributions.Attributions` (``(N, 4, L)`` float32
attributions and hypothetical contributions, ``(N,)`` float32 scores) for the
target logit of :mod:`bioseq.interpret.targets`.

Every method computes *multipliers* ``m`` ``(4, L)`` against a reference
one-hot ``r`` ``(4, L)`` and gives the hypothetical contribution of base
``b`` at position ``i`` as ``hyp[b, i] = m[b, i] - sum_c m[c, i] * r[c, i]``
(the contribution base ``b`` would make there, DeepLIFT's formula), averaged
over references; the attribution is ``hyp`` projected on the observed
one-hot, so that ``attributions.sum() == sum(m * (x - r))`` over the positions
of A, C, G and T (an N, or another IUPAC code the model reads as a zero or
fractional column, has no single observed base: its share ``sum(m * (x - r))``
is not carried by the attributions; with an all-zero reference it is 0 for N):

``grad_x_input``
    ``m`` = the gradient at ``x``, ``r = 0``: attributions are gradient x input
    and ``hyp`` is the gradient at all four bases (not mean-centred: centring
    would break the sums below).
``integrated_gradients``
    ``m`` = the gradient averaged along the straight path from ``r`` to ``x``
    (Captum's ``IntegratedGradients``, ``steps`` Gauss-Legendre points), ``r``
    all zeros (``baseline="zeros"``) or ``references`` dinucleotide shuffles of
    ``x`` (``baseline="shuffle"``). Completeness: the attributions of a sequence
    sum to ``f(x) - mean f(r)`` up to the quadrature error.
``deeplift_shap``
    ``m`` = Captum ``DeepLift`` multipliers against ``references``
    dinucleotide shuffles of ``x`` (:func:`shuffled_references`, seeded by ``seed``
    and the sequence), averaged: DeepLIFT-SHAP. The rescale rule applies at Captum's
    supported modules (``nn.ReLU``, ``nn.Sigmoid``, ``nn.Tanh``, ``nn.Softplus``,
    ``nn.ELU``, ``nn.LeakyReLU``, ``nn.MaxPool*``, ``nn.Softmax``); every other
    operation (``nn.GELU`` of the heads and Transformer MLPs, functional max
    pooling and masked global pooling, ``nn.LSTM`` gates, attention) passes the
    plain gradient, so completeness (attributions summing to ``f(x) - mean f(r)``)
    holds exactly only for networks of supported non-linearities and approximately otherwise.

Ensembles: the mean of their members' attributions (each on its own logit).
``rc_average``: the mean of the attributions of ``x`` and the reverse
complemented attributions of ``rc(x)``. Padding positions are zero. The model
is left in the mode, on the device and with the ``requires_grad`` flags it had;
no gradient reaches its parameters.
"""

from __future__ import annotations

import contextlib
import hashlib
import warnings

import numpy as np
import torch
from torch import nn

from bioseq.alphabet import PAD
from bioseq.checks import boolean, integer, positive_integer
from bioseq.errors import InputError, option
from bioseq.interpret.attributions import Attributions
from bioseq.interpret.targets import resolve_position, resolve_target, target_logit, target_score
from bioseq.models.network import evaluating

__all__ = ["attribute", "METHODS", "BASELINES", "one_hot_networks", "shuffled_references"]

METHODS = ("grad_x_input", "integrated_gradients", "deeplift_shap")
"""Gradient methods of :func:`attribute` (``"ism"`` is :func:`bioseq.interpret.ism.ism_attributions`)."""
BASELINES = ("zeros", "shuffle")
"""Baselines of integrated gradients."""


def attribute(
    bundle,
    codes: np.ndarray,
    *,
    method: str,
    target: str | int | None = None,
    position: int | None = None,
    references: int = 20,
    steps: int = 32,
    seed: int = 0,
    batch_size: int = 64,
    device=None,
    rc_average: bool = False,
    baseline: str = "zeros",
) -> Attributions:
    """Attributions of each sequence's target logit to its bases (see the module docstring).

    Parameters
    ----------
    bundle : Bundle, str or os.PathLike
        A loaded bundle, or a bundle or training run directory (loaded on the CPU).
    codes : numpy.ndarray, shape ``(N, L)``, dtype uint8
        Right-padded with ``PAD``; ``L`` the bundle's fixed width when it has one.
    method : {"grad_x_input", "integrated_gradients", "deeplift_shap"}
    target : str or int, optional
        The class explained (:func:`~bioseq.interpret.targets.resolve_target`).
    position : int, optional
        Per-position models only: the output position (default the centre).
    references : int, default 20
        Dinucleotide-shuffled references per sequence (DeepLIFT-SHAP, and
        integrated gradients with ``baseline="shuffle"``).
    steps : int, default 32
        Integration points of integrated gradients.
    seed : int, default 0
        Seed of the shuffles: the same seed gives the same attributions.
    batch_size : int, default 64
        Input rows per forward pass (a row is a sequence, a sequence and one
        reference, or one integration point); the result does not depend on it.
    device : str or torch.device, optional
        Where to run; default where the model is. The model is moved back afterwards.
    rc_average : bool, default False
        Average with the reverse-complemented attributions of the reverse complement.
    baseline : {"zeros", "shuffle"}, default "zeros"
        Integrated gradients only: all-zero one-hot, or ``references`` shuffles.

    Returns
    -------
    Attributions

    Raises
    ------
    InputError
        On bad codes, an unknown method or baseline, a bad target or position,
        a bad count, ``rc_average`` with a per-position model, or a model (or
        ensemble member) without a one-hot input (the k-mer baseline, a k-mer
        Transformer: the message names method ``ism``).
    """
    from bioseq.bundle import as_bundle
    from bioseq.encode.transforms import reverse_complement

    bundle = as_bundle(bundle)
    codes = bundle.check_codes(codes)
    settings = _check_settings(method, references, steps, seed, batch_size, baseline)
    rc_average = boolean(rc_average, "rc_average")
    index, name = resolve_target(bundle, target)
    position = resolve_position(bundle, codes.shape[1], position)
    if rc_average and bundle.per_position:
        raise InputError(
            "rc_average does not apply to a per-position model: its classes belong to one strand",
            path=bundle.path,
            fix=option("rc_average", "False", clause="Pass {}", otherwise="Drop the reverse-complement averaging"),
        )
    lengths = (codes != PAD).sum(1)
    hypothetical = np.zeros((codes.shape[0], 4, codes.shape[1]), dtype=np.float32)
    attributions = np.zeros_like(hypothetical)
    runs = [(model, strand) for model in one_hot_networks(bundle) for strand in ((0, 1) if rc_average else (0,))]
    for model, strand in runs:
        x = reverse_complement(codes) if strand else codes
        hyp, attr = _model_attributions(
            model, x, bundle=bundle, index=index, position=position, device=device, **settings
        )
        if strand:
            hyp, attr = reverse_complement(hyp, lengths), reverse_complement(attr, lengths)
        hypothetical += hyp / len(runs)
        attributions += attr / len(runs)
    padding = (codes == PAD)[:, None, :]  # (N, 1, L)
    hypothetical[np.broadcast_to(padding, hypothetical.shape)] = 0.0
    attributions[np.broadcast_to(padding, attributions.shape)] = 0.0
    proba = bundle.predict_proba(codes, batch_size=settings["batch_size"], device=device, rc_average=rc_average)
    scores = np.asarray(target_score(proba, bundle, index, position), dtype=np.float32)
    return Attributions(attributions, hypothetical, scores, name, index, method)


def one_hot_networks(bundle) -> list:
    """The network of a bundle, or each ensemble member's, checked to read a one-hot input.

    Raises
    ------
    InputError
        Naming the (member) bundle and method ``ism`` when one has no
        ``one_hot`` and ``forward_one_hot`` (the k-mer baseline, a k-mer Transformer).
    """
    from bioseq.bundle.predictor import Ensemble

    members = bundle.model.members if isinstance(bundle.model, Ensemble) else (bundle,)
    for member in members:
        model = member.model
        if not (callable(getattr(model, "one_hot", None)) and callable(getattr(model, "forward_one_hot", None))):
            raise InputError(
                f"model {member.model_name!r} does not read a one-hot input, so it has no gradient per base",
                path=member.path,
                fix=option("method", "ism", clause="Explain it by in-silico mutagenesis ({})"),
            )
    return [member.model for member in members]


def _check_settings(method, references, steps, seed, batch_size, baseline) -> dict:
    if method not in METHODS:
        raise InputError(
            f"method must be one of {', '.join(map(repr, METHODS))} (or 'ism', by ism_attributions), got {method!r}",
            fix=option("method", "deeplift_shap", clause="Pass e.g. {}"),
        )
    if baseline not in BASELINES:
        raise InputError(f"baseline must be one of {', '.join(map(repr, BASELINES))}, got {baseline!r}")
    if baseline != "zeros" and method != "integrated_gradients":
        raise InputError(f"baseline {baseline!r} applies to method 'integrated_gradients' only, not {method!r}")
    return {
        "method": method,
        "references": positive_integer(references, "references"),
        "steps": positive_integer(steps, "steps"),
        "seed": integer(seed, "seed", 0),
        "batch_size": positive_integer(batch_size, "batch_size"),
        "baseline": baseline,
    }


def shuffled_references(codes: np.ndarray, *, n: int, seed: int) -> np.ndarray:
    """``n`` dinucleotide shuffles of every sequence (:func:`bioseq.encode.transforms.dinucleotide_shuffle`).

    Each sequence's shuffles are seeded by ``seed`` and the sequence itself, so they do not depend
    on the other sequences, their order, or how a caller splits its input into calls.

    Parameters
    ----------
    codes : numpy.ndarray, shape ``(N, L)``, dtype uint8
        Right-padded with ``PAD`` (padding stays in place).
    n : int
    seed : int

    Returns
    -------
    numpy.ndarray, shape ``(n, N, L)``, dtype uint8
    """
    from bioseq.encode.transforms import dinucleotide_shuffle

    n, seed = positive_integer(n, "n"), integer(seed, "seed", 0)
    out = np.empty((n, *codes.shape), dtype=np.uint8)
    for i, row in enumerate(codes):
        digest = int.from_bytes(hashlib.blake2b(row.tobytes(), digest_size=8).digest(), "little")
        out[:, i] = dinucleotide_shuffle(row, n=n, seed=np.random.default_rng([seed, digest])).reshape(n, -1)
    return out


def _model_attributions(
    model, codes, *, bundle, index, position, method, references, steps, seed, batch_size, baseline, device
) -> tuple[np.ndarray, np.ndarray]:
    """Hypothetical contributions and attributions ``(N, 4, L)`` float32 of one network, one strand."""
    refs = None  # an all-zero reference
    if method == "deeplift_shap" or baseline == "shuffle":
        refs = shuffled_references(codes, n=references, seed=seed)  # (R, N, L)
    n_refs = 1 if refs is None else refs.shape[0]
    per_chunk = max(1, batch_size // n_refs)  # sequences per chunk: R * B rows (IG: points split by Captum)
    hypothetical = np.empty((codes.shape[0], 4, codes.shape[1]), dtype=np.float32)
    attributions = np.empty_like(hypothetical)
    with _attribution_mode(model, device, batch_size=batch_size, width=codes.shape[1]) as target:
        forward = _TargetLogit(model, bundle=bundle, index=index, position=position)
        for start in range(0, codes.shape[0], per_chunk):
            chunk = np.ascontiguousarray(codes[start : start + per_chunk])  # (B, L)
            with torch.no_grad():
                x = model.one_hot(torch.from_numpy(chunk).to(target))  # (B, 4, L)
                ref = torch.zeros_like(x)  # (1 * B, 4, L)
                if refs is not None:
                    ref_codes = np.ascontiguousarray(refs[:, start : start + per_chunk]).reshape(-1, codes.shape[1])
                    ref = model.one_hot(torch.from_numpy(ref_codes).to(target))  # (R * B, 4, L), reference-major
            mask = torch.from_numpy(chunk != PAD).to(target).repeat(n_refs, 1)  # (R * B, L)
            inputs = x.repeat(n_refs, 1, 1)  # (R * B, 4, L)
            mult = _multipliers(method, forward, inputs, ref, mask, steps=steps, batch_size=batch_size)
            hyp = mult - (mult * ref).sum(1, keepdim=True)  # (R * B, 4, L)
            hyp = hyp.view(n_refs, x.shape[0], 4, x.shape[2]).mean(0)  # (B, 4, L)
            hypothetical[start : start + x.shape[0]] = hyp.float().cpu().numpy()
            attributions[start : start + x.shape[0]] = (hyp * x).float().cpu().numpy()
    return hypothetical, attributions


def _multipliers(method, forward, inputs, ref, mask, *, steps: int, batch_size: int):
    """Multipliers ``(R * B, 4, L)`` of ``forward`` at ``inputs`` against ``ref`` (see the module docstring)."""
    if method == "grad_x_input":
        inputs = inputs.detach().requires_grad_(True)
        (grad,) = torch.autograd.grad(forward(inputs, mask).sum(), inputs)
        return grad.detach()
    if method == "integrated_gradients":
        from captum.attr import IntegratedGradients

        explainer = IntegratedGradients(forward, multiply_by_inputs=False)
        inputs = inputs.detach().requires_grad_(True)
        return explainer.attribute(
            inputs, baselines=ref, additional_forward_args=(mask,), n_steps=steps, internal_batch_size=batch_size
        ).detach()
    from captum.attr import DeepLift

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Setting forward, backward hooks", category=UserWarning)
        warnings.filterwarnings("ignore", message="Input Tensor 0 did not already require", category=UserWarning)
        return (
            DeepLift(forward, multiply_by_inputs=False)
            .attribute(inputs.detach().requires_grad_(True), baselines=ref, additional_forward_args=(mask,))
            .detach()
        )


class _TargetLogit(nn.Module):
    """``forward_one_hot`` of a network reduced to the target logit ``(B,)`` (what Captum differentiates)."""

    def __init__(self, model: nn.Module, *, bundle, index: int, position: int | None) -> None:
        super().__init__()
        self.model = model
        self.pick = (bundle, index, position)

    def forward(self, one_hot: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        return target_logit(self.model.forward_one_hot(one_hot, mask), *self.pick)  # (B,)


@contextlib.contextmanager
def _attribution_mode(model, device, *, batch_size: int, width: int):
    """Eval mode on ``device``, parameters frozen (and cuDNN off for RNNs); everything restored after."""
    from bioseq.bundle.predictor import as_device

    flags = [p.requires_grad for p in model.parameters()]
    recurrent = any(isinstance(module, torch.nn.RNNBase) for module in model.modules())
    try:
        with evaluating(model, None if device is None else as_device(device)) as target:
            for parameter in model.parameters():
                parameter.requires_grad_(False)
            cudnn = torch.backends.cudnn.flags(enabled=not recurrent)  # cuDNN RNNs have no backward in eval mode
            with torch.inference_mode(False), torch.enable_grad(), cudnn:
                yield target
    except (torch.OutOfMemoryError, MemoryError) as exc:
        raise InputError(
            f"attributions ran out of memory on {device or 'the model device'} with batches of {batch_size} rows of "
            f"{width} positions",
            fix=option("batch_size", "N", clause="Lower the batch size ({})"),
        ) from exc
    finally:
        for parameter, flag in zip(model.parameters(), flags):
            parameter.requires_grad_(flag)
