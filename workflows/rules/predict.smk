"""Genome-wide tracks (bioseq scan) and predictions for new inputs (bioseq predict).

Tracks hold one value per step-bp bin, for windows centred on the bin;
BED inputs and track coordinates are 0-based half-open. Both take a training run
through its marker (RUN/complete.json, see rule train) and give bioseq the run
directory (params).
"""


rule scan:
    input:
        run=lambda wildcards: run_input(wildcards.dataset, wildcards.model),
        genome=lambda wildcards: config["genomes"][DATASETS[wildcards.dataset]["genome"]]["fasta"],
    output:
        track=f"{RESULTS}/tracks/{{dataset}}/{{model}}/{{track}}.{track_extension()}",
    log:
        f"{RESULTS}/logs/scan/{{dataset}}/{{model}}/{{track}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/scan/{{dataset}}/{{model}}/{{track}}.tsv"
    params:
        run=run_param(),
        options=scan_options,
        device=device_flag,
        format=config["track_format"],
    threads: 1
    resources:
        mem_mb=4000,
        runtime=60,
        gpu=gpu_request,
    conda:
        "../envs/bioseq.yaml"
    shell:
        "bioseq scan {params.run:q} --reference {input.genome:q} --out {output.track:q} --format {params.format:q} "
        "{params.options} {params.device} 2> {log:q}"


rule predict:
    input:
        unpack(predict_inputs),
    output:
        predictions=f"{RESULTS}/predictions/{{name}}/{{model}}.tsv",
    log:
        f"{RESULTS}/logs/predict/{{name}}/{{model}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/predict/{{name}}/{{model}}.tsv"
    params:
        run=run_param(),
        reference=lambda wildcards, input: flag("reference", input.get("reference")),
        device=device_flag,
    threads: 1
    resources:
        mem_mb=4000,
        runtime=30,
        gpu=gpu_request,
    conda:
        "../envs/bioseq.yaml"
    shell:
        "bioseq predict {params.run:q} --input {input.input:q} {params.reference} --out {output.predictions:q} "
        "{params.device} 2> {log:q}"
