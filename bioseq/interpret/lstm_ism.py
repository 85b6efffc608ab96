"""In-silico mutagenesis of an LSTM classifier that reuses the reference's first-layer states.

Data contract
-------------
Mutants are three aligned int64 arrays ``(M,)``, as in
:mod:`bioseq.interpret.fast_ism`: ``seq`` (the row of the codes ``(G, L)``
uint8 it mutates), ``pos`` (a 0-based position holding A, C, G or T) and
``base`` (the new base, A, C, G, T = 0..3). :func:`lstm_logits` returns the
model's logits, torch tensors in the model's dtype on its device: ``(G,
n_outputs)`` for the reference sequences and ``(M, n_outputs)`` for the
mutants, in the order given; the caller picks the target. The model must be
in eval mode (the caller's job).

The model (:func:`lstm_structure`) is a
:class:`bioseq.models.lstm.LSTMClassifier`: one-hot, an optional
:class:`~bioseq.models.layers.ConvBlock` stem ("same" convolution, max
pooling by ``pool``), a :class:`~bioseq.models.lstm.MaskedLSTM` whose every
direction of every layer is a one-layer unidirectional :class:`torch.nn.LSTM`,
then pooling and a head, all recomputed as the model does.

A substitution at input position ``i`` changes only the stem outputs
``a = (i - right) // pool .. b = (i + left) // pool`` (``left``, ``right``:
the convolution's "same" padding; ``a = b = i`` without a stem). In the first
LSTM layer the forward states before step ``a`` and the backward states after
step ``b`` are the reference's, so the forward direction restarts at ``a``
and the backward direction at ``b`` (``n - 1 - b`` in its row-reversed
order, ``n`` the row's real steps) from the reference's states just before
(``h`` from the layer's outputs, ``c`` from :func:`cell_states`). The stem
outputs of a mutant are the reference's with steps ``a .. b`` recomputed from
a window of the input. Mutants are scored sorted by position, ``batch_size``
at a time, each batch from its earliest restart step; later layers, the
pooling and the head read every step and are recomputed in full, as the
model computes them (in time-major order, which spares copies). Results equal
the full computation up to float rounding (tests check it).
"""

from __future__ import annotations

import numpy as np

__all__ = ["lstm_structure", "stem_reach", "cell_states", "lstm_logits"]


def lstm_structure(bundle) -> bool:
    """Whether the (non-ensemble) bundle's model allows the state-sharing path.

    Parameters
    ----------
    bundle : bioseq.bundle.Bundle
        A single model (not an ensemble).

    Returns
    -------
    bool
        True for a whole-sequence :class:`~bioseq.models.lstm.LSTMClassifier`
        whose stem is absent or a :class:`~bioseq.models.layers.ConvBlock` with
        "same" padding, and whose LSTM directions are one-layer,
        unidirectional, batch-first :class:`torch.nn.LSTM` without projection.
    """
    from torch import nn

    if not isinstance(bundle.model, nn.Module) or bundle.per_position:
        return False
    from bioseq.models.layers import ConvBlock
    from bioseq.models.lstm import LSTMClassifier, MaskedLSTM

    model = bundle.model
    if not isinstance(model, LSTMClassifier) or not isinstance(model.lstm, MaskedLSTM):
        return False
    stem = model.stem
    if stem is not None and not (isinstance(stem, ConvBlock) and stem.conv.padding == "same"):
        return False
    return all(
        isinstance(lstm, nn.LSTM)
        and lstm.num_layers == 1
        and not lstm.bidirectional
        and lstm.batch_first
        and lstm.proj_size == 0
        and len(directions) in (1, 2)
        for directions in model.lstm.layers
        for lstm in directions
    )


def stem_reach(model) -> tuple[int, int, int]:
    """``(left, right, pool)``: input ``i`` changes stem outputs ``(i - right) // pool .. (i + left) // pool``.

    Parameters
    ----------
    model : bioseq.models.lstm.LSTMClassifier
        :func:`lstm_structure` holds.

    Returns
    -------
    tuple of int
        ``(0, 0, 1)`` without a stem.
    """
    stem = model.stem
    if stem is None:
        return 0, 0, 1
    span = stem.conv.dilation[0] * (stem.conv.kernel_size[0] - 1)
    return span // 2, span - span // 2, stem.pool  # torch's "same" padding: span // 2 zeros on the left


