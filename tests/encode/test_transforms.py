"""Tests of bioseq.encode.transforms: reverse_complement, dinucleotide_shuffle."""

from __future__ import annotations

import collections
import itertools

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from bioseq.alphabet import PAD
from bioseq.codes import decode, decode_one, encode, encode_one
from bioseq.encode.onehot import one_hot
from bioseq.encode.transforms import dinucleotide_shuffle, reverse_complement
from bioseq.errors import InputError

IUPAC = "ACGTNRYSWKMBDHVacgtnryswkmbdhv"
batches = st.lists(st.text(alphabet=IUPAC, max_size=25), min_size=1, max_size=6)


def dinucleotides(seq) -> collections.Counter:
    return collections.Counter(zip(seq[:-1], seq[1:]))


# --- reverse_complement: hand-checked -------------------------------------------------


def test_rc_strings_hand_checked():
    assert reverse_complement("ACGTN") == "NACGT"
    assert reverse_complement("RYKM") == "KMRY"  # R=A/G <-> Y=C/T, K=G/T <-> M=A/C
    assert reverse_complement("BDHVSW") == "WSBDHV"  # B<->V, D<->H; S, W are their own complements
    assert reverse_complement("aCgT") == "AcGt"  # case kept per letter
    assert reverse_complement("ACGU") == "ACGT"  # U complements to A; the result is DNA
    assert reverse_complement("") == ""


def test_rc_codes_keep_padding_right():
    codes, lengths = encode(["AC", "GGT"])
    # AC -> GT then PAD; GGT -> ACC
    assert reverse_complement(codes).tolist() == [[2, 3, PAD], [0, 1, 1]]
    assert reverse_complement(codes, lengths).tolist() == [[2, 3, PAD], [0, 1, 1]]
    assert reverse_complement(np.array([0, 1, PAD], dtype=np.uint8)).tolist() == [2, 3, PAD]
    # positions past the given length are left as they are
    assert reverse_complement(np.array([0, 1, 2], dtype=np.uint8), lengths=2).tolist() == [2, 3, 2]
    x = one_hot(np.array([0, 1, 2], dtype=np.uint8))
    expected = one_hot(np.array([2, 3, 2], dtype=np.uint8))
    np.testing.assert_array_equal(reverse_complement(x, lengths=2), expected)
    np.testing.assert_array_equal(reverse_complement(torch.from_numpy(x), lengths=2).numpy(), expected)


def test_rc_one_hot_hand_checked():
    x = one_hot("AC")  # (4, 2)
    expected = one_hot("GT")  # channels reversed (A<->T, C<->G) and positions reversed
    np.testing.assert_array_equal(reverse_complement(x), expected)
    np.testing.assert_array_equal(reverse_complement(torch.from_numpy(x)).numpy(), expected)


# --- reverse_complement: invariants ---------------------------------------------------


@given(st.text(alphabet=IUPAC, max_size=40))
def test_rc_string_involution_and_codes(seq):
    assert reverse_complement(reverse_complement(seq)) == seq
    assert decode_one(reverse_complement(encode_one(seq))) == reverse_complement(seq).upper()


@settings(max_examples=50, deadline=None)
@given(batches)
def test_rc_codes_and_one_hot_agree(seqs):
    codes, lengths = encode(seqs)
    rc = reverse_complement(codes)
    assert decode(rc) == [reverse_complement(s).upper() for s in seqs]
    np.testing.assert_array_equal(reverse_complement(rc), codes)
    np.testing.assert_array_equal(reverse_complement(codes, lengths), rc)
    for policy in ("zeros", "fractional"):
        x = one_hot(codes, iupac=policy)
        np.testing.assert_array_equal(reverse_complement(x, lengths), one_hot(rc, iupac=policy))
        np.testing.assert_array_equal(reverse_complement(reverse_complement(x, lengths), lengths), x)
        t = torch.from_numpy(x)
        assert torch.equal(reverse_complement(t, lengths), torch.from_numpy(one_hot(rc, iupac=policy)))
        assert torch.equal(reverse_complement(reverse_complement(t)), t)


def test_rc_one_hot_without_lengths_flips_whole_width():
    codes, _ = encode(["AC", "GGT"])
    x = one_hot(codes, dtype=np.uint8)
    # without lengths the PAD column moves to the left of row 0
    expected = one_hot(np.array([PAD, 2, 3], dtype=np.uint8), dtype=np.uint8)
    assert reverse_complement(x)[0].tolist() == expected.tolist()


# --- reverse_complement: errors -------------------------------------------------------


