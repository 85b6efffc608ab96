"""The error types: one sentence with file, line, record, problem and fix.

Fixes that name a parameter are rendered for whoever called (bioseq.errors.option): the
Python name for a Python caller, the flag of the command that ran for the command line; a
scan of the source keeps bare ``Pass x=`` and ``--flag`` texts from creeping back in.
"""

from __future__ import annotations

import ast
import io
import re
from pathlib import Path

import numpy as np
import pytest

from bioseq.cli.main import build_parser, main
from bioseq.errors import (
    InputError,
    MissingContigError,
    MissingFileError,
    command_flags,
    flags_of,
    option,
    render_text,
)
from bioseq.io.fasta_codes import read_fasta_codes
from bioseq.io.labels import LabelledSequences
from bioseq.io.tables import read_table
from bioseq.train.data import SequenceSet, split_validation


def test_message_parts_in_order():
    error = InputError("bad base 'J'.", path="a.fa", line=3, record="chr1", fix="Replace it by N")
    assert str(error) == "a.fa, line 3, record 'chr1': bad base 'J'. Replace it by N."
    assert (error.path, error.line, error.record) == ("a.fa", 3, "chr1")


def test_builtin_bases():
    assert isinstance(InputError("x"), ValueError)
    with pytest.raises(KeyError):
        raise MissingContigError("no chrZ", path="r.fa")
    assert str(MissingContigError("no chrZ")) == "no chrZ."  # no KeyError quotes
    assert isinstance(MissingFileError("gone", path="x"), FileNotFoundError)


# --- fixes that name a parameter: rendered for whoever called -------------------------------

BIOSEQ = Path(__file__).resolve().parents[1] / "bioseq"


def test_option_renders_per_caller():
    text = f"Set {option('length', 'N')} to the width"
    assert render_text(text) == "Set length=N to the width"  # a Python caller
    assert render_text(text, {"length": "--length"}) == "Set --length N to the width"
    # a command without the flag: the `otherwise` text (here: nothing, the clause is dropped)
    fix = "Check the quoting" + option("delimiter", clause=", or pass {}", otherwise=", or use tabs")
    assert render_text(fix) == "Check the quoting, or pass delimiter="
    assert render_text(fix, {"length": "--length"}) == "Check the quoting, or use tabs"
    # dest= maps a function's parameter to a differently named flag
    assert render_text(option("width", "200", dest="length"), {"length": "--length"}) == "--length 200"


def test_flags_of_follows_the_chosen_sub_command():
    parser = build_parser()
    scan = flags_of(parser, parser.parse_args(["scan", "run", "--reference", "g.fa", "--out", "x.bw"]))
    assert scan["class_name"] == "--class" and "label_pattern" not in scan
    promoters = parser.parse_args(["dataset", "promoters", "--genome", "g.fa", "--out", "d", "--annotation", "a.gtf"])
    assert flags_of(parser, promoters)["length"] == "--length"


def test_fasta_length_error_python_and_cli(tmp_path, capsys):
    fasta = tmp_path / "x.fa"
    fasta.write_bytes(b">a\nACGTACGT\n")
    with pytest.raises(InputError) as err:
        read_fasta_codes(fasta, length=4)
    assert "longer than length=4. Set length=N to at least the longest sequence" in str(err.value)
    assert main(["encode", str(fasta), "-o", str(tmp_path / "x.npz"), "--length", "4"]) == 1
    line = capsys.readouterr().err
    assert line.count("\n") == 1 and "longer than --length 4. Set --length N to at least" in line
    assert "length=" not in line


def test_table_header_fix_without_a_flag(tmp_path, capsys):
    table = tmp_path / "t.csv"
    table.write_text("ACGTACGTAC,pos\nTTTTGGGGCC,neg\n")  # no header line
    with pytest.raises(InputError) as err:
        read_table(table)
    assert "pass header=False and 0-based column numbers" in str(err.value)
    # bioseq encode has no flag for it: the user is told what to change in the file instead
    assert main(["encode", str(table), "-o", str(tmp_path / "t.npz")]) == 1
    line = capsys.readouterr().err
    assert "add a header line that names the columns" in line and "header=" not in line


def test_python_api_error_names_no_flag_and_the_cli_names_it():
    data = SequenceSet.from_labelled(
        LabelledSequences(["ACGT"] * 2, np.array([0, 1]), ("neg", "pos"), "binary", ["a", "b"])
    )
    with pytest.raises(InputError) as err:
        split_validation(data, fraction=0.1)
    assert str(err.value).endswith("Give a validation file with valid='valid.csv'.")
    assert "--valid" not in str(err.value)
    parser = build_parser()
    args = parser.parse_args(["train", "--train", "t.csv", "--out", "runs/x"])
    assert err.value.render(flags_of(parser, args)).endswith("Give a validation file with --valid 'valid.csv'.")
    with command_flags(parser, args), pytest.raises(InputError) as raised:  # as bioseq train runs it
        split_validation(data, fraction=0.1)
    assert "with --valid 'valid.csv'" in str(raised.value) and "--valid" in raised.value.fix


