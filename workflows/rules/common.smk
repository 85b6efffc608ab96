"""Load and check the config; name every dataset, run and output; build command-line flags.

Output layout under ``config["results"]`` (R); genomic coordinates, where
files carry them, are 0-based half-open:

    R/data/<dataset>/{train,valid,test}.csv     split tables and genome datasets
    R/runs/<dataset>/<model>/                   bioseq train run directories; complete.json, written
                                                last, is the train job's output (the marker)
    R/runs/<dataset>/<ensemble>/                bioseq ensemble bundles (an ensembles: entry)
    R/evaluation/<dataset>/<model>/             bioseq evaluate on the test split
    R/comparison/comparison.{tsv,png}           bioseq compare across every run
    R/tracks/<dataset>/<model>/<track>.<ext>    bioseq scan (bigWig or bedGraph)
    R/predictions/<name>/<model>.tsv            bioseq predict
    R/data/<genome>_per_base/                   per-base dataset (bioseq dataset splice-sites --per-base)
    R/runs/<genome>_per_base/<model>/           per-position training runs (complete.json: the marker)
    R/annotation/<genome>/<model>/              bioseq annotate: <class>.<plus|minus>.bw, sites.bed, summary.json
    R/variants/<genome>/simulated.vcf.gz        control VCF of bioseq simulate variants (a simulate: block)
    R/variants/<genome>/<vcf>/<model>.vcf.gz    bioseq score-variants (+ .tbi, .summary.json, .tsv); split/, shards/
                                                hold the per-contig pieces of a sharded VCF (temporary)
    R/logs/<rule>/...  R/benchmarks/<rule>/...  stderr and time/memory of every job

A dataset is a ``tables:`` entry or a genome task, named ``<genome>_promoters``
or ``<genome>_splice_sites``.
"""

import json
import os
import re
import shlex

from snakemake.exceptions import WorkflowError
from snakemake.utils import validate


if not config:
    raise WorkflowError(
        "No configuration was given: run snakemake with --configfile workflows/config/config.yaml "
        "(or a copy of it that you edited)."
    )
validate(config, "../schemas/config.schema.yaml")


def config_error(problem, fix):
    """A WorkflowError that says what in the config is wrong and how to fix it."""
    return WorkflowError(f"Config: {problem}. {fix}.")


RESULTS = os.path.normpath(config["results"])
MODELS = config["models"]
GPU = config["gpu"]
SEED = config["seed"]
TASKS = ("promoters", "splice_sites")
# Models trained with DDP on several devices in one job (rule train_ddp); the rest use rule train.
DDP_MODELS = [m for m, options in MODELS.items() if options["devices"] > 1]
# Models searched with bioseq tune before training (a ``tune:`` block); train starts from the winner.
TUNED_MODELS = [m for m, options in MODELS.items() if "tune" in options]


def _model_kinds():
    """The kind of each configured model, from bioseq's registry (what it trains on, whether it runs DDP).

    Empty when bioseq is not installed where snakemake runs (its rules then run in conda environments,
    ``--software-deployment-method conda``): ``bioseq train`` checks the same things when the job starts.
    """
    try:
        from bioseq.errors import InputError
        from bioseq.models.registry import model_kind
    except ImportError:
        return {}
    kinds = {}
    for name in MODELS:
        try:
            kinds[name] = model_kind(name)
        except InputError as exc:
            raise config_error(f"models: {exc.problem}", exc.fix or "Use one of the models listed") from None
    return kinds


KINDS = _model_kinds()
for _model in DDP_MODELS:
    if _model in KINDS and not KINDS[_model].distributed:
        raise config_error(f"models: {_model} has devices: {MODELS[_model]['devices']}, but it trains in one process",
                           "Remove devices: from its block")
