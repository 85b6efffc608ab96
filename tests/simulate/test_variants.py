"""Tests for bioseq.simulate.variants: labelled control variants at annotated splice sites, VCF and TSV."""

from __future__ import annotations

import numpy as np
import pysam
import pytest

from bioseq.datasets.per_base import site_labels
from bioseq.errors import InputError
from bioseq.io.gff import read_annotation
from bioseq.io.reference import Reference
from bioseq.io.variants import read_variants
from bioseq.simulate.variants import (
    CATEGORIES,
    DISRUPTING,
    SimulatedVariant,
    chr_aliases,
    splice_variants,
    write_labels,
    write_vcf,
)

# chr1 (12 kb): gene "plus" (+, exons 1000-1100, 1200-1300, 1400-1500) and gene "minus" (-, exons
# 3000-3100, 3200-3300, 3400-3500), 0-based half-open. chr2 (3 kb): no gene, its first 1 kb is N.
# Genome-strand dinucleotides planted (0-based starts):
#   plus  donors 1100 GT, 1300 GT; acceptors 1198 AG, 1398 AG
#   minus intron 3100-3200: donor at its end 3198 "AC" (GT on -), acceptor at its start 3100 "CT" (AG on -)
#   minus intron 3300-3400: donor 3398 "AT" (AT on -: non-canonical, skipped), acceptor 3300 "CT"
PLANTED = {1100: "GT", 1300: "GT", 1198: "AG", 1398: "AG", 3198: "AC", 3100: "CT", 3398: "AT", 3300: "CT"}
GENES = {"plus": (1000, 1500), "minus": (3000, 3500)}


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("variants")
    rng = np.random.default_rng(7)
    chr1 = list("".join(rng.choice(list("ACGT"), size=12_000)))
    for start, pair in PLANTED.items():
        chr1[start : start + 2] = pair
    chr2 = "N" * 1000 + "".join(rng.choice(list("ACGT"), size=2000))
    fasta = folder / "genome.fa"
    fasta.write_text(">chr1\n" + "".join(chr1) + "\n>chr2\n" + chr2 + "\n")
    gtf = []
    for gene, strand, exons in (
        ("plus", "+", [(1000, 1100), (1200, 1300), (1400, 1500)]),
        ("minus", "-", [(3000, 3100), (3200, 3300), (3400, 3500)]),
    ):
        for s, e in exons:
            attrs = f'gene_id "{gene}"; transcript_id "{gene}.1";'
            gtf.append(f"chr1\ttest\texon\t{s + 1}\t{e}\t.\t{strand}\t.\t{attrs}")
    annotation = folder / "genes.gtf"
    annotation.write_text("\n".join(gtf) + "\n")
    return fasta, annotation


@pytest.fixture(scope="module")
def reference(files):
    with Reference(files[0]) as ref:
        yield ref


@pytest.fixture(scope="module")
def genome(reference) -> dict[str, str]:
    return {name: reference.fetch(name).upper() for name in reference.references}


@pytest.fixture(scope="module")
def drawn(files, reference):
    return splice_variants(reference, files[1], seed=3)


def _apply(seq: str, v: SimulatedVariant) -> str:
    assert seq[v.start : v.end] == v.ref
    return seq[: v.start] + v.alt + seq[v.end :]


def test_counts_and_skipped_site(drawn):
    # 7 canonical sites (the AT donor of the minus gene is skipped), one variant per site and category
    assert drawn.skipped == {"non_canonical_donor": 1}
    assert drawn.counts() == {
        "donor_disrupting": 3,
        "acceptor_disrupting": 4,
        "site_deletion": 7,
        "site_insertion": 7,
        "near_preserving": 7,
        "intergenic": 7,
    }
    assert all(v.site != 3399 for v in drawn)  # the skipped site's labelled base
    assert drawn == sorted(drawn, key=lambda v: (v.chrom, v.start, v.ref, v.alt))


def test_ref_is_the_genome_never_n(drawn, genome):
    for v in drawn:
        assert genome[v.chrom][v.start : v.end] == v.ref and "N" not in v.ref, v
        assert set(v.alt) <= set("ACGT") and v.alt != v.ref


FIRST = {1100: 1100, 1300: 1300, 1199: 1198, 1399: 1398, 3199: 3198, 3100: 3100, 3300: 3300}
"""Labelled base of each canonical site -> genome start of its dinucleotide."""


def _revcomp(seq: str) -> str:
    return seq.translate(str.maketrans("ACGT", "TGCA"))[::-1]