@pytest.mark.parametrize(
    ("x", "lengths", "message"),
    [
        ("AC-T", None, "character '-' at position 2"),
        ("ACGT", 4, "lengths cannot be given with a string"),
        (np.array([[0, PAD, 1]], dtype=np.uint8), None, "row 0 has PAD before its last base"),
        (np.array([[0, 1, 2]], dtype=np.uint8), np.array([4]), "lengths must lie in 0..3"),
        (np.array([[0, 1, 2]], dtype=np.uint8), np.array([1, 2]), r"shape \(1,\)"),
        (np.array([0, 16], dtype=np.uint8), None, "valid codes are 0..15"),
        (np.zeros((2, 3, 5)), None, r"\(N, 4, L\) or \(4, L\), got \(2, 3, 5\)"),
        (torch.zeros(5), None, r"got \(5,\)"),
        ([0, 1], None, "expected a string, a numpy array or a torch tensor, got list"),
    ],
)
def test_rc_errors(x, lengths, message):
    with pytest.raises(InputError, match=message):
        reverse_complement(x, lengths)


# --- dinucleotide_shuffle -------------------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(st.text(alphabet=IUPAC, max_size=60), st.integers(0, 2**32 - 1))
def test_shuffle_keeps_dinucleotides_of_strings(seq, seed):
    shuffled = dinucleotide_shuffle(seq, seed=seed)
    assert isinstance(shuffled, str) and len(shuffled) == len(seq)
    assert dinucleotides(shuffled) == dinucleotides(seq)  # case and IUPAC letters are own symbols
    if seq:
        assert shuffled[0] == seq[0] and shuffled[-1] == seq[-1]


@settings(max_examples=40, deadline=None)
@given(batches, st.integers(0, 2**32 - 1))
def test_shuffle_keeps_dinucleotides_of_codes(seqs, seed):
    codes, lengths = encode(seqs)
    shuffled = dinucleotide_shuffle(codes, seed=seed)
    assert shuffled.shape == codes.shape and shuffled.dtype == np.uint8
    for row, orig, n in zip(shuffled, codes, lengths):
        assert dinucleotides(row[:n].tolist()) == dinucleotides(orig[:n].tolist())
        assert (row[n:] == PAD).all()  # padding stays at the right end


def test_shuffle_is_deterministic_and_changes_sequences():
    rng = np.random.default_rng(0)
    seq = "".join(rng.choice(list("ACGTN"), size=200))
    first = dinucleotide_shuffle(seq, seed=42)
    assert first == dinucleotide_shuffle(seq, seed=42)
    assert first != seq
    assert dinucleotide_shuffle(seq, seed=43) != first
    generator = np.random.default_rng(7)
    assert dinucleotide_shuffle(seq, seed=generator) != dinucleotide_shuffle(seq, seed=generator)


def test_shuffle_n_copies():
    codes, _ = encode(["ACGTACGGTA", "TTGCA"])
    many = dinucleotide_shuffle(codes, n=3, seed=0)
    assert many.shape == (3, 2, 10)
    assert dinucleotide_shuffle(codes[0], n=3, seed=0).shape == (3, 10)
    texts = dinucleotide_shuffle("ACGTACGGTA", n=4, seed=0)
    assert isinstance(texts, list) and len(texts) == 4
    assert dinucleotide_shuffle(encode_one("ACGTACGGTA"), seed=0).shape == (10,)


def test_shuffle_is_uniform_over_arrangements():
    # every sequence with the same first base and dinucleotide counts is reachable, about equally often
    seq = "ACAGACTAC"
    target = dinucleotides(seq)
    arrangements = {
        "".join(p) for p in itertools.permutations(seq[1:-1]) if dinucleotides(seq[0] + "".join(p) + seq[-1]) == target
    }
    assert len(arrangements) > 2
    counts = collections.Counter(dinucleotide_shuffle(seq, n=3000, seed=0))
    assert {s[1:-1] for s in counts} == arrangements
    expected = 3000 / len(arrangements)
    assert all(abs(c - expected) < 0.25 * expected for c in counts.values())


def test_short_sequences_unchanged():
    assert dinucleotide_shuffle("", seed=0) == ""
    assert dinucleotide_shuffle("AC", seed=0) == "AC"


@pytest.mark.parametrize(
    ("x", "kwargs", "message"),
    [
        ("ACGT", {"n": 0}, "n must be a positive integer, got 0"),
        ("ACGT", {"seed": "x"}, "seed must be None, an integer or a numpy Generator"),
        ("AC-T", {}, "character '-' at position 2"),
        (np.array([[0, PAD, 1]], dtype=np.uint8), {}, "row 0 has PAD before its last base"),
        (np.zeros((1, 2, 3), dtype=np.uint8), {}, r"1-D \(L,\) or 2-D \(N, L\)"),
        ([0, 1], {}, "expected a string or a uint8 code array, got list"),
    ],
)
def test_shuffle_errors(x, kwargs, message):
    with pytest.raises(InputError, match=message):
        dinucleotide_shuffle(x, **kwargs)
