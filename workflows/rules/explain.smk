"""Interpretation of trained models: attributions, logos and named motifs per dataset, model and method.

A dataset with an ``explain:`` block (a ``tables:`` entry, or a genome's
``promoters:`` / ``splice_sites:`` block) has each of its models explained on
its test split (or the ``split`` named): ``bioseq explain`` of the ``top``
highest-scoring sequences for ``target`` (default the positive class), optionally only those
labelled ``label``, with each of ``methods``, into
R/explain/<dataset>/<model>/<method> (attributions.npz, explain.json, logos/),
and with ``motifs: true`` ``bioseq motifs`` on it into
R/motifs/<dataset>/<model>/<method> (motifs.tsv, motifs.html, motifs.meme;
JASPAR CORE vertebrates, offline). The logos and the motif pages go into the
report beside the evaluation. Like every rule that reads a run, both take the
run's marker (or an ensemble's bundle) as input. The names, checks and flags
(EXPLAINED, explain_targets, explain_flags, ...) are in common.smk.
"""

rule explain:
    """bioseq explain on a split (default test): attributions.npz, explain.json and the logos of the top sequences."""
    input:
        run=lambda wildcards: run_input(wildcards.dataset, wildcards.model),
        data=lambda wildcards: data_files(wildcards.dataset)[EXPLAINED[wildcards.dataset]["split"]],
    output:
        explanation=report(
            directory(f"{RESULTS}/explain/{{dataset}}/{{model}}/{{method}}"),
            patterns=["logos/{file}.png"],
            caption="../report/explain.rst",
            category="Interpretation",
            subcategory="{dataset}",
            labels={"dataset": "{dataset}", "model": "{model}", "method": "{method}", "file": "{file}"},
        ),
    log:
        f"{RESULTS}/logs/explain/{{dataset}}/{{model}}/{{method}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/explain/{{dataset}}/{{model}}/{{method}}.tsv"
    params:
        run=run_param(),
        options=explain_flags,
        device=device_flag,
    wildcard_constraints:
        dataset=_alternatives(EXPLAINED),
        method=_alternatives(EXPLAIN_METHODS),
    threads: 1
    resources:
        mem_mb=lambda wildcards: EXPLAINED[wildcards.dataset]["mem_mb"],
        runtime=lambda wildcards: EXPLAINED[wildcards.dataset]["runtime"],
        gpu=gpu_request,
    conda:
        "../envs/bioseq.yaml"
    shell:
        "bioseq explain {params.run:q} --input {input.data:q} --method {wildcards.method} {params.options} "
        "{params.device} --out {output.explanation:q} 2> {log:q}"


rule motifs:
    """bioseq motifs: TF-MoDISco motifs of an explanation, matched to JASPAR with TOMTOM."""
    input:
        explanation=lambda wildcards: explain_dir(wildcards.dataset, wildcards.model, wildcards.method),
    output:
        motifs=report(
            directory(f"{RESULTS}/motifs/{{dataset}}/{{model}}/{{method}}"),
            patterns=["{file}.html", "{file}.tsv"],
            caption="../report/motifs.rst",
            category="Interpretation",
            subcategory="{dataset}",
            labels={"dataset": "{dataset}", "model": "{model}", "method": "{method}", "file": "{file}"},
        ),
    log:
        f"{RESULTS}/logs/motifs/{{dataset}}/{{model}}/{{method}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/motifs/{{dataset}}/{{model}}/{{method}}.tsv"
    params:
        options=motifs_flags,
    wildcard_constraints:
        dataset=_alternatives(d for d, block in EXPLAINED.items() if block["motifs"]),
        method=_alternatives(EXPLAIN_METHODS),
    threads: 1
    resources:
        mem_mb=4000,
        runtime=60,
    conda:
        "../envs/bioseq.yaml"
    shell:
        "bioseq motifs {input.explanation:q} {params.options} --out {output.motifs:q} 2> {log:q}"
