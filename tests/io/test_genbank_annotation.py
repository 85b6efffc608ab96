"""GenBank/EMBL features as genes, transcripts and exons (bioseq.io.genbank_annotation)."""

from __future__ import annotations

import io
import logging

import pytest
from flatfiles import embl_text, genbank_text

from bioseq.errors import InputError
from bioseq.io.genbank import read_genbank
from bioseq.io.genbank_annotation import annotate, read_genbank_annotation
from bioseq.io.gff import read_annotation, read_gff3

SEQ = "ACGTTGCA" * 15  # 120 bp


def spans(intervals) -> list[tuple]:
    return sorted((i.chrom, i.start, i.end, i.strand) for i in intervals)


def read(text: str):
    return read_genbank_annotation(io.StringIO(text))


def test_real_files_match_the_gff3_derived_from_them(phix):
    # phiX174: 11 CDS (3 across the origin) and 2 mRNAs, no gene features; the GFF3 holds the CDS only,
    # each origin-crossing one as two features, so its exons are exactly those of the split CDS.
    gb, gff = read_genbank_annotation(phix / "NC_001422.gbk"), read_gff3(phix / "phiX174.gff3")
    cds = [t for t in gb.transcripts_by_id.values() if t.biotype == "CDS"]
    assert (len(gb), len(cds), len(gff), len(gb.genes_by_id), len(gff.genes_by_id)) == (16, 14, 14, 0, 0)
    assert sorted((t.chrom, *t.exons[0], t.strand) for t in cds) == spans(gff.exons())
    first = gb.transcripts_by_id["NP_040703.1"]  # join(3981..5386,1..136)
    rest = gb.transcripts_by_id["NP_040703.1:after_origin"]
    assert (first.exons, first.five_prime_end, rest.exons, rest.five_prime_end) == (
        ((3980, 5386),),
        True,
        ((0, 136),),
        False,
    )
    # the origin is no TSS (the GFF3's split features claim one at 0); the mRNAs start at 358
    assert {t.start for t in gff.tss()} - {t.start for t in gb.tss()} == {0}
    assert 357 in {t.start for t in gb.tss()} and gb.introns() == []
    # pPCP1: 10 genes with one CDS each, linked by /locus_tag; the GFF3 has the same genes and exons
    gb, gff = read_genbank_annotation(phix / "NC_005816.gb"), read_gff3(phix / "pPCP1_Yersinia.gff3")
    assert (len(gb.genes_by_id), len(gb)) == (len(gff.genes_by_id), len(gff)) == (10, 10)
    assert spans(gb.genes()) == spans(gff.genes()) and spans(gb.exons()) == spans(gff.exons())
    assert spans(gb.tss()) == spans(gff.tss())
    pst = gb.genes_by_id["YP_pPCP06"]
    assert (pst.name, pst.strand, pst.transcript_ids) == ("pst", "-", ("NP_995572.1",))
    assert read_annotation(phix / "NC_005816.gb").genes_by_id.keys() == gb.genes_by_id.keys()


def test_origin_crossing_features_are_split_on_both_strands():
    text = genbank_text(
        SEQ,
        [
            ("gene", "join(101..120,1..10)", {"locus_tag": "G1", "gene": "abc"}),
            ("CDS", "join(101..120,1..10)", {"locus_tag": "G1", "protein_id": "P1.1"}),
            ("CDS", "complement(join(111..120,1..5))", {"locus_tag": "G2"}),
            ("mRNA", "join(91..100,111..120,1..4,8..20)", {"transcript_id": "T3.1"}),  # introns on both sides
        ],
        circular=True,
    )
    found = annotate(read_genbank(io.StringIO(text)))
    tx = found.annotation.transcripts_by_id
    assert found.split == 4 and found.left_out == {}
    assert (tx["P1.1"].exons, tx["P1.1"].gene_id, tx["P1.1:after_origin"].exons, tx["P1.1:after_origin"].gene_id) == (
        ((100, 120),),
        "G1",
        ((0, 10),),
        "G1:after_origin",
    )
    genes = found.annotation.genes_by_id
    assert (genes["G1"].start, genes["G1"].end, genes["G1:after_origin"].end) == (100, 120, 10)
    # on '-' the 5' end is the highest base of the piece after the origin in the file: 5 (1-based)
    assert (tx["G2"].exons, tx["G2"].strand, tx["G2"].five_prime_end) == (((0, 5),), "-", True)
    assert tx["G2:after_origin"].exons == ((110, 120),) and not tx["G2:after_origin"].five_prime_end
    assert spans(found.annotation.tss()) == [("TOY1.1", 4, 5, "-"), ("TOY1.1", 90, 91, "+"), ("TOY1.1", 100, 101, "+")]
    # introns inside each piece, none across the origin
    assert spans(found.annotation.introns()) == [("TOY1.1", 4, 7, "+"), ("TOY1.1", 100, 110, "+")]


