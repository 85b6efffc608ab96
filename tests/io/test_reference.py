"""Tests of bioseq.io.reference (indexed FASTA access) and its on-disk cache."""

from __future__ import annotations

import errno
import gzip
import os
import pickle
import shutil
from pathlib import Path

import numpy as np
import pysam
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bioseq.alphabet import COMPLEMENT
from bioseq.codes import encode_one
from bioseq.errors import InputError, MissingContigError, MissingFileError
from bioseq.io import faidx
from bioseq.io.interval import Interval
from bioseq.io.reference import Reference

# chr1 is 25 bases over three lines: ACGTACGTAC GGGGCCCCAA acgtn (the last five soft-masked).
TINY = ">chr1 first contig\nACGTACGTAC\nGGGGCCCCAA\nacgtn\n>chr2\nNNNNACGTRY\n>chrM\nACGT\n"
CHR1 = "ACGTACGTACGGGGCCCCAAacgtn"
RC = str.maketrans("ACGTNRYSWKMBDHVacgtn", "TGCANYRSWMKVHDBtgcan")


def rc(seq: str) -> str:
    return seq.translate(RC)[::-1]


def write(path: Path, text: str | bytes) -> Path:
    path.write_bytes(text.encode() if isinstance(text, str) else text)
    return path


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> Path:
    return write(tmp_path_factory.mktemp("tiny") / "tiny.fa", TINY)


@pytest.fixture(scope="module", params=["nocache", "cache"])
def ref(request, tiny, tmp_path_factory):
    cache = None if request.param == "nocache" else tmp_path_factory.mktemp("cache")
    with Reference(tiny, cache=cache) as reference:
        yield reference


# -- names, sizes, hand-checked fetches ---------------------------------------------------


def test_names_and_lengths(ref):
    assert ref.references == ("chr1", "chr2", "chrM")
    assert ref.lengths == (25, 10, 4)
    assert len(ref) == 3
    assert ref.length("chr2") == 10
    assert "chr1" in ref and "chr9" not in ref and 5 not in ref


def test_fetch_hand_checked(ref):
    # bases 8..11: the last two of line 1 (A, C) and the first two of line 2 (G, G)
    assert ref.fetch("chr1", 8, 12) == "ACGG"
    assert ref.fetch("chr1") == CHR1
    assert ref.fetch("chr1", 20) == "acgtn"  # end=None: to the contig end, case kept
    assert ref.fetch("chr1", 5, 5) == ""


def test_fetch_pads_with_n_at_both_ends(ref):
    assert ref.fetch("chr1", -3, 2) == "NNNAC"  # three bases before the start
    assert ref.fetch("chr1", 23, 28) == "tnNNN"  # 25 bases: 23, 24 exist, 25..27 do not
    assert ref.fetch("chrM", -1, 5) == "NACGTN"  # hangs off both ends of a 4 bp contig
    assert ref.fetch("chr1", 30, 33) == "NNN"
    assert ref.fetch("chr1", -5, -2) == "NNN"
    assert ref.fetch_codes("chr1", -2, 3).tolist() == [4, 4, 0, 1, 2]  # N N A C G
    assert ref.fetch_codes("chrM", 2, 7).tolist() == [2, 3, 4, 4, 4]  # G T then N padding, not PAD


def test_minus_strand_is_iupac_reverse_complement(ref):
    # chr2[4:10] = ACGTRY; reversed YRTGCA; complemented (Y<->R, A<->T, C<->G) RYACGT
    assert ref.fetch("chr2", 4, 10, strand="-") == "RYACGT"
    assert ref.fetch_codes("chr2", 4, 10, strand="-").tolist() == [5, 6, 0, 1, 2, 3]
    assert ref.fetch("chr1", 20, 25, strand="-") == "nacgt"  # soft-mask case survives
    assert ref.fetch("chrM", -2, 2, strand="-") == "GTNN"  # padding follows the window
    assert ref.fetch("chr2", 0, 4, strand=".") == "NNNN"


def test_soft_mask_upper(tiny):
    with Reference(tiny, soft_mask="upper") as upper:
        assert upper.fetch("chr1", 18, 25) == "AAACGTN"
        assert upper.fetch("chr1", 18, 25, strand="-") == "NACGTTT"


