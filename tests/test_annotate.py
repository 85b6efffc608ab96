"""Tests of bioseq.annotate: bigWig tracks per class and strand, sites.bed, summary.json, regions, refusals."""

from __future__ import annotations

import functools
import json
import os
import signal

import numpy as np
import pyBigWig
import pytest
from test_tracks import MOTIFS, RANDOM, PairedFake, SiteFake, WindowFake  # fake per-position bundles

from bioseq.annotate import annotate, piece_spans, region_spans, track_name
from bioseq.errors import InputError, MissingContigError
from bioseq.inference import InferenceOptions
from bioseq.interrupt import Interrupted
from bioseq.io.interval import Interval
from bioseq.io.reference import Reference
from bioseq.tracks import predict_region

OTHER = "ACGTTACG" * 4  # contig x, in no region of the regions test
TRACKS = ["acceptor.minus.bw", "acceptor.plus.bw", "donor.minus.bw", "donor.plus.bw"]


@pytest.fixture(scope="module")
def genome(tmp_path_factory):
    path = tmp_path_factory.mktemp("genome") / "g.fa"
    path.write_text(f">r\n{RANDOM}\n>m\n{MOTIFS}\n>x\n{OTHER}\n")
    return path


@pytest.fixture(scope="module")
def annotated(genome, tmp_path_factory):
    out = tmp_path_factory.mktemp("annotate") / "out"
    summary = annotate(SiteFake(), genome, out, options=InferenceOptions(batch_size=2), chunk=37)
    return out, summary


def _values(path, chrom, start, end) -> np.ndarray:
    with pyBigWig.open(str(path)) as bw:
        return np.asarray(bw.values(chrom, start, end), dtype=np.float32)


def test_the_folder_holds_a_track_per_class_and_strand(annotated):
    out, summary = annotated
    assert sorted(p.name for p in out.iterdir()) == [*TRACKS, "sites.bed", "summary.json"]
    assert summary == json.loads((out / "summary.json").read_text())
    assert summary["tracks"] == {
        "acceptor": {"+": "acceptor.plus.bw", "-": "acceptor.minus.bw"},
        "donor": {"+": "donor.plus.bw", "-": "donor.minus.bw"},
    }
    assert (
        summary["bases"] == len(RANDOM) + len(MOTIFS) + len(OTHER)
        and summary["bases_predicted"] == 2 * summary["bases"]
    )
    assert summary["seconds"] >= 0 and summary["peak_memory_mib"] > 0 and summary["regions"] is None


def test_bigwig_values_are_the_predictions(annotated, genome):
    out, _ = annotated
    for name in TRACKS:
        with pyBigWig.open(str(out / name)) as bw:
            assert bw.chroms() == {"r": len(RANDOM), "m": len(MOTIFS), "x": len(OTHER)}
    fake = SiteFake()
    with Reference(genome) as ref:
        for chrom, size in (("r", len(RANDOM)), ("m", len(MOTIFS))):
            for strand, word in (("+", "plus"), ("-", "minus")):
                expected = predict_region(fake, ref, chrom, 0, size, strand=strand)
                np.testing.assert_array_equal(_values(out / f"donor.{word}.bw", chrom, 0, size), expected[:, 2])
                np.testing.assert_array_equal(_values(out / f"acceptor.{word}.bw", chrom, 0, size), expected[:, 1])


