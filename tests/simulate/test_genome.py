"""Tests for bioseq.simulate.genome: determinism, gene structure, planted signal, writers."""

from __future__ import annotations

import json
from collections import Counter

import pysam
import pytest

from bioseq.cli.main import main
from bioseq.errors import InputError
from bioseq.io.gff import read_gtf
from bioseq.simulate.genome import SimulatedGenome, simulate_genome, write_genome, write_gtf, write_truth
from bioseq.simulate.motifs import reverse_complement

SMALL = {"n_chromosomes": 2, "chromosome_length": 60_000, "genes_per_chromosome": 10, "seed": 3}
RC = str.maketrans("ACGTNacgtn", "TGCANtgcan")


def rc(seq: str) -> str:
    return seq.translate(RC)[::-1]


def on_strand(genome: SimulatedGenome, chrom: str, start: int, end: int, strand: str) -> str:
    """Upper-case sequence of [start, end) read 5' to 3' on ``strand``."""
    seq = genome.sequences[chrom][start:end].upper()
    return rc(seq) if strand == "-" else seq


@pytest.fixture(scope="module")
def genome() -> SimulatedGenome:
    return simulate_genome(**SMALL)


def test_same_seed_same_bytes(genome, tmp_path):
    again = simulate_genome(**SMALL)
    assert again == genome
    for run, g in (("a", genome), ("b", again)):
        write_genome(g, tmp_path / f"{run}.fa")
        write_gtf(g, tmp_path / f"{run}.gtf")
        write_truth(g, tmp_path / f"{run}.json")
    for suffix in ("fa", "fa.fai", "gtf", "json"):
        assert (tmp_path / f"a.{suffix}").read_bytes() == (tmp_path / f"b.{suffix}").read_bytes()


def test_other_seed_other_genome(genome):
    other = simulate_genome(**{**SMALL, "seed": 4})
    assert other.sequences["chr1"] != genome.sequences["chr1"]
    assert [t.exons for t in other.transcripts] != [t.exons for t in genome.transcripts]


def test_each_contig_has_its_own_stream(genome):
    # chr1 does not depend on how many contigs follow it
    one = simulate_genome(**{**SMALL, "n_chromosomes": 1})
    assert one.sequences["chr1"] == genome.sequences["chr1"]
    assert one.transcripts == tuple(t for t in genome.transcripts if t.chrom == "chr1")


def test_contigs_and_composition(genome):
    assert {name: len(seq) for name, seq in genome.sequences.items()} == {"chr1": 60_000, "chr2": 60_000}
    text = "".join(genome.sequences.values())
    upper = text.upper()
    acgt = sum(upper.count(b) for b in "ACGT")
    assert 0.36 < (upper.count("G") + upper.count("C")) / acgt < 0.46  # eukaryote-like, target ~0.40
    cpg_ratio = upper.count("CG") * acgt / (upper.count("C") * upper.count("G"))
    assert cpg_ratio < 0.7  # CpG depleted outside islands, as in vertebrate DNA
    n_runs = [f for f in genome.features if f.kind == "N_run"]
    assert n_runs and upper.count("N") == sum(f.end - f.start for f in n_runs)
    assert 0.03 < sum(c.islower() for c in text) / len(text) < 0.15  # about 8 % soft-masked


def test_repeats_are_soft_masked_and_spare_genes(genome):
    for f in genome.features:
        if f.kind == "repeat":
            assert genome.sequences[f.chrom][f.start : f.end].islower()
    for tx in genome.transcripts:
        for start, end in tx.exons:
            assert genome.sequences[tx.chrom][start:end].isupper()  # no repeat, no N in an exon
    for gene in genome.genes:  # promoters are clean from -450 to the TSS
        lo, hi = (gene.tss - 450, gene.tss) if gene.strand == "+" else (gene.tss + 1, gene.tss + 451)
        assert genome.sequences[gene.chrom][lo:hi].isupper()


