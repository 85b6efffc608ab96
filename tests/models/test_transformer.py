"""Tests of bioseq.models.transformer (the shared contract is checked in test_registry.py)."""

from __future__ import annotations

import math

import pytest
import torch

from bioseq.alphabet import PAD
from bioseq.errors import InputError
from bioseq.models import transformer
from bioseq.models.positional import RotaryEmbedding, apply_rotary
from bioseq.models.registry import build_model
from bioseq.models.transformer import SelfAttention, TransformerConfig


def codes(rows: int, width: int, seed: int = 0) -> torch.Tensor:
    return torch.randint(0, 4, (rows, width), generator=torch.Generator().manual_seed(seed), dtype=torch.uint8)


def test_defaults():
    config = TransformerConfig()
    assert (config.input, config.d_model, config.n_heads, config.n_layers) == ("nucleotide", 64, 4, 3)
    assert (config.positional, config.pooling, config.stem_kernel) == ("rotary", "cls", 9)


def test_d_model_not_divisible_by_heads():
    with pytest.raises(InputError) as info:
        build_model("transformer", {"n_heads": 3, "d_model": 64})
    assert "option 'd_model' (64) must be a multiple of 'n_heads' (3)" in str(info.value)
    assert str(info.value).endswith("Use e.g. d_model=66, or another n_heads.")  # 22 x 3 = 66


def test_rotary_needs_even_head_size():
    with pytest.raises(InputError, match="d_model / n_heads = 12 / 4 is odd"):
        build_model("transformer", {"d_model": 12, "n_heads": 4})
    build_model("transformer", {"d_model": 12, "n_heads": 4, "positional": "learned"})  # fine there


@pytest.mark.parametrize("positional", ["rotary", "sinusoidal"])
def test_relative_and_fixed_positions_run_past_max_length(positional):
    model = build_model("transformer", {"positional": positional, "max_length": 64}).eval()
    logits = model(codes(2, 300))
    assert logits.shape == (2, 1) and torch.isfinite(logits).all()


def test_learned_positions_reject_long_inputs():
    model = build_model("transformer", {"positional": "learned", "max_length": 64}).eval()
    assert model(codes(2, 64)).shape == (2, 1)
    with pytest.raises(InputError) as info:
        model(codes(2, 65))
    message = str(info.value)
    assert "inputs 65 positions wide, but its learned positions cover max_length=64" in message
    assert "positional='rotary'" in message


def test_learned_table_covers_max_length_tokens():
    config = TransformerConfig(input="kmer", k=4, stride=2, stem_pool=3, positional="learned", max_length=64)
    # (64 - 4) // 2 + 1 = 31 k-mer windows, ceil(31 / 3) = 11 after pooling, + 1 [CLS] = 12
    assert config.n_tokens(64) == 12
    model = transformer.TransformerClassifier(config).eval()
    assert model.positions.table.shape == (12, 64)
    assert model(codes(1, 64)).shape == (1, 1)


def test_embed_puts_cls_first_and_masks_kmer_padding():
    model = build_model("transformer", {"input": "kmer", "k": 3, "stem_kernel": 0})
    x = codes(2, 10)
    x[1, 6:] = PAD
    h, mask = model.embed(x)
    assert h.shape == (2, 1 + 8, 64)  # [CLS] + (10 - 3 + 1) windows
    # row 1: 6 bases -> windows 0..3 real, 4..7 reach into PAD; [CLS] is always real
    assert mask.tolist() == [[True] * 9, [True] * 5 + [False] * 4]
    torch.testing.assert_close(h[:, 0], model.cls[0].expand(2, -1))


