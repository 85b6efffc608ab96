"""``bioseq explain``: attributions of a model's target output for the sequences of a file, as an EXP folder.

Output layout (a folder that appears whole or not at all)
----------------------------------------------------------
``attributions.npz`` (numpy, no pickle: load with ``allow_pickle=False``)
    ``attributions`` float32 ``(N, 4, L)``: the contribution of the observed
    base at each position (zeros at the other bases and at padding);
    ``hypothetical`` float32 ``(N, 4, L)``: hypothetical contributions of each
    base (MoDISco's input); ``codes`` uint8 ``(N, L)`` (``PAD``-padded);
    ``lengths`` int64 ``(N,)``; ``names`` unicode ``(N,)``; ``scores`` float32
    ``(N,)``: the model's probability of the target class (per-position: at the
    target position). Sequences are in input order (with ``top``: by
    decreasing score). Position 0 is the sequence's first base; for BED input,
    the 5' end of the window on its strand.
``explain.json``
    ``format`` ("bioseq-explain"), ``format_version`` (1), ``method``,
    ``target``, ``target_index``, ``classes``, ``model``, ``model_name``,
    ``input``, ``n``, ``length``, ``rc_average``, ``options`` (references,
    steps, seed, batch_size, fast, position), ``regions`` (null, or one
    ``[chrom, start, end, strand]`` per sequence, 0-based half-open, the
    model window of each BED interval), ``logos`` (file stems),
    ``track`` (bigWig name or null), ``selection`` (how the sequences were
    chosen), ``request`` (what a rerun compares), ``seconds``, ``versions``.
``logos/<name>.png`` and ``.svg``
    Attribution logos of the ``logos`` highest-scoring sequences; for BED
    input on the genome's ``+`` strand with genomic coordinates on the axis.
``attributions.<target>.bw``
    BED input only: the attributions summed over bases at each genome base
    (overlapping windows: the mean), see :mod:`bioseq.interpret.tracks_out`.

Sequences and memory
--------------------
The input is read and scored in blocks. With ``top=N`` only the ``N``
highest-scoring sequences for the target are kept (memory bounded by ``N``
whatever the input size); without it every sequence is explained, up to
:data:`MAX_SEQUENCES` (a larger input is refused, naming ``top``).

Reruns
------
A rerun with the same request over a complete EXP does nothing (the summary
says ``already_done``); another request over an existing EXP, or a folder
that is not an explanation, is refused unless ``overwrite`` is given. While
it runs, finished chunks of sequences are kept in ``EXP.parts``
(:mod:`bioseq.interpret.chunks`): a killed explanation run again computes only
the missing chunks, and the folder goes once the EXP folder is written.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import shutil
import time
from pathlib import Path

import numpy as np

from bioseq.checks import boolean, positive_integer
from bioseq.errors import InputError, option
from bioseq.interpret.chunks import attribute_in_chunks, rc_attributions
from bioseq.interpret.inputs import Selection, fit_width, input_kind, read_blocks, select_sequences

__all__ = ["explain", "read_explanation", "rc_attributions", "METHODS", "MAX_SEQUENCES", "ATTRIBUTIONS", "METADATA"]

METHODS = ("deeplift_shap", "integrated_gradients", "grad_x_input", "ism")
"""Attribution methods: Captum's (via :func:`bioseq.interpret.attribute`) and saturation mutagenesis."""
MAX_SEQUENCES = 20_000
"""Most sequences explained without ``top`` (about 1.3 GB of arrays for 200 bp)."""
ATTRIBUTIONS = "attributions.npz"
METADATA = "explain.json"
FORMAT, FORMAT_VERSION = "bioseq-explain", 1
_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]")