def test_fetch_interval_and_region(ref):
    assert ref.fetch_interval(Interval("chr2", 4, 10, strand="-")) == "RYACGT"
    assert ref.fetch_interval(Interval("chr2", 4, 10)) == "ACGTRY"  # '.' reads as '+'
    assert ref.fetch_region("chr1:9-12") == ref.fetch("chr1", 8, 12) == "ACGG"
    assert ref.fetch_region("chr1") == CHR1
    assert ref.fetch_region("chr1:21") == "acgtn"
    assert ref.fetch_region("chr1:24-30") == "tn"  # cut at the end, as samtools does
    assert ref.fetch_region("chr1:40-50") == ""
    assert ref.fetch_region("M:2-3") == "CG"


def test_fetch_region_matches_samtools_on_tiny(tiny, tmp_path):
    regions = ["chr1:9-12", "chr1:24-30", "chr1", "chr2:3-8", "chrM:1-4", "chr1:21"]
    with Reference(tiny) as ref:
        assert [ref.fetch_region(r) for r in regions] == samtools_faidx(tiny, regions, tmp_path)


@settings(max_examples=150, deadline=None)
@given(contig=st.sampled_from(["chr1", "chr2", "chrM"]), start=st.integers(-30, 40), width=st.integers(0, 40))
def test_rc_of_rc_is_identity(ref, contig, start, width):
    plus = ref.fetch(contig, start, start + width)
    minus = ref.fetch(contig, start, start + width, strand="-")
    assert len(plus) == width
    assert minus == rc(plus) and rc(minus) == plus
    codes = ref.fetch_codes(contig, start, start + width)
    assert (COMPLEMENT[ref.fetch_codes(contig, start, start + width, strand="-")[::-1]] == codes).all()
    assert (codes == encode_one(plus)).all()


# -- aliases and missing contigs ------------------------------------------------------------


def test_aliases(ref, tiny):
    assert ref.resolve("1") == "chr1"
    assert ref.resolve("MT") == ref.resolve("M") == "chrM"
    assert "MT" in ref and "2" in ref
    assert ref.fetch("1", 0, 4) == "ACGT"
    assert ref.length("M") == 4
    with Reference(tiny, aliases=False) as strict:
        assert "1" not in strict
        with pytest.raises(MissingContigError):
            strict.fetch("1", 0, 4)


def test_ambiguous_alias_is_missing(tmp_path):
    fasta = write(tmp_path / "two.fa", ">chrM\nAC\n>MT\nGG\n")
    with Reference(fasta) as ref:
        assert ref.fetch("MT") == "GG" and ref.fetch("chrM") == "AC"  # exact names win
        with pytest.raises(MissingContigError, match="'M'"):
            ref.resolve("M")  # both contigs are aliases of M: refuse to guess


def test_missing_contig_message(ref):
    with pytest.raises(MissingContigError) as info:
        ref.fetch("chr1_random", 0, 5)
    text = str(info.value)
    assert "tiny.fa" in text and "'chr1_random'" in text
    assert "Closest of its 3 contigs: 'chr1'" in text
    assert isinstance(info.value, KeyError)


def test_chr_naming_on_real_genomes(shared_data):
    # GRCh37 contig '17' (4,200 bp) and hg19 'chr17' (40,000 bp, soft-masked) hold the same bases.
    folder = shared_data / "genomes" / "hs_chr17"
    with Reference(folder / "mpileup.ref.fa") as ensembl, Reference(folder / "chr17.hg19.part.fa") as ucsc:
        assert ensembl.references == ("17",) and ucsc.references == ("chr17",)
        assert ensembl.fetch("chr17", 1000, 1100) == ucsc.fetch("17", 1000, 1100).upper()
        assert ensembl.fetch("chr17").upper() == ucsc.fetch("17", 0, 4200).upper()


