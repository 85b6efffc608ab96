"""Tests for bioseq.io.annotation (the model) and bioseq.io.gff (GTF/GFF3 readers)."""

from __future__ import annotations

import gzip
import io

import pysam
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bioseq.errors import InputError
from bioseq.io.annotation import Annotation, Gene, Transcript
from bioseq.io.bed import read_bed, write_bed
from bioseq.io.gff import read_annotation, read_gff3, read_gtf
from bioseq.io.interval import Interval

# Two genes on chr1 (GTF is 1-based inclusive: 101..200 is the 0-based (100, 200)).
# G1 '+': T1 with exons 101-200, 301-400, 501-600 (listed out of order), and
#         T3 with exons 101-200, 301-450 (shares T1's first intron and TSS).
# G2 '-': T2 with exons 1001-1100, 1801-1900.
GTF = """#!genome-build test
chr1\ttest\tgene\t101\t600\t.\t+\t.\tgene_id "G1"; gene_name "One"; gene_biotype "protein_coding";
chr1\ttest\texon\t501\t600\t.\t+\t.\tgene_id "G1"; transcript_id "T1"; gene_name "One"; transcript_biotype "protein_coding";
chr1\ttest\texon\t101\t200\t.\t+\t.\tgene_id "G1"; transcript_id "T1";
chr1\ttest\tCDS\t151\t200\t.\t+\t0\tgene_id "G1"; transcript_id "T1";
chr1\ttest\texon\t301\t400\t.\t+\t.\tgene_id "G1"; transcript_id "T1";
chr1\ttest\texon\t1801\t1900\t.\t-\t.\tgene_id "G2"; transcript_id "T2";
chr1\ttest\texon\t1001\t1100\t.\t-\t.\tgene_id "G2"; transcript_id "T2";
chr1\ttest\texon\t101\t200\t.\t+\t.\tgene_id "G1"; transcript_id "T3";
chr1\ttest\texon\t301\t450\t.\t+\t.\tgene_id "G1"; transcript_id "T3";
"""

# The same structure in GFF3; T2 has only CDS children (fallback), T1/T3 share
# an exon line through a multi-valued Parent, and the gene name is URL-encoded.
GFF3 = """##gff-version 3
##sequence-region chr1 1 2000
chr1\ttest\tgene\t101\t600\t.\t+\t.\tID=G1;Name=One%3BA;biotype=protein_coding
chr1\ttest\tmRNA\t101\t600\t.\t+\t.\tID=T1;Parent=G1
chr1\ttest\tmRNA\t101\t450\t.\t+\t.\tID=T3;Parent=G1
chr1\ttest\texon\t501\t600\t.\t+\t.\tParent=T1
chr1\ttest\texon\t101\t200\t.\t+\t.\tParent=T1,T3
chr1\ttest\texon\t301\t400\t.\t+\t.\tParent=T1
chr1\ttest\texon\t301\t450\t.\t+\t.\tParent=T3
chr1\ttest\tCDS\t151\t200\t.\t+\t0\tParent=T1
###
chr1\ttest\tgene\t1001\t1900\t.\t-\t.\tID=G2
chr1\ttest\tlnc_RNA\t1001\t1900\t.\t-\t.\tID=T2;Parent=G2
chr1\ttest\tCDS\t1801\t1900\t.\t-\t0\tID=cds2;Parent=T2
chr1\ttest\tCDS\t1001\t1100\t.\t-\t0\tID=cds2;Parent=T2
##FASTA
>chr1
ACGT
"""


def _write(tmp_path, text: str, name: str):
    path = tmp_path / name
    path.write_bytes(text.encode())
    return path


def _spans(intervals):
    return [(i.start, i.end, i.strand, i.name) for i in intervals]


@pytest.fixture(params=["gtf", "gff3"])
def tiny(request, tmp_path) -> Annotation:
    if request.param == "gtf":
        return read_gtf(_write(tmp_path, GTF, "t.gtf"))
    return read_gff3(_write(tmp_path, GFF3, "t.gff3"))


# ---------------------------------------------------------------- hand-checked values


def test_transcripts_and_exons_are_sorted_0_based(tiny):
    t1 = tiny.transcripts_by_id["T1"]
    # 101-200, 301-400, 501-600 (1-based inclusive) -> (start - 1, end), sorted
    assert t1.exons == ((100, 200), (300, 400), (500, 600))
    assert (t1.gene_id, t1.chrom, t1.strand, t1.start, t1.end) == ("G1", "chr1", "+", 100, 600)
    assert tiny.transcripts_by_id["T2"].exons == ((1000, 1100), (1800, 1900))
    assert _spans(tiny.transcripts()) == [(100, 450, "+", "T3"), (100, 600, "+", "T1"), (1000, 1900, "-", "T2")]


