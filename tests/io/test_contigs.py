"""Contig aliases (chr1/1, chrM/MT) and the missing-contig message."""

from __future__ import annotations

from bioseq.errors import MissingContigError
from bioseq.io.contigs import ContigAliases, alias_key, missing_contig


def test_alias_keys():
    assert {alias_key(n) for n in ("chr1", "1", "CHR1", "Chr1")} == {"1"}
    assert {alias_key(n) for n in ("chrM", "MT", "M", "chrMT")} == {"M"}
    assert alias_key("chr") == "chr"  # nothing after the prefix: not stripped


def test_resolve_both_ways_and_refuse_ambiguity():
    ucsc = ContigAliases(["chr1", "chrX", "chrM"])
    assert (ucsc.resolve("1"), ucsc.resolve("X"), ucsc.resolve("MT")) == ("chr1", "chrX", "chrM")
    ensembl = ContigAliases(["1", "MT"])
    assert (ensembl.resolve("chr1"), ensembl.resolve("chrM")) == ("1", "MT")
    both = ContigAliases(["chr1", "1"])
    assert both.resolve("chr1") == "chr1" and both.resolve("CHR1") is None


def test_missing_contig_messages():
    error = missing_contig("chr17", ["17", "18"], path="r.bam", what="the file's header")
    assert isinstance(error, MissingContigError) and isinstance(error, KeyError)
    assert str(error) == (
        "r.bam: contig 'chr17' is not in the file's header. Did you mean "
        "'17'? The file's header names contigs without the 'chr' prefix "
        "(Ensembl/NCBI versus UCSC naming)."
    )
    close = missing_contig("chr1_random", ["chr1", "chr2", "chrX"], path=None, what="the reference")
    assert "Closest of its 3 contigs: 'chr1'" in str(close)
    far = missing_contig("scaffold_9", [f"c{i}" for i in range(10)], path=None, what="the reference")
    assert "It has 10 contigs: c0, c1, c2, c3, c4, ..." in str(far)


def test_accession_versions_resolve_one_way_or_the_other_but_never_across_versions():
    versioned = ContigAliases(["NC_001422.1", "chr1"])
    assert versioned.resolve("NC_001422") == "NC_001422.1" and versioned.resolve("NC_001422.2") is None
    bare = ContigAliases(["NC_001422", "KI270728"])
    assert bare.resolve("NC_001422.1") == "NC_001422" and bare.resolve("KI270728.2") == "KI270728"
    assert ContigAliases(["X00001.1", "X00001.2"]).resolve("X00001") is None  # two versions: ambiguous
    named = ContigAliases(["AB000001.1"], extra={"MYPLASMID": "AB000001.1", "gone": "nowhere"})
    assert named.resolve("MYPLASMID") == "AB000001.1" and named.resolve("gone") is None
    error = missing_contig("NC_001422", ["NC_001422.1"], path="g.fa", what="the reference")
    assert "Did you mean 'NC_001422.1'? The reference names accessions with their version" in str(error)