SPLITS = ("train", "valid", "test")
# Genomes with a per_base: block (per_base.smk): a per-base dataset, its per-position models, base-resolution
# annotation, and with a variants: block, scored VCFs (variants.smk).
PER_BASE = {genome: spec["per_base"] for genome, spec in config["genomes"].items() if "per_base" in spec}
# Per-position models (a kind that scores every base; without bioseq here, one that a per_base: block lists)
# train on per-base datasets only; the window datasets train the rest (WINDOW_MODELS) unless they list their own.
PER_POSITION_MODELS = [
    m for m in MODELS
    if (KINDS[m].per_position if m in KINDS else any(m in block.get("models", []) for block in PER_BASE.values()))
]
WINDOW_MODELS = [m for m in MODELS if m not in PER_POSITION_MODELS]
# Ensembles by name (bioseq ensemble): models whose probabilities are averaged, made on every
# dataset that trains all of them; evaluated and compared like the models.
ENSEMBLES = config["ensembles"]


def _registered_names():
    """Every model name bioseq knows (none when bioseq is not installed here; see _model_kinds)."""
    try:
        from bioseq.models.registry import model_names
    except ImportError:
        return []
    return model_names()


for _name, _members in ENSEMBLES.items():
    if _name in MODELS or _name in _registered_names():
        raise config_error(f"the ensemble {_name!r} has the name of a model",
                           "Give it another name, e.g. " + "_".join(_members))


def _collect_datasets():
    """Every dataset by name: its kind ("table", "promoters", "splice_sites") and its options."""
    datasets = {name: {"kind": "table", **table} for name, table in config["tables"].items()}
    for genome, spec in config["genomes"].items():
        for task in TASKS:
            if task not in spec:
                continue
            name = f"{genome}_{task}"
            if name in datasets:
                raise config_error(f"the table {name!r} has the name of genome {genome!r}'s {task} dataset",
                                   "Rename the table")
            datasets[name] = {"kind": task, "genome": genome, **spec[task]}
    if not datasets and not PER_BASE:
        raise config_error("there is nothing to train on",
                           "Add a tables: entry, or a genome with a promoters:, splice_sites: or per_base: block")
    return datasets


def _check_models(where, names, allowed, allowed_what="in models:"):
    unknown = [m for m in names if m not in allowed]
    if unknown:
        raise config_error(f"{where} lists {', '.join(unknown)}, which {'is' if len(unknown) == 1 else 'are'} "
                           f"not {allowed_what} ({', '.join(allowed)})",
                           "Add a block for it under models:, or remove it from the list")


def _check_window_models(where, names):
    per_position = [m for m in names if m in PER_POSITION_MODELS]
    if per_position:
        raise config_error(f"{where} lists {', '.join(per_position)}, which scores every base and trains on a "
                           "per-base dataset only", "List it under the genome's per_base: models instead")


def _check_dataset(name, dataset):
    dataset["models"] = list(dataset.get("models") or WINDOW_MODELS)
    _check_models(f"dataset {name!r}", dataset["models"], list(MODELS))
    _check_window_models(f"dataset {name!r}", dataset["models"])
    dataset["ensembles"] = [e for e, members in ENSEMBLES.items() if set(members) <= set(dataset["models"])]
    if dataset["kind"] == "table":
        return
    genome = config["genomes"][dataset["genome"]]
    if dataset["kind"] == "promoters" and "annotation" not in genome:
        raise config_error(f"genome {dataset['genome']!r} has a promoters: block but no annotation",
                           "Give annotation: (GTF or GFF3) for the genome")
    if dataset["kind"] == "splice_sites" and not ({"annotation", "bam"} & set(genome)):
        raise config_error(f"genome {dataset['genome']!r} has a splice_sites: block but neither annotation "
                           "nor bam", "Give annotation: or bam: (RNA-seq alignments) for the genome")
    scan = dataset.get("scan")
    if scan is not None:
        scan["models"] = list(scan.get("models") or dataset["models"])
        _check_models(f"the scan of {name!r}", scan["models"], dataset["models"], "trained on it")


for _name, _members in ENSEMBLES.items():
    _check_models(f"the ensemble {_name!r}", _members, list(MODELS))
DATASETS = _collect_datasets()
for _name, _dataset in DATASETS.items():
    _check_dataset(_name, _dataset)

