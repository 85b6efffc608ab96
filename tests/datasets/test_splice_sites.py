"""Tests of bioseq.datasets.splice_sites (real donor/acceptor windows against GT/AG decoys)."""

from __future__ import annotations

import collections
from pathlib import Path

import numpy as np
import pysam
import pytest

from bioseq.datasets.splice_sites import splice_site_dataset
from bioseq.errors import InputError
from bioseq.io.gff import read_gtf
from bioseq.io.reference import Reference

RC = str.maketrans("ACGTN", "TGCAN")


def rc(seq: str) -> str:
    return seq.translate(RC)[::-1]


def gtf_line(chrom, start, end, strand, gene, tx) -> str:
    """One GTF exon line; start/end are 1-based inclusive as in the file."""
    return f'{chrom}\tt\texon\t{start}\t{end}\t.\t{strand}\t.\tgene_id "{gene}"; transcript_id "{tx}";\n'


def plant(seq: str, at: int, motif: str) -> str:
    return seq[:at] + motif + seq[at + len(motif) :]


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    """chr1 (600 bp): '+' tx1, exons [100,150) [200,260): donor GT at [150,152), acceptor AG at [198,200);
    '-' tx2, exons [300,340) [380,450): donor at [378,380) (genome AC = GT on '-'), acceptor at [340,342)
    (genome CT = AG on '-'). chr2 (1,000 bp): an unannotated intron [400,460) with GT..AG, for the BAM."""
    rng = np.random.default_rng(11)
    chr1 = "".join(rng.choice(list("ACGT"), 600))
    for at, motif in ((150, "GT"), (198, "AG"), (378, "AC"), (340, "CT")):
        chr1 = plant(chr1, at, motif)
    chr2 = plant(plant("".join(rng.choice(list("ACGT"), 1000)), 400, "GT"), 458, "AG")
    genome = {"chr1": chr1, "chr2": chr2}
    folder = tmp_path_factory.mktemp("splice")
    fasta = folder / "tiny.fa"
    fasta.write_text("".join(f">{name}\n{seq}\n" for name, seq in genome.items()))
    gtf = folder / "tiny.gtf"
    gtf.write_text(
        gtf_line("chr1", 101, 150, "+", "g1", "tx1")
        + gtf_line("chr1", 201, 260, "+", "g1", "tx1")
        + gtf_line("chr1", 301, 340, "-", "g2", "tx2")
        + gtf_line("chr1", 381, 450, "-", "g2", "tx2")
    )
    with Reference(fasta) as ref:
        yield ref, read_gtf(gtf), genome, folder


def spliced_bam(path: Path, reads: list[tuple[str, int, str, str]]) -> Path:
    """A sorted, indexed BAM of 20M<gap>N20M reads: (contig, 0-based start, CIGAR, XS strand)."""
    header = {"HD": {"VN": "1.6", "SO": "coordinate"}, "SQ": [{"SN": "chr1", "LN": 600}, {"SN": "chr2", "LN": 1000}]}
    with pysam.AlignmentFile(path, "wb", header=header) as out:
        for i, (contig, start, cigar, strand) in enumerate(sorted(reads, key=lambda r: (r[0], r[1]))):
            read = pysam.AlignedSegment(out.header)
            read.query_name, read.reference_name, read.reference_start = f"r{i}", contig, start
            read.cigarstring, read.mapping_quality, read.flag = cigar, 60, 0
            read.query_sequence, read.query_qualities = "A" * 40, pysam.qualitystring_to_array("I" * 40)
            read.set_tag("XS", strand)
            out.write(read)
    pysam.index(str(path))
    return path