def test_sites_bed_by_hand(annotated):
    out, summary = annotated
    lines = (out / "sites.bed").read_text().splitlines()
    # MOTIFS (contig m) holds a minus-strand donor at 7 and acceptor at 14 (see tests/test_tracks.py).
    assert [line for line in lines if line.startswith("m\t")] == [
        "m\t7\t8\tdonor\t900\t-",
        "m\t14\t15\tacceptor\t900\t-",
    ]
    donors = {i for i in range(len(RANDOM) - 1) if RANDOM[i : i + 2] == "GT"}
    acceptors = {i for i in range(1, len(RANDOM)) if RANDOM[i - 1 : i + 1] == "AG"}
    plus = [line.split("\t") for line in lines if line.startswith("r\t") and line.endswith("+")]
    assert {int(f[1]) for f in plus if f[3] == "donor"} == donors
    assert {int(f[1]) for f in plus if f[3] == "acceptor"} == acceptors
    positions = [int(line.split("\t")[1]) for line in lines if line.startswith("r\t")]
    assert positions == sorted(positions)  # sorted, both strands interleaved
    assert summary["sites"]["donor"]["+"] == len(donors) + 4  # and the four GT of contig x
    assert summary["sites"]["acceptor"]["+"] == len(acceptors)  # x has no AG
    assert sum(n for strands in summary["sites"].values() for n in strands.values()) == len(lines)


def test_regions_are_merged_and_only_their_contigs_are_in_the_header(genome, tmp_path):
    bed = tmp_path / "regions.bed"
    bed.write_text("m\t10\t15\nr\t100\t120\nm\t0\t12\nr\t110\t130\n")
    with Reference(genome) as ref:
        assert region_spans(ref, bed) == [("r", 100, 130), ("m", 0, 15)]
        assert region_spans(ref, [Interval("m", 0, 0)]) == []
    summary = annotate(SiteFake(), genome, tmp_path / "out", regions=bed, strands="-", threshold=0.8)
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        "acceptor.minus.bw",
        "donor.minus.bw",
        "sites.bed",
        "summary.json",
    ]
    assert summary["bases"] == 45 and summary["regions"] == str(bed) and summary["strands"] == ["-"]
    with pyBigWig.open(str(tmp_path / "out" / "donor.minus.bw")) as bw:
        assert bw.chroms() == {"r": len(RANDOM), "m": len(MOTIFS)}  # not x: no region there
        assert [i[:2] for i in bw.intervals("m")] == [(i, i + 1) for i in range(15)]
        assert np.isnan(bw.values("r", 99, 100)[0]) and not np.isnan(bw.values("r", 129, 130)[0])


def test_a_region_on_an_unknown_contig_names_the_line(genome, tmp_path):
    bed = tmp_path / "regions.bed"
    bed.write_text("# header\nr\t0\t10\nchrZ\t0\t10\n")
    with pytest.raises(MissingContigError, match=r"regions\.bed, line 3: region chrZ:0-10 is on a contig"):
        annotate(SiteFake(), genome, tmp_path / "out", regions=bed)
    bed.write_text("r\t0\t10\nm\t0\t99\n")
    with pytest.raises(InputError, match=r"line 2: region m:0-99 \(0-based\) runs past the end of m"):
        annotate(SiteFake(), genome, tmp_path / "out", regions=bed)
    with pytest.raises(MissingContigError, match="region 2"):
        annotate(SiteFake(), genome, tmp_path / "out", regions=[Interval("r", 0, 5), Interval("chrZ", 0, 5)])
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"threshold": 1.0}, "threshold"),
        ({"strands": ("+", "+")}, "strands"),
        ({"strands": ()}, "strands"),
        ({"chunk": 0}, "chunk"),
        ({"options": InferenceOptions(rc_average=True)}, "rc_average=True does not apply"),
    ],
)
def test_bad_options_are_refused(genome, tmp_path, kwargs, match):
    with pytest.raises(InputError, match=match):
        annotate(SiteFake(), genome, tmp_path / "out", **kwargs)


def test_a_window_classifier_is_refused(genome, tmp_path):
    with pytest.raises(InputError, match="bioseq scan"):
        annotate(WindowFake(), genome, tmp_path / "out")


