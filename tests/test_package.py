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


@pytest.mark.parametrize(
    "package", [bioseq.io, bioseq.encode, bioseq.models, bioseq.evaluate, bioseq.bundle, bioseq.datasets]
)
def test_every_export_resolves(package):
    for name in package.__all__:
        assert getattr(package, name) is not None, name
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        _ = package.nope


def test_import_does_not_load_torch_or_pysam():
    code = (
        "import sys, bioseq, bioseq.io, bioseq.encode, bioseq.cli.main; "
        "print(sorted(m for m in ('torch', 'pysam', 'sklearn') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_the_readme_names_every_module_and_only_modules():
    """The README's "Modules, by layer" paragraph lists each module of the package by file name, and no other name."""
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    readme = (root / "README.md").read_text(encoding="utf-8")
    paragraph = readme[readme.index("\nModules, by layer") :].split("\n\n", 1)[0]
    named = {name.split(".")[-1] for name in re.findall(r"`([a-z_][a-z0-9_.]*)`", paragraph)}
    modules = {
        path.stem
        for path in (root / "bioseq").rglob("*.py")
        if not path.stem.startswith("_") and path.parent.name != "cli"
    } | {"flags"}
    packages = {path.parent.name for path in (root / "bioseq").rglob("__init__.py")}
    assert modules - named == set(), "modules missing from the README's list"
    assert named - modules - packages == set(), "names in the README's list that are no module"
