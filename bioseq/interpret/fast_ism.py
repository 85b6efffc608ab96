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
    then a head. The feature maps of the reference are computed once; for a
    mutation at ``i`` each block recomputes only the positions whose
    receptive field holds a changed input, from a window of the reference map
    with the changed slice written in (:class:`ConvCone`), by one convolution
    with the eval-mode BatchNorm folded into it. The global pooling
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
    """The positions each conv block recomputes for a mutation, and the windows it reads them from.

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
        """The input window ``[start, start + width)`` block ``depth`` reads to recompute its changed outputs."""
        layer = self.layers[depth]
        return next_start * layer.pool - layer.left, self.widths[depth + 1] * layer.pool + layer.left + layer.right


def _windows(x, rows, starts, width: int):
    """``x[rows[m], starts[m] : starts[m] + width]`` for each ``m``: ``(G, Lp, ...)`` -> ``(M, width, ...)``."""
    import torch

    return x[rows.unsqueeze(1), starts.unsqueeze(1) + torch.arange(width, device=x.device)]


def _reference(model, codes):
    """The one-hot input and each block's output ``(G, C, L')`` with its mask ``(G, L')``, of codes ``(G, L)``."""
    from bioseq.models.layers import padding_mask

    mask = padding_mask(codes)  # (G, L)
    maps, masks = [model.one_hot(codes)], [mask]  # (G, 4, L)
    for block in model.blocks:
        h, mask = block(maps[-1], masks[-1])  # (G, C, L'), (G, L')
        maps.append(h)
        masks.append(mask)
    return maps, masks


def conv_logits(model, codes, seq: np.ndarray, pos: np.ndarray, base: np.ndarray, *, batch_size: int):
    """Logits of the references and of every mutant, recomputing only each mutation's receptive cone.

    Parameters
    ----------
    model : bioseq.models.cnn.CNNClassifier
        In eval mode, on its device; the caller runs this under ``torch.inference_mode``.
    codes : torch.Tensor, shape ``(G, L)``, dtype uint8
        On the model's device.
    seq, pos, base : numpy.ndarray, shape ``(M,)``, dtype int64
        The mutants (see the module docstring); ``pos`` only at real positions.
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
    maps, masks = _reference(model, codes)
    reference = model.head(model.pool(maps[-1].transpose(1, 2), masks[-1]))  # (G, n_outputs)
    padded = [F.pad(x, m).transpose(1, 2).contiguous() for x, m in zip(maps, cone.margins)]  # (G, Lp, C)
    padded_masks = [F.pad(x, m, value=False) for x, m in zip(masks, cone.margins)]  # (G, Lp)
    final = _FinalPool(model.pool.kind, padded[-1], padded_masks[-1])
    folded = [_folded(block) for block in model.blocks]
    out = reference.new_empty((len(seq), reference.shape[1]))
    eye = torch.eye(4, dtype=maps[0].dtype, device=device)
    for start in range(0, len(seq), batch_size):
        part = slice(start, start + batch_size)
        rows = torch.from_numpy(seq[part]).to(device)
        new = eye[torch.from_numpy(base[part]).to(device)].unsqueeze(1)  # (M, 1, 4)
        starts = [torch.from_numpy(x).to(device) for x in cone.starts(pos[part])]
        for depth, (block, weights) in enumerate(zip(model.blocks, folded)):
            new = _block_window(block, weights, cone, depth, (padded[depth], padded_masks[depth]), rows, starts, new)
        out[part] = model.head(final(rows, starts[-1] + cone.margins[-1][0], cone.widths[-1], new))
    return reference, out


def _block_window(block, folded, cone: ConvCone, depth: int, reference, rows, starts, new):
    """One block's recomputed outputs ``(M, w', C')`` from the reference window with ``new`` ``(M, w, C)`` in.

    The reference maps and ``new`` are zero at padding already (the block's
    output is masked), so the window needs no masking before the convolution.
    """
    import torch
    import torch.nn.functional as F

    layer, (x, mask) = cone.layers[depth], reference
    begin = starts[depth + 1] * layer.pool - layer.left  # (M,): see ConvCone.window
    span = cone.widths[depth + 1] * layer.pool + layer.left + layer.right
    window = _windows(x, rows, begin + cone.margins[depth][0], span)  # (M, span, C)
    keep = _windows(mask, rows, begin + cone.margins[depth][0], span)  # (M, span)
    offsets = (starts[depth] - begin).unsqueeze(1) + torch.arange(new.shape[1], device=x.device)  # (M, w)
    window = window.scatter(1, offsets.unsqueeze(2).expand(-1, -1, new.shape[2]), new).transpose(1, 2)
    weight, bias = folded
    h = F.conv1d(window, weight, bias, dilation=block.conv.dilation)  # (M, C', w' * pool): conv + BatchNorm
    h = h.relu_() if isinstance(block.act, torch.nn.ReLU) else block.act(h)
    keep = keep[:, layer.left : layer.left + h.shape[2]].unsqueeze(1)  # (M, 1, w' * pool)
    if not bool(keep.all()):
        h = h * keep
    if layer.pool > 1:
        if not block.non_negative:
            h = torch.where(keep, h, float("-inf"))
        h = F.max_pool1d(h, layer.pool)  # (M, C', w')
        if not block.non_negative:
            h = torch.where(F.max_pool1d(keep.to(h.dtype), layer.pool) > 0, h, 0.0)
    return h.transpose(1, 2)  # (M, w', C')


def _folded(block):
    """The block's convolution and eval-mode BatchNorm as one convolution's ``(weight, bias)``."""
    import torch

    norm, conv = block.norm, block.conv
    scale = norm.weight * torch.rsqrt(norm.running_var + norm.eps)  # (C',)
    bias = conv.bias if conv.bias is not None else torch.zeros_like(scale)
    return conv.weight * scale[:, None, None], (bias - norm.running_mean) * scale + norm.bias


class _FinalPool:
    """Masked global mean/max of the last map with a slice replaced, from sums and prefix/suffix maxima."""

    def __init__(self, kind: str, last, mask) -> None:
        import torch

        self.kind, self.last, self.mask = kind, last, mask  # (G, Lp, C), (G, Lp)
        self.sums = (last * mask.unsqueeze(2)).double().sum(1)  # (G, C)
        self.counts = mask.sum(1).clamp(min=1).double()  # (G,)
        masked = torch.where(mask.unsqueeze(2), last, float("-inf"))
        low = masked.new_full((masked.shape[0], 1, masked.shape[2]), float("-inf"))
        self.before = torch.cat([low, torch.cummax(masked, 1).values], 1)  # (G, Lp + 1, C): max of [0, j)
        after = torch.cummax(masked.flip(1), 1).values.flip(1)
        self.after = torch.cat([after, low], 1)  # (G, Lp + 1, C): max of [j, Lp)

    def __call__(self, rows, at, width: int, new):
        """Pooled features ``(M, D')`` with positions ``[at, at + width)`` of row ``rows`` replaced by ``new``."""
        import torch

        keep = _windows(self.mask, rows, at, width).unsqueeze(2)  # (M, width, 1)
        parts = []
        if self.kind in ("mean", "meanmax"):
            old = _windows(self.last, rows, at, width)  # (M, width, C)
            delta = ((new - old) * keep).double().sum(1)  # (M, C)
            parts.append(((self.sums[rows] + delta) / self.counts[rows, None]).to(new.dtype))
        if self.kind in ("max", "meanmax"):
            outside = torch.maximum(self.before[rows, at], self.after[rows, at + width])  # (M, C)
            parts.append(torch.maximum(outside, torch.where(keep, new, float("-inf")).amax(1)))
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
