"""Hand-written GenBank and EMBL flat files for tests (``tests/conftest.py`` puts this folder on ``sys.path``)."""

from __future__ import annotations


def genbank_text(
    sequence: str,
    features: list[tuple[str, str, dict[str, str]]],
    *,
    name: str = "TOY1",
    version: str | None = "TOY1.1",
    circular: bool = False,
) -> str:
    """One GenBank record: LOCUS line in the standard columns, FEATURES, ORIGIN and ``//``.

    ``features`` are ``(type, location, {qualifier: value})`` with 1-based locations as in the file.
    """
    topology = "circular" if circular else "linear"
    lines = [
        f"LOCUS       {name:<16} {len(sequence):>11} bp    {'DNA':<6}  {topology:<8} SYN 01-JAN-2000",
        "DEFINITION  a test record.",
        f"ACCESSION   {name}",
    ]
    if version:
        lines.append(f"VERSION     {version}")
    lines.append("FEATURES             Location/Qualifiers")
    lines.append(f"     source          1..{len(sequence)}")
    for kind, location, qualifiers in features:
        lines.append(f"     {kind:<16}{location}")
        lines += [f'                     /{key}="{value}"' for key, value in qualifiers.items()]
    lines.append("ORIGIN")
    for start in range(0, len(sequence), 60):
        chunk = sequence[start : start + 60].lower()
        lines.append(f"{start + 1:>9} " + " ".join(chunk[i : i + 10] for i in range(0, len(chunk), 10)))
    lines.append("//")
    return "\n".join(lines) + "\n"


def embl_text(
    sequence: str, features: list[tuple[str, str, dict[str, str]]], *, name: str = "TOY2", version: int = 1
) -> str:
    """One linear EMBL record (``ID``, ``AC``, ``FT`` lines, ``SQ`` block and ``//``)."""
    lines = [
        f"ID   {name}; SV {version}; linear; genomic DNA; STD; SYN; {len(sequence)} BP.",
        "XX",
        f"AC   {name};",
        "XX",
        "FH   Key             Location/Qualifiers",
        "FH",
        f"FT   source          1..{len(sequence)}",
    ]
    for kind, location, qualifiers in features:
        lines.append(f"FT   {kind:<16}{location}")
        lines += [f'FT                   /{key}="{value}"' for key, value in qualifiers.items()]
    lines += ["XX", f"SQ   Sequence {len(sequence)} BP;"]
    for start in range(0, len(sequence), 60):
        chunk = sequence[start : start + 60].lower()
        body = " ".join(chunk[i : i + 10] for i in range(0, len(chunk), 10))
        lines.append(f"     {body:<66}{min(start + 60, len(sequence)):>10}")
    lines.append("//")
    return "\n".join(lines) + "\n"