def test_rewrapped_errors_keep_the_rendering(tmp_path):
    parser = build_parser()
    args = parser.parse_args(["encode", "x.fa", "-o", "x.npz"])
    with command_flags(parser, args), pytest.raises(InputError) as err:
        read_fasta_codes(io.BytesIO(b">a\nACGT\n"), length=2)
    again = InputError(err.value.problem, path="y.fa", fix=err.value.fix)  # re-raised elsewhere
    assert "longer than --length 2" in str(again) and "Set --length N" in str(again)


# The source scan: a fix text must not name a bare Python parameter ("Pass x=") nor a flag of a
# bioseq command outside option(), except in bioseq/cli/ (which only the command line reaches)
# and inside a whole example command ("bioseq train --out RUN"), which reads right for everyone.
_BARE_PARAMETER = re.compile(r"\b[Pp]ass (?:e\.g\. )?[a-z_]+=")
_FLAG = re.compile(r"(?<![\w-])--([a-z][a-z0-9-]*)|(?<![\w-])--$")  # the second: a flag built at run time
_COMMAND = re.compile(r"\bbioseq [a-z-]+[^,;()]*")

# Sites in files that other engineers owned when the check was written (file, what was found);
# convert them with option() and delete the entry.
KNOWN: set[tuple[str, str]] = set()  # every fix names its parameters through option()


def _bioseq_flags() -> set[str]:
    parser = build_parser()
    found, stack = set(), [parser]
    while stack:
        current = stack.pop()
        for action in current._actions:
            found.update(s[2:] for s in action.option_strings if s.startswith("--"))
            stack.extend(
                getattr(action, "choices", None) and isinstance(action.choices, dict) and action.choices.values() or ()
            )
    return found - {"help", "version"}


def _fix_texts(tree: ast.AST):
    """(line, text) of the string pieces of fix texts, outside option(...) calls.

    Fix texts: the ``fix=`` argument of any call, values assigned to names with ``fix`` or
    ``hint`` in them, and what functions with such names return.
    """

    def pieces(node):
        if isinstance(node, ast.Call) and getattr(node.func, "id", getattr(node.func, "attr", "")) == "option":
            return
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            yield node.lineno, node.value
            return
        for child in ast.iter_child_nodes(node):
            yield from pieces(child)

    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            for keyword in node.keywords:
                if keyword.arg == "fix":
                    yield from pieces(keyword.value)
        elif isinstance(node, ast.Assign) and any(
            re.search("fix|hint", getattr(t, "id", ""), re.IGNORECASE) for t in node.targets
        ):
            yield from pieces(node.value)
        elif isinstance(node, ast.FunctionDef) and re.search("fix|hint", node.name):
            for ret in ast.walk(node):
                if isinstance(ret, ast.Return) and ret.value is not None:
                    yield from pieces(ret.value)


def _offences(text: str, relative: str, flags: set[str]) -> list[str]:
    found = [m.group(0) for m in _BARE_PARAMETER.finditer(text)]
    if not relative.startswith("cli/"):  # bioseq/cli/ is reached from the command line only
        bare = _COMMAND.sub("", text)
        found += [m.group(0) for m in _FLAG.finditer(bare) if m.group(1) is None or m.group(1) in flags]
    return found


def test_no_fix_names_a_bare_parameter_or_flag():
    flags = _bioseq_flags()
    assert {"length", "label-pattern", "valid", "reference", "class"} <= flags
    offending = []
    for path in sorted(BIOSEQ.rglob("*.py")):
        relative = path.relative_to(BIOSEQ).as_posix()
        for line, text in _fix_texts(ast.parse(path.read_text(), filename=str(path))):
            offending += [
                f"bioseq/{relative}:{line}: {found!r} in {text!r}"
                for found in _offences(text, relative, flags)
                if (relative, found) not in KNOWN
            ]
    assert not offending, "name parameters with bioseq.errors.option():\n" + "\n".join(offending)


def test_the_scan_catches_a_new_bare_parameter():
    tree = ast.parse(
        'raise InputError("x", fix="Pass width= for the windows")\n'
        'raise InputError("x", fix=f"Pass {option(\'width\')} for the windows")\n'
    )
    texts = [text for _, text in _fix_texts(tree)]
    assert texts == ["Pass width= for the windows", "Pass ", " for the windows"]
    assert _BARE_PARAMETER.search(texts[0]) and not any(_BARE_PARAMETER.search(t) for t in texts[1:])
    flags = {"valid", "length"}
    assert _offences("Give a validation file with --valid", "train/data.py", flags) == ["--valid"]
    assert _offences("Give it as --", "train/config.py", flags) == ["--"]
    assert _offences("Write it with bioseq train --valid x.csv", "train/data.py", flags) == []
    assert _offences("Write e.g. --valid x.csv", "cli/train.py", flags) == []
    assert _offences("Check it with 'gzip -t' or samtools faidx --fai-idx", "io/faidx.py", flags) == []
