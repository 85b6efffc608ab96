"""Tests of ``bioseq dataset promoters|splice-sites``."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import bioseq.cli.main as cli
from bioseq.io.interval import chromosome_of
from bioseq.io.tables import read_labelled


@pytest.fixture
def bioseq(monkeypatch):
    """``main`` with the dataset command registered (until the lead adds it to COMMANDS)."""
    if "dataset" not in cli.COMMANDS:
        monkeypatch.setattr(cli, "COMMANDS", cli.COMMANDS + ("dataset",))
    return cli.main


def gtf_line(chrom, start, end, strand, tx) -> str:
    """One GTF exon line (1-based inclusive), gene id = transcript id."""
    return f'{chrom}\tt\texon\t{start}\t{end}\t.\t{strand}\t.\tgene_id "{tx}"; transcript_id "{tx}";\n'


@pytest.fixture(scope="module")
def genome(tmp_path_factory) -> tuple[Path, Path]:
    """Three 3 kb contigs, each with a '+' and a '-' two-exon transcript (GT..AG introns planted)."""
    rng = np.random.default_rng(3)
    folder = tmp_path_factory.mktemp("cli")
    fasta, lines = [], []
    for c in ("chr1", "chr2", "chr3"):
        seq = list(rng.choice(list("ACGT"), 3000))
        seq[600:602], seq[798:800] = "GT", "AG"  # '+' intron [600, 800)
        seq[2000:2002], seq[2198:2200] = "CT", "AC"  # '-' intron [2000, 2200): AG / GT on '-'
        fasta.append(f">{c}\n{''.join(seq)}\n")
        lines += [
            gtf_line(c, 401, 600, "+", f"{c}p"),
            gtf_line(c, 801, 1000, "+", f"{c}p"),
            gtf_line(c, 1801, 2000, "-", f"{c}m"),
            gtf_line(c, 2201, 2400, "-", f"{c}m"),
        ]
    (folder / "g.fa").write_text("".join(fasta))
    (folder / "g.gtf").write_text("".join(lines))
    return folder / "g.fa", folder / "g.gtf"


def test_promoters_writes_split_tables(bioseq, genome, tmp_path, capsys):
    fasta, gtf = genome
    out = tmp_path / "prom"
    status = bioseq(
        [
            "dataset",
            "promoters",
            "--genome",
            str(fasta),
            "--annotation",
            str(gtf),
            "--out",
            str(out),
            "--length",
            "50",
            "--negatives",
            "shuffle",
            "--valid-chroms",
            "chr2",
            "--test-chroms",
            "chr3",
        ]
    )
    assert status == 0
    assert "12 promoters examples; train 4, valid 4, test 4" in capsys.readouterr().err
    test = read_labelled(out / "test.csv", name_column="name")
    # chr3's '+' TSS at 400 and '-' TSS at 2399, windows of 50 centred on them, and one shuffle each.
    assert sorted(test.names) == [
        "chr3:2375-2425(-)",
        "chr3:2375-2425(-)_shuf1",
        "chr3:375-425(+)",
        "chr3:375-425(+)_shuf1",
    ]
    summary = json.loads((out / "summary.json").read_text())
    assert summary["dataset"] == "promoters" and summary["options"]["negatives"] == "shuffle"
    assert summary["chromosomes"] == {"train": ["chr1"], "valid": ["chr2"], "test": ["chr3"]}
    assert summary["inputs"]["genome"] == str(fasta.resolve())


def test_splice_sites_both(bioseq, genome, tmp_path):
    fasta, gtf = genome
    out = tmp_path / "splice"
    assert (
        bioseq(
            [
                "dataset",
                "splice-sites",
                "--genome",
                str(fasta),
                "--annotation",
                str(gtf),
                "--site",
                "both",
                "--out",
                str(out),
                "--length",
                "20",
                "--test-chroms",
                "chr1",
                "--valid-chroms",
                "chr2",
            ]
        )
        == 0
    )
    train = read_labelled(out / "train.csv", name_column="name")
    assert train.classes == ("acceptor", "decoy", "donor")
    centres = {(train.classes[y], s[9:11]) for s, y in zip(train.sequences, train.labels.tolist())}
    assert {("donor", "GT"), ("acceptor", "AG")} <= centres and ("donor", "AG") not in centres
    assert {chromosome_of(n) for n in train.names} == {"chr3"}
    counts = json.loads((out / "summary.json").read_text())["counts"]
    assert counts["train"]["per_class"] == {"acceptor": 2, "decoy": 4, "donor": 2}


def genbank_of(fasta: Path, out: Path) -> Path:
    """The genome fixture as GenBank: one record per contig, each transcript an mRNA named by its locus tag."""
    from flatfiles import genbank_text

    records = []
    for block in fasta.read_text().split(">")[1:]:
        name, seq = block.split()
        records.append(
            genbank_text(
                seq,
                [
                    ("mRNA", "join(401..600,801..1000)", {"locus_tag": f"{name}p"}),
                    ("mRNA", "complement(join(1801..2000,2201..2400))", {"locus_tag": f"{name}m"}),
                ],
                name=name,
                version=None,
            )
        )
    out.write_text("".join(records))
    return out


def test_genbank_genome_carries_its_annotation(bioseq, genome, tmp_path, capsys):
    fasta, gtf = genome
    gb = genbank_of(fasta, tmp_path / "g.gb")
    split = ["--length", "20", "--test-chroms", "chr1", "--valid-chroms", "chr2", "--site", "both"]
    assert (
        bioseq(
            [
                "dataset",
                "splice-sites",
                "--genome",
                str(fasta),
                "--annotation",
                str(gtf),
                "--out",
                str(tmp_path / "gtf"),
                *split,
            ]
        )
        == 0
    )
    assert bioseq(["dataset", "splice-sites", "--genome", str(gb), "--out", str(tmp_path / "gb"), *split]) == 0
    assert "the annotation is the features of" in capsys.readouterr().err
    for name in ("train.csv", "valid.csv", "test.csv"):  # the same windows, sequences and labels
        assert (tmp_path / "gb" / name).read_text() == (tmp_path / "gtf" / name).read_text()
    summary = json.loads((tmp_path / "gb" / "summary.json").read_text())
    assert summary["inputs"] == {"genome": str(gb.resolve()), "annotation": str(gb.resolve())}
    promoters = [
        "dataset",
        "promoters",
        "--length",
        "50",
        "--negatives",
        "shuffle",
        "--test-chroms",
        "chr3",
        "--valid-chroms",
        "chr2",
    ]
    assert bioseq([*promoters, "--genome", str(fasta), "--annotation", str(gb), "--out", str(tmp_path / "p")]) == 0
    test = read_labelled(tmp_path / "p" / "test.csv", name_column="name")
    assert sorted(test.names)[::2] == ["chr3:2375-2425(-)", "chr3:375-425(+)"]  # as from the GTF
    assert bioseq([*promoters, "--genome", str(fasta), "--out", str(tmp_path / "q")]) == 1
    assert "promoters need an annotation" in capsys.readouterr().err


def test_bad_input_gives_one_error_line(bioseq, genome, tmp_path, capsys):
    fasta, _ = genome
    gtf = tmp_path / "ensembl.gtf"
    gtf.write_text(gtf_line("chrUn_random", 401, 600, "+", "t"))
    status = bioseq(
        ["dataset", "promoters", "--genome", str(fasta), "--annotation", str(gtf), "--out", str(tmp_path / "x")]
    )
    err = capsys.readouterr().err.strip()
    assert status == 1 and len(err.splitlines()) == 1
    assert err.startswith("bioseq dataset: error: ") and "'chrUn_random'" in err and "is in the genome" in err
    assert not (tmp_path / "x").exists()
    status = bioseq(
        ["dataset", "splice-sites", "--genome", str(fasta), "--site", "donor", "--out", str(tmp_path / "y")]
    )
    assert status == 1 and "need an annotation, RNA-seq alignments" in capsys.readouterr().err


def test_dm6_promoters_gc_and_splice_sites_from_reads(bioseq, shared_data, tmp_path, capsys):
    folder = shared_data / "genomes" / "dm6_small"
    if not (folder / "dm6.small.fa").exists():
        pytest.skip("dm6_small is absent")
    genome, gtf, bam = (str(folder / n) for n in ("dm6.small.fa", "dm6.small.gtf", "sample1.tiny.paired.dm6small.bam"))
    assert bioseq(["dataset", "promoters", "--genome", genome, "--annotation", gtf, "--out", str(tmp_path / "p")]) == 0
    summary = json.loads((tmp_path / "p" / "summary.json").read_text())
    # 2 contigs: chr2L trains, chr2R (3 TSSs) tests, valid is 10 % of each chr2L class; GC negatives
    # follow the positives' chromosomes, so every split is balanced.
    assert summary["chromosomes"]["test"] == ["chr2R"] and "stratified" in summary["how"]
    for split in ("train", "valid", "test"):
        per_class = summary["counts"][split]["per_class"]
        assert per_class["promoter"] == per_class["non_promoter"] > 0
    assert (
        bioseq(
            [
                "dataset",
                "splice-sites",
                "--genome",
                genome,
                "--annotation",
                gtf,
                "--bam",
                bam,
                "--site",
                "donor",
                "--out",
                str(tmp_path / "s"),
            ]
        )
        == 0
    )
    assert "12 donor sites from junctions, 12 of them annotated" in capsys.readouterr().err


def gff3_of(gtf: Path, out: Path) -> Path:
    """The GTF fixture as GFF3: a gene, an mRNA and its exons per transcript."""
    exons: dict[str, list[list[str]]] = {}
    for line in gtf.read_text().splitlines():
        fields = line.split("\t")
        exons.setdefault(fields[8].split('"')[1], []).append(fields)
    lines = ["##gff-version 3\n"]
    for tx, rows in exons.items():
        chrom, strand = rows[0][0], rows[0][6]
        start, end = min(int(r[3]) for r in rows), max(int(r[4]) for r in rows)
        lines.append(f"{chrom}\tt\tgene\t{start}\t{end}\t.\t{strand}\t.\tID=g{tx};biotype=protein_coding\n")
        lines.append(f"{chrom}\tt\tmRNA\t{start}\t{end}\t.\t{strand}\t.\tID={tx};Parent=g{tx}\n")
        lines += [f"{chrom}\tt\texon\t{r[3]}\t{r[4]}\t.\t{strand}\t.\tParent={tx}\n" for r in rows]
    out.write_text("".join(lines))
    return out


def test_splice_sites_per_base(bioseq, genome, tmp_path, capsys):
    from bioseq.datasets.per_base_store import open_per_base

    fasta, gtf = genome
    common = ["dataset", "splice-sites", "--genome", str(fasta), "--per-base", "--window", "100", "--context", "20"]
    common += ["--site-windows", "1"]
    split = ["--test-chroms", "chr3", "--valid-chroms", "chr2"]
    assert bioseq([*common, "--annotation", str(gtf), *split, "--out", str(tmp_path / "DS")]) == 0
    err = capsys.readouterr().err
    assert "test: 12 examples (tile 12); labelled acceptor 2, donor 2" in err
    assert "train: 8 examples (site 4, intronic 2, genomic 2)" in err and "(chromosomes) in" in err
    ds = open_per_base(tmp_path / "DS")
    assert [len(ds.splits[s]) for s in ("train", "valid", "test")] == [8, 12, 12]
    assert {r.split(":")[0] for r in ds.splits["train"].regions} == {"chr1"}
    meta = ds.metadata
    assert meta["source"]["annotation"] == str(gtf.resolve()) and meta["sampling"]["options"]["window"] == 100
    # GFF3 (with a biotype filter) and GenBank give the same dataset; --test-chroms takes commas.
    gff = gff3_of(gtf, tmp_path / "g.gff3")
    biotype = ["--biotype", "protein_coding", "--transcripts", "canonical"]
    assert bioseq([*common, "--annotation", str(gff), *biotype, *split, "--out", str(tmp_path / "gff")]) == 0
    gb = genbank_of(fasta, tmp_path / "g.gb")
    gb_command = [*common[:3], str(gb), *common[4:]]
    assert bioseq([*gb_command, *split, "--out", str(tmp_path / "gb")]) == 0
    for other in ("gff", "gb"):
        for name in ("train", "valid", "test"):
            got = open_per_base(tmp_path / other).splits[name]
            np.testing.assert_array_equal(got.labels, ds.splits[name].labels)
            np.testing.assert_array_equal(got.codes, ds.splits[name].codes)
    folds = ["--folds", "3", "--fold", "2", "--seed", "1"]
    assert bioseq([*common, "--annotation", str(gtf), *folds, "--out", str(tmp_path / "folds")]) == 0
    assert "(fold 2 of 3, valid: 1/4 of the training loci)" in capsys.readouterr().err  # 4 loci left


def test_splice_sites_per_base_errors(bioseq, genome, tmp_path, capsys):
    fasta, gtf = genome
    common = ["dataset", "splice-sites", "--genome", str(fasta), "--annotation", str(gtf), "--out", str(tmp_path / "x")]
    for extra, message in [
        (["--per-base", "--site", "donor", "--test-chroms", "chr3"], "labels both kinds of site"),
        (["--per-base", "--test-chroms", "chr9"], "'chr9'"),
        (["--per-base", "--test-chroms", "chr2,chr3", "--valid-chroms", "chr1"], "no contig is left for training"),
        (["--per-base"], "--test-chroms chr2R or --folds 5"),
        (["--per-base", "--test-chroms", "chr3", "--context", "5"], "--context 6"),
        (["--per-base", "--test-chroms", "chr3", "--biotype", "snRNA"], "no transcript has biotype 'snRNA'"),
        (["--test-chroms", "chr3"], "--site both"),
    ]:
        assert bioseq([*common, *extra]) == 1, extra
        err = capsys.readouterr().err.strip()
        assert len(err.splitlines()) == 1 and err.startswith("bioseq dataset: error: ") and message in err, err
    assert not (tmp_path / "x").exists()


def test_splice_sites_per_base_hard_negatives(bioseq, genome, tmp_path, capsys):
    from bioseq.datasets.per_base_store import open_per_base

    fasta, gtf = genome
    miner = Path(__file__).resolve().parents[1] / "fixtures" / "dm6_per_base_cnn"
    common = ["dataset", "splice-sites", "--genome", str(fasta), "--annotation", str(gtf), "--per-base"]
    common += ["--window", "100", "--context", "20", "--site-windows", "1", "--test-chroms", "chr3"]
    common += ["--valid-chroms", "chr2"]
    assert bioseq([*common, "--hard-negatives", str(miner), "--hard", "2", "--out", str(tmp_path / "DS")]) == 0
    err = capsys.readouterr().err
    assert "train: 16 examples (site 4, intronic 2, genomic 2, hard 8)" in err, err
    assert "8 hard negatives (false sites of" in err
    ds = open_per_base(tmp_path / "DS")
    hard = ds.metadata["sampling"]["hard"]
    assert hard["count"] == 8 and hard["candidates"] >= 8 and 0 < hard["min_score"] <= hard["max_score"] <= 1
    assert ds.metadata["source"]["hard_negatives"] == str(miner)
    assert {r.split(":")[0] for r in ds.splits["train"].regions} == {"chr1"}
    assert bioseq([*common, "--hard-negatives", str(tmp_path / "nothing"), "--out", str(tmp_path / "x")]) == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "nothing" in err and not (tmp_path / "x").exists()
