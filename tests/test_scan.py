"""Tests of bioseq.scan: bin geometry, bigWig/bedGraph output, bounded blocks, class choice."""

from __future__ import annotations

import numpy as np
import pyBigWig
import pytest
import torch

from bioseq.bundle import Bundle, load_bundle, save_bundle
from bioseq.codes import encode
from bioseq.errors import InputError, MissingContigError
from bioseq.inference import InferenceOptions
from bioseq.io.interval import Interval
from bioseq.models.registry import build_model
from bioseq.scan import scan_genome

CNN = {"channels": [4], "kernel_sizes": [3], "dilations": [1], "pools": [1], "head_hidden": 4}
WIDTH = 30
_rng = np.random.default_rng(7)
GENOME = {  # c1 1,000 bp, c2 77 bp (last bin partial), c3 5 bp (shorter than a window)
    name: "".join(_rng.choice(list("ACGT"), size)) for name, size in (("c1", 1000), ("c2", 77), ("c3", 5))
}


def _bundle(path, task="binary", classes=("off", "on")) -> Bundle:
    torch.manual_seed(0)
    options = {**CNN, "n_outputs": 1 if task == "binary" else len(classes)}
    save_bundle(
        path,
        model=build_model("cnn", options),
        model_name="cnn",
        model_options=options,
        task=task,
        classes=classes,
        length=WIDTH,
    )
    return load_bundle(path)


@pytest.fixture(scope="module")
def bundle(tmp_path_factory) -> Bundle:
    return _bundle(tmp_path_factory.mktemp("bundle") / "cnn")


@pytest.fixture(scope="module")
def genome(tmp_path_factory):
    path = tmp_path_factory.mktemp("genome") / "tiny.fa"
    path.write_text("".join(f">{name}\n{seq}\n" for name, seq in GENOME.items()))
    return path


def _direct(bundle: Bundle, chrom: str, start: int, end: int, **kwargs) -> float:
    """Probability of the window centred on bin [start, end), built by hand (N past the ends)."""
    first = (start + end) // 2 - WIDTH // 2
    seq = GENOME[chrom]
    window = "".join(seq[i] if 0 <= i < len(seq) else "N" for i in range(first, first + WIDTH))
    return float(bundle.predict_proba(encode([window])[0], **kwargs)[0])


def _intervals(path, chrom):
    with pyBigWig.open(str(path)) as bw:
        return bw.intervals(chrom) or ()


def test_bigwig_header_bins_and_values(bundle, genome, tmp_path):
    out = tmp_path / "scan.bw"
    bins = scan_genome(bundle, genome, output=out, step=10)
    assert bins == 100 + 8 + 1  # ceil(1000 / 10) + ceil(77 / 10) + ceil(5 / 10)
    with pyBigWig.open(str(out)) as bw:
        assert bw.chroms() == {name: len(seq) for name, seq in GENOME.items()}
    c2 = _intervals(out, "c2")
    assert [(s, e) for s, e, _ in c2] == [(i, min(i + 10, 77)) for i in range(0, 77, 10)]  # last bin 70-77
    assert _intervals(out, "c3")[0][:2] == (0, 5)
    # Bin c1 [0, 10): centre 5, window [-10, 20), ten N then c1[0:20]; bin c1 [500, 510): window [490, 520);
    # bin c2 [70, 77): centre 73, window [58, 88), the last 11 positions N; c3 [0, 5): window [-13, 17).
    for chrom, index in (("c1", 0), ("c1", 50), ("c1", 99), ("c2", 7), ("c3", 0)):
        start, end, value = _intervals(out, chrom)[index]
        assert value == pytest.approx(_direct(bundle, chrom, start, end), rel=1e-6)


