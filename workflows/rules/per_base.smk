"""Base-resolution splice models: a per-base dataset per genome, per-position training runs, genome annotation.

A genome's ``per_base:`` block builds R/data/<genome>_per_base (bioseq dataset
splice-sites --per-base: dataset.json and, per split, uint8 codes, uint8 labels
per base and the windows as BED, 0-based half-open; chromosomes split by
test_chroms/valid_chroms), trains each listed per-position model on it into
R/runs/<genome>_per_base/<model> (like rule train: the output is the marker
RUN/complete.json, so the checkpoints survive a failed job and ``--resume
auto`` continues), and with ``annotate: true`` writes base-resolution tracks of
the whole genome, both strands, and the called sites (bioseq annotate) into
R/annotation/<genome>/<model>.
"""


rule per_base_dataset:
    """bioseq dataset splice-sites --per-base: the dataset directory is written whole (a directory output)."""
    input:
        genome=lambda wildcards: config["genomes"][wildcards.genome]["fasta"],
        annotation=lambda wildcards: config["genomes"][wildcards.genome]["annotation"],
    output:
        dataset=directory(f"{RESULTS}/data/{{genome}}_per_base"),
    log:
        f"{RESULTS}/logs/per_base_dataset/{{genome}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/per_base_dataset/{{genome}}.tsv"
    params:
        options=per_base_dataset_flags,
    wildcard_constraints:
        genome=_alternatives(PER_BASE),
    threads: 1
    resources:
        mem_mb=4000,
        runtime=60,
    conda:
        "../envs/bioseq.yaml"
    shell:
        "bioseq dataset splice-sites --genome {input.genome:q} --annotation {input.annotation:q} --per-base "
        "{params.options} --out {output.dataset:q} 2> {log:q}"


rule train_per_base:
    """bioseq train on a per-base dataset (its own valid and test splits); see rule train for the marker."""
    input:
        dataset=lambda wildcards: per_base_dataset(wildcards.genome),
    output:
        marker=f"{RESULTS}/runs/{{genome}}_per_base/{{model}}/{MARKER}",
        metrics=report(
            f"{RESULTS}/runs/{{genome}}_per_base/{{model}}/metrics.tsv",
            caption="../report/per_base_training.rst",
            category="Per-base models",
            subcategory="{genome}",
            labels={"genome": "{genome}", "model": "{model}", "file": "metrics"},
        ),
    log:
        f"{RESULTS}/logs/train_per_base/{{genome}}/{{model}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/train_per_base/{{genome}}/{{model}}.tsv"
    params:
        options=per_base_train_flags,
        launch=launcher,
        run=lambda wildcards, output: os.path.dirname(output.marker),
    wildcard_constraints:
        genome=_alternatives(PER_BASE),
        model=_alternatives(m for m in PER_POSITION_MODELS if m not in DDP_MODELS),
    threads: model_resource("threads")
    resources:
        mem_mb=model_resource("mem_mb"),
        runtime=model_resource("runtime"),
        gpu=gpu_request,
    conda:
        "../envs/bioseq.yaml"
    shell:
        "{params.launch}bioseq train --train {input.dataset:q} {params.options} "
        "--out {params.run:q} --resume auto --overwrite 2> {log:q}"


if any(m in DDP_MODELS for m in PER_POSITION_MODELS):

    use rule train_per_base as train_per_base_ddp with:
        wildcard_constraints:
            genome=_alternatives(PER_BASE),
            model=_alternatives(m for m in PER_POSITION_MODELS if m in DDP_MODELS),
        resources:
            mem_mb=model_resource("mem_mb"),
            runtime=model_resource("runtime"),
            gpu=gpu_devices,
            mpi="srun",
            tasks_per_node=lambda wildcards: MODELS[wildcards.model]["devices"],


rule annotate:
    """bioseq annotate: <class>.<plus|minus>.bw per site class and strand, sites.bed and summary.json."""
    input:
        run=lambda wildcards: per_base_marker(wildcards.genome, wildcards.model),
        genome=lambda wildcards: config["genomes"][wildcards.genome]["fasta"],
    output:
        annotation=report(
            directory(f"{RESULTS}/annotation/{{genome}}/{{model}}"),
            patterns=["{file}.json", "{file}.bed"],
            caption="../report/annotation.rst",
            category="Per-base models",
            subcategory="{genome}",
            labels={"genome": "{genome}", "model": "{model}", "file": "{file}"},
        ),
    log:
        f"{RESULTS}/logs/annotate/{{genome}}/{{model}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/annotate/{{genome}}/{{model}}.tsv"
    params:
        run=run_param(),
        options=annotate_flags,
        device=device_flag,
    wildcard_constraints:
        genome=_alternatives(g for g, block in PER_BASE.items() if block["annotate"]),
    threads: model_resource("threads")
    resources:
        mem_mb=8000,
        runtime=120,
        gpu=gpu_request,
    conda:
        "../envs/bioseq.yaml"
    shell:
        "bioseq annotate {params.run:q} --reference {input.genome:q} --out {output.annotation:q} {params.options} "
        "{params.device} 2> {log:q}"