def test_attention_matches_reference():
    """SDPA with a key mask and rotary positions equals explicit softmax(q k^T / sqrt(hd) + mask) v."""
    torch.manual_seed(0)
    attn = SelfAttention(16, 2, dropout=0.0).eval()
    x = torch.randn(2, 5, 16)
    keys = torch.tensor([[True] * 5, [True, True, True, False, False]])
    rotary = RotaryEmbedding(8)(5, device=x.device, dtype=x.dtype)
    got = attn(x, keys[:, None, None, :], rotary)
    q, k, v = attn.qkv(x).view(2, 5, 3, 2, 8).permute(2, 0, 3, 1, 4)  # (B, H, T, hd)
    q, k = apply_rotary(q, *rotary), apply_rotary(k, *rotary)
    scores = (q @ k.transpose(-1, -2)) / math.sqrt(8)  # (B, H, T, T)
    scores = scores.masked_fill(~keys[:, None, None, :], float("-inf"))
    expected = attn.proj((scores.softmax(-1) @ v).transpose(1, 2).reshape(2, 5, 16))
    torch.testing.assert_close(got, expected)


def test_mask_passed_only_when_there_is_padding(monkeypatch):
    seen = []
    sdpa = transformer.F.scaled_dot_product_attention

    def spy(q, k, v, attn_mask=None):
        seen.append(None if attn_mask is None else (attn_mask.dtype, tuple(attn_mask.shape)))
        return sdpa(q, k, v, attn_mask=attn_mask)

    monkeypatch.setattr(transformer.F, "scaled_dot_product_attention", spy)
    model = build_model("transformer", {"n_layers": 2}).eval()
    model(codes(3, 20))
    assert seen == [None, None]  # no padding: the fastest (flash) kernel may run
    seen.clear()
    x = codes(3, 20)
    x[2, 12:] = PAD
    model(x)
    assert seen == [(torch.bool, (3, 1, 1, 21))] * 2  # [CLS] + 20 tokens


@pytest.mark.parametrize("pooling", ["cls", "mean"])
def test_all_padding_batch_is_finite(pooling):
    model = build_model("transformer", {"pooling": pooling, "stem_kernel": 0}).eval()
    logits = model(torch.full((3, 12), PAD, dtype=torch.uint8))
    assert torch.isfinite(logits).all()


def test_bfloat16_model():
    model = build_model("transformer", {"n_layers": 1}).eval().to(torch.bfloat16)
    x = codes(2, 30)
    x[1, 10:] = PAD
    logits = model(x)
    assert logits.dtype == torch.bfloat16 and torch.isfinite(logits).all()


@pytest.mark.parametrize("pooling", ["cls", "mean"])
def test_kmer_input_narrower_than_k(pooling):
    model = build_model("transformer", {"input": "kmer", "k": 6, "pooling": pooling}).eval()
    logits = model(codes(2, 4))  # no 6-mer fits: every token is [PAD]
    assert logits.shape == (2, 1) and torch.isfinite(logits).all()


@pytest.mark.parametrize(
    "options", [{"stem_kernel": 3}, {"stem_kernel": 0, "pooling": "mean", "positional": "learned"}]
)
def test_forward_one_hot_equals_forward(options):
    """Codes of A, C, G, T, N and PAD: the one-hot path gives the embedding path's logits exactly."""
    model = build_model("transformer", {"d_model": 8, "n_heads": 2, "n_layers": 1, **options}).eval()
    x = torch.randint(0, 5, (3, 17), generator=torch.Generator().manual_seed(0), dtype=torch.uint8)
    x[1, 9:] = PAD
    with torch.no_grad():
        assert torch.equal(model(x), model.forward_one_hot(model.one_hot(x), x != PAD))
    assert "one_hot.dtype_probe" not in model.state_dict()


def test_kmer_transformer_has_no_one_hot_input():
    model = build_model("transformer", {"input": "kmer", "k": 3, "d_model": 8, "n_heads": 2, "n_layers": 1})
    assert not hasattr(model, "one_hot")
    with pytest.raises(InputError, match="k-mer Transformer.*method=ism"):
        model.forward_one_hot(torch.zeros(1, 4, 10), torch.ones(1, 10, dtype=torch.bool))
