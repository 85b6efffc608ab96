"""Tests of bioseq.encode.onehot: one_hot, one_hot_torch, decode_one_hot."""

from __future__ import annotations

import csv

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from bioseq.alphabet import BASE_FRACTIONS, PAD
from bioseq.codes import encode, encode_one
from bioseq.encode.onehot import IUPAC_POLICIES, decode_one_hot, one_hot, one_hot_torch
from bioseq.errors import InputError

code_arrays = arrays(
    np.uint8,
    st.tuples(st.integers(0, 6), st.integers(0, 40)),
    elements=st.integers(0, PAD),
)


def reference(codes: np.ndarray, iupac: str) -> np.ndarray:
    """Straightforward per-code table lookup, float64, (N, 4, L)."""
    table = np.zeros((16, 4))
    table[:4] = np.eye(4)
    if iupac == "uniform":
        table[4:15] = 0.25
    elif iupac == "fractional":
        table = BASE_FRACTIONS.astype(np.float64)
    return np.moveaxis(table[codes], -1, -2)


# --- one_hot: values ------------------------------------------------------------------


def test_hand_checked_uint8():
    codes, _ = encode(["ACGTN", "GA"])
    x = one_hot(codes, dtype=np.uint8)
    assert x.shape == (2, 4, 5) and x.dtype == np.uint8
    # row 0: A C G T N -> one channel per base, N is an all-zero column
    assert x[0].tolist() == [[1, 0, 0, 0, 0], [0, 1, 0, 0, 0], [0, 0, 1, 0, 0], [0, 0, 0, 1, 0]]
    # row 1: G A then 3 PAD columns, all zero
    assert x[1].tolist() == [[0, 1, 0, 0, 0], [0, 0, 0, 0, 0], [1, 0, 0, 0, 0], [0, 0, 0, 0, 0]]


def test_policies_hand_checked():
    codes = np.array([4, 5, 11, PAD], dtype=np.uint8)  # N, R (A/G), B (C/G/T), PAD
    zeros = one_hot(codes)
    uniform = one_hot(codes, iupac="uniform")
    fractional = one_hot(codes, iupac="fractional")
    assert zeros.tolist() == np.zeros((4, 4)).tolist()
    # uniform: every ambiguous letter is 0.25 in each channel; PAD stays zero
    assert uniform[:, :3].tolist() == np.full((4, 3), 0.25).tolist()
    assert uniform[:, 3].tolist() == [0, 0, 0, 0]
    # fractional: N = 1/4 each, R = 1/2 A + 1/2 G, B = 1/3 C, G, T; PAD zero
    third = np.float32(1 / 3)
    assert fractional[:, 0].tolist() == [0.25] * 4
    assert fractional[:, 1].tolist() == [0.5, 0.0, 0.5, 0.0]
    assert fractional[:, 2].tolist() == [0.0, third, third, third]
    assert fractional[:, 3].tolist() == [0, 0, 0, 0]


@pytest.mark.parametrize("iupac", IUPAC_POLICIES)
@pytest.mark.parametrize("dtype", [np.float32, np.float16])
@settings(max_examples=40, deadline=None)
@given(codes=code_arrays)
def test_matches_reference(codes, iupac, dtype):
    x = one_hot(codes, dtype=dtype, iupac=iupac)
    assert x.dtype == dtype and x.shape == (codes.shape[0], 4, codes.shape[1])
    np.testing.assert_array_equal(x, reference(codes, iupac).astype(dtype))


@settings(max_examples=40, deadline=None)
@given(codes=code_arrays)
def test_uint8_matches_reference(codes):
    np.testing.assert_array_equal(one_hot(codes, dtype=np.uint8), reference(codes, "zeros"))


@pytest.mark.parametrize("iupac", IUPAC_POLICIES)
def test_batch_size_invariance(iupac):
    rng = np.random.default_rng(0)
    codes = rng.integers(0, 16, size=(700, 50), dtype=np.uint8)
    whole = one_hot(codes, iupac=iupac)
    for size in (1, 8, 64, 256):
        parts = [one_hot(codes[i : i + size], iupac=iupac) for i in range(0, len(codes), size)]
        np.testing.assert_array_equal(np.concatenate(parts), whole)


def test_one_dimensional_and_string_inputs():
    assert one_hot(encode_one("ACG")).shape == (4, 3)
    np.testing.assert_array_equal(one_hot("ACG"), one_hot(encode_one("ACG")))
    np.testing.assert_array_equal(one_hot(["AC", "G"]), one_hot(encode(["AC", "G"])[0]))
    assert one_hot(np.zeros((0, 5), dtype=np.uint8)).shape == (0, 4, 5)
    assert one_hot(np.zeros((3, 0), dtype=np.uint8)).shape == (3, 4, 0)


def test_non_contiguous_codes():
    rng = np.random.default_rng(1)
    codes = rng.integers(0, 16, size=(20, 30), dtype=np.uint8)
    view = codes[::2, 5:25]
    np.testing.assert_array_equal(one_hot(view, dtype=np.uint8), reference(view, "zeros"))


