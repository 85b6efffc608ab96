"""Tests of bioseq.encode.kmer: kmer_index, n_windows, KmerTokenizer."""

from __future__ import annotations

import csv
import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bioseq.alphabet import PAD
from bioseq.codes import encode
from bioseq.encode.kmer import AMBIGUOUS, PADDING, KmerTokenizer, kmer_index, n_windows
from bioseq.errors import InputError


def reference_ids(seqs: list[str], k: int, stride: int, add_cls: bool) -> list[list[int]]:
    """Window by window, as the module docstring defines the ids."""
    width = max((len(s) for s in seqs), default=0)
    rows = []
    for s in seqs:
        row = [2] if add_cls else []
        for start in range(0, width - k + 1, stride):
            window = s[start : start + k].upper()
            if len(window) < k:
                row.append(0)  # runs into padding
            elif set(window) <= set("ACGT"):
                rank = int(window.translate(str.maketrans("ACGT", "0123")), 4)
                row.append(5 + rank)
            else:
                row.append(1)  # N or another IUPAC letter
        rows.append(row)
    return rows


# --- n_windows / kmer_index -----------------------------------------------------------


def test_n_windows():
    assert n_windows(10, k=3) == 8  # starts 0..7
    assert n_windows(10, k=3, stride=3) == 3  # starts 0, 3, 6; position 9 starts no window
    assert n_windows(10, k=3, stride=4) == 2  # starts 0, 4
    assert n_windows(3, k=3) == 1
    assert n_windows(2, k=3) == 0


def test_kmer_index_hand_checked():
    codes, _ = encode(["ACGTN", "TT"])
    rank, status = kmer_index(codes, k=2)
    # AC = 0*4+1, CG = 1*4+2, GT = 2*4+3 (lexicographic ACGT order, first base most significant)
    assert rank[0, :3].tolist() == [1, 6, 11]
    assert rank[1, 0] == 15  # TT
    # TN holds N; rows 1 windows 1..3 run into PAD
    assert status.tolist() == [[0, 0, 0, AMBIGUOUS], [0, PADDING, PADDING, PADDING]]
    assert rank.dtype == np.uint8 and status.dtype == np.uint8


def test_kmer_index_dtype_and_extremes():
    codes, _ = encode(["A" * 8, "T" * 8])
    rank, _ = kmer_index(codes, k=8)
    assert rank.dtype == np.uint16
    assert rank[:, 0].tolist() == [0, 4**8 - 1]  # AAAAAAAA and TTTTTTTT are the first and last ranks


def test_kmer_index_lengths_mark_padding():
    codes, _ = encode(["ACGTA", "ACGTA"])
    _, status = kmer_index(codes, k=3, lengths=np.array([5, 3]))
    # row 1 is 3 bases long: only window [0, 3) is inside it
    assert status.tolist() == [[0, 0, 0], [0, PADDING, PADDING]]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"k": 0}, "k must be an integer from 1 to 8, got 0"),
        ({"k": 9}, "got 9"),
        ({"k": True}, "got True"),
        ({"k": 2, "stride": 0}, "stride must be a positive integer, got 0"),
        ({"k": 2, "lengths": np.array([1])}, r"shape \(2,\)"),
        ({"k": 2, "lengths": np.array([1, 7])}, "lengths must lie in 0..4"),
        ({"k": 2, "lengths": np.array([1.0, 2.0])}, "integer array"),
    ],
)
def test_kmer_index_errors(kwargs, message):
    codes, _ = encode(["ACGT", "AC"])
    with pytest.raises(InputError, match=message):
        kmer_index(codes, **kwargs)


def test_kmer_index_rejects_1d_and_bad_codes():
    with pytest.raises(InputError, match="2-D"):
        kmer_index(np.zeros(5, dtype=np.uint8), k=2)
    with pytest.raises(InputError, match="valid codes are 0..15"):
        kmer_index(np.full((1, 5), 16, dtype=np.uint8), k=2)


# --- KmerTokenizer: ids ---------------------------------------------------------------


def test_vocabulary():
    tok = KmerTokenizer(k=6)
    assert tok.vocab_size == 5 + 4096
    assert (tok.pad_id, tok.unk_id, tok.cls_id, tok.sep_id, tok.mask_id) == (0, 1, 2, 3, 4)
    assert tok.id_to_token(5) == "AAAAAA" and tok.id_to_token(4100) == "TTTTTT"
    assert tok.token_to_id("[MASK]") == 4
    small = KmerTokenizer(k=3)
    for token_id in range(small.vocab_size):
        assert small.token_to_id(small.id_to_token(token_id)) == token_id
    assert [small.id_to_token(i) for i in range(5, 9)] == ["AAA", "AAC", "AAG", "AAT"]  # lexicographic


def test_encode_hand_checked():
    tok = KmerTokenizer(k=3)
    # ACG = 0*16 + 1*4 + 2 = 6, CGT = 16 + 8 + 3 = 27, GTA = 32 + 12 + 0 = 44; ids are 5 + rank
    assert tok.encode("ACGTA").tolist() == [11, 32, 49]
    assert tok.encode("ACGTA").dtype == np.int64
    # lower case reads like upper case; windows over N or R are [UNK]; windows past a row's end are [PAD]
    assert tok.encode(["acgNa", "ACRT", "AC"]).tolist() == [[11, 1, 1], [1, 1, 0], [0, 0, 0]]


