"""Attention maps of Transformer models: the softmax weights of every head of every layer.

Data contract
-------------
Input: a bundle of a Transformer (``transformer``, nucleotide or k-mer input,
or ``per_base_transformer``), codes ``(N, L)`` uint8 right-padded with
``PAD``. Output: ``(N, layers, heads, T, T)`` float32, ``weights[n, l, h, i, j]``
the weight query token ``i`` gives key token ``j`` in head ``h`` of block ``l``:
``softmax(q k^T / sqrt(head_size))`` over ``j`` with the model's key mask
(padded keys weigh 0; rotary positions applied to ``q`` and ``k`` as the model
does). Tokens ``T`` are what the blocks see: ``[CLS]`` first when the model has
one, then one token per base (per k-mer window, per pooled stem position), so
token ``t`` of a nucleotide model without stem pooling is base ``t - 1`` with
``[CLS]``, base ``t`` without. Rows of padded query tokens are computed like the
others and mean nothing. The weights are recomputed from each block's own
inputs (PyTorch's fused attention does not return them). Memory is
``N * layers * heads * T * T * 4`` bytes: pass few sequences.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from bioseq.errors import InputError

__all__ = ["attention_maps", "attention_weights"]


def attention_weights(attn, x: torch.Tensor, attn_mask: torch.Tensor | None, rotary) -> torch.Tensor:
    """The weights of :class:`~bioseq.models.transformer.SelfAttention` ``attn`` for its inputs.

    Parameters
    ----------
    attn : bioseq.models.transformer.SelfAttention
    x : torch.Tensor, shape ``(B, T, D)``
        Its input (the block's normalised tokens).
    attn_mask : torch.Tensor, shape ``(B, 1, 1, T)``, dtype bool, or None
        True = may be attended to.
    rotary : tuple of two ``(T, hd / 2)`` tensors, or None

    Returns
    -------
    torch.Tensor, shape ``(B, H, T, T)``
        Rows sum to 1; ``weights @ v`` is what the fused kernel returns.
    """
    from bioseq.models.positional import apply_rotary

    b, t, d = x.shape
    q, k, _ = attn.qkv(x).view(b, t, 3, attn.n_heads, d // attn.n_heads).permute(2, 0, 3, 1, 4)  # (B, H, T, hd)
    if rotary is not None:
        q, k = apply_rotary(q, *rotary), apply_rotary(k, *rotary)
    scores = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])  # (B, H, T, T)
    if attn_mask is not None:
        scores = scores.masked_fill(~attn_mask, float("-inf"))
    return torch.softmax(scores, dim=-1)  # (B, H, T, T)


def attention_maps(bundle, codes: np.ndarray, *, batch_size: int = 64, device=None) -> np.ndarray:
    """Attention weights of every head of every block for each sequence (see the module docstring).

    Parameters
    ----------
    bundle : Bundle, str or os.PathLike
        A Transformer bundle (not an ensemble), or its directory.
    codes : numpy.ndarray, shape ``(N, L)``, dtype uint8
    batch_size : int, default 64
    device : str or torch.device, optional
        Where to run; default where the model is (moved back afterwards).

    Returns
    -------
    numpy.ndarray, shape ``(N, layers, heads, T, T)``, dtype float32

    Raises
    ------
    InputError
        On bad codes or batch size, an ensemble, or a model without attention blocks.
    """
    from bioseq.bundle import as_bundle
    from bioseq.bundle.predictor import Ensemble, as_device
    from bioseq.checks import positive_integer
    from bioseq.models.transformer import TransformerBlock

    bundle = as_bundle(bundle)
    codes = bundle.check_codes(codes)
    batch_size = positive_integer(batch_size, "batch_size")
    model = bundle.model
    if isinstance(model, Ensemble):
        raise InputError(
            "attention maps are drawn for one model, and this bundle is an ensemble",
            path=bundle.path,
            fix=f"Pass one of its members ({bundle.path / 'members'}/0, 1, ...)",
        )
    blocks = [block for block in getattr(model, "blocks", ()) if isinstance(block, TransformerBlock)]
    if not blocks:
        raise InputError(
            f"model {bundle.model_name!r} has no self-attention blocks, so it has no attention maps",
            path=bundle.path,
            fix="Draw attention maps of a transformer or per_base_transformer model",
        )
    home = next(model.parameters()).device
    target = home if device is None else as_device(device)
    was_training, maps, batch = model.training, [], []
    hooks = [
        block.attn.register_forward_pre_hook(lambda attn, args: batch.append(attention_weights(attn, *args)))
        for block in blocks
    ]
    model.eval()
    model.to(target)
    try:
        with torch.inference_mode():
            for start in range(0, codes.shape[0], batch_size):
                batch.clear()
                model(torch.from_numpy(np.ascontiguousarray(codes[start : start + batch_size])).to(target))
                maps.append(torch.stack(batch, dim=1).float().cpu().numpy())  # (B, layers, H, T, T)
    finally:
        for hook in hooks:
            hook.remove()
        model.to(home)
        model.train(was_training)
    return np.concatenate(maps) if maps else np.zeros((0, len(blocks), 0, 0, 0), dtype=np.float32)
