"""Tests of bioseq.io.variants: VCF/BCF records as 0-based half-open variants, checked against a genome."""

from __future__ import annotations

import gzip
import io
from pathlib import Path

import pysam
import pytest

from bioseq.errors import InputError, MissingContigError, MissingFileError
from bioseq.io import read_variants as exported
from bioseq.io.reference import Reference
from bioseq.io.variants import Variant, VariantCounts, read_variants

# chr1 is 25 bases, by 1-based POS: A1 C2 G3 T4 A5 C6 G7 T8 A9 C10 G11 G12 G13 G14 C15-C18 A19 A20 a21 c22 g23 t24 n25
FASTA = ">chr1\nACGTACGTACGGGGCCCCAAacgtn\n>chr2\nNNNNACGTRY\n>chrM\nACGT\n"
HEADER = (
    "##fileformat=VCFv4.2\n"
    "##contig=<ID=chr1,length=25>\n"
    "##contig=<ID=chr2,length=10>\n"
    "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n"
)
RECORDS = [  # (chrom, POS, ID, REF, ALT); the first record is line 5
    ("chr1", 3, "rs1", "G", "A"),  # line 5: SNV, start 2
    ("chr1", 4, ".", "T", "TGG"),  # 6: insertion after T, start 3
    ("chr1", 10, ".", "CG", "C"),  # 7: deletion of G11, start 9, end 11
    ("chr1", 11, ".", "GG", "TT"),  # 8: MNV, start 10
    ("chr1", 21, "ms", "a", "C,G,<DEL>,*"),  # 9: soft-masked REF; two SNVs, a symbolic and a spanning deletion
    ("1", 5, ".", "A", "C"),  # 10: alias of chr1, start 4
    ("MT", 2, ".", "C", "G"),  # 11: alias of chrM, start 1
    ("chr9", 1, ".", "A", "G"),  # 12: a contig the reference lacks
    ("chr1", 25, ".", "NA", "N"),  # 13: runs past the end of chr1
    ("chr1", 6, ".", "T", "G"),  # 14: REF T, but the genome has C at POS 6
    ("chr1", 7, ".", "G", "G]chr1:10],.G"),  # 15: two breakends
    ("chr1", 8, ".", "T", "."),  # 16: missing ALT
    ("chr1", 9, ".", "A", "A"),  # 17: ALT equal to REF
    ("chr2", 9, ".", "R", "A"),  # 18: IUPAC REF, as in the genome
    ("chr1", 12, ".", "G", "K"),  # 19: IUPAC ALT: not a sequence
    ("chr1", 15, ".", "CC", "GCA"),  # 20: complex
]


def vcf_text(records=RECORDS, header=HEADER) -> str:
    return header + "".join(f"{c}\t{p}\t{i}\t{r}\t{a}\t.\t.\t.\n" for c, p, i, r, a in records)


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("variants")
    fasta = folder / "genome.fa"
    fasta.write_text(FASTA)
    vcf = folder / "calls.vcf"
    vcf.write_text(vcf_text())
    return {"fasta": fasta, "vcf": vcf, "folder": folder}


@pytest.fixture(scope="module")
def ref(files):
    with Reference(files["fasta"]) as reference:
        yield reference


def summary(variants) -> list[tuple]:
    return [(v.chrom, v.contig, v.start, v.end, v.ref, v.alt, v.allele, v.kind) for v in variants]


def test_without_reference_hand_checked(files):
    reader = read_variants(files["vcf"])
    variants = list(reader)
    assert summary(variants)[:7] == [
        ("chr1", "chr1", 2, 3, "G", "A", 1, "snv"),
        ("chr1", "chr1", 3, 4, "T", "TGG", 1, "insertion"),
        ("chr1", "chr1", 9, 11, "CG", "C", 1, "deletion"),
        ("chr1", "chr1", 10, 12, "GG", "TT", 1, "mnv"),
        ("chr1", "chr1", 20, 21, "A", "C", 1, "snv"),  # upper-cased
        ("chr1", "chr1", 20, 21, "A", "G", 2, "snv"),  # second ALT of the same record
        ("1", "1", 4, 5, "A", "C", 1, "snv"),
    ]
    first = variants[0]
    assert (first.id, first.record, first.line, first.pos, str(first)) == ("rs1", 1, 5, 3, "chr1:3 G>A")
    assert variants[4].line == variants[5].line == 9 and variants[1].id is None
    assert variants[-1].kind == "complex"
    counts = reader.counts
    assert (counts.records, counts.alleles) == (16, 20)
    assert (counts.symbolic, counts.spanning_deletion, counts.breakend) == (1, 1, 2)
    assert (counts.missing_alt, counts.same_as_ref, counts.bad_letters) == (1, 1, 1)
    assert counts.unknown_contig == counts.outside_contig == counts.ref_mismatch == 0  # nothing to check against
    assert counts.yielded == len(variants) == counts.alleles - counts.skipped == 13


