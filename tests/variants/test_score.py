"""Tests of bioseq.variants.score: hand-checked splice deltas with a deterministic fake per-position bundle,
reference sharing and batching invariants, genes and strands, and window classifiers."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pysam
import pytest

from bioseq.codes import decode_one
from bioseq.errors import InputError
from bioseq.io.gff import read_annotation
from bioseq.io.reference import Reference
from bioseq.io.variants import Variant, read_variants
from bioseq.variants.delta import delta_scores
from bioseq.variants.score import OUTSIDE_GENES, TOO_LONG, score_variants
from bioseq.variants.vcf_job import score_vcf
from bioseq.variants.windows import allele_windows

A, C, G, T, N = 0, 1, 2, 3, 4
FLANK, D = 5, 10


class FakeSplice:
    """A per-position bundle (Contract 2): donor 0.9 at the G of every GT, acceptor 0.9 at the G of every AG,
    both scaled by ``1 - fraction of N`` within +-flank (so that the context matters, as in a real model)."""

    per_position = True
    classes = ("neither", "acceptor", "donor")
    length = None
    path = "fake-splice"

    def __init__(self, flank: int = FLANK) -> None:
        self.flank = flank
        self.rows = 0  # inputs seen
        self.calls = 0

    def predict_proba(self, codes, *, batch_size=256, device=None):
        codes = np.asarray(codes)
        assert codes.dtype == np.uint8 and codes.ndim == 2
        n, length = codes.shape
        f = self.flank
        self.rows, self.calls = self.rows + n, self.calls + 1
        donor = np.zeros((n, length), bool)
        donor[:, :-1] = (codes[:, :-1] == G) & (codes[:, 1:] == T)
        acceptor = np.zeros((n, length), bool)
        acceptor[:, 1:] = (codes[:, :-1] == A) & (codes[:, 1:] == G)
        ns = np.concatenate([np.zeros((n, 1)), np.cumsum(codes == N, axis=1)], axis=1)
        scale = 1 - (ns[:, 2 * f + 1 :] - ns[:, : length - 2 * f]) / (2 * f + 1)  # (n, L - 2f)
        out = np.zeros((n, length - 2 * f, 3), np.float32)
        out[..., 1] = 0.9 * acceptor[:, f : length - f] * scale
        out[..., 2] = 0.9 * donor[:, f : length - f] * scale
        out[..., 0] = 1 - out[..., 1] - out[..., 2]
        return out


def _genome() -> str:
    bases = list(np.random.default_rng(0).choice(list("AT"), 600))  # A/T only: no site anywhere ...
    for at, motif in ((99, "TGTT"), (199, "AAGA"), (399, "AACA")):  # ... but these three
        bases[at : at + len(motif)] = motif
    return "".join(bases)


CHR1 = _genome()  # + donor G at 100, + acceptor G at 201, - donor at 401 (the minus strand reads TGTT there)
GTF = "".join(
    f'chr1\tt\texon\t{s}\t{e}\t.\t{strand}\t.\tgene_id "{g}"; transcript_id "{g}.1"; gene_name "{name}";\n'
    for g, name, strand, s, e in [
        ("g1", "PLUS", "+", 51, 100),
        ("g1", "PLUS", "+", 203, 250),
        ("g2", "MINUS", "-", 381, 401),
        ("g2", "MINUS", "-", 404, 420),
    ]
)


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("score")
    (folder / "g.fa").write_text(f">chr1\n{CHR1}\n>chr2\n{'AT' * 20}\n")
    (folder / "genes.gtf").write_text(GTF)
    return folder


@pytest.fixture(scope="module")
def reference(files):
    with Reference(files / "g.fa") as ref:
        yield ref


def snv(start: int, alt: str, chrom: str = "chr1", ref: str | None = None) -> Variant:
    return variant(start, ref or CHR1[start], alt, chrom)


def variant(start: int, ref: str, alt: str, chrom: str = "chr1", allele: int = 1, record: int = 1) -> Variant:
    return Variant(chrom, chrom, start, ref, alt, None, allele, record, None)


def score(reference, variants, bundle=None, **options):
    options.setdefault("distance", D)
    return list(score_variants(bundle or FakeSplice(), variants, reference, **options))


def entry(result, strand: str):
    (found,) = [e for e in result.entries if e.strand == strand]
    return found


def test_an_snv_that_destroys_a_plus_donor_is_a_donor_loss_at_its_offset(reference):
    (result,) = score(reference, [snv(101, "A")])  # the T of the GT whose G is at 100
    assert [(e.strand, e.symbol) for e in result.entries] == [("+", "."), ("-", ".")]
    plus = entry(result, "+").scores
    assert (plus.donor_loss, plus.donor_loss_at) == (pytest.approx(0.9), -1)
    assert plus.donor_gain == plus.acceptor_gain == plus.acceptor_loss == 0
    assert entry(result, "+").info("A") == "A|.|0.00|0.00|0.00|0.90|-10|-10|-10|-1"
    assert entry(result, "-").scores.maximum == 0 and result.maximum == pytest.approx(0.9)


def test_an_intergenic_snv_scores_zero(reference):
    (result,) = score(reference, [snv(300, "T" if CHR1[300] == "A" else "A")])
    assert result.scored and result.maximum == 0


def test_an_insertion_creating_a_donor_gains_at_the_allele(reference):
    base = CHR1[150]
    (result,) = score(reference, [variant(150, base, base + "GT")])
    plus = entry(result, "+").scores
    assert (plus.donor_gain, plus.donor_gain_at) == (pytest.approx(0.9), 0)  # folded into the anchor base
    assert plus.acceptor_gain == pytest.approx(0.9 if base == "A" else 0.0)  # "AG" when the anchor is A
    assert plus.donor_loss == plus.acceptor_loss == 0  # the shifted downstream bases pair again


def test_a_deletion_of_the_donor_g_loses_it_at_the_deleted_position(reference):
    (result,) = score(reference, [variant(99, "TG", "T")])
    plus = entry(result, "+").scores
    assert (plus.donor_loss, plus.donor_loss_at) == (pytest.approx(0.9), 1)
    assert plus.acceptor_loss == plus.donor_gain == plus.acceptor_gain == 0


def test_a_vcf_with_multiallelic_records_aliases_and_ref_mismatches(files, reference):
    vcf = files / "calls.vcf"
    vcf.write_text(
        "##fileformat=VCFv4.2\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n"
        "chr1\t102\t.\tT\tA,C\t.\t.\t.\n"  # two ALTs destroying the donor
        "1\t102\t.\tT\tG\t.\t.\t.\n"  # the alias of chr1
        f"chr1\t301\t.\t{'C' if CHR1[300] != 'C' else 'G'}\tA\t.\t.\t.\n"  # REF differs from the genome
    )
    reader = read_variants(vcf, reference=reference)
    results = score(reference, reader)
    assert [(r.variant.contig, r.variant.alt, r.variant.allele) for r in results] == [
        ("chr1", "A", 1),
        ("chr1", "C", 2),
        ("chr1", "G", 1),
    ]
    assert all(entry(r, "+").scores.donor_loss == pytest.approx(0.9) for r in results)
    assert reader.counts.ref_mismatch == 1 and "1 REF differs from the genome" in reader.counts.summary()
    with pytest.raises(InputError, match="REF 'C'|REF 'G'"):
        score(reference, read_variants(vcf, reference=reference, ref_mismatch="error"))


def test_genes_give_each_overlapping_gene_its_strand_and_symbol(files, reference):
    annotation = read_annotation(files / "genes.gtf")
    results = score(reference, [snv(400, "C"), snv(101, "A"), snv(300, "T")], genes=annotation)
    minus, plus, outside = results
    assert [(e.symbol, e.strand) for e in minus.entries] == [("MINUS", "-")]
    assert (minus.entries[0].scores.donor_loss, minus.entries[0].scores.donor_loss_at) == (pytest.approx(0.9), 1)
    assert [(e.symbol, e.strand) for e in plus.entries] == [("PLUS", "+")]
    assert not outside.scored and outside.reason == OUTSIDE_GENES and outside.maximum is None


def _random_variants(n: int, seed: int) -> list[Variant]:
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        start = int(rng.choice([0, 1, 2, 597, 598, 599, *rng.integers(0, 600, 8)]))
        kind = i % 3
        if kind == 0:
            out.append(snv(start, "ACGT"[(("ACGT".index(CHR1[start])) + 1) % 4]))
        elif kind == 1:
            out.append(variant(start, CHR1[start], CHR1[start] + "GTA"[: 1 + i % 3]))
        else:
            stop = min(start + 1 + i % 4, 600)
            out.append(variant(start, CHR1[start:stop], CHR1[start]))
    out.append(snv(5, "G", chrom="chr2", ref=("AT" * 20)[5]))
    return [v for v in out if v.ref != v.alt]


def _one_by_one(reference, variants, bundle=None):
    """The oracle: each variant alone through allele_windows and delta_scores."""
    bundle, out = bundle or FakeSplice(), []
    for v in variants:
        entries = {}
        for strand in "+-":
            ref, alt = allele_windows(reference, v, flank=bundle.flank, distance=D, strand=strand)
            p_ref, p_alt = (bundle.predict_proba(x[None])[0] for x in (ref, alt))
            if strand == "-":
                p_ref, p_alt = p_ref[::-1], p_alt[::-1]
            entries[strand] = delta_scores(
                p_ref, p_alt, distance=D, ref_length=len(v.ref), alt_length=len(v.alt), acceptor=1, donor=2
            )
        out.append(entries)
    return out


def test_sharing_the_reference_gives_exactly_the_scores_of_each_variant_alone(reference):
    variants = _random_variants(60, seed=1)
    want = _one_by_one(reference, variants)
    rows = {}
    for chunk in (0, 1, 37, 100_000):
        bundle = FakeSplice()
        got = score(reference, variants, bundle, chunk=chunk)
        assert [{e.strand: e.scores for e in r.entries} for r in got] == want, chunk
        rows[chunk] = bundle.rows
    assert rows[0] == 4 * len(variants) > rows[100_000]  # one reference and one alternative per variant and strand
    assert any(r.maximum > 0 for r in got) and any(v.start >= 597 for v in variants)


def test_batch_size_and_block_do_not_change_the_scores(reference):
    variants = _random_variants(30, seed=2)
    small = score(reference, variants, batch_size=1, block=1)
    large = score(reference, variants, batch_size=64, block=4096)
    assert [r.variant for r in small] == variants == [r.variant for r in large]  # input order
    assert [r.entries for r in small] == [r.entries for r in large]


def test_a_dense_cluster_shares_one_reference_input_per_strand(reference):
    bundle = FakeSplice()
    variants = [snv(s, "A" if CHR1[s] != "A" else "T") for s in range(90, 130)]
    shared = score(reference, variants, bundle, chunk=100)
    assert bundle.rows == 2 + 2 * len(variants)  # one reference input per strand, one alternative per variant
    assert [r.entries for r in shared] == [r.entries for r in score(reference, variants, chunk=0)]
    bundle = FakeSplice()
    score(reference, variants, bundle, chunk=20)  # runs of at most 20 bases: two chunks per strand
    assert bundle.rows == 2 * 2 + 2 * len(variants)


def test_snvs_batch_together(reference):
    bundle = FakeSplice()
    score(reference, [snv(s, "A" if CHR1[s] != "A" else "T") for s in range(100, 500, 50)], bundle, chunk=0)
    assert bundle.calls == 2  # one call for the reference inputs, one for the alternatives: all equal widths


@dataclasses.dataclass
class FakeWindow:
    """A window classifier (binary): the probability is the share of G in the window; inputs are recorded."""

    length: int | None = 9
    per_position: bool = False
    classes: tuple = ("no", "yes")
    task: str = "binary"
    path: str = "fake-window"

    def __post_init__(self):
        self.inputs = []

    def predict_proba(self, codes, *, batch_size=256, device=None):
        self.inputs.extend(decode_one(row) for row in codes)
        return (codes == G).mean(axis=1).astype(np.float32)


def test_window_classifiers_get_ref_alt_and_diff_of_same_width_windows(reference):
    bundle = FakeWindow()
    s = 150
    variants = [snv(s, "G"), variant(s, CHR1[s], CHR1[s] + "GGGGGGG"), variant(s, CHR1[s : s + 3], CHR1[s])]
    variants.append(variant(s, CHR1[s : s + 10], CHR1[s]))  # REF longer than the window
    results = score(reference, variants, bundle)
    refs, alts = bundle.inputs[:3], bundle.inputs[3:]
    assert refs == [CHR1[s - 4 : s + 5], CHR1[s - 4 : s + 5], CHR1[s - 3 : s + 6]]  # centred on REF
    assert alts[0] == CHR1[s - 4 : s] + "G" + CHR1[s + 1 : s + 5]
    assert alts[1] == (CHR1[s - 4 : s + 1] + "GGGGGGG")[:9]  # trimmed at the right end
    assert alts[2] == CHR1[s - 3 : s + 1] + CHR1[s + 3 : s + 8]  # extended with the genome
    assert results[0].ref.shape == (1,) and results[0].alt[0] == pytest.approx(1 / 9)
    assert results[0].diff[0] == pytest.approx(1 / 9) and results[0].maximum == pytest.approx(1 / 9)
    assert results[3].reason == TOO_LONG and not results[3].scored


def test_bad_arguments(reference):
    with pytest.raises(InputError, match="distance must be an integer >= 0"):
        score(reference, [], distance=-1)
    with pytest.raises(InputError, match="reference must be a Reference"):
        list(score_variants(FakeSplice(), [], "g.fa"))
    no_donor = FakeSplice()
    no_donor.classes = ("neither", "tss")
    with pytest.raises(InputError, match="need 'acceptor' and 'donor'"):
        score(reference, [], no_donor)
    with pytest.raises(InputError, match="window width"):
        score(reference, [], FakeWindow(length=None))
    with pytest.raises(InputError, match="Variant records"):
        score(reference, ["chr1:1 A>G"])


def test_score_vcf_writes_the_scored_vcf_tsv_and_summary(files, tmp_path):
    vcf = tmp_path / "in.vcf"
    vcf.write_text(
        "##fileformat=VCFv4.2\n##contig=<ID=chr1,length=600>\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n"
        f"chr1\t102\tdonor\tT\tA,C\t.\t.\t.\n"  # in PLUS, destroys its donor
        f"chr1\t301\tmid\t{CHR1[300]}\tG\t.\t.\t.\n"  # between the genes
        f"chr1\t401\tminus\tA\tC\t.\t.\t.\n"  # in MINUS, moves its donor one base
    )
    out, tsv = tmp_path / "out.vcf.gz", tmp_path / "out.tsv"
    summary = score_vcf(FakeSplice(), vcf, files / "g.fa", out, annotation=files / "genes.gtf", tsv=tsv, distance=D)
    assert summary["scored"] == 3 and summary["unscored"] == {OUTSIDE_GENES: 1} and summary["counts"]["alleles"] == 4
    assert json.loads((tmp_path / "out.vcf.gz.summary.json").read_text()) == summary
    with pysam.VariantFile(str(out)) as scored:
        values = {rec.id: rec.info.get("BIOSEQ") for rec in scored}
    assert values == {
        "donor": ("A|PLUS|0.00|0.00|0.00|0.90|-10|-10|-10|-1", "C|PLUS|0.00|0.00|0.00|0.90|-10|-10|-10|-1"),
        "mid": None,
        "minus": ("C|MINUS|0.00|0.00|0.90|0.90|-10|-10|0|1",),  # the minus strand reads TGGT: the donor moves
    }
    assert len(tsv.read_text().splitlines()) == 1 + 3
    with pytest.raises(InputError, match="rc_average"):
        score_vcf(FakeSplice(), vcf, files / "g.fa", tmp_path / "x.vcf", rc_average=True)
    assert not (tmp_path / "x.vcf").exists()


def test_a_real_per_position_cnn_shares_the_reference_exactly(files, tmp_path):
    torch = pytest.importorskip("torch")
    from bioseq.bundle import save_bundle
    from bioseq.models.registry import model_kind

    try:
        kind = model_kind("per_base_cnn")
    except InputError:
        pytest.skip("no per_base_cnn model kind")
    torch.manual_seed(0)
    options = {"context": 2 * FLANK, "channels": 4, "kernel": 3}  # two blocks of dilation 1
    path = save_bundle(
        tmp_path / "bundle",
        model=kind.build(options, n_outputs=3).eval(),
        model_name="per_base_cnn",
        model_options=options,
        task="per_position",
        classes=["neither", "acceptor", "donor"],
        length=None,
    )
    variants = _random_variants(30, seed=3)
    out = tmp_path / "out.vcf"
    vcf = tmp_path / "in.vcf"
    vcf.write_text(
        "##fileformat=VCFv4.2\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n"
        + "".join(f"{v.chrom}\t{v.pos}\t.\t{v.ref}\t{v.alt}\t.\t.\t.\n" for v in variants)
    )
    summary = score_vcf(path, vcf, files / "g.fa", out, distance=D)  # the bundle directory, loaded here
    assert summary["scored"] == len(variants)
    from bioseq.bundle import load_bundle

    with Reference(files / "g.fa") as ref:
        alone, shared = (score(ref, variants, load_bundle(path), chunk=chunk) for chunk in (0, 100_000))
    _same_scores(alone, shared)  # to float rounding: the inputs' lengths (and so oneDNN's blocking) differ
    with pysam.VariantFile(str(out)) as scored:
        assert [len(rec.info["BIOSEQ"]) for rec in scored] == [2] * len(variants)  # + and - without genes
    with Reference(files / "g.fa") as ref:  # SNVs edit the shared, padded reference input; each window alone agrees
        full = score(ref, variants, _whole_windows()(load_bundle(path)), chunk=100_000)
        oracle = _one_by_one(ref, variants, load_bundle(path))
    assert sum(len(v.ref) == len(v.alt) == 1 for v in variants) >= 5
    _same_scores(shared, full)
    for a, want in zip(shared, oracle):
        assert [e.strand for e in a.entries] == list(want)
        for x in a.entries:
            _same_deltas(x.scores, want[x.strand])


def _same_scores(first, second) -> None:
    """Equal variants and strands, and delta scores equal to float rounding."""
    assert [r.variant for r in first] == [r.variant for r in second]
    for a, b in zip(first, second):
        assert [(e.symbol, e.strand) for e in a.entries] == [(e.symbol, e.strand) for e in b.entries]
        for x, y in zip(a.entries, b.entries):
            _same_deltas(x.scores, y.scores)


def _same_deltas(found, expected) -> None:
    """The four scores to 1e-6; the position of each score above 0.01 exactly (near 0 many positions tie)."""
    found, expected = dataclasses.astuple(found), dataclasses.astuple(expected)
    assert found[:4] == pytest.approx(expected[:4], abs=1e-6)
    assert [p for s, p in zip(found[:4], found[4:]) if s > 0.01] == [
        p for s, p in zip(found[:4], expected[4:]) if s > 0.01
    ]


def _whole_windows():
    """``benchmarks/bench_variants.py``'s ``WholeWindows``: a bundle whose SNV windows are predicted in full."""
    import importlib.util

    path = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_variants.py"
    spec = importlib.util.spec_from_file_location("bioseq_bench_variants_for_scores", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.WholeWindows
