"""The package: lazy exports resolve, and importing stays free of heavy side effects."""

from __future__ import annotations

import subprocess
import sys

import pytest

import bioseq.bundle
import bioseq.datasets
import bioseq.encode
import bioseq.evaluate
import bioseq.io
import bioseq.models


@pytest.mark.parametrize("package", [bioseq.io, bioseq.encode, bioseq.models, bioseq.evaluate, bioseq.bundle, bioseq.datasets])
def test_every_export_resolves(package):
    for name in package.__all__:
        assert getattr(package, name) is not None, name
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        getattr(package, "nope")


def test_import_does_not_load_torch_or_pysam():
    code = ("import sys, bioseq, bioseq.io, bioseq.encode, bioseq.cli.main; "
            "print(sorted(m for m in ('torch', 'pysam', 'sklearn') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
