"""Tests for ``bioseq simulate variants``: labelled splice-site control variants as VCF + label TSV."""

from __future__ import annotations

import numpy as np
import pysam
import pytest

from bioseq.cli.main import main
from bioseq.io.variants import read_variants


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    """chr1 (8 kb) with a + gene (exons 1000-1100, 1200-1300: intron GT..AG) and a - gene (exons 2000-2100,
    2200-2300: genome CT..AC), and chr2 (2 kb) without genes; 0-based half-open."""
    folder = tmp_path_factory.mktemp("simulate_variants")
    rng = np.random.default_rng(11)
    chr1 = list("".join(rng.choice(list("ACGT"), size=8000)))
    for start, pair in {1100: "GT", 1198: "AG", 2100: "CT", 2198: "AC"}.items():
        chr1[start : start + 2] = pair
    fasta = folder / "genome.fa"
    fasta.write_text(">chr1\n" + "".join(chr1) + "\n>chr2\n" + "".join(rng.choice(list("ACGT"), size=2000)) + "\n")
    gtf = [
        f'chr1\tt\texon\t{s + 1}\t{e}\t.\t{strand}\t.\tgene_id "{g}"; transcript_id "{g}.1";'
        for g, strand, exons in (("p", "+", ((1000, 1100), (1200, 1300))), ("m", "-", ((2000, 2100), (2200, 2300))))
        for s, e in exons
    ]
    annotation = folder / "genes.gtf"
    annotation.write_text("\n".join(gtf) + "\n")
    return str(fasta), str(annotation)


def test_writes_indexed_vcf_and_labels(inputs, tmp_path, capsys):
    out = tmp_path / "controls.vcf.gz"
    args = ["simulate", "variants", "--genome", inputs[0], "--annotation", inputs[1], "--out", str(out)]
    extra = ["--per-category", "2", "--mismatches", "1", "--multiallelic", "1", "--alias-contigs", "--seed", "4"]
    assert main([*args, *extra]) == 0
    err = capsys.readouterr().err
    assert err.startswith("bioseq simulate variants: ") and "2 donor_disrupting" in err and "1 ref_mismatch" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "controls.labels.tsv",
        "controls.vcf.gz",
        "controls.vcf.gz.tbi",
    ]
    rows = [line.split("\t") for line in (tmp_path / "controls.labels.tsv").read_text().splitlines()[1:]]
    # 2 per site category (5 of them), 2 intergenic, 1 mismatch, 1 second ALT
    assert len(rows) == 5 * 2 + 2 + 2 and {r[0] for r in rows} <= {"1", "2"}
    reader = read_variants(out, reference=inputs[0])
    got = list(reader)
    assert reader.counts.ref_mismatch == 1 and len(got) == len(rows) - 1
    assert {v.contig for v in got} <= {"chr1", "chr2"} and any(v.allele == 2 for v in got)
    labelled = {(r[0], int(r[1]), r[2], r[3]): r[4] for r in rows}
    assert all((v.chrom, v.pos, v.ref, v.alt) in labelled for v in got)
    with pysam.VariantFile(str(out)) as vcf:
        assert len(list(vcf.fetch("1", 1000, 1300))) >= 4  # the alias resolves in the index too
    first = out.read_bytes()
    assert main([*args, *extra]) == 0 and out.read_bytes() == first  # same seed, same bytes


def test_labels_option_and_plain_vcf(inputs, tmp_path):
    out, labels = tmp_path / "v.vcf", tmp_path / "sub" / "l.tsv"
    command = ["simulate", "variants", "--genome", inputs[0], "--annotation", inputs[1], "--out", str(out)]
    assert main([*command, "--labels", str(labels), "--contigs", "chr1", "--intergenic", "3"]) == 0
    assert out.read_text().startswith("##fileformat=VCFv4.2") and labels.exists()
    intergenic = [line.rstrip("\n").split("\t") for line in labels.open() if "\tintergenic\t" in line]
    assert len(intergenic) == 3 and all(r[0] == "chr1" and int(r[1]) > 2300 + 5000 for r in intergenic)


@pytest.mark.parametrize(
    "option, message",
    [
        (["--per-category", "-1"], "the number of variants per category must be >= 0"),
        (["--contigs", "chr2"], "no canonical GT/AG splice site on chr2"),
        (["--mismatches", "500"], "500 REF mismatches asked for"),
    ],
)
def test_bad_option_is_one_line(inputs, tmp_path, capsys, option, message):
    out = tmp_path / "v.vcf"
    assert (
        main(["simulate", "variants", "--genome", inputs[0], "--annotation", inputs[1], "--out", str(out), *option])
        == 1
    )
    err = capsys.readouterr().err
    assert err.startswith("bioseq simulate: error: ") and message in err and err.count("\n") == 1
    assert list(tmp_path.iterdir()) == []


def test_plain_simulate_still_needs_out(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["simulate"])
    assert exit_info.value.code == 2 and "--out" in capsys.readouterr().err