# -- bad arguments --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda r: r.fetch("chr1", 10, 5), "start 10 is after end 5"),
        (lambda r: r.fetch("chr1", 1.5, 5), "start must be an integer, got 1.5"),
        (lambda r: r.fetch("chr1", "1", 5), "start must be an integer"),
        (lambda r: r.fetch("chr1", True, 5), "start must be an integer"),
        (lambda r: r.fetch("chr1", 0, 5.0), "end must be an integer"),
        (lambda r: r.fetch("chr1", 0, 5, strand="x"), "strand must be '+', '-' or '.'"),
        (lambda r: r.fetch(1, 0, 5), "contig name must be a string"),
        (lambda r: r.fetch_interval(("chr1", 0, 5)), "expected an Interval"),
        (lambda r: r.fetch_region("chr1:0-5"), "1 <= START <= END"),
        (lambda r: r.windows("chr1", [0, 1], 0), "width must be >= 1"),
        (lambda r: r.windows("chr1", [0.5], 3), "starts must be a 1-D array of integers"),
        (lambda r: r.windows(["chr1"], [0, 1], 3), "chroms has shape (1,)"),
        (lambda r: r.windows([1, 1], [0, 1], 3), "chroms must hold contig names (strings), got int64"),
        (lambda r: r.windows("chr1", [0, 1], 3, strands=["+", "?"]), "strand must be"),
        (lambda r: r.windows("chr1", [0, 1], 3, strands=["+"]), "strands has shape (1,)"),
    ],
)
def test_bad_arguments(ref, call, message):
    with pytest.raises(InputError) as info:
        call(ref)
    assert message in str(info.value)


def test_bad_constructor_arguments(tiny, tmp_path):
    with pytest.raises(InputError, match="soft_mask must be 'keep' or 'upper', got 'lower'"):
        Reference(tiny, soft_mask="lower")
    with pytest.raises(InputError, match="cache must be True, None or a directory"):
        Reference(tiny, cache=5)
    with pytest.raises(InputError, match="needs a file path"):
        Reference(open(tiny, "rb"))
    with pytest.raises(MissingFileError, match="nope.fa: the FASTA file does not exist"):
        Reference(tmp_path / "nope.fa")
    with pytest.raises(InputError, match="directory"):
        Reference(tmp_path)


def test_closed_reference(tiny):
    with Reference(tiny) as ref:
        pass
    with pytest.raises(InputError, match="the reference is closed"):
        ref.fetch("chr1", 0, 3)


def test_pickle_reopens(tiny, tmp_path):
    with Reference(tiny, cache=tmp_path / "c", soft_mask="upper") as ref:
        copy = pickle.loads(pickle.dumps(ref))
        assert copy.fetch("chr1", 18, 25) == ref.fetch("chr1", 18, 25) == "AAACGTN"
        assert (copy.windows("chr1", [0, 20], 8) == ref.windows("chr1", [0, 20], 8)).all()
        copy.close()


# -- index building -----------------------------------------------------------------------


def test_builds_missing_index_beside_fasta(tmp_path):
    fasta = write(tmp_path / "g.fa", TINY)
    with Reference(fasta) as ref:
        assert ref.fetch("chr1", 8, 12) == "ACGG"
    assert (tmp_path / "g.fa.fai").read_text().splitlines()[0] == "chr1\t25\t19\t10\t11"
    assert not list(tmp_path.glob("*.part"))


def test_bgzip_fasta(tmp_path, tiny):
    plain = write(tmp_path / "g.fa", TINY * 1)
    pysam.tabix_compress(str(plain), str(tmp_path / "g.fa.gz"))
    with Reference(tmp_path / "g.fa.gz") as packed, Reference(tiny) as ref:
        assert (tmp_path / "g.fa.gz.fai").exists() and (tmp_path / "g.fa.gz.gzi").exists()
        for args in [("chr1", 8, 12), ("chr1", -3, 30), ("chrM", 0, 4)]:
            assert packed.fetch(*args) == ref.fetch(*args)
            assert packed.fetch(*args, strand="-") == ref.fetch(*args, strand="-")


def test_stale_index_is_rebuilt(tmp_path):
    fasta = write(tmp_path / "g.fa", ">a\nACGT\n")
    with Reference(fasta) as ref:
        assert ref.lengths == (4,)
    write(fasta, ">a\nACGTACGT\n>b\nGG\n")
    os.utime(fasta, ns=(fasta.stat().st_atime_ns, (tmp_path / "g.fa.fai").stat().st_mtime_ns + 10**9))
    with Reference(fasta) as ref:
        assert ref.lengths == (8, 2) and ref.fetch("b") == "GG"


@pytest.mark.parametrize(
    "changed, message",
    [
        (">a\nACGT\n", "cannot read bases 1-8"),  # shorter: htslib reads past the end
        (">a\nACGT\nACGT\n", "a line end at position 5 (1-based) where the index expects a base"),  # rewrapped
    ],
)
def test_index_that_does_not_match_the_file(tmp_path, changed, message):
    fasta = write(tmp_path / "g.fa", ">a\nACGTACGT\n")
    Reference(fasta).close()
    write(fasta, changed)
    fai = tmp_path / "g.fa.fai"  # make the old index look newer than the FASTA
    os.utime(fasta, ns=(fai.stat().st_atime_ns, fai.stat().st_mtime_ns - 10**9))
    with Reference(fasta) as ref, pytest.raises(InputError) as info:
        ref.fetch("a", 0, 8)
    assert f"g.fa, record 'a': {message}" in str(info.value)
    assert "the .fai index does not match the file. Delete the .fai" in str(info.value)


