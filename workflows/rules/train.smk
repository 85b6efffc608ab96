"""Training: one bioseq train run per (dataset, model).

The run directory RUN = R/runs/<dataset>/<model> holds the model bundle,
checkpoints/ (last.ckpt after every epoch), logs/metrics.csv, metrics.json and
metrics.tsv (valid and test) and plots/. The job's output is not RUN but
RUN/complete.json, which bioseq writes last: Snakemake deletes a job's outputs
when it fails and before it reruns it, so declaring RUN would delete the
checkpoints. The outputs here (the marker, metrics.tsv and plots/, which bioseq
writes again at the end of every run) may all be deleted; the rest of RUN stays,
and the command's ``--resume auto --overwrite`` then continues a run of the same
settings and data from its last checkpoint, or starts afresh (clearing RUN) when
they changed. Rules that read a run take the marker as input and the directory
as a param (common.smk: run_input, run_param).

Models with ``devices:`` above 1 train with DDP through rule ``train_ddp``: on
SLURM its job asks for one task per device (``mpi``/``tasks_per_node``) and
``srun`` starts them; bioseq refuses to train when the ranks SLURM gave do not
match the devices.
"""


rule tune:
    """bioseq tune: search the settings of a model with a ``tune:`` block on the validation set.

    The study folder keeps study.db and every trial's run when the job fails, so a
    rerun resumes the search instead of starting it again; only best.yaml is the output.
    """
    input:
        unpack(lambda wildcards: {k: v for k, v in data_files(wildcards.dataset).items() if k != "test"}),
    output:
        best=f"{RESULTS}/tune/{{dataset}}/{{model}}/best.yaml",
    log:
        f"{RESULTS}/logs/tune/{{dataset}}/{{model}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/tune/{{dataset}}/{{model}}.tsv"
    params:
        valid=lambda wildcards, input: flag("valid", input.get("valid")),
        options=tune_flags,
        study=lambda wildcards: f"{RESULTS}/tune/{wildcards.dataset}/{wildcards.model}",
    wildcard_constraints:
        model=_alternatives(TUNED_MODELS),
    threads: model_resource("threads")
    resources:
        mem_mb=model_resource("mem_mb"),
        runtime=tune_runtime,
        gpu=gpu_request,
    conda:
        "../envs/bioseq.yaml"
    shell:
        "bioseq tune --train {input.train:q} {params.valid} {params.options} --out {params.study:q} 2> {log:q}"


rule train:
    input:
        unpack(lambda wildcards: data_files(wildcards.dataset)),
        tuned=lambda wildcards: [tuned_config(wildcards.dataset, wildcards.model)]
        if wildcards.model in TUNED_MODELS else [],
    output:
        marker=f"{RESULTS}/runs/{{dataset}}/{{model}}/{MARKER}",
        metrics=report(
            f"{RESULTS}/runs/{{dataset}}/{{model}}/metrics.tsv",
            caption="../report/training.rst",
            category="Training",
            subcategory="{dataset}",
            labels={"dataset": "{dataset}", "model": "{model}", "file": "metrics"},
        ),
        plots=report(
            directory(f"{RESULTS}/runs/{{dataset}}/{{model}}/plots"),
            patterns=["{file}.png"],
            caption="../report/training.rst",
            category="Training",
            subcategory="{dataset}",
            labels={"dataset": "{dataset}", "model": "{model}", "file": "{file}"},
        ),
    log:
        f"{RESULTS}/logs/train/{{dataset}}/{{model}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/train/{{dataset}}/{{model}}.tsv"
    params:
        valid=lambda wildcards, input: flag("valid", input.get("valid")),
        options=train_flags,
        launch=launcher,
        run=lambda wildcards, output: os.path.dirname(output.marker),
    wildcard_constraints:
        model=_alternatives(m for m in MODELS if m not in DDP_MODELS),
    threads: model_resource("threads")
    resources:
        mem_mb=model_resource("mem_mb"),
        runtime=model_resource("runtime"),
        gpu=gpu_request,
    conda:
        "../envs/bioseq.yaml"
    shell:
        "{params.launch}bioseq train --train {input.train:q} {params.valid} --test {input.test:q} {params.options} "
        "--out {params.run:q} --resume auto --overwrite 2> {log:q}"


rule ensemble:
    """bioseq ensemble: average the trained members of an ``ensembles:`` entry, scored on the test split.

    The output is a bundle (written whole, no marker): Snakemake may delete it as a directory.
    """
    input:
        members=lambda wildcards: [run_marker(wildcards.dataset, m) for m in ENSEMBLES[wildcards.model]],
        test=lambda wildcards: data_files(wildcards.dataset)["test"],
    output:
        run=directory(f"{RESULTS}/runs/{{dataset}}/{{model}}"),
    log:
        f"{RESULTS}/logs/ensemble/{{dataset}}/{{model}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/ensemble/{{dataset}}/{{model}}.tsv"
    params:
        members=runs_param("members"),
        columns=lambda wildcards: column_flags(wildcards.dataset),
    wildcard_constraints:
        model=_alternatives(ENSEMBLES),
    threads: 1
    resources:
        mem_mb=4000,
        runtime=30,
    conda:
        "../envs/bioseq.yaml"
    shell:
        "bioseq ensemble {params.members:q} --out {output.run:q} --test {input.test:q} {params.columns} 2> {log:q}"


if DDP_MODELS:

    use rule train as train_ddp with:
        wildcard_constraints:
            model=_alternatives(DDP_MODELS),
        resources:
            mem_mb=model_resource("mem_mb"),
            runtime=model_resource("runtime"),
            gpu=gpu_devices,
            mpi="srun",
            tasks_per_node=lambda wildcards: MODELS[wildcards.model]["devices"],
