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
    if not datasets:
        raise config_error("there is nothing to train on",
                           "Add a tables: entry, or a genome with a promoters: or splice_sites: block")
    return datasets


def _check_models(where, names, allowed, allowed_what="in models:"):
    unknown = [m for m in names if m not in allowed]
    if unknown:
        raise config_error(f"{where} lists {', '.join(unknown)}, which {'is' if len(unknown) == 1 else 'are'} "
                           f"not {allowed_what} ({', '.join(allowed)})",
                           "Add a block for it under models:, or remove it from the list")


def _check_dataset(name, dataset):
    dataset["models"] = list(dataset.get("models") or MODELS)
    _check_models(f"dataset {name!r}", dataset["models"], list(MODELS))
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
    targets += [f"{RESULTS}/comparison/comparison.tsv", f"{RESULTS}/comparison/comparison.png"]
    targets += all_tracks()
    targets += [f"{RESULTS}/predictions/{name}/{m}.tsv"
                for name, entry in config["predict"].items() for m in entry["models"]]
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