def test_bedgraph_matches_the_bigwig(bundle, genome, tmp_path):
    scan_genome(bundle, genome, output=tmp_path / "a.bw", step=25)
    scan_genome(bundle, genome, output=tmp_path / "a.bedgraph", step=25, format="bedgraph")
    lines = [line.split("\t") for line in (tmp_path / "a.bedgraph").read_text().splitlines()]
    assert [line[0] for line in lines] == ["c1"] * 40 + ["c2"] * 4 + ["c3"]  # reference order, sorted bins
    expected = [(c, s, e, v) for c in GENOME for s, e, v in _intervals(tmp_path / "a.bw", c)]
    assert [(c, int(s), int(e)) for c, s, e, _ in lines] == [x[:3] for x in expected]
    np.testing.assert_allclose([float(x[3]) for x in lines], [x[3] for x in expected], rtol=1e-6)


def test_blocks_stay_bounded_and_do_not_change_the_output(bundle, genome, tmp_path, monkeypatch):
    scan_genome(bundle, genome, output=tmp_path / "big.bedgraph", step=10, format="bedgraph")
    seen = []
    original = Bundle.predict_proba

    def spy(self, codes, **kwargs):
        seen.append(codes.shape)
        return original(self, codes, **kwargs)

    monkeypatch.setattr(Bundle, "predict_proba", spy)
    scan_genome(
        bundle,
        genome,
        output=tmp_path / "small.bedgraph",
        step=10,
        format="bedgraph",
        block_size=7,
        options=InferenceOptions(batch_size=3),
    )
    assert max(n for n, _ in seen) <= 7 and len(seen) == 15 + 2 + 1  # ceil(100/7) + ceil(8/7) + 1
    assert {width for _, width in seen} == {WIDTH}
    small, big = (
        [line.split("\t") for line in (tmp_path / name).read_text().splitlines()]
        for name in ("small.bedgraph", "big.bedgraph")
    )
    assert [line[:3] for line in small] == [line[:3] for line in big]
    np.testing.assert_allclose([float(x[3]) for x in small], [float(x[3]) for x in big], rtol=1e-5)


def test_regions_and_chroms(bundle, genome, tmp_path):
    regions = [Interval("c1", 300, 340), Interval("c1", 100, 150), Interval("c1", 120, 160), Interval("c2", 0, 20)]
    scan_genome(bundle, genome, output=tmp_path / "r.bw", step=20, regions=regions)
    with pyBigWig.open(str(tmp_path / "r.bw")) as bw:
        assert bw.chroms() == {name: len(seq) for name, seq in GENOME.items()}  # the header lists every contig
    # 100-150 and 120-160 merge into 100-160: bins 100-120, 120-140, 140-160; then 300-320, 320-340.
    assert [(s, e) for s, e, _ in _intervals(tmp_path / "r.bw", "c1")] == [
        (100, 120),
        (120, 140),
        (140, 160),
        (300, 320),
        (320, 340),
    ]
    start, end, value = _intervals(tmp_path / "r.bw", "c1")[0]
    assert value == pytest.approx(_direct(bundle, "c1", start, end), rel=1e-6)  # context from outside the region
    bed = tmp_path / "regions.bed"
    bed.write_text("c2\t10\t30\n")
    scan_genome(bundle, genome, output=tmp_path / "b.bedgraph", step=20, regions=bed, format="bedgraph")
    assert (tmp_path / "b.bedgraph").read_text().split("\t")[:3] == ["c2", "10", "30"]
    scan_genome(bundle, genome, output=tmp_path / "c.bedgraph", step=50, chroms=["c2"], format="bedgraph")
    assert [line.split("\t")[:3] for line in (tmp_path / "c.bedgraph").read_text().splitlines()] == [
        ["c2", "0", "50"],
        ["c2", "50", "77"],
    ]


def test_region_errors(bundle, genome, tmp_path):
    with pytest.raises(InputError, match=r"region c2:70-90 \(0-based\) runs outside c2 \(length 77\)"):
        scan_genome(bundle, genome, output=tmp_path / "o.bw", step=10, regions=[Interval("c2", 70, 90)])
    with pytest.raises(MissingContigError):
        scan_genome(bundle, genome, output=tmp_path / "o.bw", step=10, chroms=["chrZ"])
    with pytest.raises(InputError, match="pass regions or chroms, not both"):
        scan_genome(bundle, genome, output=tmp_path / "o.bw", step=10, chroms=["c1"], regions=[])
    with pytest.raises(InputError, match="nothing to scan"):
        scan_genome(bundle, genome, output=tmp_path / "o.bw", step=10, regions=[Interval("c1", 5, 5)])
    assert not (tmp_path / "o.bw").exists()