for _name, _entry in config["predict"].items():
    if _entry["dataset"] not in DATASETS:
        raise config_error(f"predict {_name!r} uses the dataset {_entry['dataset']!r}, which is not configured",
                           f"Choose one of {', '.join(DATASETS)}")
    _entry["models"] = list(_entry.get("models") or DATASETS[_entry["dataset"]]["models"])
    _check_models(f"predict {_name!r}", _entry["models"], DATASETS[_entry["dataset"]]["models"],
                  f"trained on {_entry['dataset']!r}")
    if re.search(r"\.bed(\.gz)?$", _entry["input"], re.IGNORECASE) and "reference" not in _entry:
        raise config_error(f"predict {_name!r} reads BED intervals but gives no reference",
                           "Add reference: (the genome FASTA the intervals are on)")


def _alternatives(names):
    """A wildcard constraint that matches exactly one of ``names``."""
    return "|".join(re.escape(n) for n in sorted(names, key=len, reverse=True)) or "(?!)"


wildcard_constraints:
    dataset=_alternatives(DATASETS),
    table=_alternatives(n for n, d in DATASETS.items() if d["kind"] == "table" and "path" in d),
    genome=_alternatives(config["genomes"]),
    model=_alternatives([*MODELS, *ENSEMBLES]),
    name=_alternatives(config["predict"]),
    track="[^/]+",


# ---------------------------------------------------------------- file names


def data_files(dataset):
    """The split files of a dataset, as a dict train/valid/test -> path (valid may be absent)."""
    spec = DATASETS[dataset]
    if spec["kind"] == "table" and "path" not in spec:
        return {split: spec[split] for split in SPLITS if split in spec}
    return {split: f"{RESULTS}/data/{dataset}/{split}.csv" for split in SPLITS}


def run_dir(dataset, model):
    """The directory of a training run or of an ensemble bundle."""
    return f"{RESULTS}/runs/{dataset}/{model}"


# bioseq train writes RUN/complete.json last, once bundle, metrics and plots are all there. It is the
# train job's output, not the run directory: Snakemake deletes the outputs of a failed job and of an
# incomplete one before it reruns it, and the run directory must outlive both so that
# ``bioseq train --resume auto`` continues from RUN/checkpoints/last.ckpt.
MARKER = "complete.json"


def run_marker(dataset, model):
    return f"{run_dir(dataset, model)}/{MARKER}"


def run_input(dataset, model):
    """The input of a job that reads a trained model: the run's marker, or for an ensemble
    (a bundle written whole by bioseq ensemble, no marker) the bundle directory."""
    return run_dir(dataset, model) if model in ENSEMBLES else run_marker(dataset, model)


def run_path(path):
    """The run directory (or ensemble bundle) of a :func:`run_input` path, for the bioseq command."""
    return os.path.dirname(path) if os.path.basename(path) == MARKER else path


def run_param(key="run"):
    """A ``params:`` function: the run directory of the input ``key`` (one path), for ``{params.run:q}``."""
    return lambda wildcards, input: run_path(input[key])


def runs_param(key):
    """A ``params:`` function: the run directories of the inputs ``key`` (a list), each quoted by ``:q``."""
    return lambda wildcards, input: [run_path(p) for p in input[key]]


def all_runs():
    """Every (dataset, model or ensemble) pair the workflow trains or combines."""
    return [(d, m) for d, spec in DATASETS.items() for m in [*spec["models"], *spec["ensembles"]]]


def track_names(dataset):
    """One track per scanned class: the class names, or "score" (the positive class of a binary model)."""
    spec = DATASETS[dataset]
    classes = spec["scan"]["classes"]
    if not classes and spec["kind"] == "splice_sites" and spec["site"] == "both":
        classes = ["donor", "acceptor"]
    return classes or ["score"]


def track_extension():
    return {"bigwig": "bw", "bedgraph": "bedgraph"}[config["track_format"]]


def all_tracks():
    return [f"{RESULTS}/tracks/{d}/{m}/{t}.{track_extension()}"
            for d, spec in DATASETS.items() if spec.get("scan") is not None
            for m in spec["scan"]["models"] for t in track_names(d)]


def all_targets():
    """Everything the workflow makes: evaluations, the comparison, tracks and predictions."""
    targets = [f"{RESULTS}/evaluation/{d}/{m}" for d, m in all_runs()]
    if all_runs():
        targets += [f"{RESULTS}/comparison/comparison.tsv", f"{RESULTS}/comparison/comparison.png"]
    targets += all_tracks()
    targets += [f"{RESULTS}/predictions/{name}/{m}.tsv"
                for name, entry in config["predict"].items() for m in entry["models"]]
    targets += per_base_targets() + variant_targets()
    targets += explain_targets()
    return targets