# --- one_hot: out= and errors ---------------------------------------------------------


def test_out_buffer_is_reused():
    codes, _ = encode(["ACGT", "TTAN"])
    out = np.full((2, 4, 4), 7, dtype=np.uint8)
    assert one_hot(codes, dtype=np.uint8, out=out) is out
    np.testing.assert_array_equal(out, one_hot(codes, dtype=np.uint8))
    out16 = np.full((2, 4, 4), 7, dtype=np.float16)
    one_hot(codes, dtype=np.float16, iupac="uniform", out=out16)
    np.testing.assert_array_equal(out16, one_hot(codes, dtype=np.float16, iupac="uniform"))


@pytest.mark.parametrize(
    ("out", "message"),
    [
        (
            np.zeros((2, 4, 5), dtype=np.uint8),
            r"out must be a uint8 array of shape \(2, 4, 4\), got uint8 \(2, 4, 5\)",
        ),
        (np.zeros((2, 4, 4), dtype=np.float32), "got float32"),
        ([0], "got list"),
    ],
)
def test_out_buffer_checked(out, message):
    codes, _ = encode(["ACGT", "TTAN"])
    with pytest.raises(InputError, match=message):
        one_hot(codes, dtype=np.uint8, out=out)


def test_read_only_out_rejected():
    out = np.zeros((4, 2), dtype=np.uint8)
    out.flags.writeable = False
    with pytest.raises(InputError, match="read-only"):
        one_hot("AC", dtype=np.uint8, out=out)


@pytest.mark.parametrize("iupac", ["uniform", "fractional"])
def test_uint8_with_fractions_rejected(iupac):
    with pytest.raises(InputError) as err:
        one_hot("ACGN", dtype=np.uint8, iupac=iupac)
    assert f"dtype uint8 cannot hold the fractions of iupac='{iupac}'" in str(err.value)
    assert "Use iupac='zeros' with uint8, or a float dtype" in str(err.value)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"dtype": np.int32}, "dtype must be float32, float16 or uint8, got int32"),
        ({"dtype": "nonsense"}, "is not a numpy dtype"),
        ({"iupac": "ones"}, "iupac must be one of 'zeros', 'uniform', 'fractional', got 'ones'"),
    ],
)
def test_bad_options(kwargs, message):
    with pytest.raises(InputError, match=message):
        one_hot("ACGT", **kwargs)


@pytest.mark.parametrize(
    ("codes", "message"),
    [
        (np.array([0, 16], dtype=np.uint8), "valid codes are 0..15"),
        (np.array([0, 1], dtype=np.int64), "numpy uint8 array"),
        (np.zeros((1, 2, 3), dtype=np.uint8), r"1-D \(L,\) or 2-D \(N, L\)"),
        ("AC-T", "character '-' at position 2"),
        (3.5, "expected a string, a list of strings or a uint8 code array"),
    ],
)
def test_bad_codes(codes, message):
    with pytest.raises(InputError, match=message):
        one_hot(codes)


# --- one_hot_torch --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("torch_dtype", "np_dtype", "iupac"),
    [(torch.float32, np.float32, p) for p in IUPAC_POLICIES]
    + [(torch.float16, np.float16, p) for p in IUPAC_POLICIES]
    + [(torch.uint8, np.uint8, "zeros")],
)
@pytest.mark.parametrize("index_dtype", [torch.uint8, torch.int64])
def test_torch_matches_numpy(iupac, torch_dtype, np_dtype, index_dtype):
    rng = np.random.default_rng(2)
    codes = rng.integers(0, 16, size=(5, 33), dtype=np.uint8)
    x = one_hot_torch(torch.from_numpy(codes).to(index_dtype), dtype=torch_dtype, iupac=iupac)
    assert x.dtype == torch_dtype and x.shape == (5, 4, 33) and x.is_contiguous()
    np.testing.assert_array_equal(x.numpy(), one_hot(codes, dtype=np_dtype, iupac=iupac))
    one = one_hot_torch(torch.from_numpy(codes[0]).to(index_dtype), dtype=torch_dtype, iupac=iupac)
    assert one.shape == (4, 33)


def test_torch_bfloat16():
    codes = torch.tensor([0, 4, 5, 15], dtype=torch.uint8)  # A, N, R, PAD
    x = one_hot_torch(codes, dtype=torch.bfloat16, iupac="fractional")
    assert x.dtype == torch.bfloat16
    assert x.float()[:, 2].tolist() == [0.5, 0.0, 0.5, 0.0]  # R


@pytest.mark.parametrize(
    ("codes", "kwargs", "message"),
    [
        (torch.tensor([0, 16]), {}, "codes hold values 0..16, but valid codes are 0..15"),
        (torch.tensor([-1, 2]), {}, "codes hold values -1..2"),
        (torch.tensor([0, 1], dtype=torch.int32), {}, "uint8 or int64 torch tensor, got a torch.int32"),
        (np.array([0, 1], dtype=np.uint8), {}, "got ndarray"),
        (torch.zeros((1, 2, 3), dtype=torch.uint8), {}, r"got shape \(1, 2, 3\)"),
        (torch.tensor([0, 1]), {"dtype": torch.int32}, "dtype must be one of"),
        (torch.tensor([0, 1]), {"dtype": torch.uint8, "iupac": "uniform"}, "cannot hold the fractions"),
    ],
)
def test_torch_errors(codes, kwargs, message):
    with pytest.raises(InputError, match=message):
        one_hot_torch(codes, **kwargs)