def test_gene_structure(genome):
    annotation = genome.annotation()
    assert len(genome.genes) == 20 and {g.strand for g in genome.genes} == {"+", "-"}
    spans = sorted((g.chrom, g.start, g.end) for g in genome.genes)
    for (c1, _, e1), (c2, s2, _) in zip(spans, spans[1:]):
        assert c1 != c2 or e1 < s2  # genes never overlap
    for gene in genome.genes:
        for tid in gene.transcript_ids:
            tx = annotation.transcripts_by_id[tid]
            assert 2 <= len(tx.exons) <= 6 and tx.strand == gene.strand
            assert all(b[0] - a[1] >= 90 for a, b in zip(tx.exons, tx.exons[1:]))  # introns >= 90 bp
            five_prime = tx.start if tx.strand == "+" else tx.end - 1
            assert five_prime == gene.tss  # every transcript starts at the gene's TSS
    assert {t.start for t in annotation.tss()} == {g.tss for g in genome.genes}


def test_introns_are_gt_ag_on_the_transcript_strand(genome):
    introns = genome.annotation().introns()
    assert len(introns) >= 40
    for intron in introns:
        seq = on_strand(genome, intron.chrom, intron.start, intron.end, intron.strand)
        assert seq[:2] == "GT" and seq[-2:] == "AG", intron


def test_splice_signal_is_learnable_but_noisy(genome):
    annotation = genome.annotation()
    donors = [
        on_strand(genome, i.chrom, i.start - 3, i.start + 6, "+")
        if i.strand == "+"
        else on_strand(genome, i.chrom, i.end - 6, i.end + 3, "-")
        for i in annotation.introns()
    ]
    # donor MAG|GTRAGT: position +5 (index 7) is G in ~78 % of the weight matrix, 20 % in background
    g5 = Counter(d[7] for d in donors)["G"] / len(donors)
    assert 0.6 < g5 < 0.95
    # sampled, not one fixed consensus: the commonest 9-mer (CAGGTAAGT) is far from all of them
    assert len(set(donors)) > len(donors) / 2 and Counter(donors).most_common(1)[0][1] < len(donors) / 4


def test_promoter_elements_sit_where_documented(genome):
    genes = {g.id: g for g in genome.genes}
    kinds = Counter()
    for f in genome.features:
        if f.kind not in ("TATA_box", "Inr", "DPE"):
            continue
        gene = genes[f.parent]
        kinds[f.kind] += 1
        # distance of the feature's 5' end from the TSS (+1), on the gene's strand
        five = f.start if gene.strand == "+" else f.end - 1
        offset = (five - gene.tss) if gene.strand == "+" else (gene.tss - five)
        # TATA -31..-24, Inr -2..+5 around the TSS, DPE +28..+32 (TSS is +1: offset 27)
        assert offset == {"TATA_box": -31, "Inr": -2, "DPE": 27}[f.kind]
        assert f.end - f.start == {"TATA_box": 8, "Inr": 7, "DPE": 5}[f.kind]
    assert kinds["Inr"] > 0
    promoters = Counter(g.promoter for g in genome.genes)
    assert set(promoters) <= {"TATA", "CpG", "Inr-DPE"} and len(promoters) >= 2
    assert kinds["TATA_box"] == promoters["TATA"]  # every TATA-class gene has a TATA box


def test_tss_base_is_mostly_the_inr_adenine(genome):
    inr_genes = {f.parent for f in genome.features if f.kind == "Inr"}
    bases = Counter(on_strand(genome, g.chrom, g.tss, g.tss + 1, g.strand) for g in genome.genes if g.id in inr_genes)
    assert bases["A"] / sum(bases.values()) > 0.6  # Inr YYA(+1)NWYY: A at +1 in 88 % of draws