# ---------------------------------------------------------------- flags and resources
# The flag strings below go into shell: as they are, so every word in them that comes from the
# config is quoted here (shlex.quote); the rules quote their paths with {input:q}, {output:q}, {log:q}.


def flag(name, value):
    """``--name value``, ``--name``/``--no-name`` for booleans, nothing for None; every word shell-quoted.

    The option itself is quoted too: ``name`` may come from the config (a model's ``extra:`` keys,
    which the schema limits to bioseq train options), and no config text reaches ``shell:`` unquoted.
    """
    if value is None:
        return ""
    option = name.replace("_", "-")
    if isinstance(value, bool):
        return shlex.quote(f"--{option}" if value else f"--no-{option}")
    if isinstance(value, (list, tuple)):
        return " ".join([shlex.quote(f"--{option}")] + [shlex.quote(str(v)) for v in value]) if value else ""
    return f"{shlex.quote(f'--{option}')} {shlex.quote(str(value))}"


def flags(**options):
    """:func:`flag` of every option, space-separated (the options left at None give nothing)."""
    return " ".join(f for f in (flag(k, v) for k, v in options.items()) if f)


def uses_gpu(model):
    """True when the job should run on the GPU (``gpu: true``, and not a kind of model that runs on the CPU only)."""
    return GPU and not (model in KINDS and KINDS[model].devices == "cpu")


def gpu_request(wildcards):
    """The ``gpu`` resource of a model job: 1 on a GPU config (0 for the k-mer baseline), else 0."""
    return int(uses_gpu(wildcards.model))


def device_flag(wildcards):
    return f"--device {'cuda' if uses_gpu(wildcards.model) else 'cpu'}"


def column_flags(dataset):
    spec = DATASETS[dataset]
    if spec["kind"] != "table" or "path" in spec:
        return ""  # split tables and genome datasets have the standard name,sequence,label columns
    return flags(sequence_column=spec["sequence_column"], label_column=spec["label_column"])


def train_flags(wildcards):
    """The bioseq train flags of one (dataset, model) run, apart from the input and output paths.

    A tuned model (``tune:`` in its block) takes its settings from the study's best.yaml
    (``--config``), so only what is not tuned (seed, hardware, columns) is given as flags.
    """
    options = {**MODELS[wildcards.model]}
    options.update({k: v for k, v in DATASETS[wildcards.dataset].items() if k in ("epochs", "batch_size")})
    accelerator = "gpu" if uses_gpu(wildcards.model) else "cpu"
    devices = options["devices"]
    hardware = " ".join(f for f in (
        flags(model=wildcards.model, seed=SEED, accelerator=accelerator),
        flags(devices=devices, strategy="ddp") if devices > 1 else "",
        column_flags(wildcards.dataset),
    ) if f)
    if wildcards.model in TUNED_MODELS:
        return f"--config {shlex.quote(tuned_config(wildcards.dataset, wildcards.model))} {hardware}"
    return f"{hardware} {settings_flags(options)}".strip()


def settings_flags(options):
    """Training settings of a model block: epochs, batch size, lr, patience, extra and model options."""
    model_options = " ".join(
        f"--model-option {shlex.quote(f'{key}={json.dumps(value)}')}" for key, value in options["options"].items()
    )
    return " ".join(f for f in (
        flags(epochs=options["epochs"], batch_size=options.get("batch_size"), lr=options.get("lr"),
              patience=options["patience"]),
        flags(**options["extra"]), model_options,
    ) if f)


def tuned_config(dataset, model):
    return f"{RESULTS}/tune/{dataset}/{model}/best.yaml"


def tune_runtime(wildcards):
    """Minutes for a study: its timeout plus one trial, or one training runtime per trial."""
    block = MODELS[wildcards.model]
    search = block["tune"]
    if "timeout" in search:
        return search["timeout"] + block["runtime"]
    return block["runtime"] * search["trials"]