def test_torch_check_false_reads_no_values():
    """Models pass check=False: no value is read back (on the meta device a read raises), none is checked."""
    codes = torch.empty((2, 5), dtype=torch.uint8, device="meta")
    assert one_hot_torch(codes, check=False).shape == (2, 4, 5)
    with pytest.raises(RuntimeError, match="meta"):
        one_hot_torch(codes)  # the default check reads the values
    unchecked = one_hot_torch(torch.tensor([16, 0], dtype=torch.uint8), check=False)
    assert unchecked.T.tolist() == [[0, 0, 0, 0], [1, 0, 0, 0]]  # 16 passes as an all-zero column
    with pytest.raises(InputError, match="dtype must be one of"):
        one_hot_torch(codes, dtype=torch.int32, check=False)  # the metadata is still checked


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_torch_on_gpu_matches_numpy():
    codes = np.random.default_rng(3).integers(0, 16, size=(8, 100), dtype=np.uint8)
    x = one_hot_torch(torch.from_numpy(codes).cuda(), iupac="fractional")
    assert x.device.type == "cuda"
    np.testing.assert_array_equal(x.cpu().numpy(), one_hot(codes, iupac="fractional"))


# --- decode_one_hot -------------------------------------------------------------------


@settings(max_examples=40, deadline=None)
@given(st.lists(st.text(alphabet="ACGTN", max_size=25), min_size=1, max_size=6))
def test_decode_round_trip(seqs):
    codes, lengths = encode(seqs)
    for dtype in (np.uint8, np.float32):
        np.testing.assert_array_equal(decode_one_hot(one_hot(codes, dtype=dtype), lengths=lengths), codes)
    assert decode_one_hot(one_hot(codes), lengths=lengths, as_strings=True) == seqs


def test_decode_rules():
    # ambiguous columns (zeros, uniform 0.25, R's 0.5) are not above 0.5 -> N; PAD without lengths -> N
    codes = np.array([0, 5, 4, PAD], dtype=np.uint8)
    for iupac in IUPAC_POLICIES:
        assert decode_one_hot(one_hot(codes, iupac=iupac)).tolist() == [0, 4, 4, 4]
    assert decode_one_hot(one_hot(codes), lengths=3).tolist() == [0, 4, 4, PAD]
    assert decode_one_hot(one_hot(codes), lengths=2, as_strings=True) == "AN"


def test_decode_scores_with_threshold():
    # (4, 2) per-base scores: column 0 is A at 0.7; column 1 peaks at C with only 0.3
    scores = np.array([[0.7, 0.2], [0.1, 0.3], [0.1, 0.25], [0.1, 0.25]])
    assert decode_one_hot(scores).tolist() == [0, 4]  # 0.3 is not above the default 0.5 -> N
    assert decode_one_hot(scores, threshold=0.25).tolist() == [0, 1]


def test_decode_torch_input():
    x = one_hot_torch(torch.tensor([[2, 3, 0]], dtype=torch.uint8), dtype=torch.bfloat16)
    assert decode_one_hot(x, as_strings=True) == ["GTA"]


@pytest.mark.parametrize(
    ("x", "kwargs", "message"),
    [
        (np.zeros((2, 3, 5)), {}, r"shape \(N, 4, L\) or \(4, L\), got \(2, 3, 5\)"),
        (np.zeros((2, 4, 5)), {"lengths": [1, 6]}, "lengths must be 2 values in 0..5"),
        (np.zeros((2, 4, 5)), {"lengths": [1]}, "lengths must be 2 values"),
    ],
)
def test_decode_errors(x, kwargs, message):
    with pytest.raises(InputError, match=message):
        decode_one_hot(x, **kwargs)


# --- real data ------------------------------------------------------------------------


def test_real_splice_sequences(shared_data):
    path = shared_data / "splice" / "uci_splice" / "splice_statlog_decoded.csv"
    if not path.exists():
        pytest.skip(f"{path} is absent")
    with open(path, newline="") as handle:
        seqs = [row["sequence"] for row in csv.DictReader(handle)]
    codes, lengths = encode(seqs)
    x = one_hot(codes, iupac="fractional")
    # every real base (IUPAC letters included) sums to 1 over the channels; the file is 60 bp
    assert codes.shape == (len(seqs), 60)
    np.testing.assert_allclose(x.sum(axis=1), 1.0, rtol=1e-6)
    assert decode_one_hot(one_hot(codes, dtype=np.uint8), lengths=lengths, as_strings=True) == [
        "".join(b if b in "ACGT" else "N" for b in s.upper()) for s in seqs
    ]
