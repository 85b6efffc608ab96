"""Evaluation of every run on its dataset's test split, and the comparison across runs.

Both take a training run through its marker (RUN/complete.json, see rule train) and give
bioseq the run directory (params); an ensemble is its bundle directory.
"""


rule evaluate:
    input:
        run=lambda wildcards: run_input(wildcards.dataset, wildcards.model),
        data=lambda wildcards: data_files(wildcards.dataset)["test"],
    output:
        evaluation=report(
            directory(f"{RESULTS}/evaluation/{{dataset}}/{{model}}"),
            patterns=["{file}.png", "{file}.tsv"],
            caption="../report/evaluation.rst",
            category="Evaluation",
            subcategory="{dataset}",
            labels={"dataset": "{dataset}", "model": "{model}", "file": "{file}"},
        ),
    log:
        f"{RESULTS}/logs/evaluate/{{dataset}}/{{model}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/evaluate/{{dataset}}/{{model}}.tsv"
    params:
        run=run_param(),
        columns=lambda wildcards: column_flags(wildcards.dataset),
        device=device_flag,
    threads: 1
    resources:
        mem_mb=4000,
        runtime=30,
        gpu=gpu_request,
    conda:
        "../envs/bioseq.yaml"
    shell:
        "bioseq evaluate {params.run:q} --data {input.data:q} {params.columns} {params.device} "
        "--out {output.evaluation:q} 2> {log:q}"


rule compare:
    input:
        runs=[run_input(d, m) for d, m in all_runs()],
    output:
        table=report(
            f"{RESULTS}/comparison/comparison.tsv",
            caption="../report/comparison_table.rst",
            category="Comparison",
            labels={"file": "table"},
        ),
        plot=report(
            f"{RESULTS}/comparison/comparison.png",
            caption="../report/comparison_plot.rst",
            category="Comparison",
            labels={"file": "plot"},
        ),
    log:
        f"{RESULTS}/logs/compare/compare.log",
    benchmark:
        f"{RESULTS}/benchmarks/compare/compare.tsv"
    params:
        runs=runs_param("runs"),
        labels=" ".join(shlex.quote(f"{d}={run_dir(d, m)}") for d, m in all_runs()),
        out=lambda wildcards, output: os.path.dirname(output.table),
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    conda:
        "../envs/bioseq.yaml"
    shell:
        "bioseq compare {params.runs:q} --labels {params.labels} --out {params.out:q} 2> {log:q}"
