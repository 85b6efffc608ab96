"""Lazy package exports: ``from bioseq.io import Reference`` imports only what it needs.

Importing a package of bioseq stays cheap (no torch, pysam or scikit-learn
until a name that needs them is used), which keeps ``bioseq --help`` and
Snakemake rule start-up fast.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping


def lazy_exports(package: str, exports: Mapping[str, str]) -> tuple[Callable[[str], object], Callable[[], list[str]]]:
    """``__getattr__`` and ``__dir__`` for a package whose names live in sub-modules.

    Parameters
    ----------
    package : str
        The package's ``__name__``.
    exports : mapping of str to str
        Public name -> sub-module (relative to ``package``, or absolute when it starts
        with ``bioseq.``) that defines it.
    """

    def __getattr__(name: str) -> object:
        module = exports.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        return getattr(importlib.import_module(module if module.startswith("bioseq.") else f"{package}.{module}"), name)

    def __dir__() -> list[str]:
        return sorted(exports)

    return __getattr__, __dir__