def centre(seq: str) -> str:
    return seq[len(seq) // 2 - 1 : len(seq) // 2 + 1]


def test_donor_and_acceptor_windows_have_the_dinucleotide_at_the_centre(tiny):
    ref, annotation, genome, _ = tiny
    donors = splice_site_dataset(ref, annotation, site="donor", length=10, min_distance=5)
    real = [(n, s) for n, s, y in zip(donors.names, donors.sequences, donors.labels.tolist()) if y == 1]
    # '+' donor [150,152): window [150 + 1 - 5, 156) = [146,156); '-' donor [378,380): [374,384) reverse-complemented.
    assert real == [("chr1:146-156(+)", genome["chr1"][146:156]), ("chr1:374-384(-)", rc(genome["chr1"][374:384]))]
    assert [centre(s) for _, s in real] == ["GT", "GT"]
    acceptors = splice_site_dataset(ref, annotation, site="acceptor", length=10, min_distance=5)
    real = [(n, s) for n, s, y in zip(acceptors.names, acceptors.sequences, acceptors.labels.tolist()) if y == 1]
    # '+' acceptor [198,200): [194,204); '-' acceptor [340,342): [336,346).
    assert [n for n, _ in real] == ["chr1:194-204(+)", "chr1:336-346(-)"]
    assert [centre(s) for _, s in real] == ["AG", "AG"]
    assert donors.classes == ("decoy_donor", "donor") and acceptors.classes == ("decoy_acceptor", "acceptor")


@pytest.mark.parametrize("site, motif", [("donor", "GT"), ("acceptor", "AG")])
def test_decoys_carry_the_motif_far_from_every_real_site(tiny, site, motif):
    ref, annotation, _, _ = tiny
    data = splice_site_dataset(ref, annotation, site=site, length=20, decoys_per_site=3, min_distance=30, seed=4)
    decoys = [(n, s) for n, s, y in zip(data.names, data.sequences, data.labels.tolist()) if y == 0]
    assert len(decoys) == 6 and len({n for n, _ in decoys}) == 6  # 3 per real site, no repeats
    real_sites = [150, 198, 378, 340]  # every real site of either kind and strand
    for name, seq in decoys:
        assert centre(seq) == motif and "N" not in seq
        chrom, rest = name.split(":")
        start = int(rest.split("-")[0])
        p = start + 20 // 2 - 1  # the dinucleotide's genome start
        assert 0 <= start and start + 20 <= ref.length(chrom)
        assert chrom != "chr1" or min(abs(p - s) for s in real_sites) >= 30
    same = splice_site_dataset(ref, annotation, site=site, length=20, decoys_per_site=3, min_distance=30, seed=4)
    assert same.names == data.names  # deterministic for a seed


def test_both_sites_give_three_classes(tiny):
    ref, annotation, _, _ = tiny
    data = splice_site_dataset(ref, annotation, site="both", length=20, decoys_per_site=2, min_distance=20)
    assert data.classes == ("acceptor", "decoy", "donor") and data.task == "multiclass"
    counts = collections.Counter(data.classes[i] for i in data.labels.tolist())
    assert counts == {"acceptor": 2, "donor": 2, "decoy": 8}  # 2 decoys per site of each kind
    motifs = collections.Counter(centre(s) for s, y in zip(data.sequences, data.labels.tolist()) if y == 1)
    assert motifs == {"GT": 4, "AG": 4}


def test_junctions_from_a_bam_alone_and_united_with_the_annotation(tiny, tmp_path):
    ref, annotation, genome, _ = tiny
    # 3 reads splice chr2 [400,460) ('+'); 1 read splices chr1 [150,200), the annotated tx1 intron.
    bam = spliced_bam(tmp_path / "rna.bam", [("chr2", 380, "20M60N20M", "+")] * 3 + [("chr1", 130, "20M50N20M", "+")])
    only = splice_site_dataset(ref, bam=bam, min_support=3, site="donor", length=10, min_distance=5)
    assert [n for n, y in zip(only.names, only.labels.tolist()) if y == 1] == ["chr2:396-406(+)"]
    assert centre(only.sequences[0]) == "GT"
    united = splice_site_dataset(ref, annotation, bam=bam, min_support=1, site="acceptor", length=10, min_distance=5)
    # annotated [198,200) and [340,342) (the chr1 junction adds nothing new), plus chr2's [458,460).
    assert [n for n, y in zip(united.names, united.labels.tolist()) if y == 1] == [
        "chr1:194-204(+)",
        "chr1:336-346(-)",
        "chr2:454-464(+)",
    ]


def test_bad_input_raises_one_clear_error(tiny):
    ref, annotation, _, _ = tiny
    with pytest.raises(InputError, match="need an annotation, RNA-seq alignments"):
        splice_site_dataset(ref)
    with pytest.raises(InputError, match="length must be even.*Pass 12 or 10"):
        splice_site_dataset(ref, annotation, length=11)
    with pytest.raises(InputError, match="site must be one of donor, acceptor, both"):
        splice_site_dataset(ref, annotation, site="branchpoint")
    with pytest.raises(InputError, match=r"GT positions .* but 2,000 donor decoys.*Lower decoys_per_site"):
        splice_site_dataset(ref, annotation, decoys_per_site=1000)
    gtf_single_exon = read_gtf_text('chr1\tt\texon\t101\t150\t.\t+\t.\tgene_id "g"; transcript_id "t";\n')
    with pytest.raises(InputError, match="no donor site was found in the annotation"):
        splice_site_dataset(ref, gtf_single_exon)


def read_gtf_text(text: str):
    import io

    return read_gtf(io.BytesIO(text.encode()))


def test_dm6_splice_sites(shared_data: Path):
    folder = shared_data / "genomes" / "dm6_small"
    if not (folder / "dm6.small.fa").exists():
        pytest.skip("dm6_small is absent")
    annotation = read_gtf(folder / "dm6.small.gtf")
    with Reference(folder / "dm6.small.fa") as ref:
        both = splice_site_dataset(ref, annotation, site="both")
        from_reads = splice_site_dataset(ref, bam=folder / "sample1.tiny.paired.dm6small.bam", site="donor")
    labels = [both.classes[i] for i in both.labels.tolist()]
    # 497 distinct annotated donor and 472 acceptor sites, and as many decoys.
    assert collections.Counter(labels) == {"donor": 497, "acceptor": 472, "decoy": 969}
    donor_gt = np.mean([centre(s) == "GT" for s, y in zip(both.sequences, labels) if y == "donor"])
    acceptor_ag = np.mean([centre(s) == "AG" for s, y in zip(both.sequences, labels) if y == "acceptor"])
    assert donor_gt > 0.95 and acceptor_ag > 0.95  # 490/497 GT (6 GC, 1 AT), 471/472 AG
    # junctions with >= 3 reads: 12 donor sites, all of them annotated
    annotated = {n for n, y in zip(both.names, labels) if y == "donor"}
    junction_sites = [n for n, y in zip(from_reads.names, from_reads.labels.tolist()) if y == 1]
    assert len(junction_sites) == 12
    assert np.mean([n in annotated for n in junction_sites]) > 0.9