def test_disrupting_snvs_hand_checked(files, reference, genome):
    g, seen = genome["chr1"], set()
    for seed in range(6):
        for v in splice_variants(reference, files[1], seed=seed):
            if v.category not in ("donor_disrupting", "acceptor_disrupting"):
                continue
            seen.add((v.site, v.start, v.ref))
            first = FIRST[v.site]
            assert v.start in (first, first + 1) and g[v.start] == v.ref
            pair = _apply(g, v)[first : first + 2]
            on_strand = pair if v.strand == "+" else _revcomp(pair)
            assert on_strand not in (("GT", "GC") if v.category == "donor_disrupting" else ("AG",)), v
    # minus donor: genome AC at 3198-3199; the C (3199) is the complement of GT's G, the A of its T
    assert {(s, r) for site, s, r in seen if site == 3199} == {(3199, "C"), (3198, "A")}
    # minus acceptor: genome CT at 3100-3101; the C (3100) is the complement of AG's G, the T of its A
    assert {(s, r) for site, s, r in seen if site == 3100} == {(3100, "C"), (3101, "T")}
    # plus donor at 1100: the G is the site itself, the T after it
    assert {(s, r) for site, s, r in seen if site == 1100} == {(1100, "G"), (1101, "T")}


def test_site_labels_agree(drawn, files, reference):
    # the labelled base of every site variant is where bioseq.datasets.per_base puts its class
    annotation = read_annotation(files[1])
    labels = {s: site_labels(annotation, "chr1", reference.length("chr1"), strand=s) for s in "+-"}
    for v in drawn:
        if v.category in ("donor_disrupting", "acceptor_disrupting"):
            assert labels[v.strand][v.site] == (2 if v.category == "donor_disrupting" else 1), v


def test_indels_destroy_the_dinucleotide(drawn, genome):
    sites = {1100: "GT", 1300: "GT", 1199: "AG", 1399: "AG", 3199: "AC", 3100: "CT", 3300: "CT"}
    indels = [v for v in drawn if v.category in ("site_deletion", "site_insertion")]
    assert {v.site for v in indels} <= set(sites) and len(indels) == 14
    g = genome["chr1"]
    for v in indels:
        first = FIRST[v.site]
        assert v.ref[0] == v.alt[0] and len(v.ref) != len(v.alt)  # VCF anchor base
        if v.category == "site_deletion":
            assert 1 <= len(v.ref) - 1 <= 3 and v.start + 1 < first + 2 and v.end > first  # overlaps the pair
        else:
            assert v.start == first and 1 <= len(v.alt) - 1 <= 3  # inserted between the two bases
        near = g[v.start - 1 : v.start] + v.alt + g[v.end : v.end + 2]
        assert sites[v.site] not in near, v


def test_near_preserving_keeps_every_site(drawn, genome):
    bases = sorted(s + i for s in PLANTED for i in (0, 1))
    for v in (v for v in drawn if v.category == "near_preserving"):
        assert len(v.ref) == len(v.alt) == 1
        assert 10 <= min(abs(v.start - b) for b in bases) and 10 <= abs(v.start - v.site) <= 31
        low, high = GENES[v.gene]
        assert low <= v.start < high
        edited = _apply(genome["chr1"], v)
        assert all(edited[s : s + 2] == pair for s, pair in PLANTED.items())
        motifs = ("GT", "AG") if v.strand == "+" else ("AC", "CT")
        assert not any(m in edited[v.start - 1 : v.start + 2] for m in motifs)  # no new site next to it


def test_intergenic_far_from_genes(drawn):
    assert drawn.intergenic_distance == 5000
    for v in (v for v in drawn if v.category == "intergenic"):
        assert v.gene == "" and v.strand == "." and v.site is None
        if v.chrom == "chr1":
            assert v.start >= 3500 + 4999  # at least 5,000 bp past the last gene end (distance 1 = next to it)
        else:
            assert v.start >= 1000  # not in chr2's N run


def test_intergenic_distance_falls_back(files, reference):
    few = splice_variants(reference, files[1], contigs=["chr1"], n_intergenic=50, min_gene_distance=20_000)
    reached = few.intergenic_distance
    assert 1 <= reached < 20_000 and few.counts()["intergenic"] == 50
    for v in (v for v in few if v.category == "intergenic"):
        assert v.start >= 3500 + reached - 1 or v.start <= 1000 - reached


def test_seed_and_counts(files, reference, drawn):
    assert splice_variants(reference, files[1], seed=3) == drawn
    assert splice_variants(reference, files[1], seed=4) != drawn
    two = splice_variants(reference, files[1], seed=3, n_per_category=2, n_intergenic=1)
    assert two.counts() == dict.fromkeys(DISRUPTING + ("near_preserving",), 2) | {"intergenic": 1}
    assert list(two.counts()) == list(CATEGORIES)