def explain(
    model,
    input: str | os.PathLike,
    out: str | os.PathLike,
    *,
    method: str = "deeplift_shap",
    target: str | int | None = None,
    label: str | None = None,
    reference: str | os.PathLike | None = None,
    top: int | None = None,
    logos: int = 10,
    references: int = 20,
    steps: int = 32,
    seed: int = 0,
    batch_size: int = 64,
    device: str | None = None,
    rc_average: bool = False,
    fast: bool | None = None,
    position: int | None = None,
    length: int | None = None,
    sequence_column: str = "sequence",
    label_column: str = "label",
    overwrite: bool = False,
) -> dict:
    """Explain a model's output for the sequences of a file and write the EXP folder (module docstring).

    Parameters
    ----------
    model : Bundle, str or os.PathLike
        A bundle, its directory or a training run directory.
    input : str or os.PathLike
        FASTA, a (labelled) table, or BED intervals with ``reference`` (:mod:`bioseq.interpret.inputs`).
    out : str or os.PathLike
        The EXP folder.
    method : {"deeplift_shap", "integrated_gradients", "grad_x_input", "ism"}
    target : str or int, optional
        Class name or index; default the positive class (binary) or as
        :func:`bioseq.interpret.attribute` chooses.
    label : str, optional
        Keep only the input sequences of this class (labelled tables and FASTA).
    reference : str or os.PathLike, optional
        Genome FASTA of BED intervals.
    top : int, optional
        Explain only the ``top`` highest-scoring sequences for the target.
    logos : int, default 10
        Logos of this many top-scoring sequences (0: none).
    references, steps, seed : int
        DeepLIFT/SHAP shuffled references, integrated-gradients steps, seed.
    batch_size : int, default 64
    device : str, optional
        ``"cpu"``, ``"cuda"``, ...; default the CPU.
    rc_average : bool, default False
        Average with the attributions of the reverse complement (mapped back).
    fast : bool, optional
        ISM only: the receptive-field path (None: when the model offers it).
    position : int, optional
        Per-position models: the output position explained (default the centre).
    length : int, optional
        Window width of BED intervals for a model of variable width.
    sequence_column, label_column : str
        Columns of a table input.
    overwrite : bool, default False
        Replace an EXP of another request.

    Returns
    -------
    dict
        The content of ``explain.json``, with ``already_done`` (bool).

    Raises
    ------
    InputError
        On an unknown method or target, a bad option, an input the readers
        reject, no sequence to explain, more than :data:`MAX_SEQUENCES`
        without ``top``, an existing EXP of another request, or as the
        attribution method (e.g. gradients of a model without them).
    """
    from bioseq.bundle import as_bundle

    request = _request(
        model, input, method=method, target=target, label=label, reference=reference, top=top, logos=logos,
        references=references, steps=steps, seed=seed, rc_average=rc_average, fast=fast, position=position,
        length=length, sequence_column=sequence_column, label_column=label_column,
    )  # fmt: skip
    batch_size = positive_integer(batch_size, "batch_size")
    done = _previous(Path(out), request, boolean(overwrite, "overwrite"))
    if done is not None:
        return {**done, "already_done": True}
    began = time.perf_counter()
    bundle = as_bundle(model, device=device)
    kind = input_kind(input, reference=reference)
    width = _width(bundle, kind, length)
    chosen = _choose(bundle, input, request, width, batch_size, device)
    parts = Path(f"{os.fspath(out)}.parts")
    result = attribute_in_chunks(bundle, chosen.codes, request, batch_size=batch_size, device=device, parts=parts)
    summary = _summary(bundle, request, chosen, result, kind, batch_size)
    _write(Path(out), bundle, chosen, result, summary, reference, began)
    shutil.rmtree(parts, ignore_errors=True)  # the chunks are in EXP now
    return {**summary, "already_done": False}


def read_explanation(exp: str | os.PathLike) -> tuple[dict, dict[str, np.ndarray]]:
    """``explain.json`` and the arrays of ``attributions.npz`` of an EXP folder.

    Raises
    ------
    InputError
        When ``exp`` is not a complete explanation folder.
    """
    folder = Path(exp)
    try:
        meta = json.loads((folder / METADATA).read_text())
        with np.load(folder / ATTRIBUTIONS, allow_pickle=False) as data:
            arrays = {key: data[key] for key in data.files}
    except (OSError, ValueError) as exc:
        raise InputError(
            f"this is not a complete explanation folder ({exc.__class__.__name__})",
            path=folder,
            fix="Write it with bioseq explain",
        ) from None
    if meta.get("format") != FORMAT:
        raise InputError("this is not a bioseq explanation folder", path=folder, fix="Write it with bioseq explain")
    return meta, arrays


