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


# -- building a per-base dataset ----------------------------------------------------------------------------------


def genome_line(chrom, start, end, strand, tx, gene=None, extra="") -> str:
    gene = gene or tx
    return f'{chrom}\tt\texon\t{start}\t{end}\t.\t{strand}\t.\tgene_id "{gene}"; transcript_id "{tx}";{extra}\n'


@pytest.fixture(scope="module")
def genome(tmp_path_factory):
    """Three 3 kb contigs, each with a '+' intron [600, 800) (GT..AG) and a '-' intron [2000, 2200) (CT..AC on '+')."""
    rng = np.random.default_rng(5)
    folder = tmp_path_factory.mktemp("per_base")
    fasta, gtf = [], []
    for c in ("chr1", "chr2", "chr3"):
        seq = list(rng.choice(list("ACGT"), 3000))
        seq[600:602], seq[798:800] = "GT", "AG"
        seq[2000:2002], seq[2198:2200] = "CT", "AC"
        fasta.append(f">{c}\n{''.join(seq)}\n")
        gtf += [
            genome_line(c, 401, 600, "+", f"{c}p"),
            genome_line(c, 801, 1000, "+", f"{c}p"),
            genome_line(c, 1801, 2000, "-", f"{c}m"),
            genome_line(c, 2201, 2400, "-", f"{c}m"),
        ]
    (folder / "g.fa").write_text("".join(fasta))
    (folder / "g.gtf").write_text("".join(gtf))
    return folder / "g.fa", folder / "g.gtf"


def build(genome, out, annotation=True, **options):
    from bioseq.datasets.per_base import PerBaseOptions, build_per_base
    from bioseq.datasets.per_base_store import open_per_base
    from bioseq.io.reference import Reference

    fasta, gtf = genome
    options = {
        "window": 100,
        "context": 20,
        "test_chroms": ("chr2",),
        "valid_chroms": ("chr3",),
        "site_windows": 1,
        **options,
    }
    bam = options.pop("bam", None)
    with Reference(fasta) as reference:
        meta = build_per_base(
            reference, read_gtf(gtf) if annotation else None, out, options=PerBaseOptions(**options), bam=bam
        )
    return meta, open_per_base(out)


def test_per_base_examples_read_5_to_3_on_their_strand_with_hand_checked_labels(genome, tmp_path):
    from bioseq.alphabet import A, G, T

    meta, ds = build(genome, tmp_path / "DS")
    assert ds.classes == SITE_CLASSES and (ds.window, ds.context) == (100, 20)
    test = ds.splits["test"]
    # chr2's '+' gene spans [400, 1000) and its '-' gene [1800, 2400): 6 tiles of 100 on each strand.
    assert len(test) == 12 and meta["splits"]["test"]["labels"] == {"neither": 1196, "acceptor": 2, "donor": 2}
    row = {region: i for i, region in enumerate(test.regions)}
    plus_donor = row["chr2:590-710(+)"]  # labelled bases [600, 700): the donor G at 600 is label 0
    assert test.labels[plus_donor, 0] == 2 and test.labels[plus_donor].sum() == 2
    assert test.codes[plus_donor, 10:12].tolist() == [G, T]
    plus_acceptor = row["chr2:690-810(+)"]  # the acceptor G at 799 is label 99
    assert test.labels[plus_acceptor, 99] == 1 and test.codes[plus_acceptor, 108:110].tolist() == [A, G]
    minus_donor = row["chr2:2090-2210(-)"]  # labelled [2100, 2200) read from 2199 down: the donor at 2199 is label 0
    assert test.labels[minus_donor, 0] == 2 and test.labels[minus_donor].sum() == 2
    assert test.codes[minus_donor, 10:12].tolist() == [G, T]  # AC on '+' reads GT on '-'
    minus_acceptor = row["chr2:1990-2110(-)"]  # labelled [2000, 2100): the acceptor at 2000 is label 99
    assert test.labels[minus_acceptor, 99] == 1 and test.codes[minus_acceptor, 108:110].tolist() == [A, G]
    assert set(ds.splits["train"].regions) and all(r.startswith("chr1:") for r in ds.splits["train"].regions)
    assert all(r.startswith("chr3:") for r in ds.splits["valid"].regions)
    assert meta["sampling"]["windows"]["site"] == 4 and meta["splits"]["train"]["labels"]["donor"] >= 2


def test_per_base_is_deterministic_by_seed(genome, tmp_path):
    _, first = build(genome, tmp_path / "a", seed=3)
    _, again = build(genome, tmp_path / "b", seed=3)
    _, other = build(genome, tmp_path / "c", seed=4)
    assert first.splits["train"].regions == again.splits["train"].regions != other.splits["train"].regions
    np.testing.assert_array_equal(first.splits["train"].codes, again.splits["train"].codes)


