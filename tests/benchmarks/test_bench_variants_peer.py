"""The OpenSpliceAI side of benchmarks/bench_variants.py: its annotation table, output count and peak.

OpenSpliceAI itself is not needed (nor imported): these check the inputs the
benchmark writes for it and how it reads its outputs.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

# One gene with two transcripts (the second spans more), one minus-strand gene; 1-based inclusive.
GTF = """\
chr1\tt\texon\t101\t200\t.\t+\t.\tgene_id "g1"; transcript_id "t1";
chr1\tt\texon\t301\t400\t.\t+\t.\tgene_id "g1"; transcript_id "t1";
chr1\tt\texon\t101\t200\t.\t+\t.\tgene_id "g1"; transcript_id "t2";
chr1\tt\texon\t501\t650\t.\t+\t.\tgene_id "g1"; transcript_id "t2";
chr1\tt\texon\t1001\t1100\t.\t-\t.\tgene_id "g2"; transcript_id "t3";
"""


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("bioseq_bench_variants", REPO / "benchmarks" / "bench_variants.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    try:
        spec.loader.exec_module(module)
        yield module
    finally:
        sys.modules.pop(spec.name, None)


def test_spliceai_table_has_the_longest_transcript_per_gene_with_0_based_starts(bench, tmp_path):
    (tmp_path / "a.gtf").write_text(GTF)
    assert bench.write_spliceai_table(tmp_path / "a.gtf", tmp_path / "a.txt") == 2
    lines = (tmp_path / "a.txt").read_text().splitlines()
    assert lines[0].split("\t") == ["#NAME", "CHROM", "STRAND", "TX_START", "TX_END", "EXON_START", "EXON_END"]
    assert lines[1].split("\t") == ["g1", "chr1", "+", "100", "650", "100,500,", "200,650,"]  # t2: 101-650
    assert lines[2].split("\t") == ["g2", "chr1", "-", "1000", "1100", "1000,", "1100,"]


def test_spliceai_table_read_as_openspliceai_does_gives_the_gtf_coordinates(bench, tmp_path):
    (tmp_path / "a.gtf").write_text(GTF)
    bench.write_spliceai_table(tmp_path / "a.gtf", tmp_path / "a.txt")
    row = (tmp_path / "a.txt").read_text().splitlines()[1].split("\t")
    starts = [int(s) + 1 for s in row[5].split(",") if s]  # its Annotator adds 1 to the starts
    ends = [int(e) for e in row[6].split(",") if e]
    assert (int(row[3]) + 1, int(row[4])) == (101, 650)
    assert list(zip(starts, ends)) == [(101, 200), (501, 650)]


def test_count_annotated_counts_records_with_the_info_key(bench, tmp_path):
    vcf = tmp_path / "o.vcf"
    vcf.write_text(
        "##fileformat=VCFv4.2\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n"
        "chr1\t5\t.\tA\tC\t.\t.\tOpenSpliceAI=C|g1|0.00|0.00|0.00|0.00|1|2|3|4\n"
        "chr1\t6\t.\tA\tC\t.\t.\t.\n"
        "chr1\t7\t.\tA\tC\t.\t.\tDP=3;OpenSpliceAI=C|g1|.|.|.|.|.|.|.|.\n"
        "chr1\t8\t.\tA\tC\t.\t.\tOpenSpliceAIX=1\n"
    )
    assert bench.count_annotated(vcf) == (4, 2)


def test_peer_peak_reads_vmhwm_else_falls_back_to_maxrss(bench):
    assert bench.peer_peak(f"x\n{bench.PEAK_TAG}2048\n", 10_240) == 2.0
    assert bench.peer_peak(f"{bench.PEAK_TAG}unknown\n", 10_240) == 10.0
    assert bench.peer_peak("", 10_240) == 10.0


def test_cores_used_is_at_least_one_and_at_most_the_usable_cores(bench):
    for workers in (1, 2, 3, 64):
        assert 1 <= bench.cores_used(workers) <= bench.usable_cores()


def test_find_peer_takes_the_given_python_else_this_one_only_if_it_imports_openspliceai(bench, monkeypatch):
    assert bench.find_peer("/some/python") == "/some/python"
    monkeypatch.setattr(bench.importlib.util, "find_spec", lambda name: None)
    assert bench.find_peer(None) is None
    monkeypatch.setattr(bench.importlib.util, "find_spec", lambda name: object())
    assert bench.find_peer(None) == sys.executable


def test_without_a_peer_the_issue_figures_are_printed(bench, monkeypatch, tmp_path):
    monkeypatch.setattr(bench.importlib.util, "find_spec", lambda name: None)
    peer, message = bench.setup_peer(None, [80, 400], tmp_path)
    assert peer is None
    assert "0.098" in message and "not a dependency" in message