def deny_reading(monkeypatch, path: Path) -> None:
    """Make bioseq's open() of ``path`` fail as it does for another user's 0600 file.

    Tests run as root, for whom a chmod does not stop reads, so the refusal is simulated.
    """

    def guarded_open(file, *args, **kwargs):
        if os.fspath(file) == os.fspath(path):
            raise PermissionError(errno.EACCES, "Permission denied", os.fspath(file))
        return open(file, *args, **kwargs)

    monkeypatch.setattr(faidx, "open", guarded_open, raising=False)


def test_unreadable_index_is_named_with_the_fixes(tmp_path, monkeypatch):
    fasta = write(tmp_path / "g.fa", TINY)
    Reference(fasta).close()  # builds g.fa.fai beside the FASTA
    fai = tmp_path / "g.fa.fai"
    deny_reading(monkeypatch, fai)
    with pytest.raises(InputError) as info:
        Reference(fasta)
    assert str(info.value) == (
        f"{fai}: this index of {fasta} exists but cannot be read (permission denied), so the FASTA "
        f"cannot be opened. Ask its owner to make it readable ('chmod a+r {fai}'), or remove it so that "
        "bioseq rebuilds it, or open the FASTA with cache= a writable directory "
        "(bioseq.io.Reference(fasta, cache=DIR)), where bioseq then keeps its own index."
    )


def test_unreadable_index_is_skipped_with_a_cache(tmp_path, monkeypatch):
    fasta = write(tmp_path / "g.fa", TINY)
    Reference(fasta).close()
    fai = tmp_path / "g.fa.fai"
    deny_reading(monkeypatch, fai)
    before = fai.read_bytes()
    with Reference(fasta, cache=tmp_path / "cache") as ref:  # the fix the message names
        assert ref.fetch("chr1", 8, 12) == "ACGG"
    (own,) = (tmp_path / "cache").glob("g.fa-*/g.fa.fai")
    assert own.read_bytes() == before and sorted(p.name for p in tmp_path.iterdir()) == ["cache", "g.fa", "g.fa.fai"]


@pytest.fixture
def read_only_dir(tmp_path, monkeypatch):
    """A directory marked read-only (bioseq respects the mode bits even as root)."""
    folder = tmp_path / "ro"
    folder.mkdir()
    write(folder / "g.fa", TINY)
    folder.chmod(0o555)
    yield folder
    folder.chmod(0o755)


def test_index_goes_to_cache_dir_when_fasta_dir_is_read_only(read_only_dir, tmp_path):
    with Reference(read_only_dir / "g.fa", cache=tmp_path / "cache") as ref:
        assert ref.fetch("chr1", 8, 12) == "ACGG"
    assert not (read_only_dir / "g.fa.fai").exists()
    (fai,) = (tmp_path / "cache").glob("g.fa-*/g.fa.fai")
    assert fai.read_text().startswith("chr1\t25\t")


def test_index_goes_to_user_cache_without_cache_arg(read_only_dir, tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    with Reference(read_only_dir / "g.fa") as ref:
        assert ref.fetch("chrM") == "ACGT"
    assert len(list((tmp_path / "xdg" / "bioseq").glob("g.fa-*/g.fa.fai"))) == 1
    with Reference(read_only_dir / "g.fa", cache=True) as ref:  # codes go there too
        assert ref.fetch_codes("chrM").tolist() == [0, 1, 2, 3]
    assert len(list((tmp_path / "xdg" / "bioseq").glob("g.fa-*/*.u8"))) == 1


# -- malformed files --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "content, expected",
    [
        (">a\nACGT\nAC\nACGT\n", ["line 3, record 'a'", "shorter (2 bases)", "seqkit seq -w 60"]),
        (">a\nACGT\nACGTAA\nAC\n", ["line 3, record 'a'", "6 bases, more than the 4", "seqkit seq -w 60"]),
        (">a\nACGT\n\nACGT\n", ["line 4, record 'a'", "blank line 3", "Remove blank lines"]),
        ("ACGT\nACGT\n", ["line 1", "before the first '>' header"]),
        (">a\nACGT\n>a\nGGGG\n", ["record 'a'", "appears twice (lines 1 and 3)", "Rename or remove"]),
        (">a\n>b\nACGT\n", ["line 1, record 'a'", "no sequence lines"]),
        (">a\nACGT\n>b\n", ["line 3, record 'b'", "no sequence lines"]),
        ("", ["the file is empty"]),
        (b"\x00\x01\x02BAM", ["binary file"]),
    ],
)
def test_malformed_fasta_is_rejected_with_line_and_fix(tmp_path, content, expected):
    fasta = write(tmp_path / "bad.fa", content)
    with pytest.raises(InputError) as info:
        Reference(fasta)
    text = str(info.value)
    assert text.startswith(str(fasta))
    for part in expected:
        assert part in text
    assert not (tmp_path / "bad.fa.fai").exists() and not list(tmp_path.glob("*.part"))


