"""Tests of bioseq.datasets.per_base: hand-checked per-base site labels, both strands, and real dm6 sites."""

from __future__ import annotations

import numpy as np
import pytest

from bioseq.datasets.per_base import SITE_CLASSES, site_labels
from bioseq.errors import InputError
from bioseq.io.gff import read_gtf

# '+' T1: exons [100, 200), [300, 400), [500, 600) (0-based): introns [200, 300) and [400, 500).
# '-' T2: exons [1000, 1100), [1800, 1900): intron [1100, 1800), read from 1900 downwards.
GTF = (
    'chr1\tt\texon\t101\t200\t.\t+\t.\tgene_id "G1"; transcript_id "T1";\n'
    'chr1\tt\texon\t301\t400\t.\t+\t.\tgene_id "G1"; transcript_id "T1";\n'
    'chr1\tt\texon\t501\t600\t.\t+\t.\tgene_id "G1"; transcript_id "T1";\n'
    'chr1\tt\texon\t1001\t1100\t.\t-\t.\tgene_id "G2"; transcript_id "T2";\n'
    'chr1\tt\texon\t1801\t1900\t.\t-\t.\tgene_id "G2"; transcript_id "T2";\n'
)


@pytest.fixture()
def annotation(tmp_path):
    path = tmp_path / "a.gtf"
    path.write_text(GTF)
    return read_gtf(path)


def test_labels_sit_on_the_first_and_last_intron_base_of_each_strand(annotation):
    assert SITE_CLASSES == ("neither", "acceptor", "donor")
    plus = site_labels(annotation, "chr1", 2000, strand="+")
    assert plus.dtype == np.uint8 and plus.shape == (2000,)
    assert np.flatnonzero(plus == 2).tolist() == [200, 400]  # donors: first intron base
    assert np.flatnonzero(plus == 1).tolist() == [299, 499]  # acceptors: last intron base
    minus = site_labels(annotation, "chr1", 2000, strand="-")
    assert np.flatnonzero(minus == 2).tolist() == [1799] and np.flatnonzero(minus == 1).tolist() == [1100]
    assert not site_labels(annotation, "chr2", 50, strand="+").any()  # no transcript there


def test_bad_arguments_and_a_site_past_the_contig(annotation):
    with pytest.raises(InputError, match="strand must be"):
        site_labels(annotation, "chr1", 2000, strand=".")
    with pytest.raises(InputError, match="past the end of the contig"):
        site_labels(annotation, "chr1", 1500, strand="-")


def test_dm6_donors_are_gt_and_acceptors_ag(shared_data):
    """On the real fly annotation, labelled bases carry the canonical dinucleotides (measured: >= 98 %)."""
    from bioseq.io.reference import Reference

    folder = shared_data / "genomes" / "dm6_small"
    if not (folder / "dm6.small.gtf").is_file():
        pytest.skip("genomes/dm6_small is absent")
    annotation = read_gtf(folder / "dm6.small.gtf")
    with Reference(folder / "dm6.small.fa") as reference:
        sequence = reference.fetch("chr2L").upper()
    plus = site_labels(annotation, "chr2L", len(sequence), strand="+")
    minus = site_labels(annotation, "chr2L", len(sequence), strand="-")
    donors = [sequence[i : i + 2] for i in np.flatnonzero(plus == 2)]
    acceptors = [sequence[i - 1 : i + 1] for i in np.flatnonzero(plus == 1)]
    minus_donors = [sequence[i - 1 : i + 1] for i in np.flatnonzero(minus == 2)]  # AC on +: GT on -
    assert len(donors) > 50 and len(minus_donors) > 50
    assert np.mean([d == "GT" for d in donors]) > 0.95
    assert np.mean([a == "AG" for a in acceptors]) > 0.95
    assert np.mean([d == "AC" for d in minus_donors]) > 0.95
