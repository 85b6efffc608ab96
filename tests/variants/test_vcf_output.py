"""Tests of bioseq.variants.vcf_output: scored VCFs open with pysam, INFO parses, bgzip + tabix, TSV rows."""

from __future__ import annotations

import os

import numpy as np
import pysam
import pytest

from bioseq.errors import InputError
from bioseq.io.variants import Variant
from bioseq.variants.delta import DeltaScores
from bioseq.variants.score import OUTSIDE_GENES, SpliceEntry, VariantScore
from bioseq.variants.vcf_output import header_lines, write_tsv, write_vcf

HEADER = (
    "##fileformat=VCFv4.2\n"
    "##contig=<ID=chr1,length=600>\n"
    "##contig=<ID=chr2,length=40>\n"
    '##INFO=<ID=DP,Number=1,Type=Integer,Description="Depth">\n'
    '##INFO=<ID=BIOSEQ,Number=.,Type=String,Description="an older run">\n'
    "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n"
)
RECORDS = [
    "chr1\t102\trs1\tT\tA,C\t.\tPASS\t.",  # record 1: two ALTs, both scored
    "chr1\t200\t.\tA\t<DEL>\t.\t.\t.",  # record 2: symbolic, never scored
    "chr1\t301\t.\tA\tT\t50\t.\tDP=5;BIOSEQ=T|old|0.10|0.00|0.00|0.00|0|0|0|0",  # record 3: scored before
    "chr2\t5\t.\tA\tG\t.\t.\t.",  # record 4: outside every gene
]


class Bundle:
    per_position, classes, path, flank, length = True, ("neither", "acceptor", "donor"), "runs/splice", 5, None


def variant(record: int, pos: int, ref: str, alt: str, allele: int = 1, chrom: str = "chr1") -> Variant:
    return Variant(chrom, chrom, pos - 1, ref, alt, None, allele, record, None)


def splice_results() -> list[VariantScore]:
    loss = DeltaScores(0.0, 0.0, 0.0, 0.9, 0, 0, 0, -1)
    gain = DeltaScores(0.25, 0.0, 0.0, 0.0, 3, 0, 0, 0)
    return [
        VariantScore(variant(1, 102, "T", "A"), (SpliceEntry("G1", "+", loss), SpliceEntry("G2", "-", gain))),
        VariantScore(variant(1, 102, "T", "C", allele=2), (SpliceEntry("G1", "+", loss),)),
        VariantScore(variant(3, 301, "A", "T"), (SpliceEntry("G1", "+", gain),)),
        VariantScore(variant(4, 5, "A", "G", chrom="chr2"), reason=OUTSIDE_GENES),
    ]


@pytest.fixture()
def vcf(tmp_path):
    path = tmp_path / "in.vcf"
    path.write_text(HEADER + "\n".join(RECORDS) + "\n")
    return path


def splice_header():
    return header_lines(Bundle(), distance=50, reference="g.fa", annotation="genes.gtf")


def test_every_record_is_written_in_order_and_the_info_parses(vcf, tmp_path):
    out = tmp_path / "out.vcf"
    write_vcf(vcf, splice_results(), out, header_lines=splice_header())
    with pysam.VariantFile(str(out)) as scored:
        info = scored.header.info["BIOSEQ"]
        assert (info.number, info.type) == (".", "String")
        assert "ALLELE|SYMBOL|DS_AG|DS_AL|DS_DG|DS_DL|DP_AG|DP_AL|DP_DG|DP_DL" in info.description
        provenance = [r for r in scored.header.records if r.key == "bioseq_scoreVariants"]
        assert "distance=50" in provenance[0].value and "model=runs/splice" in provenance[0].value
        records = list(scored)
    assert [(r.chrom, r.pos) for r in records] == [("chr1", 102), ("chr1", 200), ("chr1", 301), ("chr2", 5)]
    assert records[0].info["BIOSEQ"] == (
        "A|G1|0.00|0.00|0.00|0.90|0|0|0|-1",
        "A|G2|0.25|0.00|0.00|0.00|3|0|0|0",
        "C|G1|0.00|0.00|0.00|0.90|0|0|0|-1",
    )
    assert "BIOSEQ" not in records[1].info and "BIOSEQ" not in records[3].info  # unchanged
    assert records[2].info["DP"] == 5 and records[2].info["BIOSEQ"] == ("T|G1|0.25|0.00|0.00|0.00|3|0|0|0",)
    assert records[0].id == "rs1" and records[2].qual == 50 and list(records[0].filter) == ["PASS"]
    assert str(out.read_text()).count("an older run") == 0