def test_genes(tiny):
    assert _spans(tiny.genes()) == [(100, 600, "+", "G1"), (1000, 1900, "-", "G2")]
    assert tiny.genes_by_id["G1"].transcript_ids == ("T3", "T1")


def test_introns_unique_and_per_transcript(tiny):
    # T1: gaps 200..300 and 400..500; T3: 200..300 again; T2: 1100..1800
    assert _spans(tiny.introns()) == [(200, 300, "+", "G1"), (400, 500, "+", "G1"), (1100, 1800, "-", "G2")]
    assert _spans(tiny.introns(unique=False)) == [
        (200, 300, "+", "T1"),
        (200, 300, "+", "T3"),
        (400, 500, "+", "T1"),
        (1100, 1800, "-", "T2"),
    ]


def test_donor_and_acceptor_sites(tiny):
    # '+': donor = first two intron bases [200, 202), acceptor = last two [298, 300).
    # '-': the intron 1100..1800 is read right to left, so its first two bases
    # are [1798, 1800) (donor) and its last two [1100, 1102) (acceptor).
    assert _spans(tiny.donor_sites()) == [(200, 202, "+", "G1"), (400, 402, "+", "G1"), (1798, 1800, "-", "G2")]
    assert _spans(tiny.acceptor_sites()) == [(298, 300, "+", "G1"), (498, 500, "+", "G1"), (1100, 1102, "-", "G2")]


def test_tss(tiny):
    # '+': the first base [100, 101); '-': the last base [1899, 1900)
    assert _spans(tiny.tss()) == [(100, 101, "+", "T1"), (100, 101, "+", "T3"), (1899, 1900, "-", "T2")]
    assert _spans(tiny.tss(unique=True)) == [(100, 101, "+", "G1"), (1899, 1900, "-", "G2")]


def test_exons_unique(tiny):
    assert len(tiny.exons()) == 7  # 3 + 2 + 2
    # (100, 200) is shared by T1 and T3
    assert len(tiny.exons(unique=True)) == 6


def test_sites_read_gt_ag_on_a_sequence(tiny):
    seq = ["A"] * 2000
    seq[200:202], seq[298:300] = "GT", "AG"  # '+' intron 200..300
    seq[400:402], seq[498:500] = "GT", "AG"  # '+' intron 400..500
    seq[1798:1800], seq[1100:1102] = "AC", "CT"  # '-' intron: reverse complements of GT, AG
    seq = "".join(seq)
    rc = str.maketrans("ACGT", "TGCA")

    def read(iv):
        s = seq[iv.start : iv.end]
        return s.translate(rc)[::-1] if iv.strand == "-" else s

    assert {read(iv) for iv in tiny.donor_sites()} == {"GT"}
    assert {read(iv) for iv in tiny.acceptor_sites()} == {"AG"}


def test_gtf_metadata(tmp_path):
    ann = read_gtf(_write(tmp_path, GTF, "t.gtf"))
    t1 = ann.transcripts_by_id["T1"]
    assert (t1.gene_name, t1.biotype, t1.source) == ("One", "protein_coding", "test")
    g1 = ann.genes_by_id["G1"]
    assert (g1.name, g1.biotype) == ("One", "protein_coding")


def test_gff3_metadata_fasta_and_cds_fallback(tmp_path):
    ann = read_gff3(_write(tmp_path, GFF3, "t.gff3"))
    # %3B decodes to ';'; the FASTA section after ##FASTA is not read as features
    assert ann.genes_by_id["G1"].name == "One;A"
    assert ann.transcripts_by_id["T1"].gene_name == "One;A"
    # T2 has no exon children: its two CDS lines are its exons; biotype is its type
    t2 = ann.transcripts_by_id["T2"]
    assert (t2.exons, t2.biotype, t2.gene_id) == (((1000, 1100), (1800, 1900)), "lnc_RNA", "G2")


def test_read_annotation_detects_the_format(tmp_path):
    gtf = read_annotation(_write(tmp_path, GTF, "a.txt"))
    gff = read_annotation(_write(tmp_path, GFF3, "b.txt"))
    assert _spans(gtf.introns()) == _spans(gff.introns())
    no_directive = GFF3.split("\n", 1)[1]
    assert len(read_annotation(io.StringIO(no_directive))) == 3
    assert len(read_annotation(io.BytesIO(gzip.compress(GTF.encode())))) == 3
    assert len(read_annotation(_write(tmp_path, "# nothing\n", "e.gtf"))) == 0