def test_per_base_sole_labels_from_rna_seq_junctions(genome, tmp_path):
    """Reads spliced over chr1's '+' intron and chr2's '-' intron (XS tags): their sites, and no others."""
    sam = tmp_path / "reads.sam"
    header = "".join(f"@SQ\tSN:{c}\tLN:3000\n" for c in ("chr1", "chr2", "chr3"))
    reads = [
        f"r{i}\t0\t{chrom}\t{start}\t60\t20M{intron}N20M\t*\t0\t0\t{'A' * 40}\t*\tXS:A:{strand}\n"
        for i, (chrom, start, intron, strand) in enumerate(
            [("chr1", 581, 200, "+")] * 3 + [("chr2", 1981, 200, "-")] * 3 + [("chr3", 581, 200, "+")]
        )
    ]
    sam.write_text(header + "".join(reads))
    meta, ds = build(genome, tmp_path / "DS", annotation=False, bam=sam, valid_fraction=0, valid_chroms=None)
    assert meta["splits"]["test"]["labels"]["donor"] == 1 and meta["splits"]["test"]["labels"]["acceptor"] == 1
    assert meta["splits"]["valid"]["n"] == 0 and meta["sampling"]["windows"]["site"] == 2  # chr3: 1 read only
    test = ds.splits["test"]  # the junction's "gene" spans [1999, 2201): tiles [1999, 2099), [2099, 2199), ...
    assert test.regions[:3] == ("chr2:1989-2109(-)", "chr2:2089-2209(-)", "chr2:2189-2309(-)")
    assert test.labels[0, 2098 - 2000] == 1 and test.labels[2, 2298 - 2199] == 2


def test_select_transcripts_canonical_and_biotype(tmp_path):
    gtf = tmp_path / "a.gtf"
    gtf.write_text(
        genome_line("chr1", 101, 200, "+", "long", "G1", ' transcript_biotype "protein_coding";')
        + genome_line("chr1", 301, 500, "+", "long", "G1", ' transcript_biotype "protein_coding";')
        + genome_line("chr1", 101, 200, "+", "short", "G1", ' transcript_biotype "protein_coding";')
        + genome_line("chr1", 401, 500, "+", "short", "G1", ' transcript_biotype "protein_coding";')
        + genome_line("chr1", 1001, 1100, "-", "nc", "G2", ' transcript_biotype "lncRNA";')
    )
    from bioseq.datasets.per_base import select_transcripts

    annotation = read_gtf(gtf)
    canonical = select_transcripts(annotation, transcripts="canonical")
    assert sorted(canonical.transcripts_by_id) == ["long", "nc"]
    coding = select_transcripts(annotation, biotype="Protein_Coding")
    assert sorted(coding.transcripts_by_id) == ["long", "short"] and list(coding.genes_by_id) == ["G1"]
    assert len(select_transcripts(annotation, biotype="all")) == 3
    with pytest.raises(InputError, match=r"biotype 'snRNA' \(the annotation's biotypes: lncrna, protein_coding\)"):
        select_transcripts(annotation, biotype="snRNA")
    with pytest.raises(InputError, match="transcripts must be one of"):
        select_transcripts(annotation, transcripts="longest")


def test_dm6_test_split_holds_every_site_of_chr2r(shared_data, tmp_path):
    """On the real fly genome, the chr2R test tiles label exactly the sites site_labels gives for chr2R."""
    from bioseq.datasets.per_base import PerBaseOptions, build_per_base
    from bioseq.io.reference import Reference

    folder = shared_data / "genomes" / "dm6_small"
    if not (folder / "dm6.small.gtf").is_file():
        pytest.skip("genomes/dm6_small is absent")
    annotation = read_gtf(folder / "dm6.small.gtf")
    with Reference(folder / "dm6.small.fa") as reference:
        meta = build_per_base(reference, annotation, tmp_path / "DS", options=PerBaseOptions(test_chroms=("chr2R",)))
        length = reference.length("chr2R")
    both = np.concatenate([site_labels(annotation, "chr2R", length, strand=s) for s in "+-"])
    test = meta["splits"]["test"]
    assert test["labels"]["donor"] == int((both == 2).sum()) > 0
    assert test["labels"]["acceptor"] == int((both == 1).sum()) > 0
    assert test["contigs"] == ["chr2R"] and meta["splits"]["train"]["contigs"] == ["chr2L"]
    assert meta["splits"]["valid"]["labels"]["donor"] > 0 and meta["sampling"]["sites"] > 300