def test_vcf_gz_is_bgzipped_and_tabix_indexed(vcf, tmp_path):
    out = tmp_path / "out.vcf.gz"
    write_vcf(vcf, splice_results(), out, header_lines=splice_header())
    assert (tmp_path / "out.vcf.gz.tbi").is_file()
    with pysam.VariantFile(str(out)) as scored:
        (hit,) = scored.fetch("chr1", 300, 301)  # 0-based half-open: POS 301
        assert hit.info["BIOSEQ"][0].startswith("T|G1|0.25")
    with pysam.TabixFile(str(out)) as tabix:
        assert [line.split("\t")[1] for line in tabix.fetch("chr1")] == ["102", "200", "301"]
    assert sorted(os.listdir(tmp_path)) == ["in.vcf", "out.vcf.gz", "out.vcf.gz.tbi"]  # no temporaries


@pytest.mark.parametrize(("classes", "task"), [(("no", "yes"), "binary"), (("a", "b", "c"), "multiclass")])
def test_window_classifier_fields(vcf, tmp_path, classes, task):
    class Window:
        per_position, path, length = False, "runs/cnn", 9

    Window.classes, Window.task = classes, task
    k = 1 if task == "binary" else 3
    ref, alt = np.full(k, 0.25, np.float32), np.full(k, 0.75, np.float32)
    results = [
        VariantScore(variant(1, 102, "T", "A"), ref=ref, alt=alt),  # the second ALT has no score
        VariantScore(variant(3, 301, "A", "T"), ref=alt, alt=ref),
    ]
    out, tsv = tmp_path / "out.vcf", tmp_path / "out.tsv"
    labels = classes[1:] if task == "binary" else classes
    write_vcf(vcf, results, out, header_lines=header_lines(Window(), distance=50, reference="g.fa"), labels=labels)
    write_tsv(results, tsv, labels=labels)
    with pysam.VariantFile(str(out)) as scored:
        assert scored.header.info["BIOSEQ_DIFF"].number == ("A" if k == 1 else ".")
        first, _, third, _ = list(scored)
    assert first.info["BIOSEQ_REF"] == (0.25,) * k + (None,) * k
    assert first.info["BIOSEQ_DIFF"] == (0.5,) * k + (None,) * k
    assert third.info["BIOSEQ_ALT"] == (0.25,) * k and third.info["BIOSEQ_DIFF"] == (-0.5,) * k
    rows = [line.split("\t") for line in tsv.read_text().splitlines()]
    assert rows[0][:8] == ["chrom", "pos", "id", "ref", "alt", *(f"{w}_{labels[0]}" for w in ("ref", "alt", "diff"))]
    assert rows[1][:8] == ["chr1", "102", ".", "T", "A", "0.2500", "0.7500", "0.5000"] and len(rows) == 3


def test_tsv_has_one_row_per_variant_and_gene(tmp_path):
    tsv = tmp_path / "out.tsv"
    write_tsv(splice_results(), tsv)
    rows = [line.split("\t") for line in tsv.read_text().splitlines()]
    assert rows[0] == "chrom pos id ref alt symbol strand ds_ag ds_al ds_dg ds_dl dp_ag dp_al dp_dg dp_dl max".split()
    assert rows[1] == "chr1 102 . T A G1 + 0.0000 0.0000 0.0000 0.9000 0 0 0 -1 0.9000".split()
    assert [row[5:7] for row in rows[1:]] == [["G1", "+"], ["G2", "-"], ["G1", "+"], ["G1", "+"]]


def test_unsorted_input_cannot_be_indexed_and_leaves_nothing(tmp_path):
    vcf = tmp_path / "in.vcf"
    vcf.write_text(HEADER + "\n".join([RECORDS[2], RECORDS[0]]) + "\n")
    with pytest.raises(InputError, match="not sorted"):
        write_vcf(vcf, [], tmp_path / "out.vcf.gz", header_lines=splice_header())
    assert sorted(os.listdir(tmp_path)) == ["in.vcf"]


def test_bad_output_names_and_results_out_of_order(vcf, tmp_path):
    with pytest.raises(InputError, match=r"\.vcf or \.vcf\.gz"):
        write_vcf(vcf, [], tmp_path / "out.bcf", header_lines=splice_header())
    late, early = splice_results()[2], splice_results()[0]
    with pytest.raises(InputError, match="input order"):
        write_vcf(vcf, [late, early], tmp_path / "out.vcf", header_lines=splice_header())
    assert not (tmp_path / "out.vcf").exists()