def test_with_reference_resolves_aliases_and_skips(files, ref):
    reader = read_variants(files["vcf"], reference=ref)
    listed = list(reader)
    variants = {(v.chrom, v.start): v for v in listed}
    assert variants[("1", 4)].contig == "chr1"
    assert variants[("MT", 1)].contig == "chrM"
    assert variants[("chr2", 8)].ref == "R"  # IUPAC REF matching the genome is kept
    assert ("chr9", 0) not in variants and ("chr1", 24) not in variants and ("chr1", 5) not in variants
    counts = reader.counts
    assert (counts.unknown_contig, counts.outside_contig, counts.ref_mismatch) == (1, 1, 1)
    assert counts.yielded == len(listed) == 10 and counts.yielded + counts.skipped == counts.alleles
    line = counts.summary()
    assert line.startswith("16 records, 20 ALT alleles: 10 variants; skipped 10 (")
    assert "1 REF differs from the genome" in line and "2 breakend" in line


def test_reference_as_path_and_every_fetched_ref_matches(files, ref):
    for v in read_variants(files["vcf"], reference=files["fasta"]):
        assert ref.fetch(v.contig, v.start, v.end).upper() == v.ref


def test_ref_mismatch_error_names_line_variant_and_bases(files, ref):
    with pytest.raises(InputError) as caught:
        list(read_variants(files["vcf"], reference=ref, ref_mismatch="error"))
    text = str(caught.value)
    assert "calls.vcf, line 14: variant chr1:6 T>G: REF 'T' differs from the genome, which has 'C'" in text
    assert "chr1:5-6 (0-based, half-open)" in text and "ref_mismatch='skip'" in text


def test_ref_mismatch_keep(files, ref):
    reader = read_variants(files["vcf"], reference=ref, ref_mismatch="keep")
    kept = [v for v in reader if (v.chrom, v.start) == ("chr1", 5)]
    assert [(v.ref, v.alt) for v in kept] == [("T", "G")]
    assert (reader.counts.ref_mismatch, reader.counts.kept_mismatch) == (0, 1)
    assert "kept 1 whose REF differs" in reader.counts.summary()


def test_unknown_contig_error_lists_reference_contigs(files, ref):
    with pytest.raises(MissingContigError, match=r"line 12: variant chr9:1 A>G is on contig 'chr9'") as caught:
        list(read_variants(files["vcf"], reference=ref, unknown_contig="error"))
    assert "'chr1'" in str(caught.value) and "unknown_contig='skip'" in str(caught.value)


def test_bgzip_tabix_and_bcf_read_the_same(files, ref):
    folder = files["folder"]
    bgz = folder / "calls.vcf.gz"
    pysam.tabix_compress(str(files["vcf"]), str(bgz), force=True)
    ordered = folder / "sorted.vcf"  # tabix needs each contig's records together and sorted
    ordered.write_text(vcf_text(sorted(RECORDS, key=lambda r: (r[0], r[1]))))
    indexed = Path(pysam.tabix_index(str(ordered), preset="vcf", keep_original=True, force=True))
    assert Path(str(indexed) + ".tbi").exists()
    assert sorted(summary(read_variants(indexed, reference=ref))) == sorted(
        summary(read_variants(ordered, reference=ref))
    )
    bcf = folder / "calls.bcf"
    header = HEADER.replace(
        "##contig=<ID=chr2",
        '##ALT=<ID=DEL,Description="Deletion">\n##INFO=<ID=END,Number=1,Type=Integer,Description="End">\n'
        "##contig=<ID=1,length=25>\n##contig=<ID=MT,length=4>\n##contig=<ID=chr9,length=5>\n##contig=<ID=chr2",
    )
    full = folder / "full.vcf"
    full.write_text(vcf_text(header=header))
    with pysam.VariantFile(str(full)) as vin, pysam.VariantFile(str(bcf), "wb", header=vin.header) as out:
        for rec in vin:
            out.write(rec)
    plain = summary(read_variants(files["vcf"], reference=ref))
    assert summary(read_variants(bgz, reference=ref)) == plain
    from_bcf = list(read_variants(bcf, reference=ref))
    assert summary(from_bcf) == plain and {v.line for v in from_bcf} == {None}