def _request(model, input, **given) -> dict:
    """What the result depends on, checked; a rerun with an equal request is a no-op."""
    method = given["method"]
    if method not in METHODS:
        raise InputError(f"unknown method {method!r}", fix=f"Pass {option('method', '|'.join(METHODS))}")
    top, logos = given["top"], given["logos"]
    if top is not None:
        given["top"] = positive_integer(top, "top")
    if isinstance(logos, bool) or not isinstance(logos, (int, np.integer)) or logos < 0:
        raise InputError(f"logos must be an integer >= 0, got {logos!r}", fix=f"Pass {option('logos', '10')}")
    for name in ("references", "steps"):
        given[name] = positive_integer(given[name], name)
    given["rc_average"] = boolean(given["rc_average"], "rc_average")
    path = Path(input)
    stat = path.stat() if path.is_file() else None
    model_path = getattr(model, "path", model)
    return {
        "model": None if model_path is None else os.path.abspath(model_path),
        "input": os.path.abspath(path),
        "input_size": None if stat is None else stat.st_size,
        "input_mtime_ns": None if stat is None else stat.st_mtime_ns,
        **{k: (os.path.abspath(v) if k == "reference" and v is not None else v) for k, v in given.items()},
        "target": given["target"] if not isinstance(given["target"], np.integer) else int(given["target"]),
    }


def _previous(out: Path, request: dict, overwrite: bool) -> dict | None:
    """The summary of a complete EXP of the same request, None to (re)write; refuse another one."""
    if out.exists() and not out.is_dir():
        raise InputError(
            "the output names a file, not a folder", path=out, fix=f"Choose another {option('out', 'DIR')}"
        )
    if not out.is_dir() or not any(out.iterdir()):
        return None
    meta = None
    if (out / METADATA).is_file() and (out / ATTRIBUTIONS).is_file():
        try:
            meta = json.loads((out / METADATA).read_text())
        except (OSError, ValueError):
            meta = None
    if meta is not None and meta.get("request") == json.loads(json.dumps(request)):
        return meta
    if overwrite:
        return None
    what = "an explanation of another request" if meta is not None else "files that are not an explanation"
    raise InputError(
        f"the output folder holds {what}",
        path=out,
        fix=f"Pass {option('overwrite', 'True')} to replace it, or choose another {option('out', 'DIR')}",
    )


def _width(bundle, kind: str, length: int | None) -> int | None:
    if kind == "bed":
        from bioseq.bundle.resolve import window_width

        return window_width(bundle, length)
    if length is not None:
        raise InputError(
            f"{option('length')} sets the window width of BED intervals; it does not apply to FASTA or table input",
            fix=f"Leave out {option('length')}",
        )
    return bundle.length


def _choose(bundle, input, request: dict, width: int | None, batch_size: int, device) -> Selection:
    """Read the input in blocks and keep every sequence, or the ``top`` highest-scoring ones for the target."""
    from bioseq.interpret.targets import resolve_position, resolve_target, target_score

    index = resolve_target(bundle, request["target"])[0]

    def score(codes: np.ndarray) -> np.ndarray:  # (n, L) uint8 -> (n,) float32
        position = resolve_position(bundle, codes.shape[1], request["position"])
        probs = bundle.predict_proba(codes, batch_size=batch_size, device=device, rc_average=request["rc_average"])
        return np.asarray(target_score(probs, bundle, index, position), dtype=np.float32)

    blocks = read_blocks(
        input, reference=request["reference"], width=width, label=request["label"],
        sequence_column=request["sequence_column"], label_column=request["label_column"],
    )  # fmt: skip
    fitted = (dataclasses.replace(b, codes=fit_width(b.codes, bundle.length, b.names)) for b in blocks)
    return select_sequences(fitted, score, top=request["top"], cap=MAX_SEQUENCES, path=request["input"])


