"""Tests of bioseq.codes and bioseq.encode.gc (uint8 codes, GC content)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from bioseq.alphabet import PAD
from bioseq.codes import check_codes, decode, decode_one, encode, encode_one, pad_codes
from bioseq.encode.gc import gc_content, n_fraction
from bioseq.errors import InputError

IUPAC = "ACGTNRYSWKMBDHVacgtnryswkmbdhv"
sequences = st.lists(st.text(alphabet=IUPAC, max_size=30), max_size=8)


# --- encode_one / decode_one -------------------------------------------------------------


def test_encode_one_hand_checked():
    # A, C, G, T, N = 0..4; R = 5, V = 14 (alphabet table); lower case and U map like upper case / T
    assert encode_one("ACGTNRV").tolist() == [0, 1, 2, 3, 4, 5, 14]
    assert encode_one("acgtu").tolist() == [0, 1, 2, 3, 3]
    assert encode_one(b"GATTACA").tolist() == [2, 0, 3, 3, 0, 1, 0]
    assert encode_one("").shape == (0,)


def test_encode_one_returns_writeable_uint8_copy():
    codes = encode_one("ACGT")
    assert codes.dtype == np.uint8 and codes.flags.writeable


@pytest.mark.parametrize(
    ("text", "char", "pos", "fix"),
    [
        ("AC-GT", "'-'", 2, "Remove alignment gaps"),
        ("MKVLE", "'L'", 3, "protein"),  # M, K, V are IUPAC letters; L is not
        ("AC GT", "' '", 2, "Remove whitespace"),
        ("ACGT1", "'1'", 4, "Remove position numbers"),
        ("ACGT#", "'#'", 4, "Use A, C, G, T/U, N"),
    ],
)
def test_encode_one_rejects_non_nucleotides(text, char, pos, fix):
    with pytest.raises(InputError) as err:
        encode_one(text, name="seq7")
    message = str(err.value)
    assert f"record 'seq7': character {char} at position {pos} (0-based)" in message
    assert fix in message


def test_encode_one_names_non_latin1_character():
    with pytest.raises(InputError, match="'€'"):
        encode_one("AC€")


def test_decode_one_upper_cases_and_drops_pad():
    assert decode_one(encode_one("acgtn")) == "ACGTN"
    assert decode_one(np.array([0, 1, PAD, PAD], dtype=np.uint8)) == "AC"


# --- encode / decode -------------------------------------------------------------------


def test_encode_pads_on_the_right():
    codes, lengths = encode(["ACG", "T", ""])
    # width 3 = the longest sequence; PAD (15) fills the rest of each row
    assert codes.tolist() == [[0, 1, 2], [3, 15, 15], [15, 15, 15]]
    assert lengths.tolist() == [3, 1, 0]
    assert codes.dtype == np.uint8 and lengths.dtype == np.int64


def test_encode_fixed_length():
    codes, lengths = encode(["AC", "G"], length=4)
    assert codes.tolist() == [[0, 1, 15, 15], [2, 15, 15, 15]]
    assert lengths.tolist() == [2, 1]


def test_encode_empty_list():
    codes, lengths = encode([])
    assert codes.shape == (0, 0) and lengths.shape == (0,)


def test_encode_too_long_names_record_and_fix():
    with pytest.raises(InputError) as err:
        encode(["ACGT", "ACGTACGT"], length=5, names=["a", "b"])
    assert str(err.value) == (
        "record 'b': sequence 1 is 8 bases long, longer than length=5. "
        "Raise length, or trim or window the sequences first."
    )


@pytest.mark.parametrize("seqs", [["ACGT", "AC-G"], ["ACGT", "AC-"]])  # equal-length and padded paths
def test_encode_rejects_bad_letter_with_record(seqs):
    with pytest.raises(InputError, match=r"record 'second': character '-' at position 2"):
        encode(seqs, names=["first", "second"])


@given(sequences)
def test_decode_encode_round_trip(seqs):
    codes, lengths = encode(seqs)
    assert decode(codes, lengths) == [s.upper() for s in seqs]
    assert decode(codes) == [s.upper() for s in seqs]  # padding found from PAD codes
    for row, s in zip(codes, seqs):
        assert decode_one(row) == s.upper()


def test_decode_rejects_1d():
    with pytest.raises(InputError, match=r"2-D \(N, L\)"):
        decode(encode_one("ACGT"))


def test_encode_rejects_a_single_string():
    with pytest.raises(InputError):
        encode("ACGT")


def test_decode_rejects_bad_lengths():
    with pytest.raises(InputError):
        decode(np.zeros((2, 3), dtype=np.uint8), lengths=[5, -1])


# --- pad_codes / check_codes ------------------------------------------------------------


def test_pad_codes_stacks_rows():
    codes, lengths = pad_codes([encode_one("AC"), encode_one("GTA")])
    assert codes.tolist() == [[0, 1, 15], [2, 3, 0]]
    assert lengths.tolist() == [2, 3]
    with pytest.raises(InputError, match="does not fit length=2"):
        pad_codes([encode_one("GTA")], length=2)


def test_pad_codes_rejects_invalid_rows():
    with pytest.raises(InputError):
        pad_codes([np.array([20, 300])])


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ([0, 1], "must be a numpy uint8 array, got list"),
        (np.array([0, 1], dtype=np.int64), "got ndarray of int64"),
        (np.array([0, 16], dtype=np.uint8), "hold the value 16, but valid codes are 0..15"),
    ],
)
def test_check_codes_errors(value, message):
    with pytest.raises(InputError, match=message) as err:
        check_codes(value)
    assert "bioseq.encode.encode()" in str(err.value)


def test_check_codes_accepts_all_codes():
    check_codes(np.arange(16, dtype=np.uint8))
    check_codes(np.zeros((0, 0), dtype=np.uint8))


# --- gc_content / n_fraction ------------------------------------------------------------


def test_gc_content_hand_checked():
    assert gc_content(encode_one("GGCANN")) == 0.75  # 3 G/C of 4 known bases; N left out
    assert gc_content(encode_one("SW")) == 0.5  # S counts as G/C, W as A/T
    assert gc_content(encode_one("SRY")) == 1.0  # R, Y: strength unknown, left out
    assert math.isnan(gc_content(encode_one("NNR")))


def test_gc_content_2d_ignores_padding():
    codes, _ = encode(["GC", "ATGC"])
    assert gc_content(codes).tolist() == [1.0, 0.5]


def test_n_fraction():
    codes, _ = encode(["ACNR", "NN", ""])
    result = n_fraction(codes)
    assert result[:2].tolist() == [0.5, 1.0]  # N and R ambiguous; PAD not counted
    assert math.isnan(result[2])


def test_gc_rejects_bad_codes():
    with pytest.raises(InputError, match="numpy uint8 array"):
        gc_content([1, 2])