def test_handles_and_streams(files):
    expected = summary(read_variants(files["vcf"]))
    with open(files["vcf"], "rb") as handle:
        assert summary(read_variants(handle)) == expected
    assert summary(read_variants(io.BytesIO(gzip.compress(vcf_text().encode())))) == expected
    assert summary(read_variants(io.StringIO(vcf_text()))) == expected


def test_context_manager_closes(files):
    with read_variants(files["vcf"]) as reader:
        assert next(iter(reader)).start == 2
    assert exported is read_variants


@pytest.mark.parametrize(
    ("ref", "alt", "kind"),
    [
        ("A", "G", "snv"),
        ("AC", "GT", "mnv"),
        ("A", "AT", "insertion"),
        ("T", "AT", "insertion"),
        ("AT", "A", "deletion"),
        ("AT", "T", "deletion"),
        ("AC", "GTT", "complex"),
        ("ACG", "T", "complex"),
    ],
)
def test_kind(ref, alt, kind):
    variant = Variant("chr1", "chr1", 0, ref, alt, None, 1, 1, None)
    assert variant.kind == kind and variant.end == len(ref)


def test_counts_start_empty():
    counts = VariantCounts()
    assert counts.skipped == 0 and counts.summary() == "0 records, 0 ALT alleles: 0 variants"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (">chr1\nACGT\n", r"line 1: this is a FASTA file, not VCF or BCF"),
        ("chr1\t10\t20\n", r"line 1: this is a BED file, not VCF or BCF"),
        ("", r"the file is empty"),
        ("##fileformat=VCFv4.2\n##contig=<ID=chr1>\nchr1\t3\t.\tG\tA\t.\t.\t.\n", r"line 3: the VCF header has no"),
        (
            vcf_text([("chr1", 3, ".", "G", "A"), ("chr1", "x3", ".", "G", "A")]),
            r"line 6: cannot parse this VCF record",
        ),
    ],
)
def test_malformed_input(tmp_path, content, message):
    path = tmp_path / "bad.vcf"
    path.write_text(content)
    with pytest.raises(InputError, match=message):
        list(read_variants(path))


def test_truncated_gzip(tmp_path):
    text = vcf_text(RECORDS * 200).encode()
    path = tmp_path / "cut.vcf.gz"
    path.write_bytes(gzip.compress(text)[: len(gzip.compress(text)) // 2])
    with pytest.raises(InputError, match=r"cut.vcf.gz: .*(truncated|ends early)"):
        list(read_variants(path))


def test_bad_arguments(files, tmp_path):
    with pytest.raises(InputError, match="ref_mismatch must be"):
        read_variants(files["vcf"], ref_mismatch="warn")
    with pytest.raises(InputError, match="unknown_contig must be"):
        read_variants(files["vcf"], unknown_contig="keep")
    with pytest.raises(MissingFileError):
        read_variants(tmp_path / "absent.vcf")


def test_real_genome_dm6(shared_data, tmp_path):
    fasta = shared_data / "genomes" / "dm6_small" / "dm6.small.fa"
    if not fasta.exists():
        pytest.skip("genomes/dm6_small is absent")
    with pysam.FastaFile(str(fasta)) as faidx:  # an independent read of the bases
        base = faidx.fetch("chr2L", 99_999, 100_000).upper()  # POS 100000
        pair = faidx.fetch("chr2R", 499, 501).upper()  # POS 500-501
    other = "A" if base != "A" else "C"
    path = tmp_path / "dm6.vcf"
    path.write_text(
        "##fileformat=VCFv4.2\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n"
        f"2L\t100000\t.\t{base}\t{other}\t.\t.\t.\n"
        f"chr2R\t500\t.\t{pair}\t{pair[0]}\t.\t.\t.\n"
        f"chr2L\t100000\t.\t{other}\t{base}\t.\t.\t.\n"
        "chr2L\t1000000\t.\tAC\tA\t.\t.\t.\n"
    )
    with Reference(fasta) as genome:
        reader = read_variants(path, reference=genome)
        variants = list(reader)
    assert [(v.contig, v.start, v.end, v.kind) for v in variants] == [
        ("chr2L", 99_999, 100_000, "snv"),
        ("chr2R", 499, 501, "deletion"),
    ]
    assert (reader.counts.ref_mismatch, reader.counts.outside_contig) == (1, 1)
