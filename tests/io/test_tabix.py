"""bioseq.io.tabix: a sorted bgzipped VCF is indexed; an unsorted one gets a clear error naming the user's file."""

from __future__ import annotations

import pysam
import pytest

from bioseq.errors import InputError
from bioseq.io.tabix import tabix_index_vcf

HEADER = "##fileformat=VCFv4.2\n##contig=<ID=chr1,length=1000>\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n"


def _bgzipped(path, positions):
    with pysam.BGZFile(str(path), "wb") as handle:
        handle.write((HEADER + "".join(f"chr1\t{p}\t.\tA\tG\t.\t.\t.\n" for p in positions)).encode())
    return path


def test_sorted_vcf_is_indexed(tmp_path):
    data = _bgzipped(tmp_path / "tmp.vcf.gz", [5, 50, 500])
    tabix_index_vcf(data, tmp_path / "index.tbi")
    with pysam.VariantFile(str(data), index_filename=str(tmp_path / "index.tbi")) as vcf:
        assert [rec.pos for rec in vcf.fetch("chr1", 10, 600)] == [50, 500]  # fetch takes 0-based half-open


def test_unsorted_vcf_names_the_output(tmp_path):
    data = _bgzipped(tmp_path / "tmp.vcf.gz", [500, 5])
    with pytest.raises(InputError, match="not sorted by contig and position") as caught:
        tabix_index_vcf(data, tmp_path / "index.tbi", out="user.vcf.gz")
    assert "user.vcf.gz" in caught.value.render() and "bcftools sort" in caught.value.render()
