"""Augmentation on code batches: reverse complement and shifts keep padding in place."""

from __future__ import annotations

import numpy as np
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from bioseq.alphabet import PAD, N
from bioseq.codes import encode
from bioseq.encode.transforms import reverse_complement
from bioseq.train.augment import augment, random_shift, reverse_complement_batch


def test_reverse_complement_hand_checked():
    codes, _ = encode(["ACGTN", "AAC", "RYK"])
    out = reverse_complement_batch(torch.from_numpy(codes))
    # ACGTN -> NACGT; AAC -> GTT (+ PAD PAD); RYK -> MRY (K<->M, R<->Y)
    assert out.tolist() == [[4, 0, 1, 2, 3], [2, 3, 3, PAD, PAD], [10, 5, 6, PAD, PAD]]


@settings(max_examples=50, deadline=None)
@given(st.lists(st.text(alphabet="ACGTNRY", min_size=1, max_size=30), min_size=1, max_size=8))
def test_reverse_complement_matches_numpy_and_is_an_involution(sequences):
    codes, lengths = encode(sequences)
    tensor = torch.from_numpy(codes)
    once = reverse_complement_batch(tensor)
    assert np.array_equal(once.numpy(), reverse_complement(codes, lengths))
    assert torch.equal(reverse_complement_batch(once), tensor)


def test_shift_moves_bases_and_fills_with_n():
    codes = torch.tensor([[0, 1, 2, 3, PAD]], dtype=torch.uint8)
    generator = torch.Generator().manual_seed(0)
    seen = set()
    for _ in range(50):
        shifted = random_shift(codes, 1, generator)
        row = shifted[0].tolist()
        assert row[4] == PAD  # padding never moves
        seen.add(tuple(row))
    # offsets -1, 0, +1: ACGT -> CGTN, ACGT, NACG (the base shifted out is dropped)
    assert seen == {(1, 2, 3, N, PAD), (0, 1, 2, 3, PAD), (N, 0, 1, 2, PAD)}


def test_augment_keeps_base_composition_without_shift():
    codes, _ = encode(["ACGTACGGT"] * 64)
    out = augment(torch.from_numpy(codes), rc=True, max_shift=0)
    flipped = (out != torch.from_numpy(codes)).any(dim=1)
    assert 10 < int(flipped.sum()) < 54  # about half the rows are reverse-complemented