class _StemWindow:
    """The stem's output ``(T, B, C)`` for single-base mutants, recomputed on a window around each mutation.

    The pooled steps ``[a, a + width)``, ``a = (i - right) // pool``, of a
    mutation at ``i`` are recomputed from the input window ``[a * pool -
    left, (a + width) * pool + right)`` of the reference one-hot (zero and
    masked beyond the sequence, as the block's own padding) and written over
    the reference's stem output; ``width`` covers every alignment (a step that
    does not change is recomputed to its reference value).
    """

    def __init__(self, model, one_hot, mask, x) -> None:
        import torch.nn.functional as F

        self.stem = model.stem
        self.left, self.right, self.pool = stem_reach(model)
        self.width = (self.left + self.right) // self.pool + 2  # pooled steps recomputed per mutant
        self.span = self.width * self.pool + self.left + self.right  # input positions read
        self.margin = self.left + self.right + self.pool  # zero input columns before position 0 (and after L)
        margin = (self.margin, self.margin + self.width * self.pool)
        self.inputs = F.pad(one_hot, margin).permute(2, 0, 1).contiguous()  # (Lp, G, 4)
        self.masks = F.pad(mask, margin, value=False).T.contiguous()  # (Lp, G)
        self.steps = x.shape[0]
        self.padded = F.pad(x, (0, 0, 0, 0, self.width, self.width))  # (T + 2 width, G, C)

    def __call__(self, rows, pos, base):
        """The stem output ``(T, B, C)`` of mutants ``rows``, ``pos``, ``base`` (int64 tensors ``(B,)``)."""
        import torch
        import torch.nn.functional as F

        stem, pool, device = self.stem, self.pool, pos.device
        begin = torch.div(pos - self.right, pool, rounding_mode="floor")  # (B,): first pooled step recomputed
        at = begin * pool - self.left + self.margin  # (B,): window start in the padded input
        index = at + torch.arange(self.span, device=device).unsqueeze(1)  # (span, B)
        columns = torch.arange(len(rows), device=device)
        window = self.inputs[index, rows]  # (span, B, 4)
        window[pos + self.margin - at, columns] = torch.eye(4, dtype=window.dtype, device=device)[base]
        keep = self.masks[index, rows].T.unsqueeze(1)  # (B, 1, span)
        h = stem.act(stem.norm(stem.conv(window.permute(1, 2, 0) * keep)))  # (B, C, span), as ConvBlock.forward
        keep = keep[:, :, self.left : self.left + self.width * pool]  # (B, 1, width * pool): the whole windows
        h = h[:, :, self.left : self.left + self.width * pool] * keep
        if pool > 1:
            if not stem.non_negative:
                h = torch.where(keep, h, float("-inf"))
            h = F.max_pool1d(h, pool)  # (B, C, width)
            if not stem.non_negative:
                h = torch.where(F.max_pool1d(keep.to(h.dtype), pool) > 0, h, 0.0)
        x = self.padded[:, rows]  # (T + 2 width, B, C)
        steps = begin + self.width + torch.arange(self.width, device=device).unsqueeze(1)  # (width, B)
        x[steps, columns] = h.permute(2, 0, 1)
        return x[self.width : self.width + self.steps]


def cell_states(lstm, x, outputs):
    """The cell states of a one-layer LSTM run from zero states, given its inputs and outputs (time-major).

    The gates are computed at every step at once from the inputs and the
    previous outputs; only the cell recurrence ``c_t = f_t c_{t-1} + i_t
    g_t`` is a loop over steps.

    Parameters
    ----------
    lstm : torch.nn.LSTM
        One layer, unidirectional, no projection.
    x : torch.Tensor, shape ``(T, B, C)``, floating
        Its input, time-major.
    outputs : torch.Tensor, shape ``(T, B, H)``
        Its outputs from zero states, time-major.

    Returns
    -------
    torch.Tensor, shape ``(T, B, H)``
        ``c_t`` after step ``t``.
    """
    import torch

    previous = torch.cat([torch.zeros_like(outputs[:1]), outputs[:-1]])  # (T, B, H): h_{t-1}
    gates = x @ lstm.weight_ih_l0.T + previous @ lstm.weight_hh_l0.T  # (T, B, 4H): i, f, g, o
    if lstm.bias:
        gates = gates + (lstm.bias_ih_l0 + lstm.bias_hh_l0)
    i, f, g, _ = gates.chunk(4, dim=2)
    update = torch.sigmoid(i) * torch.tanh(g)  # (T, B, H)
    f = torch.sigmoid(f)
    cells = torch.empty_like(update)
    c = torch.zeros_like(update[0])
    for t in range(len(x)):
        c = torch.addcmul(update[t], f[t], c)
        cells[t] = c
    return cells


def _run(lstm, x, state=None):
    """A batch-first one-layer ``lstm`` on time-major ``x`` ``(T, B, C)``: outputs ``(T, B, H)``, no copies."""
    return lstm(x.transpose(0, 1), state)[0].transpose(0, 1)  # both transposes give back contiguous time-major


class _Direction:
    """One direction of the first LSTM layer on the reference: outputs and cell states ``(T, G, H)``."""

    def __init__(self, lstm, x) -> None:
        self.lstm = lstm
        self.outputs = _run(lstm, x)  # (T, G, H)
        self.cells = cell_states(lstm, x, self.outputs)

    def resume(self, x, rows, start: int):
        """Outputs ``(T, M, H)`` for inputs ``x`` ``(T, M, C)`` equal to row ``rows``' reference before ``start``."""
        import torch

        if start == 0:
            return _run(self.lstm, x)
        state = (self.outputs[start - 1, rows].unsqueeze(0), self.cells[start - 1, rows].unsqueeze(0))  # (1, M, H)
        return torch.cat([self.outputs[:start, rows], _run(self.lstm, x[start:], state)])