def test_mrna_is_the_transcript_of_its_gene_and_fuzzy_five_prime_ends_give_no_tss():
    text = genbank_text(
        SEQ,
        [
            ("gene", "11..100", {"locus_tag": "G1", "gene": "abc"}),
            ("mRNA", "join(11..30,51..70,91..100)", {"locus_tag": "G1", "transcript_id": "T1.1"}),
            ("CDS", "join(21..30,51..70,91..95)", {"locus_tag": "G1", "protein_id": "P1.1"}),  # the mRNA wins
            ("CDS", "complement(<101..115)", {"locus_tag": "G2"}),  # '<' is the 3' end on '-': TSS kept
            ("CDS", "<1..9", {"locus_tag": "G3"}),  # partial at the 5' end: no TSS
            ("CDS", "join(31..40,40..50)", {"locus_tag": "G4", "protein_id": "FS.1"}),  # frameshift: one exon
        ],
    )
    annotation = read(text)
    assert sorted(annotation.transcripts_by_id) == ["FS.1", "G2", "G3", "T1.1"]
    t1 = annotation.transcripts_by_id["T1.1"]
    assert (t1.exons, t1.gene_id, t1.gene_name, t1.biotype, t1.source) == (
        ((10, 30), (50, 70), (90, 100)),
        "G1",
        "abc",
        "mRNA",
        "GenBank",
    )
    assert annotation.transcripts_by_id["FS.1"].exons == ((30, 50),)
    assert not annotation.transcripts_by_id["G3"].five_prime_end
    assert spans(annotation.tss()) == [("TOY1.1", 10, 11, "+"), ("TOY1.1", 30, 31, "+"), ("TOY1.1", 114, 115, "-")]
    assert spans(annotation.donor_sites()) == [("TOY1.1", 30, 32, "+"), ("TOY1.1", 70, 72, "+")]
    assert spans(annotation.acceptor_sites()) == [("TOY1.1", 48, 50, "+"), ("TOY1.1", 88, 90, "+")]
    embl = read_genbank_annotation(io.StringIO(embl_text(SEQ, [("mRNA", "join(5..10,31..40)", {"locus_tag": "E1"})])))
    assert spans(embl.introns()) == [("TOY2.1", 10, 30, "+")] and embl.transcripts_by_id["E1"].source == "EMBL"


def test_features_that_cannot_be_placed_are_left_out_and_counted(caplog):
    text = genbank_text(
        SEQ,
        [
            ("CDS", "order(1..10,21..30)", {}),
            ("CDS", "join(1..10,complement(21..30))", {}),
            ("CDS", "join(X00001.1:1..10,21..30)", {}),
            ("mRNA", "join(50..60,1..10)", {}),  # across the origin of a linear sequence
            ("CDS", "join(1..>10,21..30)", {}),
            ("CDS", "join(1..10,21..30)", {"locus_tag": "OK"}),
            ("misc_feature", "12^13", {}),  # not a gene or transcript: ignored, not counted
        ],
    )
    with caplog.at_level(logging.WARNING, logger="bioseq.io.genbank_annotation"):
        annotation = read(text)
    assert list(annotation.transcripts_by_id) == ["OK"]
    (message,) = [r.getMessage() for r in caplog.records]
    for reason in (
        "5 gene/transcript features left out",
        "1 with order() locations",
        "1 with parts on both strands",
        "1 with parts on another record",
        "1 with parts out of order on a linear sequence",
        "1 with uncertain inner boundaries",
    ):
        assert reason in message, message


@pytest.mark.parametrize(
    ("location", "fragment"),
    [
        (
            "join(12..x20,30..40)",
            "record 'TOY1.1': the location '12..x20' of a CDS feature cannot be read. Write it in INSDC syntax",
        ),
        ("100..130", "record 'TOY1.1': a + part 100..130 runs past the end of the 120 bp sequence"),
    ],
)
def test_bad_locations_are_errors(location, fragment):
    text = genbank_text(SEQ, [("misc_feature", "one-of(1,2)..5", {}), ("CDS", location, {})])
    with pytest.raises(InputError) as caught:
        read(text)
    assert fragment in str(caught.value)
    annotation = read(genbank_text(SEQ, [("misc_feature", "join(12..x20,30..40)", {})]))  # unused: no error
    assert len(annotation) == 0
