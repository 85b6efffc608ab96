"""Tests for bioseq.simulate.reads and the ``bioseq simulate`` command."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pysam
import pytest

import bioseq.cli.main as cli_main
from bioseq.errors import InputError
from bioseq.io.splice_junctions import junctions
from bioseq.simulate.genome import SimulatedGenome, simulate_genome
from bioseq.simulate.reads import simulate_rnaseq

GENOME = {"n_chromosomes": 2, "chromosome_length": 60_000, "genes_per_chromosome": 10, "seed": 1}
N_READS = 4_000


@pytest.fixture(scope="module")
def genome() -> SimulatedGenome:
    return simulate_genome(**GENOME)


@pytest.fixture(scope="module")
def simulated(genome, tmp_path_factory):
    path = tmp_path_factory.mktemp("reads") / "rnaseq.bam"
    return simulate_rnaseq(genome, path, n_reads=N_READS, read_length=80, seed=5)


@pytest.fixture(scope="module")
def reads(simulated) -> list[pysam.AlignedSegment]:
    with pysam.AlignmentFile(simulated.path) as bam:
        return list(bam.fetch(until_eof=True))


@pytest.fixture
def cli(monkeypatch):
    """``bioseq`` with the simulate command registered (until the lead lists it in COMMANDS)."""
    if "simulate" not in cli_main.COMMANDS:
        monkeypatch.setattr(cli_main, "COMMANDS", (*cli_main.COMMANDS, "simulate"))
    return cli_main.main


def test_header_and_index(simulated):
    with pysam.AlignmentFile(simulated.path) as bam:
        header = bam.header.to_dict()
        assert header["HD"]["SO"] == "coordinate"
        assert header["SQ"] == [{"SN": "chr1", "LN": 60_000}, {"SN": "chr2", "LN": 60_000}]
        assert "SYNTHETIC" in header["CO"][0]
        assert bam.check_index()
        assert sum(s.mapped for s in bam.get_index_statistics()) == N_READS


def test_reads_are_coordinate_sorted(reads):
    keys = [(r.reference_id, r.reference_start) for r in reads]
    assert keys == sorted(keys)
    assert [r.query_name for r in reads[:2]] == ["r000001", "r000002"]


def test_counts_add_up(simulated, reads, genome):
    assert simulated.n_reads == len(reads) == N_READS
    assert sum(simulated.reads_per_transcript.values()) == N_READS
    assert list(simulated.reads_per_transcript) == [t.id for t in genome.transcripts]
    assert simulated.n_spliced == sum("N" in r.cigarstring for r in reads) > N_READS / 10
    counts = sorted(simulated.reads_per_transcript.values())
    assert counts[-1] > 5 * max(counts[len(counts) // 2], 1)  # expression varies by gene


def test_alignment_fields(reads, genome):
    introns = {(i.chrom, i.start, i.end): i.strand for i in genome.annotation().introns()}
    for read in reads:
        assert read.mapping_quality == 60 and read.query_length == 80
        assert read.get_tag("NH") == 1 and read.flag in (0, 16)
        assert {op for op, _ in read.cigartuples} <= {0, 3}  # M and N only
        blocks = read.get_blocks()
        crossed = [(read.reference_name, a[1], b[0]) for a, b in zip(blocks, blocks[1:])]
        if crossed:
            # each N is a simulated intron and XS is its transcript strand
            assert all(c in introns for c in crossed)
            assert read.get_tag("XS") == introns[crossed[0]]
        else:
            assert not read.has_tag("XS")
    assert 0.3 < np.mean([r.is_reverse for r in reads]) < 0.7  # unstranded library


def test_reads_match_genome_except_simulated_errors(reads, genome, simulated):
    mismatch_quals, match_quals, total = [], [], 0
    for read in reads:
        contig = genome.sequences[read.reference_name].upper()
        reference = "".join(contig[a:b] for a, b in read.get_blocks())
        quals = read.query_qualities
        wrong = [i for i, (x, y) in enumerate(zip(read.query_sequence, reference)) if x != y]
        assert len(wrong) == read.get_tag("NM")
        mismatch_quals += [quals[i] for i in wrong]
        match_quals.append(np.mean(quals))
        total += len(wrong)
    assert total == simulated.n_substitutions
    rate = total / (N_READS * 80)
    assert 0.001 < rate < 0.02  # about 0.5 % substitutions
    # substitutions follow the qualities: mostly on low-quality (Q2/Q12) bases
    assert np.mean(mismatch_quals) < 20 < np.mean(match_quals)
    assert set(np.unique(np.concatenate([r.query_qualities for r in reads[:200]]))) <= {2, 12, 23, 37}


def test_junctions_recover_the_simulated_introns(simulated, genome):
    truth = {(i.chrom, i.start, i.end, i.strand) for i in genome.annotation().introns()}
    found = {(j.chrom, j.start, j.end, j.strand) for j in junctions(simulated.path, min_support=3)}
    assert found <= truth  # no false junction: every N is a real intron, with its strand
    assert len(found) / len(truth) > 0.75  # most introns; the rest belong to weakly expressed genes


def test_same_seed_same_bam_bytes(genome, simulated, tmp_path):
    again = simulate_rnaseq(genome, tmp_path / "again.bam", n_reads=N_READS, read_length=80, seed=5)
    assert Path(again.path).read_bytes() == Path(simulated.path).read_bytes()
    assert (tmp_path / "again.bam.bai").read_bytes() == Path(simulated.path + ".bai").read_bytes()
    other = simulate_rnaseq(genome, tmp_path / "other.bam", n_reads=100, read_length=80, seed=6)
    assert other.n_reads == 100


@pytest.mark.parametrize(
    "arguments, message",
    [
        ({"n_reads": -1}, "the number of reads must be an integer from 0"),
        ({"read_length": 10}, "the read length must be an integer from 20 to"),
        ({"read_length": 100_000}, r"the read length \(100,000\) exceeds the \d+ bases of transcript chr"),
        ({"seed": 2**40}, "the seed must be an integer"),
    ],
)
def test_bad_arguments_leave_no_file(genome, tmp_path, arguments, message):
    with pytest.raises(InputError, match=message):
        simulate_rnaseq(genome, tmp_path / "x.bam", **arguments)
    assert list(tmp_path.iterdir()) == []


def test_rejects_other_objects(tmp_path):
    with pytest.raises(InputError, match="expected a SimulatedGenome, got str"):
        simulate_rnaseq("genome.fa", tmp_path / "x.bam")


def test_command_writes_every_file(cli, tmp_path, capsys):
    out = tmp_path / "sim"
    args = [
        "simulate",
        "--out",
        str(out),
        "--chromosomes",
        "1",
        "--length",
        "30000",
        "--genes",
        "4",
        "--reads",
        "500",
        "--seed",
        "2",
    ]
    assert cli(args) == 0
    assert "SYNTHETIC" in capsys.readouterr().err
    names = {"genome.fa", "genome.fa.fai", "genes.gtf", "rnaseq.bam", "rnaseq.bam.bai", "truth.json"}
    assert {p.name for p in out.iterdir()} == names
    assert [p.name for p in tmp_path.iterdir()] == ["sim"]  # no staging folder left behind
    truth = json.loads((out / "truth.json").read_text())
    assert truth["synthetic"] is True and truth["rnaseq"]["reads"] == 500
    assert truth["parameters"] == {
        "n_chromosomes": 1,
        "chromosome_length": 30_000,
        "genes_per_chromosome": 4,
        "seed": 2,
    }
    files = [str(out / n) for n in ("genome.fa", "genes.gtf", "rnaseq.bam")]
    assert cli(["inspect", *files]) == 0
    first = {n: (out / n).read_bytes() for n in names}
    assert cli(args) == 0  # the same command again: the same bytes
    assert {n: (out / n).read_bytes() for n in names} == first


@pytest.mark.parametrize(
    "option, message",
    [
        (["--length", "500"], "the chromosome length must be an integer from 10,000"),
        (["--reads", "-5"], "the number of reads must be an integer from 0"),
        (["--length", "10000", "--genes", "20"], "Use fewer genes per chromosome"),
        (["--length", "20000", "--genes", "1", "--read-length", "5000"], "Use shorter reads"),
    ],
)
def test_command_bad_option_is_one_line(cli, tmp_path, capsys, option, message):
    out = tmp_path / "sim"
    assert cli(["simulate", "--out", str(out), "--chromosomes", "1", "--reads", "50", *option]) == 1
    err = capsys.readouterr().err
    assert err.startswith("bioseq simulate: error: ") and message in err
    assert err.count("\n") == 1
    assert list(tmp_path.iterdir()) == []  # nothing written, not even the folder


def test_command_out_is_a_file(cli, tmp_path, capsys):
    target = tmp_path / "file.txt"
    target.write_text("x")
    assert cli(["simulate", "--out", str(target)]) == 1
    assert "--out names a file, not a folder" in capsys.readouterr().err