def test_crlf_and_gzip(tmp_path):
    path = tmp_path / "t.gtf.gz"
    path.write_bytes(gzip.compress(GTF.replace("\n", "\r\n").encode()))
    assert _spans(read_gtf(path).introns()) == _spans(read_gtf(io.StringIO(GTF)).introns())


def test_gff3_feature_across_circular_origin_is_kept(tmp_path):
    # GFF3 writes a feature across the origin of a circular contig with an
    # end past the contig length; it is kept as given (0-based (5299, 5436)).
    text = (
        "##gff-version 3\n##sequence-region c 1 5386\n"
        "c\tx\tgene\t5300\t5436\t.\t+\t.\tID=g;Is_circular=true\n"
        "c\tx\tCDS\t5300\t5436\t.\t+\t0\tID=cds;Parent=g\n"
    )
    ann = read_gff3(io.StringIO(text))
    assert ann.transcripts_by_id["g"].exons == ((5299, 5436),)
    assert _spans(ann.genes()) == [(5299, 5436, "+", "g")]


def test_parentless_cds_lines_sharing_an_id_form_one_transcript():
    text = "c\tx\tCDS\t3981\t5386\t.\t+\t0\tID=A\nc\tx\tCDS\t1\t136\t.\t+\t0\tID=A\n"
    (tx,) = read_gff3(io.StringIO(text)).transcripts_by_id.values()
    assert (tx.id, tx.gene_id, tx.exons) == ("A", "", ((0, 136), (3980, 5386)))


# ---------------------------------------------------------------- errors


def _error(reader, path) -> str:
    with pytest.raises(InputError) as info:
        reader(path)
    return str(info.value)


EXON = 'chr1\tt\texon\t1\t10\t.\t+\t.\tgene_id "G"; transcript_id "T";'


@pytest.mark.parametrize(
    "line, expected",
    [
        ("chr1\tt\texon\t1\t10\t.\t+", ["line 2", "7 column(s), GTF has 9", "9 tab-separated columns"]),
        (EXON.replace("\t", " "), ["line 2", "separated by spaces, not tabs", "Use tabs"]),
        (EXON.replace("; ", ";\t"), ["line 2", "10 tab-separated columns", "not tabs"]),
        (EXON.replace("\t1\t10\t", "\t20\t10\t"), ["start (20) is greater than end (10)", "1-based inclusive"]),
        (EXON.replace("\t1\t10\t", "\t0\t10\t"), ["column 4 (start) is '0', not a positive integer"]),
        (EXON.replace("\t1\t10\t", "\t00\t10\t"), ["column 4 (start) is '00', not a positive integer"]),
        (EXON.replace("\t1\t10\t", "\t1\t1e3\t"), ["column 5 (end) is '1e3', not a positive integer"]),
        (EXON.replace("\t+\t", "\t*\t"), ["column 7 (strand) is '*'", "'+', '-' or '.'"]),
        ('chr1\tt\texon\t1\t10\t.\t+\t.\tgene_id "G";', ["the exon has no transcript_id", 'transcript_id "..."']),
        ('chr1\tt\texon\t1\t10\t.\t+\t.\ttranscript_id "T";', ["the exon has no gene_id"]),
        ('chr1\tt\texon\t1\t10\t.\t+\t.\tgene_id "G; transcript_id "T";', ["cannot read the attributes"]),
        ("chr1\tt\texon\t1\t10\t.\t+\t.\tgene_id=G;transcript_id=T", ["looks like GFF3", "read_gff3"]),
        (EXON.replace("\t1\t10\t", "\t3\t20\t"), ["line 1", "record 'T'", "exons 1-4 and 3-20 (1-based) overlap"]),
        (EXON.replace("chr1", "chr2"), ["line 2", "record 'T'", "on chr2 + here but on chr1 + at line 1"]),
        (EXON.replace("+", "-"), ["on chr1 - here but on chr1 + at line 1"]),
    ],
)
def test_bad_gtf_lines(tmp_path, line, expected):
    path = _write(tmp_path, EXON.replace("\t1\t10\t", "\t1\t4\t") + "\n" + line + "\n", "bad.gtf")
    message = _error(read_gtf, path)
    assert message.startswith(str(path))
    for part in expected:
        assert part in message