def tune_flags(wildcards):
    """The bioseq tune flags of one (dataset, model) study: the base run's settings and the search."""
    options = {**MODELS[wildcards.model]}
    options.update({k: v for k, v in DATASETS[wildcards.dataset].items() if k in ("epochs", "batch_size")})
    search = options["tune"]
    accelerator = "gpu" if uses_gpu(wildcards.model) else "cpu"
    return " ".join(f for f in (
        flags(model=wildcards.model, seed=SEED, accelerator=accelerator), column_flags(wildcards.dataset),
        settings_flags(options),
        flags(trials=search["trials"], timeout=search["timeout"] * 60 if "timeout" in search else None,
              space=json.dumps(search["space"]) if "space" in search else None),
        "" if search["pruning"] else "--no-pruning",
    ) if f)


def launcher(wildcards):
    """What starts ``bioseq train``: nothing for one device; for DDP, ``srun`` with one task per device
    inside a SLURM job (the job asked for them with ``tasks_per_node``), else nothing, because
    Lightning starts the processes of a local run itself."""
    devices = int(MODELS[wildcards.model]["devices"])  # an integer (schema): safe in shell:
    return "" if devices == 1 else f"${{SLURM_JOB_ID:+srun --nodes=1 --ntasks-per-node={devices}}} "


def gpu_devices(wildcards):
    """The ``gpu`` resource of a training job: its devices on a GPU config, else 0."""
    return MODELS[wildcards.model]["devices"] * gpu_request(wildcards)


def model_resource(key):
    """A resource (threads, mem_mb, runtime) of the model's block, as a function of the wildcards."""
    return lambda wildcards: MODELS[wildcards.model][key]


# ---------------------------------------------------------------- inputs and flags of single rules


def split_flags(wildcards):
    table = DATASETS[wildcards.table]
    split = {"valid": 0.1, "test": 0.1, **table.get("split", {})}  # the schema's defaults
    fractions = [round(1 - split["valid"] - split["test"], 10), split["valid"], split["test"]]
    return flags(fractions=fractions, seed=SEED,
                 sequence_column=table["sequence_column"], label_column=table["label_column"])


def chrom_flags(genome):
    spec = config["genomes"][genome]
    return flags(valid_chroms=spec.get("valid_chroms"), test_chroms=spec.get("test_chroms"), seed=SEED)


def promoter_flags(wildcards):
    task = DATASETS[f"{wildcards.genome}_promoters"]
    return " ".join([flags(length=task.get("length"), negatives=task["negatives"], ratio=task["ratio"]),
                     chrom_flags(wildcards.genome)])


def splice_inputs(wildcards):
    spec = config["genomes"][wildcards.genome]
    return {key: spec[key] for key in ("annotation", "bam") if key in spec} | {"genome": spec["fasta"]}


def splice_flags(wildcards):
    spec = config["genomes"][wildcards.genome]
    task = DATASETS[f"{wildcards.genome}_splice_sites"]
    evidence = flags(annotation=spec.get("annotation"), bam=spec.get("bam"),
                     min_support=task["min_support"] if "bam" in spec else None)
    return " ".join([evidence, flags(site=task["site"], length=task.get("length")), chrom_flags(wildcards.genome)])


def scan_options(wildcards):
    spec = DATASETS[wildcards.dataset]
    scan = spec["scan"]
    return flags(step=scan.get("step"), chroms=scan.get("chroms"),
                 **{"class": None if wildcards.track == "score" else wildcards.track})


def predict_inputs(wildcards):
    entry = config["predict"][wildcards.name]
    inputs = {"run": run_input(entry["dataset"], wildcards.model), "input": entry["input"]}
    if "reference" in entry:
        inputs["reference"] = entry["reference"]
    return inputs


# ---------------------------------------------------------------- per-base models and variants
# (rules/per_base.smk, rules/variants.smk). A genome's per_base: block makes the per-base dataset
# <genome>_per_base and trains each of its per-position models on it; its variants: block scores VCFs
# with each of those models.

SIMULATED = "simulated"  # the name of the control VCF that bioseq simulate variants writes


def per_base_dataset(genome):
    """The per-base dataset directory of a genome (dataset.json, <split>.codes.npy, ...)."""
    return f"{RESULTS}/data/{genome}_per_base"