def test_cls_and_stride():
    tok = KmerTokenizer(k=2, stride=2, add_cls=True)
    # windows [0,2), [2,4), [4,6); the 7th base starts no window; CLS first
    assert tok.encode("ACGTAAC").tolist() == [2, 5 + 1, 5 + 11, 5 + 0]
    assert tok.n_tokens(7) == 4


@settings(max_examples=60, deadline=None)
@given(
    seqs=st.lists(st.text(alphabet="ACGTNRacgt", max_size=30), min_size=1, max_size=6),
    k=st.integers(1, 8),
    stride=st.integers(1, 9),
    add_cls=st.booleans(),
)
def test_encode_matches_reference(seqs, k, stride, add_cls):
    tok = KmerTokenizer(k=k, stride=stride, add_cls=add_cls)
    ids = tok.encode(seqs)
    assert ids.tolist() == reference_ids(seqs, k, stride, add_cls)
    codes, lengths = encode(seqs)
    assert ids.shape == (len(seqs), tok.n_tokens(codes.shape[1]))
    np.testing.assert_array_equal(tok.encode(codes), ids)  # PAD codes mark padding
    np.testing.assert_array_equal(tok.encode(codes, lengths), ids)  # so do lengths


def test_lengths_override_codes():
    tok = KmerTokenizer(k=2)
    codes, _ = encode(["ACGT"])
    # the row says 4 bases, lengths say 2: only window [0, 2) is real
    assert tok.encode(codes, np.array([2])).tolist() == [[6, 0, 0]]


def test_blocks_do_not_change_ids():
    # width 100 -> 2,621 rows per internal block; 3,000 rows span two blocks
    rng = np.random.default_rng(0)
    values = np.array([0, 1, 2, 3, 4, PAD], dtype=np.uint8)
    codes = rng.choice(values, p=[0.24] * 4 + [0.02, 0.02], size=(3000, 100))
    tok = KmerTokenizer(k=6)
    whole = tok.encode(codes)
    for start in (0, 2600, 2621, 2999):
        np.testing.assert_array_equal(tok.encode(codes[start : start + 50]), whole[start : start + 50])
    rank, status = kmer_index(codes, k=6)
    np.testing.assert_array_equal(np.where(status == 0, rank.astype(np.int64) + 5, whole), whole)


# --- KmerTokenizer: decode ------------------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(seq=st.text(alphabet="ACGT", min_size=8, max_size=40), k=st.integers(1, 8), stride=st.integers(1, 8))
def test_decode_round_trip(seq, k, stride):
    stride = min(stride, k)
    tok = KmerTokenizer(k=k, stride=stride, add_cls=True)
    covered = (len(seq) - k) // stride * stride + k  # bases after the last window are not in the ids
    assert tok.decode(tok.encode(seq)) == seq[:covered]


def test_decode_hand_checked():
    tok = KmerTokenizer(k=3)
    # windows 2, 3, 4 hold the N and are [UNK]; every other base is in some known window
    assert tok.decode(tok.encode("ACGTNACGT")) == "ACGTNACGT"
    # stride 3 > k = 2: windows AC, TA, GT at 0, 3, 6; positions 2 and 5 are in no window
    assert KmerTokenizer(k=2, stride=3).decode(KmerTokenizer(k=2, stride=3).encode("ACGTACGT")) == "ACNTANGT"
    # padding ends a row; [SEP] and [CLS] are skipped
    assert tok.decode(np.array([[2, 11, 32, 3, 0, 0]])) == ["ACGT"]
    assert tok.decode(np.array([0, 0])) == ""


def test_decode_errors():
    tok = KmerTokenizer(k=2)
    with pytest.raises(InputError, match=r"ids must lie in 0..20, got 0..21"):
        tok.decode(np.array([0, 21]))
    with pytest.raises(InputError, match="integer array"):
        tok.decode(np.array([0.5]))


# --- KmerTokenizer: errors ------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [({"k": 9}, "k must be an integer from 1 to 8"), ({"stride": -1}, "stride must be a positive integer")],
)
def test_tokenizer_options(kwargs, message):
    with pytest.raises(InputError, match=message):
        KmerTokenizer(**kwargs)


def test_tokenizer_input_errors():
    tok = KmerTokenizer(k=2)
    with pytest.raises(InputError, match="lengths can only be given with a 2-D code array"):
        tok.encode(["ACGT"], np.array([4]))
    with pytest.raises(InputError, match="must hold only strings"):
        tok.encode([np.zeros(3, dtype=np.uint8)])
    with pytest.raises(InputError, match="character '-' at position 1"):
        tok.encode("A-GT")
    with pytest.raises(InputError, match="expected a string"):
        tok.encode(42)
    with pytest.raises(InputError, match="not a special token or a 2-mer"):
        tok.token_to_id("ACG")
    with pytest.raises(InputError, match="outside 0..20"):
        tok.id_to_token(21)


def test_keyword_only():
    with pytest.raises(TypeError):
        KmerTokenizer(6)


# --- real data ------------------------------------------------------------------------


def test_real_promoters(shared_data):
    path = shared_data / "promoters" / "gue_prom_core_all" / "dev.csv"
    if not path.exists():
        pytest.skip(f"{path} is absent")
    with open(path, newline="") as handle:
        seqs = [row["sequence"] for row in itertools.islice(csv.DictReader(handle), 500)]
    tok = KmerTokenizer(k=6, add_cls=True)
    ids = tok.encode(seqs)
    assert ids.shape == (500, 1 + 70 - 6 + 1)  # GUE core promoters are 70 bp
    assert ids.tolist() == reference_ids(seqs, 6, 1, True)
    assert tok.decode(ids) == [s.upper() for s in seqs]