def test_gtf_round_trip(genome, tmp_path):
    path = tmp_path / "genes.gtf"
    write_gtf(genome, path)
    back = read_gtf(path)
    assert tuple(back.transcripts_by_id.values()) == genome.transcripts
    expected = genome.annotation()
    for method in ("introns", "tss", "donor_sites", "acceptor_sites", "exons", "transcripts"):
        assert getattr(back, method)() == getattr(expected, method)(), method
    assert [(g.id, g.start, g.end, g.strand) for g in back.genes_by_id.values()] == [
        (g.id, g.start, g.end, g.strand) for g in genome.genes
    ]
    lines = [line.split("\t") for line in path.read_text().splitlines() if not line.startswith("#")]
    first = next(f for f in lines if f[2] == "exon")
    tx = genome.transcripts[0]
    # 1-based inclusive in the file: the 0-based exon [s, e) is written s + 1 .. e
    assert (int(first[3]), int(first[4])) == (tx.exons[0][0] + 1, tx.exons[0][1])
    assert Counter(f[2] for f in lines) == {
        "gene": 20,
        "transcript": len(genome.transcripts),
        "exon": sum(len(t.exons) for t in genome.transcripts),
    }


def test_fasta_is_indexed_with_60_columns(genome, tmp_path):
    path = tmp_path / "genome.fa"
    write_genome(genome, path)
    lines = path.read_text().splitlines()
    assert lines[0] == ">chr1 SYNTHETIC bioseq simulate seed=3"
    assert {len(line) for line in lines[1:1000]} == {60}
    with pysam.FastaFile(str(path)) as fasta:
        assert list(fasta.references) == ["chr1", "chr2"]
        assert fasta.fetch("chr2", 100, 200) == genome.sequences["chr2"][100:200]
    assert (tmp_path / "genome.fa.fai").read_text().splitlines()[0] == "chr1\t60000\t39\t60\t61"


def test_truth_json_lists_what_was_planted(genome, tmp_path):
    path = tmp_path / "truth.json"
    write_truth(genome, path, extra={"note": "x"})
    truth = json.loads(path.read_text())
    assert truth["synthetic"] is True and truth["note"] == "x"
    assert truth["parameters"] == SMALL
    assert len(truth["genes"]) == 20 and len(truth["features"]) == len(genome.features)
    donor = next(f for f in truth["features"] if f["kind"] == "donor_motif")
    assert donor["sequence"][3:5] == "GT"  # MAG|GT..., read on the gene's strand
    acceptor = next(f for f in truth["features"] if f["kind"] == "acceptor_motif")
    assert acceptor["sequence"][1:3] == "AG"  # Y AG|G


def test_inspect_reads_the_files(genome, tmp_path, capsys):
    write_genome(genome, tmp_path / "genome.fa")
    write_gtf(genome, tmp_path / "genes.gtf")
    assert main(["inspect", str(tmp_path / "genome.fa"), str(tmp_path / "genes.gtf")]) == 0
    assert "problems              none" in capsys.readouterr().out


@pytest.mark.parametrize(
    "arguments, message",
    [
        ({"n_chromosomes": 0}, "the number of chromosomes must be an integer from 1 to 50, got 0"),
        ({"n_chromosomes": 20, "chromosome_length": 10_000_000}, "more than the simulator's limit of 100,000,000"),
        ({"chromosome_length": 500}, "the chromosome length must be an integer from 10,000"),
        ({"genes_per_chromosome": True}, "the number of genes per chromosome must be an integer"),
        ({"seed": -1}, "the seed must be an integer from 0"),
        ({"chromosome_length": 20_000, "genes_per_chromosome": 40}, "Use fewer genes per chromosome"),
    ],
)
def test_bad_arguments(arguments, message):
    with pytest.raises(InputError, match=message):
        simulate_genome(**arguments)


def test_writers_reject_other_objects(tmp_path):
    for writer in (write_genome, write_gtf, write_truth):
        with pytest.raises(InputError, match="expected a SimulatedGenome, got dict"):
            writer({}, tmp_path / "out")
    assert list(tmp_path.iterdir()) == []


def test_reverse_complement_round_trip():
    import numpy as np

    seq = np.frombuffer(b"ACGTNacgtnAAC", dtype=np.uint8)
    assert reverse_complement(seq).tobytes() == b"GTTnacgtNACGT"
    assert reverse_complement(reverse_complement(seq)).tobytes() == seq.tobytes()