def per_base_marker(genome, model):
    """The marker (complete.json) of a per-position training run on a genome's per-base dataset."""
    return run_marker(f"{genome}_per_base", model)


def annotation_dir(genome, model):
    return f"{RESULTS}/annotation/{genome}/{model}"


def simulated_vcf(genome):
    return f"{RESULTS}/variants/{genome}/{SIMULATED}.vcf.gz"


def variant_vcfs(genome):
    """The VCFs a genome's models score, by name: the config's vcfs: and the simulated control VCF."""
    block = config["genomes"][genome]["variants"]
    vcfs = dict(block["vcfs"])
    if "simulate" in block:
        vcfs[SIMULATED] = simulated_vcf(genome)
    return vcfs


def scored(genome, vcf, model, ext="vcf.gz"):
    """The scores of one VCF by one model: vcf.gz (with vcf.gz.tbi and vcf.gz.summary.json) and tsv."""
    return f"{RESULTS}/variants/{genome}/{vcf}/{model}.{ext}"


def _check_per_base(genome, block):
    spec = config["genomes"][genome]
    block["models"] = list(block.get("models") or PER_POSITION_MODELS)
    if not block["models"]:
        raise config_error(f"genome {genome!r} has a per_base: block but no per-position model",
                           "Add one under models: (e.g. per_base_cnn) and list it under per_base: models")
    _check_models(f"the per_base: block of {genome!r}", block["models"], list(MODELS))
    windows = [m for m in block["models"] if m in KINDS and not KINDS[m].per_position]
    if windows:
        raise config_error(f"the per_base: block of {genome!r} lists {', '.join(windows)}, which scores a window, "
                           "not every base", "List per-position models only (per_base_cnn, per_base_lstm, ...)")
    tuned = [m for m in block["models"] if m in TUNED_MODELS]
    if tuned:
        raise config_error(f"{', '.join(tuned)} has a tune: block, but the workflow does not tune per-position "
                           "models", "Remove its tune: block")
    if "annotation" not in spec:
        raise config_error(f"genome {genome!r} has a per_base: block but no annotation",
                           "Give annotation: (GTF, GFF3 or GenBank) for the genome")
    if f"{genome}_per_base" in DATASETS:
        raise config_error(f"the table {genome}_per_base has the name of genome {genome!r}'s per-base dataset",
                           "Rename the table")
    for model in block["models"]:
        context = MODELS[model]["options"].get("context")
        if context is not None and "context" in block and context > block["context"]:
            raise config_error(f"{model} reads a context of {context} bases, but the per-base dataset of "
                               f"{genome!r} stores {block['context']}",
                               f"Set per_base: context to {context} or more, or the model's context to less")


def _check_variants(genome, block):
    if genome not in PER_BASE:
        raise config_error(f"genome {genome!r} has a variants: block but no per_base: block",
                           "Add a per_base: block: its models score the variants")
    if SIMULATED in block["vcfs"] and "simulate" in block:
        raise config_error(f"genome {genome!r} lists a VCF named {SIMULATED!r}, the name of its simulated one",
                           "Rename it")
    if not block["vcfs"] and "simulate" not in block:
        raise config_error(f"genome {genome!r} has a variants: block with nothing to score",
                           "List VCFs under vcfs:, or add a simulate: block")


for _genome, _block in PER_BASE.items():
    _check_per_base(_genome, _block)
for _genome, _spec in config["genomes"].items():
    if "variants" in _spec:
        _check_variants(_genome, _spec["variants"])
VARIANT_GENOMES = [g for g, spec in config["genomes"].items() if "variants" in spec]
SHARDED_GENOMES = [g for g in VARIANT_GENOMES if config["genomes"][g]["variants"]["shard_by_contig"]]


def _fasta_contigs(path):
    """The contigs of an indexed FASTA, from its .fai (a cheap read; never writes an index)."""
    try:
        with open(f"{path}.fai") as handle:
            return [line.split("\t", 1)[0] for line in handle if line.strip()]
    except OSError:
        raise config_error(f"shard_by_contig needs the contigs of {path}, which has no index ({path}.fai)",
                           f"Run samtools faidx {path}, or list them under variants: simulate: contigs") from None


