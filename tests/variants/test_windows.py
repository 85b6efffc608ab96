"""Tests of bioseq.variants.windows: hand-checked allele windows, contig ends, strands."""

from __future__ import annotations

import numpy as np
import pytest

from bioseq.codes import decode_one
from bioseq.errors import InputError
from bioseq.io.reference import Reference
from bioseq.io.variants import Variant
from bioseq.variants.windows import allele_windows

GENOME = "ACGTACGGTTAACCGGTTAA"  # chr1, 20 bp


@pytest.fixture()
def reference(tmp_path):
    path = tmp_path / "g.fa"
    path.write_text(f">chr1\n{GENOME}\n")
    with Reference(path) as ref:
        yield ref


def variant(start: int, ref: str, alt: str) -> Variant:
    return Variant(chrom="chr1", contig="chr1", start=start, ref=ref, alt=alt, id=None, allele=1, record=1, line=1)


def text(codes: np.ndarray) -> str:
    return decode_one(codes)


@pytest.mark.parametrize(
    ("start", "ref", "alt", "want_ref", "want_alt"),
    [
        (6, "G", "T", "GTACGGTTA", "GTACTGTTA"),  # SNV: flank 1 + distance 3 on each side
        (6, "GG", "G", "GTACGGTTAA", "GTACGTTAA"),  # deletion: one base fewer in ALT
        (6, "G", "GCA", "GTACGGTTA", "GTACGCAGTTA"),  # insertion
    ],
)
def test_windows_are_the_genome_with_the_allele_swapped(reference, start, ref, alt, want_ref, want_alt):
    assert GENOME[start : start + len(ref)] == ref
    got_ref, got_alt = allele_windows(reference, variant(start, ref, alt), flank=1, distance=3)
    assert (text(got_ref), text(got_alt)) == (want_ref, want_alt)
    assert got_ref.dtype == got_alt.dtype == np.uint8
    assert len(got_ref) == 2 * (1 + 3) + len(ref) and len(got_alt) == 2 * (1 + 3) + len(alt)


def test_windows_past_the_contig_start_are_n_padded(reference):
    got_ref, got_alt = allele_windows(reference, variant(1, "C", "A"), flank=2, distance=2)
    assert text(got_ref) == "NNNACGTAC" and text(got_alt) == "NNNAAGTAC"  # [-3, 6): 3 N, then the genome


def test_the_minus_strand_reverse_complements_both(reference):
    plus = allele_windows(reference, variant(6, "G", "GCA"), flank=1, distance=3)
    minus = allele_windows(reference, variant(6, "G", "GCA"), flank=1, distance=3, strand="-")
    for a, b in zip(plus, minus):
        assert text(b) == text(a)[::-1].translate(str.maketrans("ACGTN", "TGCAN"))


def test_bad_arguments(reference):
    with pytest.raises(InputError, match="flank must be an integer >= 0"):
        allele_windows(reference, variant(6, "G", "T"), flank=-1, distance=3)
    with pytest.raises(InputError, match="strand must be"):
        allele_windows(reference, variant(6, "G", "T"), flank=1, distance=3, strand="+-")