def _summary(bundle, request: dict, chosen: Selection, result, kind: str, batch_size: int) -> dict:
    from bioseq import __version__

    n, length = chosen.codes.shape
    top = request["top"]
    selection = f"the {n:,} highest-scoring of {chosen.seen:,}" if top is not None else f"all {n:,}"
    model_path = getattr(bundle, "path", None)
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "method": request["method"],
        "target": result.target,
        "target_index": int(result.target_index),
        "classes": list(bundle.classes),
        "model": None if model_path is None else os.fspath(model_path),
        "model_name": getattr(bundle, "model_name", None),
        "input": request["input"],
        "input_kind": kind,
        "label": request["label"],
        "n": int(n),
        "length": int(length),
        "rc_average": request["rc_average"],
        "options": {
            "references": request["references"],
            "steps": request["steps"],
            "seed": request["seed"],
            "batch_size": batch_size,
            "fast": request["fast"],
            "position": request["position"],
        },  # fmt: skip
        "selection": selection,
        "regions": None if chosen.regions is None else [list(r) for r in chosen.regions],
        "request": json.loads(json.dumps(request)),
        "versions": {"bioseq": __version__, "numpy": np.__version__, **_versions()},
    }


def _versions() -> dict:
    from importlib import metadata

    found = {}
    for name in ("torch", "captum"):
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = None
    return found


def _write(out: Path, bundle, chosen: Selection, result, summary: dict, reference, began: float) -> None:
    from bioseq.interrupt import handle_signals
    from bioseq.io.atomic import atomic_directory

    attributions = np.asarray(result.attributions, dtype=np.float32)
    names = np.array(chosen.names, dtype=str)
    with handle_signals(), atomic_directory(out) as folder:
        with open(folder / ATTRIBUTIONS, "wb") as handle:
            np.savez_compressed(
                handle, attributions=attributions, hypothetical=np.asarray(result.hypothetical, dtype=np.float32),
                codes=chosen.codes, lengths=chosen.lengths, names=names,
                scores=np.asarray(result.scores, dtype=np.float32),
            )  # fmt: skip
        summary["track"] = _track(folder, attributions, chosen.regions, summary["target"], reference)
        summary["logos"] = _logos(folder / "logos", attributions, chosen, result.scores, summary)
        summary["seconds"] = round(time.perf_counter() - began, 3)
        (folder / METADATA).write_text(json.dumps(summary, indent=2) + "\n")


def _track(folder: Path, attributions: np.ndarray, regions, target: str, reference) -> str | None:
    if regions is None:
        return None
    from bioseq.interpret.tracks_out import track_file_name, write_attribution_track
    from bioseq.io.reference import Reference

    with Reference(reference) as genome:
        contigs = list(zip(genome.references, genome.lengths))
    name = track_file_name(target)
    write_attribution_track(folder / name, attributions, regions, contigs=contigs)
    return name


def _logos(folder: Path, attributions: np.ndarray, chosen: Selection, scores, summary: dict) -> list[str]:
    """PNG + SVG logos of the ``logos`` highest-scoring sequences; the file stems, best first."""
    count = min(summary["request"]["logos"], attributions.shape[0])
    if not count:
        return []
    from bioseq.interpret.logos import plot_logo

    folder.mkdir()
    stems: list[str] = []
    for i in np.argsort(-np.asarray(scores), kind="stable")[:count].tolist():
        values, n = attributions[i], int(chosen.lengths[i])
        title = f"{chosen.names[i]}  {summary['target']} {float(scores[i]):.3f}  ({summary['method']})"
        place = {}
        if chosen.regions is not None:
            chrom, start, end, strand = chosen.regions[i]
            if strand == "-":  # show the genome's + strand: reverse complement the window's logo
                values = values[::-1, ::-1]
            place = {"chrom": chrom, "start": int(start)}
        stem = _stem(chosen.names[i], stems)
        for suffix in (".png", ".svg"):
            plot_logo(values[:, :n], path=folder / f"{stem}{suffix}", title=title, **place)
        stems.append(stem)
    return stems


def _stem(name: str, taken: list[str]) -> str:
    stem = _UNSAFE.sub("_", name).strip("._") or "sequence"
    stem = stem[:100]
    unique, k = stem, 2
    while unique in taken:
        unique, k = f"{stem}_{k}", k + 1
    return unique