def _vcf_contigs(path):
    """The contigs a VCF/BCF holds records of, in its header's order: those of its index when it has one
    (.tbi/.csi), else every contig its header declares. Only the header and the index are read."""
    try:
        import pysam
    except ImportError:
        raise config_error("shard_by_contig reads each VCF's contigs with pysam, which is not installed here",
                           "pip install pysam where snakemake runs, or set shard_by_contig: false") from None
    if not os.path.isfile(path):
        raise config_error(f"the VCF {path} does not exist (shard_by_contig reads its contigs when the workflow "
                           "starts)", "Check the path under variants: vcfs:, or set shard_by_contig: false")
    try:
        with pysam.VariantFile(path) as vcf:
            contigs = list(vcf.header.contigs)
            indexed = set(vcf.index.keys()) if vcf.index is not None else None
    except (OSError, ValueError) as exc:
        raise config_error(f"cannot read the header of the VCF {path} ({exc})",
                           "Check that it is a VCF or BCF file") from None
    if indexed is not None:
        contigs = [c for c in contigs if c in indexed] + sorted(indexed - set(contigs))
    if not contigs:
        raise config_error(f"the VCF {path} declares no contigs (no ##contig lines) and has no index",
                           f"Index it (tabix -p vcf {path}), or set shard_by_contig: false")
    unusable = [c for c in contigs if os.path.basename(c) != c or c in (".", "..")]
    if unusable:
        raise config_error(f"the VCF {path} has contigs that cannot name a file: {', '.join(unusable)}",
                           "Set shard_by_contig: false")
    return contigs


def _shards(genome, vcf, path):
    block = config["genomes"][genome]["variants"]
    if vcf == SIMULATED:
        return list(block["simulate"].get("contigs") or _fasta_contigs(config["genomes"][genome]["fasta"]))
    return _vcf_contigs(path)


# (genome, VCF name) -> the contigs of its shards, in the order the merged VCF keeps them.
SHARDS = {(g, v): _shards(g, v, path) for g in SHARDED_GENOMES for v, path in variant_vcfs(g).items()}
VCF_NAMES = sorted({v for g in VARIANT_GENOMES for v in variant_vcfs(g)})


def per_base_targets():
    """Every per-position run's marker and, with annotate: true, its base-resolution annotation."""
    targets = [per_base_marker(g, m) for g, block in PER_BASE.items() for m in block["models"]]
    targets += [annotation_dir(g, m) for g, block in PER_BASE.items() if block["annotate"] for m in block["models"]]
    return targets


def variant_targets():
    """The scores of every VCF by every per-position model of its genome: vcf.gz, its index, the TSV and
    the summary of the counts."""
    return [scored(g, v, m, ext)
            for g in VARIANT_GENOMES for v in variant_vcfs(g) for m in PER_BASE[g]["models"]
            for ext in ("vcf.gz", "vcf.gz.tbi", "tsv", "vcf.gz.summary.json")]


def per_base_dataset_flags(wildcards):
    block = PER_BASE[wildcards.genome]
    return " ".join([flags(context=block.get("context"), window=block.get("window")), chrom_flags(wildcards.genome)])


def per_base_train_flags(wildcards):
    """The bioseq train flags of a per-position run: its model block's settings; epochs and batch size of the
    per_base: block win, and the model reads the dataset's context unless its options: set one."""
    block = PER_BASE[wildcards.genome]
    options = {**MODELS[wildcards.model]}
    options.update({k: v for k, v in block.items() if k in ("epochs", "batch_size")})
    if "context" in block and "context" not in options["options"]:
        options["options"] = {**options["options"], "context": block["context"]}
    devices = options["devices"]
    return " ".join(f for f in (
        flags(model=wildcards.model, seed=SEED, accelerator="gpu" if uses_gpu(wildcards.model) else "cpu"),
        flags(devices=devices, strategy="ddp") if devices > 1 else "",
        settings_flags(options),
    ) if f)


def annotate_flags(wildcards):
    block = PER_BASE[wildcards.genome]
    return flags(threshold=block.get("threshold"), pairing=block.get("pairing"))