def test_vcf_round_trip_with_test_records(drawn, reference, tmp_path):
    path = tmp_path / "v.vcf"
    alias = chr_aliases(reference.references)
    assert alias == {"chr1": "1", "chr2": "2"}
    written = write_vcf(drawn, path, reference=reference, contig_alias=alias, mismatch=2, multiallelic=3, seed=1)
    categories = [v.category for v in written]
    assert categories.count("ref_mismatch") == 2 and categories.count("multiallelic") == 3
    assert len(written) == len(drawn) + 5
    reader = read_variants(path, reference=reference)
    got = list(reader)
    assert reader.counts.ref_mismatch == 2 and reader.counts.unknown_contig == 0
    assert len(got) == len(written) - 2 == reader.counts.yielded
    assert {v.chrom for v in got} <= {"1", "2"} and {v.contig for v in got} <= {"chr1", "chr2"}
    assert sum(v.allele == 2 for v in got) >= 3  # the multi-allelic records
    keep = [v for v in written if v.category != "ref_mismatch"]
    assert [(v.contig, v.start, v.ref, v.alt) for v in got] == [(w.chrom, w.start, w.ref, w.alt) for w in keep]
    with pysam.VariantFile(str(path)) as vcf:
        assert list(vcf.header.contigs) == ["1", "2"] and vcf.header.contigs["1"].length == 12_000
        info = {(r.pos, a): (r.info["CATEGORY"][i], r.info["STRAND"][i]) for r in vcf for i, a in enumerate(r.alts)}
    v = next(v for v in written if v.category == "donor_disrupting")
    assert info[v.pos, v.alt] == ("donor_disrupting", v.strand)


def test_vcf_gz_is_indexed_and_labels_match(drawn, reference, tmp_path):
    path = tmp_path / "v.vcf.gz"
    written = write_vcf(drawn, path, reference=reference)
    assert (tmp_path / "v.vcf.gz.tbi").exists()
    with pysam.VariantFile(str(path)) as vcf:
        region = [r.pos for r in vcf.fetch("chr1", 1000, 1500)]
    assert region and region == sorted(
        pos for pos, _ in {(w.pos, w.ref) for w in written if w.chrom == "chr1" and 1000 <= w.start < 1500}
    )
    labels = tmp_path / "v.tsv"
    write_labels(written, labels, contig_alias={"chr1": "1"})
    rows = [line.split("\t") for line in labels.read_text().splitlines()]
    assert rows[0][:5] == ["chrom", "pos", "ref", "alt", "category"] and len(rows) == len(written) + 1
    assert {r[0] for r in rows[1:]} <= {"1", "chr2"}
    donor = next(r for r in rows[1:] if r[4] == "donor_disrupting")
    assert donor[7] and int(donor[7]) - 1 in (1100, 1300, 3199)  # 1-based site


def test_bad_input_is_refused(drawn, reference, files, tmp_path):
    wrong = SimulatedVariant("chr1", 1100, "A", "C", "donor_disrupting")  # the genome has G
    with pytest.raises(InputError, match="has REF 'A' but the genome has 'G'"):
        write_vcf([wrong], tmp_path / "x.vcf", reference=reference)
    with pytest.raises(InputError, match="only 2 SNVs to copy"):
        write_vcf(
            [v for v in drawn if v.category == "intergenic"][:2], tmp_path / "x.vcf", reference=reference, mismatch=3
        )
    with pytest.raises(InputError, match="given twice"):
        write_vcf([drawn[0], drawn[0]], tmp_path / "x.vcf", reference=reference)
    with pytest.raises(InputError, match="no canonical GT/AG splice site on chr2"):
        splice_variants(reference, files[1], contigs=["chr2"])
    with pytest.raises(InputError, match="per category must be >= 0"):
        splice_variants(reference, files[1], n_per_category=-1)
    with pytest.raises(InputError, match="category must be one of"):
        SimulatedVariant("chr1", 5, "A", "C", "other")
    assert not list(tmp_path.iterdir())  # nothing written


def test_dm6_chr2r_donors_match_genome_and_annotation(shared_data):
    folder = shared_data / "genomes" / "dm6_small"
    if not (folder / "dm6.small.gtf").exists():
        pytest.skip("genomes/dm6_small is absent")
    annotation = read_annotation(folder / "dm6.small.gtf")
    with Reference(folder / "dm6.small.fa") as ref:
        drawn = splice_variants(ref, annotation, contigs=["chr2R"], n_intergenic=20)
        length = ref.length("chr2R")
        labels = {s: site_labels(annotation, "chr2R", length, strand=s) for s in "+-"}
        donors = [v for v in drawn if v.category == "donor_disrupting"]
        assert len(donors) == 20 and drawn.skipped == {}  # chr2R: 20 donors, all GT
        for v in donors:
            assert ref.fetch("chr2R", v.start, v.end).upper() == v.ref and labels[v.strand][v.site] == 2
            genome_pair = (v.site, v.site + 1) if v.strand == "+" else (v.site - 1, v.site)
            assert v.start in genome_pair
            pair = ref.fetch("chr2R", genome_pair[0], genome_pair[1] + 1, strand=v.strand).upper()
            assert pair == "GT"
