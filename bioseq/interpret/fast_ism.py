"""Fast in-silico mutagenesis: recompute only what a single-base substitution can change.

Data contract
-------------
Mutants are three aligned int64 arrays ``(M,)``: ``seq`` (the row of the
codes ``(N, L)`` uint8 it mutates), ``pos`` (the 0-based position) and ``base``
(the new base, A, C, G, T = 0..3). :func:`conv_logits` returns the model's
logits, torch tensors in the model's dtype on its device: ``(N, n_outputs)``
for the reference sequences and ``(M, n_outputs)`` for the mutants; the caller
picks the target. The model must be in eval mode (the caller's job).

Two model structures qualify (:func:`fast_structure`):

``"conv"``
    A :class:`bioseq.models.cnn.CNNClassifier`: conv blocks ("same" padding,
    dilation, max pooling of stride ``pool``), masked global mean/max pooling,
    then a head. The feature maps of the reference are computed once, with
    the eval-mode BatchNorm folded into each convolution; for a mutation at
    ``i`` each block recomputes only the positions whose receptive field
    holds a changed input (:class:`ConvCone`): their pre-activation is the
    reference's plus the transposed convolution of the change of the block's
    input (new minus reference, a table of the 16 base changes for the first
    block), which multiplies only the changed inputs, about half the work
    of convolving a window of the new map. The global pooling
    is updated rather than recomputed: the masked sum minus the old slice plus
    the new one, and the max of the reference outside the slice (prefix and
    suffix maxima) with the new slice. Padding is handled by the model's
    own masks, so a window reaching past the sequence sees the zeros the
    model's "same" padding would.
``"local"``
    A per-position model whose kind is local (each output reads only the
    ``flank`` bases around it, :attr:`bioseq.bundle.Bundle.local`): for an
    output at input position ``c``, only mutations within ``c - reach .. c +
    reach`` change it (``reach`` = the model's ``receptive_field`` when it has
    one, else the flank), and each is scored on the window ``[c - flank, c +
    flank]`` alone (:func:`local_window`).

Results equal the full computation up to float rounding (tests check it).
"""

from __future__ import annotations

import dataclasses

import numpy as np

__all__ = ["fast_structure", "ConvCone", "conv_logits", "local_window"]


def fast_structure(bundle) -> str | None:
    """``"conv"``, ``"local"`` or None: which fast path the (non-ensemble) bundle's model allows.

    Parameters
    ----------
    bundle : bioseq.bundle.Bundle
        A single model (not an ensemble).

    Returns
    -------
    str or None
        ``"local"`` for a per-position model whose kind is local, ``"conv"``
        for a CNN classifier whose global pooling is max, mean or meanmax, None
        otherwise.
    """
    from torch import nn

    if not isinstance(bundle.model, nn.Module):
        return None
    if bundle.per_position:
        return "local" if bundle.local else None
    from bioseq.models.cnn import CNNClassifier
    from bioseq.models.layers import ConvBlock

    model = bundle.model
    if not isinstance(model, CNNClassifier) or getattr(model.pool, "kind", None) not in ("max", "mean", "meanmax"):
        return None
    foldable = all(
        isinstance(block, ConvBlock) and block.norm.running_var is not None and block.norm.affine
        for block in model.blocks
    )  # eval-mode BatchNorm with running statistics folds into the convolution
    return "conv" if foldable else None


@dataclasses.dataclass(frozen=True)
class _Layer:
    """One conv block's geometry: output ``j`` reads inputs ``[j - left, j + right]``, then pooling by ``pool``."""

    left: int
    right: int
    pool: int

    def first(self, start: np.ndarray) -> np.ndarray:
        """The first pooled output that a changed input at ``start`` (or later) changes."""
        return np.floor_divide(start - self.right, self.pool)

    def width(self, width: int) -> int:
        """How many pooled outputs ``width`` consecutive changed inputs change, at the worst alignment."""
        residues = np.arange(self.pool)
        spans = (residues + width - 1 + self.left) // self.pool - np.floor_divide(residues - self.right, self.pool)
        return int(spans.max()) + 1