def test_plain_gzip_names_the_bgzip_fix(tmp_path):
    fasta = write(tmp_path / "g.fa.gz", gzip.compress(TINY.encode()))
    with pytest.raises(InputError) as info:
        Reference(fasta)
    assert "plain gzip" in str(info.value)
    assert f"'gunzip {fasta}' then 'bgzip {tmp_path / 'g.fa'}'" in str(info.value)


def test_whitespace_inside_a_line_is_caught_on_fetch(tmp_path):
    # htslib indexes this file but its offsets are wrong: the space counts as a base.
    fasta = write(tmp_path / "space.fa", ">a\nAC GT\nACGT\n")
    with Reference(fasta) as ref, pytest.raises(InputError) as info:
        ref.fetch("a")
    assert "record 'a'" in str(info.value) and "' ' at position 3" in str(info.value)


@pytest.mark.parametrize("cache", [False, True])
def test_non_nucleotide_letters_fail_on_codes(tmp_path, cache):
    fasta = write(tmp_path / "prot.fa", ">p\nPLEASE-\n")  # P, L, E are not IUPAC nucleotides
    with Reference(fasta, cache=tmp_path / "c" if cache else None) as ref:
        assert ref.fetch("p") == "PLEASE-"  # text comes back as in the file
        with pytest.raises(InputError) as info:
            ref.fetch_codes("p", 0, 3)
    assert "prot.fa, record 'p': character 'P' at position 1 (1-based)" in str(info.value)
    assert not list(tmp_path.glob("c/*/*.u8")) and not list(tmp_path.glob("c/*/.*.part"))


def test_edge_case_files(shared_data, tmp_path):
    folder = shared_data / "edgecases"
    faidx = shutil.copy(folder / "htslib" / "faidx.fa", tmp_path / "faidx.fa")
    with Reference(faidx) as ref:
        # an empty name, trailing blank lines, CRLF line ends and a space after '>' all index
        assert ref.references == ("", "trailingblank1", "trailingblank2", "trailingblank3", "foo", "bar")
        assert ref.fetch("trailingblank1") == "AAATTTGGGCCCTTTGGGCCCAAAGGGCCCAAA"
        assert ref.fetch("trailingblank3") == "ACGTA"  # CR stripped
        assert ref.fetch("foo", 4, 10) == "TGCANN"
    dups = shutil.copy(folder / "biopython_fasta" / "dups.fasta", tmp_path / "dups.fasta")
    with pytest.raises(InputError, match="record 'alpha': the record name appears twice"):
        Reference(dups)
    issue83 = shutil.copy(folder / "pyfaidx" / "issue_83.fasta", tmp_path / "issue_83.fasta")
    with Reference(issue83) as ref:
        assert ref.lengths == (119, 60) and ref.resolve("chrM") == "MT"


# -- the code cache and windows ------------------------------------------------------------------


def test_cache_files_and_invalidation(tmp_path):
    fasta = write(tmp_path / "g.fa", TINY)
    cache = tmp_path / "cache"
    with Reference(fasta, cache=cache) as ref:
        assert ref.fetch_codes("chrM").tolist() == [0, 1, 2, 3]
    (entry,) = cache.iterdir()
    assert [p.name for p in entry.glob("*.u8")] == ["2.u8"]  # only the contig used so far
    assert (entry / "2.u8").read_bytes() == bytes([0, 1, 2, 3])
    write(fasta, TINY.replace(">chrM\nACGT", ">chrM\nTTTT"))  # same size: only mtime tells
    os.utime(fasta, ns=(fasta.stat().st_atime_ns, fasta.stat().st_mtime_ns + 10**9))
    with Reference(fasta, cache=cache) as ref:
        assert ref.fetch_codes("chrM").tolist() == [3, 3, 3, 3]
    assert len(list(cache.iterdir())) == 2