@pytest.mark.parametrize(
    "line, expected",
    [
        ("c\tx\texon\t1\t10\t.\t+\t.\tParent", ["line 1", "attribute 'Parent' is not TAG=VALUE"]),
        ('c\tx\texon\t1\t10\t.\t+\t.\tgene_id "G"', ["looks like GTF", "read_gtf"]),
        ("c\tx\texon\t9\t1\t.\t+\t.\tParent=T", ["start (9) is greater than end (1)"]),
        (
            "c\tx\tmRNA\t1\t30\t.\t-\t.\tID=T\nc\tx\texon\t1\t10\t.\t+\t.\tParent=T",
            ["line 1", "record 'T'", "the transcript is on c - but its exons on c +"],
        ),
        (
            "c\tx\tgene\t1\t30\t.\t+\t.\tID=G\nc\tx\tgene\t1\t30\t.\t+\t.\tID=G;Parent=",
            None,
        ),  # repeated ID on the same contig: one multi-line feature, no error
        (
            "c\tx\tgene\t1\t30\t.\t+\t.\tID=G\nd\tx\tgene\t1\t30\t.\t+\t.\tID=G",
            ["line 2", "ID 'G' is also used at line 1", "distinct ID"],
        ),
    ],
)
def test_bad_gff3_lines(tmp_path, line, expected):
    path = _write(tmp_path, line + "\n", "bad.gff3")
    if expected is None:
        read_gff3(path)
        return
    message = _error(read_gff3, path)
    for part in expected:
        assert part in message


def test_gene_on_two_contigs_is_rejected(tmp_path):
    text = EXON + "\n" + EXON.replace("chr1", "chr2").replace('"T"', '"T2"') + "\n"
    message = _error(read_gtf, _write(tmp_path, text, "g.gtf"))
    assert "record 'G': the gene's transcripts lie on more than one contig" in message


def test_binary_input_is_rejected(shared_data):
    path = shared_data / "edgecases/pysam/empty.bam"
    assert "this is a BAM file, not GTF" in _error(read_gtf, path)


# ---------------------------------------------------------------- model invariants


def test_transcript_validates_its_exons():
    tx = Transcript("t", "g", "c", "+", ((50, 60), (10, 20)))
    assert tx.exons == ((10, 20), (50, 60)) and tx.introns == ((20, 50),)
    # touching exons leave no intron
    assert Transcript("t", "g", "c", "+", ((10, 20), (20, 30))).introns == ()
    with pytest.raises(InputError, match="record 't': exons 11-20 and 16-30"):
        Transcript("t", "g", "c", "+", ((10, 20), (15, 30)))
    with pytest.raises(InputError, match="no exons"):
        Transcript("t", "g", "c", "+", ())
    with pytest.raises(InputError, match="strand"):
        Transcript("t", "g", "c", "x", ((1, 2),))
    with pytest.raises(InputError, match="exons must be"):
        Transcript("t", "g", "c", "+", ((1, "x"),))
    with pytest.raises(InputError, match="record 'g': gene span 5-2"):
        Gene("g", "c", 5, 2, "+")
    with pytest.raises(InputError, match="two transcripts have this id"):
        Annotation([Transcript("t", "g", "c", "+", ((1, 2),))] * 2)


def test_unstranded_transcripts_have_no_sites_or_tss():
    ann = Annotation([Transcript("t", "", "c", ".", ((0, 10), (20, 30)))], [Gene("g0", "c", 0, 5, ".")])
    assert _spans(ann.introns()) == [(10, 20, ".", "t")]  # named by transcript: no gene
    assert ann.tss() == ann.donor_sites() == ann.acceptor_sites() == []
    assert _spans(ann.genes()) == [(0, 5, ".", "g0")]