class _Reverser:
    """Reverses time-major rows ``(T, B, C)`` within their real steps (as the model's ``reverse_within_lengths``).

    A flip when no row is padded, else an index; a permutation either way.
    """

    def __init__(self, mask) -> None:
        from bioseq.models.lstm import reverse_within_lengths

        self.index = None if bool(mask.all()) else reverse_within_lengths(mask).T  # (T, G)

    def of(self, rows) -> _Reverser:
        """The reverser of the reference's rows ``rows`` (int64 ``(B,)``)."""
        other = _Reverser.__new__(_Reverser)
        other.index = None if self.index is None else self.index[:, rows]
        return other

    def __call__(self, x):
        """``x`` ``(T, B, C)`` reversed within each row's real steps (a new tensor)."""
        import torch

        if self.index is None:
            return x.flip(0)
        return x[self.index, torch.arange(x.shape[1], device=x.device)]


def _logits(model, forward, backward, mask, reverse):
    """The logits ``(B, n_outputs)`` from the first layer's outputs, as the model computes them (in eval mode).

    ``forward`` ``(T, B, H)`` in step order, ``backward`` ``(T, B, H)`` in
    row-reversed order or None (one direction), both time-major; ``mask``
    ``(B, T)``; ``reverse`` reverses rows.
    """
    import torch

    for directions in model.lstm.layers[1:]:  # as MaskedLSTM.forward (dropout: identity in eval mode)
        if backward is None:
            forward = _run(directions[0], forward)
            continue
        x = torch.cat([forward, reverse(backward)], -1)  # (T, B, 2H)
        reversed_x = torch.cat([reverse(forward), backward], -1)  # x reversed within rows
        forward, backward = _run(directions[0], x), _run(directions[1], reversed_x)
    out = [forward.transpose(0, 1)] + ([] if backward is None else [reverse(backward).transpose(0, 1)])
    return model.head(model.pool(torch.cat(out, -1), mask))  # (B, T, D) contiguous, as the model's


def lstm_logits(model, codes, seq: np.ndarray, pos: np.ndarray, base: np.ndarray, *, batch_size: int):
    """Logits of the references and of every mutant, restarting the first LSTM layer where each mutation reaches.

    Parameters
    ----------
    model : bioseq.models.lstm.LSTMClassifier
        In eval mode, on its device (:func:`lstm_structure` holds); the caller
        runs this under ``torch.inference_mode``.
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

    from bioseq.models.layers import padding_mask

    device = codes.device
    one_hot, mask = model.one_hot(codes), padding_mask(codes)  # (G, 4, L), (G, L)
    h, steps_mask = model.stem(one_hot, mask) if model.stem is not None else (one_hot, mask)  # (G, C, T), (G, T)
    x = h.permute(2, 0, 1).contiguous()  # (T, G, C)
    stem = _StemWindow(model, one_hot, mask, x) if model.stem is not None else None
    reverse = _Reverser(steps_mask)
    layer = model.lstm.layers[0]
    forward = _Direction(layer[0], x)
    backward = _Direction(layer[1], reverse(x)) if len(layer) == 2 else None
    reference = _logits(model, forward.outputs, backward and backward.outputs, steps_mask, reverse)  # (G, n_outputs)

    left, right, pool = stem_reach(model)
    steps = steps_mask.sum(1).cpu().numpy()  # (G,): real steps of each row
    order = np.lexsort((seq, pos))  # by position: a batch's restart steps are close
    first = np.floor_divide(pos - right, pool).clip(min=0)  # (M,)
    last_reversed = (steps[seq] - 1 - np.minimum((pos + left) // pool, steps[seq] - 1)).clip(min=0)  # (M,)
    out = reference.new_empty((len(seq), reference.shape[1]))
    eye = torch.eye(4, dtype=x.dtype, device=device)
    for start in range(0, len(seq), batch_size):
        part = order[start : start + batch_size]
        rows, at, new = (torch.from_numpy(a[part]).to(device) for a in (seq, pos, base))
        if stem is not None:
            xm = stem(rows, at, new)  # (T, B, C)
        else:
            xm = x[:, rows]  # (L, B, 4) copy
            xm[at, torch.arange(len(part), device=device)] = eye[new]
        reverse_rows = reverse.of(rows)
        f = forward.resume(xm, rows, int(first[part].min()))
        b = None if backward is None else backward.resume(reverse_rows(xm), rows, int(last_reversed[part].min()))
        out[torch.from_numpy(part).to(device)] = _logits(model, f, b, steps_mask[rows], reverse_rows)
    return reference, out