def test_default_cache_beside_fasta(tmp_path):
    fasta = write(tmp_path / "g.fa", TINY)
    with Reference(fasta, cache=True) as ref:
        ref.fetch_codes("chr2", 0, 3)
    assert len(list((tmp_path / ".bioseqcache").glob("g.fa-*/1.u8"))) == 1


def test_cached_memmap_is_read_only(tiny, tmp_path):
    with Reference(tiny, cache=tmp_path) as ref:
        codes = ref.fetch_codes("chr1", 0, 5)
        codes[:] = 9  # a copy: the cache is untouched
        assert ref.fetch_codes("chr1", 0, 5).tolist() == [0, 1, 2, 3, 0]


def test_windows_equal_a_loop_of_fetch_codes(ref):
    rng = np.random.default_rng(1)
    n, width = 300, 7
    chroms = rng.choice(["chr1", "chr2", "chrM", "1", "MT"], size=n)
    starts = rng.integers(-10, 30, size=n)
    strands = rng.choice(["+", "-", "."], size=n)
    got = ref.windows(chroms, starts, width, strands=strands)
    assert got.shape == (n, width) and got.dtype == np.uint8
    for i in range(n):
        want = ref.fetch_codes(chroms[i], int(starts[i]), int(starts[i]) + width, strand=strands[i])
        assert (got[i] == want).all(), i
    # batch-size invariance: windows of any slice are the same rows
    for size in (1, 8, 64):
        parts = [
            ref.windows(chroms[a : a + size], starts[a : a + size], width, strands=strands[a : a + size])
            for a in range(0, n, size)
        ]
        assert (np.concatenate(parts) == got).all()


def test_windows_single_contig_and_empty(ref):
    got = ref.windows("chr1", np.array([0, 20, 23]), 5, strands="-")
    assert [rc(ref.fetch("chr1", s, s + 5)).upper() for s in (0, 20, 23)] == [
        "".join("ACGTNRYSWKMBDHV"[c] for c in row) for row in got
    ]
    assert ref.windows([], [], 5).shape == (0, 5)
    assert ref.windows("chrM", [-2], 9).tolist() == [[4, 4, 0, 1, 2, 3, 4, 4, 4]]  # wider than the contig


# -- agreement with samtools faidx on real genomes -----------------------------------------------


def samtools_faidx(fasta: Path, regions: list[str], tmp_path: Path) -> list[str]:
    """Sequences that ``samtools faidx FASTA REGION...`` prints, one per region."""
    out = tmp_path / "samtools.fa"
    pysam.faidx(str(fasta), *regions, "-o", str(out))
    records = out.read_text().split(">")[1:]
    return ["".join(record.splitlines()[1:]) for record in records]


GENOMES = [
    "genomes/dm6_small/dm6.small.fa",
    "genomes/dm6_small/yeast_chrI.fa",
    "genomes/phix174/phiX174.fa",
    "genomes/celegans_chrI/ce.fa",
]


@pytest.mark.parametrize("relative", GENOMES)
def test_fetch_region_agrees_with_samtools(shared_data, relative, tmp_path):
    fasta = shared_data / relative
    if not fasta.exists():
        pytest.skip(f"{fasta} is absent")
    rng = np.random.default_rng(7)
    with Reference(fasta, cache=tmp_path / "cache") as ref:
        regions = []
        for name, length in zip(ref.references, ref.lengths):
            regions += [f"{name}:1-10", f"{name}:{length - 5}-{length + 20}", f"{name}:{length}"]
            for start in rng.integers(1, length, size=5):
                regions.append(f"{name}:{start}-{min(start + int(rng.integers(0, 3000)), length)}")
        want = samtools_faidx(fasta, regions, tmp_path)
        assert [ref.fetch_region(r) for r in regions] == want
        name, length = ref.references[0], ref.lengths[0]
        starts = rng.integers(-50, length, size=50)
        codes = ref.windows(name, starts, 200)
        for start, row in zip(starts.tolist(), codes):
            assert (row == encode_one(ref.fetch(name, start, start + 200))).all()