def test_sigterm_midway_keeps_the_old_folder_and_the_finished_pieces_and_a_rerun_resumes(genome, tmp_path):
    fake = SiteFake()
    calls = []

    def killed(codes, **kwargs):
        calls.append(1)
        if len(calls) == 7:
            os.kill(os.getpid(), signal.SIGTERM)  # as scancel would, while the tracks are half written
        return SiteFake.predict_proba(fake, codes, **kwargs)

    fake.predict_proba = killed
    before = signal.getsignal(signal.SIGTERM)
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "old.txt").write_text("kept")
    options = InferenceOptions(batch_size=1)
    with pytest.raises(Interrupted, match="SIGTERM"):
        annotate(fake, genome, tmp_path / "out", options=options, chunk=10, piece=20)
    assert len(calls) == 7
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out", "out.parts"]  # no .part folder left
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["old.txt"]
    assert signal.getsignal(signal.SIGTERM) == before  # the handler was put back
    parts = sorted(p.name for p in (tmp_path / "out.parts").iterdir())
    assert parts[-1] == "request.json" and len(parts) >= 2  # the finished pieces, nothing half written
    fake.predict_proba = functools.partial(SiteFake.predict_proba, fake)  # the same model, no longer killed
    summary = annotate(fake, genome, tmp_path / "out", options=options, chunk=10, piece=20)
    assert summary["pieces"]["reused"] == len(parts) - 1 and not (tmp_path / "out.parts").exists()
    whole = annotate(SiteFake(), genome, tmp_path / "whole", options=options, chunk=10)
    assert whole["pieces"]["reused"] == 0
    assert (tmp_path / "out" / "sites.bed").read_text() == (tmp_path / "whole" / "sites.bed").read_text()
    for name in TRACKS:
        for contig, size in (("r", len(RANDOM)), ("m", len(MOTIFS))):
            np.testing.assert_array_equal(
                _values(tmp_path / "out" / name, contig, 0, size), _values(tmp_path / "whole" / name, contig, 0, size)
            )


def test_pieces_are_whole_chunks_and_a_short_last_piece_joins_the_one_before():
    assert piece_spans([("a", 0, 45), ("b", 5, 12)], 20, 10) == [("a", 0, 20), ("a", 20, 45), ("b", 5, 12)]
    assert piece_spans([("a", 0, 50)], 20, 10) == [("a", 0, 20), ("a", 20, 40), ("a", 40, 50)]


def test_track_names():
    assert track_name("donor", "+") == "donor.plus.bw" and track_name("a/b c", "-") == "a_b_c.minus.bw"


def test_a_second_stage_rescores_each_strand_in_its_own_orientation_whatever_the_pieces(genome, tmp_path):
    bundle = PairedFake()
    out = tmp_path / "paired"
    summary = annotate(bundle, genome, out, chunk=37, piece=37)  # one chunk per piece: every piece needs margins
    assert summary["site_pairing"] == {"margin": 37 * 2703} and summary["pieces"]["total"] > 3
    with Reference(genome) as ref:
        for name, size in zip(ref.references, ref.lengths):
            for strand, word in (("+", "plus"), ("-", "minus")):
                raw = predict_region(bundle, ref, name, 0, size, strand=strand, chunk=37)
                step = -1 if strand == "-" else 1
                want = bundle.site_pairing.refine(raw[::step])[::step]
                for c, cls in ((1, "acceptor"), (2, "donor")):
                    got = _values(out / f"{cls}.{word}.bw", name, 0, size)
                    assert np.allclose(got, want[:, c], atol=1e-6), (name, strand, cls)
                assert not np.allclose(want[:, 1], raw[:, 1], atol=1e-3)  # it did change the acceptors
    plain = annotate(bundle, genome, tmp_path / "plain", chunk=37, pairing=False)
    assert plain["site_pairing"] is None
    with Reference(genome) as ref:
        raw = predict_region(bundle, ref, "r", 0, len(RANDOM), strand="+", chunk=37)
    assert np.allclose(_values(tmp_path / "plain" / "acceptor.plus.bw", "r", 0, len(RANDOM)), raw[:, 1], atol=1e-7)