def simulate_flags(wildcards):
    simulate = config["genomes"][wildcards.genome]["variants"]["simulate"]
    return flags(contigs=simulate.get("contigs"), per_category=simulate.get("per_category"), seed=SEED)


def score_inputs(wildcards):
    """The run, reference, VCF (or its shard) and, with annotation: true, the annotation of a scoring job."""
    spec = config["genomes"][wildcards.genome]
    inputs = {"run": per_base_marker(wildcards.genome, wildcards.model), "reference": spec["fasta"]}
    if spec["variants"]["annotation"] and "annotation" in spec:
        inputs["annotation"] = spec["annotation"]
    if "contig" in wildcards.keys():
        inputs["shards"] = vcf_shards(wildcards.genome, wildcards.vcf)  # the folder; the job reads <contig>.vcf.gz
    else:
        inputs["vcf"] = variant_vcfs(wildcards.genome)[wildcards.vcf]
    return inputs


def score_flags(wildcards, input):
    distance = config["genomes"][wildcards.genome]["variants"].get("distance")
    return flags(annotation=input.get("annotation"), distance=distance)


def vcf_shards(genome, vcf):
    """The folder of a sharded VCF's pieces, <contig>.vcf.gz each (rule split_vcf)."""
    return f"{RESULTS}/variants/{genome}/{vcf}/split"


def scored_shard(genome, vcf, model, contig, ext="vcf.gz"):
    return f"{RESULTS}/variants/{genome}/{vcf}/shards/{model}/{contig}.{ext}"


# ---------------------------------------------------------------- interpretation (rules/explain.smk)
# A dataset's explain: block: its models explained on a split (default test) with each method (bioseq explain),
# and with motifs: true their motifs named (bioseq motifs).

EXPLAIN_METHODS = ("deeplift_shap", "integrated_gradients", "grad_x_input", "ism")


def _network_models(names):
    """The models of ``names`` that have gradients (neural networks); all of them when bioseq is not importable."""
    try:
        from bioseq.models.network import NetworkKind
    except ImportError:
        return list(names)
    return [m for m in names if m not in KINDS or isinstance(KINDS[m], NetworkKind)]


def _check_explain(name, dataset):
    block = dataset.get("explain")
    if block is None:
        return
    trained = [*dataset["models"], *dataset["ensembles"]]
    block["models"] = list(block.get("models") or _network_models(dataset["models"]))
    _check_models(f"the explain: block of {name!r}", block["models"], trained, "trained on it")
    if block["split"] not in data_files(name):
        raise config_error(f"the explain: block of {name!r} explains its {block['split']} split, which it does not have",
                           "Choose split: test or train")
    gradients = [m for m in block["methods"] if m != "ism"]
    without = [m for m in block["models"] if m in MODELS and m not in _network_models([m])]
    if gradients and without:
        raise config_error(f"the explain: block of {name!r} lists {', '.join(without)}, which has no gradients for "
                           f"{', '.join(gradients)}", "Explain it with methods: [ism], or leave it out of models:")


for _name, _dataset in DATASETS.items():
    _check_explain(_name, _dataset)
EXPLAINED = {name: dataset["explain"] for name, dataset in DATASETS.items() if dataset.get("explain") is not None}


def explain_dir(dataset, model, method):
    return f"{RESULTS}/explain/{dataset}/{model}/{method}"


def motifs_dir(dataset, model, method):
    return f"{RESULTS}/motifs/{dataset}/{model}/{method}"


def explain_targets():
    """Every explanation and, with motifs: true, its motifs."""
    targets = []
    for dataset, block in EXPLAINED.items():
        for model in block["models"]:
            for method in block["methods"]:
                targets.append(explain_dir(dataset, model, method))
                if block["motifs"]:
                    targets.append(motifs_dir(dataset, model, method))
    return targets


def explain_flags(wildcards):
    """The bioseq explain flags of a dataset's explain: block, and the table's columns."""
    block = EXPLAINED[wildcards.dataset]
    return " ".join(f for f in (
        flags(top=block["top"], logos=block["logos"], target=block.get("target"), label=block.get("label"),
              seed=SEED),
        column_flags(wildcards.dataset),
    ) if f)


def motifs_flags(wildcards):
    return flags(top=EXPLAINED[wildcards.dataset]["matches"])