@st.composite
def transcripts(draw):
    cuts = sorted(draw(st.sets(st.integers(0, 10_000), min_size=2, max_size=12)))
    cuts = cuts[: len(cuts) // 2 * 2]
    exons = tuple(zip(cuts[::2], cuts[1::2]))
    return exons, draw(st.sampled_from("+-"))


@settings(max_examples=60, deadline=None)
@given(transcripts())
def test_mirroring_a_transcript_mirrors_its_sites(drawn):
    # Flip the contig (x -> L - x) and the strand: a '+' transcript becomes a
    # '-' one read the same way, so every site maps onto its mirror image.
    exons, strand = drawn
    length = 20_000
    flipped = tuple((length - e, length - s) for s, e in exons)
    other = "-" if strand == "+" else "+"
    a = Annotation([Transcript("t", "g", "c", strand, exons)])
    b = Annotation([Transcript("t", "g", "c", other, flipped)])

    def mirror(ivs):
        return sorted((length - i.end, length - i.start) for i in ivs)

    for method in ("introns", "donor_sites", "acceptor_sites", "tss", "exons"):
        assert mirror(getattr(a, method)()) == sorted((i.start, i.end) for i in getattr(b, method)())
    assert len(a.introns()) == len(exons) - 1 - sum(e1 == s2 for (_, e1), (s2, _) in zip(exons, exons[1:]))


# ---------------------------------------------------------------- real files


def _sequence(fasta: pysam.FastaFile, iv: Interval) -> str:
    s = fasta.fetch(iv.chrom, iv.start, iv.end).upper()
    return s.translate(str.maketrans("ACGT", "TGCA"))[::-1] if iv.strand == "-" else s


def test_dm6_gtf_counts_and_splice_sites(shared_data):
    folder = shared_data / "genomes/dm6_small"
    ann = read_gtf(folder / "dm6.small.gtf")
    # `sort -u` of gene_id / transcript_id values: 167 and 356; unique
    # introns (contig, start, end, strand) counted with awk from the raw
    # lines: 557. 1,760 exon lines.
    assert (len(ann.genes_by_id), len(ann), len(ann.introns())) == (167, 356, 557)
    assert len(ann.exons()) == 1760
    with pysam.FastaFile(str(folder / "dm6.small.fa")) as fasta:
        donors = [_sequence(fasta, iv) for iv in ann.donor_sites()]
        acceptors = [_sequence(fasta, iv) for iv in ann.acceptor_sites()]
    assert donors.count("GT") >= 0.95 * len(donors)  # 490 of 497
    assert acceptors.count("AG") >= 0.95 * len(acceptors)  # 471 of 472
    # the bundled genes BED was derived from this GTF: same spans and ids
    genes_bed = {(i.chrom, i.start, i.end, i.strand, i.name) for i in read_bed(folder / "dm6.small.genes.bed")}
    assert genes_bed == {(i.chrom, i.start, i.end, i.strand, i.name) for i in ann.genes()}


def test_gtf_exons_round_trip_through_bed(shared_data, tmp_path):
    exons = read_gtf(shared_data / "genomes/dm6_small/dm6.small.gtf").exons()
    write_bed(exons, tmp_path / "exons.bed")
    assert list(read_bed(tmp_path / "exons.bed")) == exons


def test_phix174_gff3_genes_across_the_origin(shared_data):
    ann = read_gff3(shared_data / "genomes/phix174/phiX174.gff3")
    # 14 parentless CDS lines with distinct IDs: 14 single-exon transcripts,
    # no gene features. Gene A (NP_040703.1) crosses the origin of the
    # 5,386-bp circle and the file splits it into CDS0 (3981..5386) and CDS1 (1..136).
    assert (len(ann), len(ann.genes_by_id), ann.introns()) == (14, 0, [])
    assert ann.transcripts_by_id["CDS0"].exons == ((3980, 5386),)
    assert ann.transcripts_by_id["CDS1"].exons == ((0, 136),)
    assert all(tx.end <= 5386 for tx in ann.transcripts_by_id.values())
    bed = {(i.start, i.end, i.strand) for i in read_bed(shared_data / "genomes/phix174/phiX174.genes.bed")}
    assert bed == {(i.start, i.end, i.strand) for i in ann.transcripts()}


def test_yersinia_gff3_genes_and_unlinked_cds(shared_data):
    ann = read_gff3(shared_data / "genomes/phix174/pPCP1_Yersinia.gff3")
    # 10 gene lines and 10 CDS lines without Parent: the genes have no
    # transcripts and the CDSs are transcripts of no gene.
    assert (len(ann.genes_by_id), len(ann)) == (10, 10)
    assert ann.genes_by_id["gene0"].name == "YP_pPCP01"
    assert ann.genes_by_id["gene0"].transcript_ids == ()
    assert ann.transcripts_by_id["CDS1"].exons == ((86, 1109),)
    assert {tx.gene_id for tx in ann.transcripts_by_id.values()} == {""}


def test_pysam_gtf_edge_cases(shared_data):
    folder = shared_data / "edgecases/pysam"
    # comments at the start, middle and end are legal: 34 transcript ids on
    # exon lines, 20 gene ids (sort -u)
    ann = read_annotation(folder / "example_badcomments.gtf")
    assert (len(ann), len(ann.genes_by_id)) == (34, 20)
    assert ann.transcripts_by_id["ENST00000456328"].exons[0] == (1736, 2090)
    # all columns separated by spaces
    path = folder / "gtf_toofew_fields.gtf"
    assert f"{path}, line 1: the columns are separated by spaces" in _error(read_annotation, path)
    # attributes split across tabs
    path = folder / "gtf_wrong_fields.gtf"
    assert f"{path}, line 1: the line has 28 tab-separated columns" in _error(read_annotation, path)