class ConvCone:
    """The positions each conv block recomputes for a mutation, and the margins its windows need.

    A mutation at input position ``i`` changes positions ``[start, start +
    widths[d])`` of the map entering block ``d`` (``d = len(blocks)``: the last
    map); a few more than the exact cone at some alignments, which are
    recomputed to the reference values.

    Parameters
    ----------
    model : bioseq.models.cnn.CNNClassifier
        In eval mode (:func:`fast_structure` returned ``"conv"``).
    length : int
        The input width ``L``.
    """

    def __init__(self, model, length: int) -> None:
        self.layers, self.widths, self.lengths = [], [1], [length]
        for block in model.blocks:
            span = block.conv.dilation[0] * (block.conv.kernel_size[0] - 1)
            layer = _Layer(left=span // 2, right=span - span // 2, pool=block.pool)  # torch's "same" padding
            self.layers.append(layer)
            self.widths.append(layer.width(self.widths[-1]))
            self.lengths.append(-(-self.lengths[-1] // layer.pool))  # ceil_mode pooling
        ends = self.starts(np.array([0, length - 1]))  # the extreme windows come from the extreme positions
        self.margins = []  # (left, right) zero columns around each map so that every window is inside it
        for depth, start in enumerate(ends):
            width = self.widths[depth]
            if depth < len(self.layers):
                start, width = self.window(depth, ends[depth + 1])
            self.margins.append((max(0, -int(start[0])), max(0, int(start[1]) + width - self.lengths[depth])))

    def starts(self, pos: np.ndarray) -> list[np.ndarray]:
        """The first changed position of each map (``len(blocks) + 1`` arrays ``(M,)``), per mutation at ``pos``."""
        out = [np.asarray(pos, dtype=np.int64)]
        for layer in self.layers:
            out.append(layer.first(out[-1]))
        return out

    def window(self, depth: int, next_start: np.ndarray) -> tuple[np.ndarray, int]:
        """The window ``[start, start + width)`` of block ``depth``'s pre-activation recomputed for its changed outputs.

        It starts on the pooling grid and holds every changed input of the
        block (the pre-activation has the input's length).
        """
        layer = self.layers[depth]
        return next_start * layer.pool, self.widths[depth + 1] * layer.pool


def _windows(x, rows, starts, width: int):
    """``x[rows[m], starts[m] : starts[m] + width]``: ``(G, Lp, C)`` -> ``(M, C, width)``; masks ``(G, Lp)`` too."""
    return x.unfold(1, width, 1)[rows, starts]


def _reference(model, codes, folded):
    """Each block's pre-activation ``(G, C', L_d)`` (folded BatchNorm), each map ``(G, C, L_d)`` and mask ``(G, L_d)``.

    The maps are the model's (its blocks with the BatchNorm folded into the
    convolution): ``maps[0]`` the one-hot input, ``maps[d + 1]`` block ``d``'s
    output; ``pre[d]`` block ``d``'s convolution before the activation.
    """
    import torch.nn.functional as F

    from bioseq.models.layers import padding_mask

    maps, masks, pre = [model.one_hot(codes)], [padding_mask(codes)], []
    for block, (weight, bias) in zip(model.blocks, folded):
        keep = masks[-1].unsqueeze(1)  # (G, 1, L_d)
        pre.append(F.conv1d(maps[-1] * keep, weight, bias, padding="same", dilation=block.conv.dilation))
        h, mask = _activate_pool(block, pre[-1], keep)
        maps.append(h)
        masks.append(mask)
    return pre, maps, masks


def _activate_pool(block, h, keep):
    """The block's activation, mask and max pooling (partial last window kept) of ``(G, C, L_d)``, and the new mask."""
    import torch
    import torch.nn.functional as F

    h = block.act(h) * keep  # (G, C, L_d)
    if block.pool == 1:
        return h, keep[:, 0]
    if not block.non_negative:  # GELU can be negative: padding must not win the max
        h = torch.where(keep, h, float("-inf"))
    pooled = F.max_pool1d(keep.to(h.dtype), block.pool, ceil_mode=True) > 0  # (G, 1, L_{d+1})
    h = F.max_pool1d(h, block.pool, ceil_mode=True)
    if not block.non_negative:
        h = torch.where(pooled, h, 0.0)
    return h, pooled[:, 0]


def conv_logits(model, codes, seq: np.ndarray, pos: np.ndarray, base: np.ndarray, *, batch_size: int):
    """Logits of the references and of every mutant, recomputing only each mutation's receptive cone.

    The change a mutation makes is propagated as a difference: block ``d``'s
    pre-activation over the cone is the reference's plus the transposed
    convolution of the changed slice of its input (new minus reference), which
    multiplies only the changed inputs (for the first block, a table of the
    16 base changes). Mutants are grouped by their position modulo the product
    of the pooling widths, so that every window of a pass has the same
    alignment to the pooling grid.

    Parameters
    ----------
    model : bioseq.models.cnn.CNNClassifier
        In eval mode, on its device; the caller runs this under ``torch.inference_mode``.
    codes : torch.Tensor, shape ``(G, L)``, dtype uint8
        On the model's device.
    seq, pos, base : numpy.ndarray, shape ``(M,)``, dtype int64
        The mutants (see the module docstring); ``pos`` only at real
        positions whose base is A, C, G or T.
    batch_size : int
        Mutants per pass.

    Returns
    -------
    reference : torch.Tensor, shape ``(G, n_outputs)``
    mutants : torch.Tensor, shape ``(M, n_outputs)``
    """
    import torch
    import torch.nn.functional as F

    device = codes.device
    cone = ConvCone(model, codes.shape[1])
    folded = [_folded(block) for block in model.blocks]
    pre, maps, masks = _reference(model, codes, folded)
    reference = model.head(model.pool(maps[-1].transpose(1, 2), masks[-1]))  # (G, n_outputs)
    relu = all(block.non_negative for block in model.blocks)
    if relu:  # -inf before a ReLU: padding and margins come out 0 whatever is added, so no mask is needed
        pre = [x.masked_fill(~mask.unsqueeze(1), float("-inf")) for x, mask in zip(pre, masks)]
    fill = float("-inf") if relu else 0.0
    padded_pre = [F.pad(x, m, value=fill).transpose(1, 2).contiguous() for x, m in zip(pre, cone.margins)]
    padded_maps = [F.pad(x, m).transpose(1, 2).contiguous() for x, m in zip(maps, cone.margins)]  # (G, Lp, C)
    padded_masks = [F.pad(x, m, value=False) for x, m in zip(masks, cone.margins)]  # (G, Lp)
    final = _FinalPool(model.pool.kind, padded_maps[-1], padded_masks[-1], masked=not relu)
    if relu:
        padded_masks = [None] * len(padded_masks)
    transposed = [weight.transpose(0, 1).flip(2).contiguous() for weight, _ in folded]  # (C, C', K)
    changes = _base_changes(model.blocks[0], transposed[0])  # (16, C', span + 1)
    out = reference.new_empty((len(seq), reference.shape[1]))
    flat = codes.reshape(-1).long()
    period = int(np.prod([layer.pool for layer in cone.layers]))
    order = np.argsort(pos % period, kind="stable")
    bounds = np.searchsorted((pos % period)[order], np.arange(period + 1))
    for residue in range(period):
        members = order[bounds[residue] : bounds[residue + 1]]
        for start in range(0, len(members), batch_size):
            part = members[start : start + batch_size]
            rows = torch.from_numpy(seq[part]).to(device)
            change = flat[rows * codes.shape[1] + torch.from_numpy(pos[part]).to(device)] * 4
            change += torch.from_numpy(base[part]).to(device)  # old * 4 + new
            starts = cone.starts(pos[part])
            delta, new = changes.index_select(0, change), None  # (M, C', span + 1): the first block's change
            for depth, block in enumerate(model.blocks):
                if depth:  # the change of this block's input, through its convolution
                    at = torch.from_numpy(starts[depth] + cone.margins[depth][0]).to(device)
                    change = new - _windows(padded_maps[depth], rows, at, new.shape[2])  # (M, C, w)
                    delta = F.conv_transpose1d(change, transposed[depth], dilation=block.conv.dilation)
                new = _block(block, cone, depth, (padded_pre[depth], padded_masks[depth]), rows, starts, delta)
            at = torch.from_numpy(starts[-1] + cone.margins[-1][0]).to(device)
            out[torch.from_numpy(part).to(device)] = model.head(final(rows, at, cone.widths[-1], new))
    return reference, out


def _base_changes(block, transposed):
    """The first block's pre-activation change for each substitution ``old * 4 + new``: ``(16, C', span + 1)``."""
    import torch
    import torch.nn.functional as F

    eye = torch.eye(4, dtype=transposed.dtype, device=transposed.device)
    change = (eye[None, :, :] - eye[:, None, :]).reshape(16, 4, 1)  # new one-hot minus old
    return F.conv_transpose1d(change, transposed, dilation=block.conv.dilation).contiguous()


def _block(block, cone: ConvCone, depth: int, reference, rows, starts, delta):
    """One block's new output ``(M, C', w')`` over the cone, from its pre-activation change ``delta``.

    ``delta`` ``(M, C', w + span)`` is the change of the block's
    pre-activation from the first changed input minus ``right`` (the
    convolution's reach to the right) on. The reference pre-activation is
    read from the pooling boundary at or before that position, so within a
    pass (one residue of the position modulo the pooling period) ``delta``
    goes in at one offset. The work is done channels last (the windows'
    layout, where pooling is a reduction over a view); the result is a
    channels-first view.
    """
    import torch

    pre, mask = reference
    layer, margin = cone.layers[depth], cone.margins[depth][0]
    first = starts[depth + 1]  # (M,): the first changed (pooled) output
    offset = int(starts[depth][0] - layer.right - first[0] * layer.pool)  # in [0, pool), one value per pass
    width = cone.widths[depth + 1] * layer.pool
    at = torch.from_numpy(first * layer.pool + margin).to(rows.device)
    h = _windows(pre, rows, at, width).transpose(1, 2)  # (M, width, C'): a copy, contiguous
    h[:, offset : offset + delta.shape[2]] += delta.transpose(1, 2)
    h = h.relu_() if isinstance(block.act, torch.nn.ReLU) else block.act(h)
    keep = None if mask is None else _windows(mask, rows, at, width).unsqueeze(2)  # (M, width, 1)
    everywhere = keep is None or bool(keep.all())
    if not everywhere:
        h = h * keep
    if layer.pool > 1:
        if not block.non_negative and not everywhere:  # GELU can be negative: padding must not win the max
            h = torch.where(keep, h, float("-inf"))
        h = h.reshape(h.shape[0], -1, layer.pool, h.shape[2]).amax(2)  # (M, w', C')
        if not block.non_negative and not everywhere:
            h = torch.where(keep.reshape(h.shape[0], -1, layer.pool, 1).any(2), h, 0.0)
    return h.transpose(1, 2)


def _folded(block):
    """The block's convolution and eval-mode BatchNorm as one convolution's ``(weight, bias)``."""
    import torch

    norm, conv = block.norm, block.conv
    scale = norm.weight * torch.rsqrt(norm.running_var + norm.eps)  # (C',)
    bias = conv.bias if conv.bias is not None else torch.zeros_like(scale)
    return conv.weight * scale[:, None, None], (bias - norm.running_mean) * scale + norm.bias


class _FinalPool:
    """Masked global mean/max of the last map with a slice replaced, from sums and prefix/suffix maxima.

    With ``masked=False`` the new slices are taken to be 0 at padding and
    every real value >= 0 (the model's last activation is a ReLU), so no mask
    is applied to them.
    """

    def __init__(self, kind: str, last, mask, *, masked: bool) -> None:
        import torch

        self.kind, self.last, self.mask, self.masked = kind, last, mask, masked  # (G, Lp, C), (G, Lp)
        self.sums = (last * mask.unsqueeze(2)).double().sum(1)  # (G, C)
        self.counts = mask.sum(1).clamp(min=1).double()  # (G,)
        real = torch.where(mask.unsqueeze(2), last, float("-inf"))
        low = real.new_full((real.shape[0], 1, real.shape[2]), float("-inf"))
        self.before = torch.cat([low, torch.cummax(real, 1).values], 1)  # (G, Lp + 1, C): max of [0, j)
        after = torch.cummax(real.flip(1), 1).values.flip(1)
        self.after = torch.cat([after, low], 1)  # (G, Lp + 1, C): max of [j, Lp)

    def __call__(self, rows, at, width: int, new):
        """Pooled features ``(M, D')``: positions ``[at, at + width)`` of ``rows`` set to ``new`` ``(M, C, width)``."""
        import torch

        keep = _windows(self.mask, rows, at, width).unsqueeze(1) if self.masked else None  # (M, 1, width)
        everywhere = keep is None or bool(keep.all())
        parts = []
        if self.kind in ("mean", "meanmax"):
            change = new - _windows(self.last, rows, at, width)  # (M, C, width)
            delta = (change if everywhere else change * keep).double().sum(2)  # (M, C)
            parts.append(((self.sums[rows] + delta) / self.counts[rows, None]).to(new.dtype))
        if self.kind in ("max", "meanmax"):
            outside = torch.maximum(self.before[rows, at], self.after[rows, at + width])  # (M, C)
            inside = new if everywhere else torch.where(keep, new, float("-inf"))
            parts.append(torch.maximum(outside, inside.amax(2)))
        return parts[0] if len(parts) == 1 else torch.cat(parts, 1)


def local_window(bundle, position: int) -> tuple[int, int, int]:
    """Where a local per-position model's output ``position`` reads: ``(window_start, reach_start, reach_stop)``.

    The output reads input ``[window_start, window_start + 2 * flank + 1)``;
    only mutations in ``[reach_start, reach_stop)`` can change it (0-based,
    half-open, input coordinates).
    """
    flank = bundle.flank
    reach = getattr(bundle.model, "receptive_field", None)
    reach = flank if not isinstance(reach, int) or not 0 <= reach <= flank else reach
    centre = flank + position
    return position, centre - reach, centre + reach + 1
