"""Datasets: split one labelled table, or build promoter and splice-site windows from a genome.

Every dataset ends up as R/data/<dataset>/{train,valid,test}.csv (columns
name,sequence,label); genome windows are named chrom:start-end(strand),
0-based half-open.
"""


rule split_table:
    input:
        lambda wildcards: DATASETS[wildcards.table]["path"],
    output:
        **{split: f"{RESULTS}/data/{{table}}/{split}.csv" for split in SPLITS},
        summary=f"{RESULTS}/data/{{table}}/summary.json",
    log:
        f"{RESULTS}/logs/split_table/{{table}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/split_table/{{table}}.tsv"
    params:
        out=lambda wildcards, output: os.path.dirname(output.train),
        options=split_flags,
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    conda:
        "../envs/bioseq.yaml"
    shell:
        "bioseq split {input:q} --out {params.out:q} {params.options} 2> {log:q}"


rule promoter_dataset:
    input:
        genome=lambda wildcards: config["genomes"][wildcards.genome]["fasta"],
        annotation=lambda wildcards: config["genomes"][wildcards.genome]["annotation"],
    output:
        **{split: f"{RESULTS}/data/{{genome}}_promoters/{split}.csv" for split in SPLITS},
        summary=f"{RESULTS}/data/{{genome}}_promoters/summary.json",
    log:
        f"{RESULTS}/logs/promoter_dataset/{{genome}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/promoter_dataset/{{genome}}.tsv"
    params:
        out=lambda wildcards, output: os.path.dirname(output.summary),
        options=promoter_flags,
    threads: 1
    resources:
        mem_mb=4000,
        runtime=30,
    conda:
        "../envs/bioseq.yaml"
    shell:
        "bioseq dataset promoters --genome {input.genome:q} --annotation {input.annotation:q} "
        "--out {params.out:q} {params.options} 2> {log:q}"


rule splice_site_dataset:
    input:
        unpack(splice_inputs),
    output:
        **{split: f"{RESULTS}/data/{{genome}}_splice_sites/{split}.csv" for split in SPLITS},
        summary=f"{RESULTS}/data/{{genome}}_splice_sites/summary.json",
    log:
        f"{RESULTS}/logs/splice_site_dataset/{{genome}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/splice_site_dataset/{{genome}}.tsv"
    params:
        out=lambda wildcards, output: os.path.dirname(output.summary),
        options=splice_flags,
    threads: 1
    resources:
        mem_mb=4000,
        runtime=30,
    conda:
        "../envs/bioseq.yaml"
    shell:
        "bioseq dataset splice-sites --genome {input.genome:q} {params.options} --out {params.out:q} 2> {log:q}"
