"""bioseq.simulate.planted and ``bioseq simulate planted``: motifs planted where the TSV says, seeded."""

from __future__ import annotations

import numpy as np
import pytest

from bioseq.cli.main import main
from bioseq.errors import InputError
from bioseq.io.tables import read_labelled
from bioseq.simulate.motifs import TATA_BOX, reverse_complement
from bioseq.simulate.planted import BUILTIN_MOTIFS, planted_motif, simulate_planted, write_meme


def test_positives_carry_the_motif_where_recorded_and_negatives_none():
    data = simulate_planted(n=60, length=80, instances=2, strands="both", seed=4)
    assert data.labels.count("pos") == 30 and len(data.sequences) == 60
    assert all(len(s) == 80 for s in data.sequences)
    by_name = dict(zip(data.names, data.sequences))
    positives = {n for n, label in zip(data.names, data.labels) if label == "pos"}
    assert {s.name for s in data.sites} == positives and len(data.sites) == 60
    for site in data.sites:
        assert by_name[site.name][site.start : site.end] == site.site and site.end - site.start == len(TATA_BOX)
    assert {s.strand for s in data.sites} == {"+", "-"}
    for name in positives:  # two copies, never overlapping
        a, b = sorted((s.start, s.end) for s in data.sites if s.name == name)
        assert a[1] <= b[0]


def test_minus_copies_are_reverse_complements_of_pwm_samples():
    data = simulate_planted(n=200, length=40, strands="both", seed=1)
    letters = np.frombuffer(b"ACGT", dtype=np.uint8)
    likely = np.array([b"ACGT"[i] for i in TATA_BOX.argmax(axis=1)], dtype=np.uint8)
    for site in data.sites:
        copy = np.frombuffer(site.site.encode(), dtype=np.uint8)
        forward = reverse_complement(copy) if site.strand == "-" else copy
        assert np.isin(forward, letters).all()
        assert (forward == likely).mean() >= 0.25  # sampled from the TATA matrix, mostly its consensus


def test_same_seed_same_data_other_seed_other_data():
    a, b = simulate_planted(n=20, seed=3), simulate_planted(n=20, seed=3)
    assert a.sequences == b.sequences and a.sites == b.sites
    assert simulate_planted(n=20, seed=4).sequences != a.sequences


def test_motifs_by_name_matrix_or_jaspar_id():
    name, pwm = planted_motif("GC_box")
    assert name == "GC_box" and pwm.shape == (9, 4) and np.allclose(pwm.sum(axis=1), 1)
    assert set(BUILTIN_MOTIFS) >= {"TATA_box", "GC_box", "CCAAT_box"}
    data = simulate_planted(n=4, length=30, motifs=[("mine", np.eye(4)[[0, 0, 1]])], seed=0)
    assert {s.site for s in data.sites} == {"AAC"}
    with pytest.raises(InputError, match="unknown motif 'nope'"):
        planted_motif("nope")
    with pytest.raises(InputError, match="do not fit"):
        simulate_planted(n=4, length=10, instances=2)


def test_jaspar_motif_offline():
    pytest.importorskip("pyjaspar")
    name, pwm = planted_motif("MA0108.2")
    assert name.startswith("MA0108.2") and "TBP" in name and pwm.shape[1] == 4


def test_cli_writes_table_positions_and_meme(tmp_path, capsys):
    out = tmp_path / "planted.csv"
    args = ["simulate", "planted", "--out", str(out), "-n", "40", "--length", "60", "--meme", str(tmp_path / "m.meme")]
    assert main(args) == 0
    assert "SYNTHETIC" in capsys.readouterr().err
    data = read_labelled(out)
    assert data.classes == ("neg", "pos") and len(data) == 40 and data.class_counts() == {"neg": 20, "pos": 20}
    lines = (tmp_path / "planted.planted.tsv").read_text().splitlines()
    assert lines[0].split("\t") == ["name", "motif", "start", "end", "strand", "site"] and len(lines) == 21
    sequences = dict(zip(data.names, data.sequences))
    for line in lines[1:]:
        name, motif, start, end, strand, site = line.split("\t")
        assert sequences[name][int(start) : int(end)] == site and motif == "TATA_box"
    first = out.read_bytes()
    assert main(args) == 0 and out.read_bytes() == first  # seeded: the same bytes
    assert "MOTIF TATA_box" in (tmp_path / "m.meme").read_text()


def test_cli_bad_motif_is_one_line(tmp_path, capsys):
    assert main(["simulate", "planted", "--out", str(tmp_path / "x.csv"), "--motif", "XYZ"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "unknown motif 'XYZ'" in err and "--motif NAME" in err
    assert not (tmp_path / "x.csv").exists()


def test_meme_file_reads_back_with_biopython(tmp_path):
    from Bio import motifs

    write_meme([("TATA_box", TATA_BOX)], tmp_path / "t.meme")
    with open(tmp_path / "t.meme") as handle:
        read = motifs.parse(handle, "minimal")
    assert read[0].name == "TATA_box" and read[0].length == len(TATA_BOX)
    np.testing.assert_allclose(np.array([read[0].pwm[b] for b in "ACGT"]).T, TATA_BOX, atol=1e-3)