def test_class_choice(bundle, genome, tmp_path):
    scan_genome(bundle, genome, output=tmp_path / "on.bedgraph", step=100, chroms=["c1"], format="bedgraph")
    scan_genome(
        bundle, genome, output=tmp_path / "off.bedgraph", step=100, chroms=["c1"], format="bedgraph", class_name="off"
    )
    on = [float(line.split("\t")[3]) for line in (tmp_path / "on.bedgraph").read_text().splitlines()]
    off = [float(line.split("\t")[3]) for line in (tmp_path / "off.bedgraph").read_text().splitlines()]
    np.testing.assert_allclose(np.add(on, off), 1.0, rtol=1e-6)  # binary: the negative class is 1 - p
    with pytest.raises(InputError, match="class_name 'maybe' is not a class of the model. Pass one of off, on"):
        scan_genome(bundle, genome, output=tmp_path / "x.bw", step=100, class_name="maybe")


def test_multiclass_needs_a_class(genome, tmp_path):
    bundle = _bundle(tmp_path / "mc", task="multiclass", classes=("a", "b", "c"))
    with pytest.raises(InputError, match="a multiclass model scores 3 classes; choose one with class_name"):
        scan_genome(bundle, genome, output=tmp_path / "x.bw", step=100)
    scan_genome(bundle, genome, output=tmp_path / "b.bw", step=100, class_name="b", chroms=["c2"])
    start, end, value = _intervals(tmp_path / "b.bw", "c2")[0]
    first = (start + end) // 2 - WIDTH // 2
    window = "".join(GENOME["c2"][i] if 0 <= i < 77 else "N" for i in range(first, first + WIDTH))
    assert value == pytest.approx(float(bundle.predict_proba(encode([window])[0])[0, 1]), rel=1e-6)


def test_rc_average_and_a_bundle_path(bundle, genome, tmp_path):
    scan_genome(
        bundle.path, genome, output=tmp_path / "rc.bw", step=10, chroms="c2", options=InferenceOptions(rc_average=True)
    )
    start, end, value = _intervals(tmp_path / "rc.bw", "c2")[3]
    assert value == pytest.approx(_direct(bundle, "c2", start, end, rc_average=True), rel=1e-6)


def test_failure_leaves_no_output(bundle, genome, tmp_path, monkeypatch):
    calls = []
    original = Bundle.predict_proba

    def fail_late(self, codes, **kwargs):
        calls.append(1)
        if len(calls) == 3:
            raise RuntimeError("out of memory")
        return original(self, codes, **kwargs)

    monkeypatch.setattr(Bundle, "predict_proba", fail_late)
    for name, fmt in (("o.bw", "bigwig"), ("o.bedgraph", "bedgraph")):
        calls.clear()
        with pytest.raises(RuntimeError, match="out of memory"):
            scan_genome(bundle, genome, output=tmp_path / name, step=10, block_size=5, format=fmt)
    assert sorted(p.name for p in tmp_path.iterdir()) == []  # no output, no temporary file


@pytest.mark.parametrize(
    "options, message",
    [
        ({"step": 0}, "step must be a positive integer"),
        ({"block_size": -1}, "block_size must be a positive integer"),
        ({"format": "wig"}, "format must be 'bigwig' or 'bedgraph'"),
        ({"length": 50}, "length=50 differs from the 30 bp windows"),
    ],
)
def test_bad_options(bundle, genome, tmp_path, options, message):
    with pytest.raises(InputError, match=message):
        scan_genome(bundle, genome, output=tmp_path / "o.bw", **options)
