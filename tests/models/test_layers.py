"""Tests of bioseq.models.layers: input check, mask, one-hot, k-mer embedding, conv block, head."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from bioseq.alphabet import PAD
from bioseq.codes import encode
from bioseq.encode.kmer import KmerTokenizer
from bioseq.errors import InputError
from bioseq.models.layers import (
    ClassificationHead,
    CodesToOneHot,
    ConvBlock,
    KmerEmbedding,
    check_codes_input,
    check_minimum,
    padding_mask,
)


def codes_of(*sequences: str) -> torch.Tensor:
    """``(B, L)`` uint8 codes, rows right-padded with PAD."""
    codes, _ = encode(list(sequences))
    return torch.from_numpy(codes)


# --- check_codes_input, padding_mask, check_minimum ------------------------------------


def test_check_codes_input_accepts_uint8_and_int64():
    check_codes_input(codes_of("ACGT", "A"), model="cnn")
    check_codes_input(codes_of("ACGT").long(), model="cnn")


@pytest.mark.parametrize(
    ("x", "expected"),
    [
        (np.zeros((2, 3), dtype=np.uint8), "takes a torch tensor of base codes, got ndarray"),
        (torch.zeros(2, 3), "uint8 or int64 base codes, got a torch.float32 tensor of shape (2, 3)"),
        (torch.zeros(5, dtype=torch.uint8), "got a torch.uint8 tensor of shape (5,)"),
        (torch.zeros(2, 4, 5, dtype=torch.uint8), "shape (2, 4, 5)"),
        (torch.zeros(3, 0, dtype=torch.uint8), "width 0"),
    ],
)
def test_check_codes_input_rejects(x, expected):
    with pytest.raises(InputError) as info:
        check_codes_input(x, model="lstm")
    assert "model 'lstm'" in str(info.value) and expected in str(info.value)


def test_layers_never_read_values_back():
    """On the meta device every value read (.item(), int(), bool()) raises: what passes would not sync a GPU."""
    codes = torch.empty((2, 7), dtype=torch.uint8, device="meta")
    check_codes_input(codes, model="cnn")
    assert padding_mask(codes).shape == (2, 7)
    for iupac in ("zeros", "uniform"):
        assert CodesToOneHot(iupac=iupac).to("meta")(codes).shape == (2, 4, 7)
    assert KmerEmbedding(k=3, stride=2, dim=4).to("meta")(codes.long()).shape == (2, 3, 4)


def test_code_values_are_checked_where_they_enter():
    """The model path leaves values to the boundary: the bundle refuses bad codes before its model runs."""
    from bioseq.bundle import Bundle

    class Unreachable(torch.nn.Module):
        def forward(self, x):
            raise AssertionError("the model saw codes the bundle should have refused")

    config = {"task": "binary", "classes": ["neg", "pos"], "input": {"length": None}, "model": {"name": "cnn"}}
    bundle = Bundle(model=Unreachable(), config=config, path=Path("bundle"))
    with pytest.raises(InputError, match="hold the value 16, but valid codes are 0..15"):
        bundle.predict_proba(np.array([[0, 16, 2]], dtype=np.uint8))


def test_padding_mask_hand_checked():
    mask = padding_mask(codes_of("ACN", "G"))
    # "ACN" is all real (N is a base, just unknown); "G" is followed by 2 PAD
    assert mask.tolist() == [[True, True, True], [True, False, False]]


def test_check_minimum_names_option():
    check_minimum("cnn", 0, a=0, b=(1, 2))
    with pytest.raises(InputError, match=r"model 'cnn' option 'pools' must be >= 1, got \(2, 0\)"):
        check_minimum("cnn", 1, channels=(4,), pools=(2, 0))


# --- CodesToOneHot -----------------------------------------------------------------------


def test_one_hot_hand_checked():
    x = CodesToOneHot()(codes_of("ACGTN", "GA"))
    assert x.shape == (2, 4, 5) and x.dtype == torch.float32
    # row 0: A, C, G, T one channel each; N is an all-zero column
    assert x[0].tolist() == [[1, 0, 0, 0, 0], [0, 1, 0, 0, 0], [0, 0, 1, 0, 0], [0, 0, 0, 1, 0]]
    # row 1: G, A, then 3 PAD columns of zeros
    assert x[1].tolist() == [[0, 1, 0, 0, 0], [0, 0, 0, 0, 0], [1, 0, 0, 0, 0], [0, 0, 0, 0, 0]]


def test_one_hot_policy_and_dtype_follow_module():
    layer = CodesToOneHot(iupac="uniform")
    assert layer(codes_of("N"))[0, :, 0].tolist() == [0.25] * 4  # N = a quarter of each base
    assert layer.half()(codes_of("A")).dtype == torch.float16
    assert layer.double()(codes_of("A")).dtype == torch.float64
    assert layer.state_dict() == {}  # the dtype probe is not saved


def test_one_hot_rejects_unknown_policy():
    with pytest.raises(InputError, match="iupac must be one of"):
        CodesToOneHot(iupac="random")


# --- KmerEmbedding -------------------------------------------------------------------------


def test_kmer_tokenize_hand_checked():
    layer = KmerEmbedding(k=3, stride=1, dim=4)
    ids = layer.tokenize(codes_of("ACGTA", "ACNTA", "ACG"))
    # ACG = 0*16+1*4+2 = 6 -> id 11; CGT = 16+8+3 = 27 -> 32; GTA = 32+12+0 = 44 -> 49
    # row 1: every window holds the N -> [UNK] = 1; row 2: ACG, then windows into PAD -> [PAD] = 0
    assert ids.tolist() == [[11, 32, 49], [1, 1, 1], [11, 0, 0]]


@settings(max_examples=60, deadline=None)
@given(
    k=st.integers(1, 6),
    stride=st.integers(1, 7),
    rows=st.lists(st.text("ACGTNRY", max_size=20), min_size=1, max_size=5),
    extra=st.integers(0, 3),
)
def test_kmer_tokenize_equals_tokenizer(k, stride, rows, extra):
    codes, _ = encode(rows)
    codes = np.pad(codes, ((0, 0), (0, extra)), constant_values=PAD)  # padding past the longest row too
    expected = KmerTokenizer(k=k, stride=stride).encode(codes)
    got = KmerEmbedding(k=k, stride=stride, dim=2).tokenize(torch.from_numpy(codes))
    assert got.dtype == torch.int64
    assert got.tolist() == expected.tolist()
    assert KmerEmbedding(k=k, stride=stride, dim=2).tokenize(torch.from_numpy(codes).long()).tolist() == got.tolist()


def test_kmer_embedding_shapes_and_pad_vector():
    layer = KmerEmbedding(k=2, stride=2, dim=8)
    codes = codes_of("ACGTAC", "AC")
    out = layer(codes)
    assert out.shape == (2, 3, 8)  # (6 - 2) // 2 + 1 = 3 windows
    assert out[1, 1:].abs().sum() == 0  # windows into PAD are [PAD], whose vector is zero
    assert torch.equal(layer.embed(layer.tokenize(codes)), out)  # ids made elsewhere embed the same
    assert layer.tokenize(codes_of("A")).shape == (1, 0)  # shorter than k: no window


def test_kmer_embedding_rejects_bad_k():
    with pytest.raises(InputError, match="k must be an integer from 1 to 8"):
        KmerEmbedding(k=9, stride=1, dim=8)
    with pytest.raises(InputError, match="option 'dim' must be >= 1"):
        KmerEmbedding(k=3, stride=1, dim=0)


# --- ConvBlock -----------------------------------------------------------------------------


def test_conv_block_finds_motif():
    """A kernel-3 filter equal to the one-hot of TAT with bias -2 fires (value 1) at the centre of each TAT."""
    block = ConvBlock(4, 1, kernel_size=3).eval()  # BatchNorm in eval: (x - 0) / sqrt(1 + 1e-5)
    with torch.no_grad():
        block.conv.weight.copy_(torch.tensor([[[0, 1, 0], [0, 0, 0], [0, 0, 0], [1, 0, 1]]]))  # T A T
        block.conv.bias.fill_(-2.0)
    codes = codes_of("GTATCTATG", "TAT")
    x, mask = block(CodesToOneHot()(codes), padding_mask(codes))
    # row 0: TAT at 1..3 and 5..7 -> centres 2 and 6; every other window matches at most 2 of 3 bases
    expected = [[0, 0, 1, 0, 0, 0, 1, 0, 0], [0, 1, 0, 0, 0, 0, 0, 0, 0]]
    np.testing.assert_allclose(x[:, 0].detach().numpy(), expected, atol=1e-5)
    assert mask.tolist() == padding_mask(codes).tolist()


def test_conv_block_pooling_shape_and_mask():
    block = ConvBlock(4, 6, kernel_size=5, pool=3).eval()
    codes = codes_of("ACGTACG", "ACGT", "A")
    x, mask = block(CodesToOneHot()(codes), padding_mask(codes))
    assert x.shape == (3, 6, 3)  # ceil(7 / 3): the partial last window is kept
    # real positions: 7 -> windows [0,3) [3,6) [6,7) all real; 4 -> [0,3) [3,4) real; 1 -> [0,1)
    assert mask.tolist() == [[True, True, True], [True, True, False], [True, False, False]]
    assert x[1, :, 2].abs().sum() == 0 and x[2, :, 1:].abs().sum() == 0  # padded outputs are zero


@pytest.mark.parametrize("pool", [1, 2, 4])
def test_conv_block_ignores_following_padding(pool):
    torch.manual_seed(0)
    first = ConvBlock(4, 8, kernel_size=7, pool=pool, activation="gelu").eval()
    second = ConvBlock(8, 8, kernel_size=5, dilation=2).eval()
    one_hot = CodesToOneHot()
    codes = torch.randint(0, 4, (1, 23), dtype=torch.uint8)
    padded = torch.cat([codes, torch.full((1, 17), PAD, dtype=torch.uint8)], dim=1)
    alone = second(*first(one_hot(codes), padding_mask(codes)))[0]
    with_padding = second(*first(one_hot(padded), padding_mask(padded)))[0]
    width = alone.shape[-1]
    torch.testing.assert_close(with_padding[..., :width], alone, rtol=0, atol=1e-6)
    assert with_padding[..., width:].abs().sum() == 0


def test_conv_block_rejects_bad_options():
    with pytest.raises(InputError, match="option 'pool' must be >= 1, got 0"):
        ConvBlock(4, 8, kernel_size=3, pool=0)
    with pytest.raises(InputError, match="activation must be 'relu' or 'gelu'"):
        ConvBlock(4, 8, kernel_size=3, activation="tanh")


# --- ClassificationHead --------------------------------------------------------------------


def test_head_shape_and_layers():
    head = ClassificationHead(10, hidden=6, n_outputs=3, dropout=0.2)
    assert head(torch.randn(5, 10)).shape == (5, 3)
    kinds = [type(m).__name__ for m in head]
    assert kinds == ["Dropout", "Linear", "GELU", "Dropout", "Linear"]
