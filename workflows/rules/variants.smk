"""Variant effect scores: every VCF of a genome's ``variants:`` block, scored by each of its per-position models.

The VCFs are those listed under vcfs: and, with a simulate: block, a control VCF
that bioseq simulate variants writes (R/variants/<genome>/simulated.vcf.gz:
labelled SNVs and indels at annotated sites and away from them). bioseq
score-variants writes R/variants/<genome>/<vcf>/<model>.vcf.gz, bgzipped and
tabix-indexed, with the INFO field BIOSEQ in SpliceAI's layout, a TSV and a
JSON summary of the counts (<model>.vcf.gz.summary.json, in the report).

With shard_by_contig: true, each VCF is split into one file per contig (rule
split_vcf; the contigs are read from the VCF's index or header when the
workflow starts, or for the simulated VCF from simulate: contigs or the FASTA
index), each contig is scored as its own job (score_variant_shard: on SLURM,
one job per contig) and rule merge_variant_shards concatenates the scored
contigs in the VCF's contig order into the same outputs. The pieces are
temporary. Positions in the VCFs are 1-based (VCF); BED-like outputs 0-based half-open.
"""

SCRIPTS = os.path.join(workflow.basedir, "scripts")


rule simulate_variants:
    """bioseq simulate variants: a labelled control VCF against the genome and its annotation."""
    input:
        genome=lambda wildcards: config["genomes"][wildcards.genome]["fasta"],
        annotation=lambda wildcards: config["genomes"][wildcards.genome]["annotation"],
    output:
        vcf=f"{RESULTS}/variants/{{genome}}/{SIMULATED}.vcf.gz",
        index=f"{RESULTS}/variants/{{genome}}/{SIMULATED}.vcf.gz.tbi",
        labels=f"{RESULTS}/variants/{{genome}}/{SIMULATED}.labels.tsv",
    log:
        f"{RESULTS}/logs/simulate_variants/{{genome}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/simulate_variants/{{genome}}.tsv"
    params:
        options=simulate_flags,
    wildcard_constraints:
        genome=_alternatives(g for g in VARIANT_GENOMES if "simulate" in config["genomes"][g]["variants"]),
    threads: 1
    resources:
        mem_mb=2000,
        runtime=30,
    conda:
        "../envs/bioseq.yaml"
    shell:
        "bioseq simulate variants --genome {input.genome:q} --annotation {input.annotation:q} {params.options} "
        "--out {output.vcf:q} --labels {output.labels:q} 2> {log:q}"


rule score_variants:
    """bioseq score-variants on a whole VCF (shard_by_contig: false)."""
    input:
        unpack(score_inputs),
    output:
        vcf=f"{RESULTS}/variants/{{genome}}/{{vcf}}/{{model}}.vcf.gz",
        index=f"{RESULTS}/variants/{{genome}}/{{vcf}}/{{model}}.vcf.gz.tbi",
        tsv=f"{RESULTS}/variants/{{genome}}/{{vcf}}/{{model}}.tsv",
        summary=report(
            f"{RESULTS}/variants/{{genome}}/{{vcf}}/{{model}}.vcf.gz.summary.json",
            caption="../report/variants.rst",
            category="Variant scores",
            subcategory="{genome}",
            labels={"genome": "{genome}", "vcf": "{vcf}", "model": "{model}"},
        ),
    log:
        f"{RESULTS}/logs/score_variants/{{genome}}/{{vcf}}/{{model}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/score_variants/{{genome}}/{{vcf}}/{{model}}.tsv"
    params:
        run=run_param(),
        options=score_flags,
        device=device_flag,
    wildcard_constraints:
        genome=_alternatives(g for g in VARIANT_GENOMES if g not in SHARDED_GENOMES),
        vcf=_alternatives(VCF_NAMES),
    threads: model_resource("threads")
    resources:
        mem_mb=lambda wildcards: config["genomes"][wildcards.genome]["variants"]["mem_mb"],
        runtime=lambda wildcards: config["genomes"][wildcards.genome]["variants"]["runtime"],
        gpu=gpu_request,
    conda:
        "../envs/bioseq.yaml"
    shell:
        "bioseq score-variants {params.run:q} --vcf {input.vcf:q} --reference {input.reference:q} {params.options} "
        "--out {output.vcf:q} --tsv {output.tsv:q} {params.device} 2> {log:q}"


rule split_vcf:
    """One VCF per contig of a sharded VCF (scripts/vcf_shards.py split; the folder appears whole)."""
    input:
        vcf=lambda wildcards: variant_vcfs(wildcards.genome)[wildcards.vcf],
    output:
        shards=temp(directory(f"{RESULTS}/variants/{{genome}}/{{vcf}}/split")),
    log:
        f"{RESULTS}/logs/split_vcf/{{genome}}/{{vcf}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/split_vcf/{{genome}}/{{vcf}}.tsv"
    params:
        script=os.path.join(SCRIPTS, "vcf_shards.py"),
        contigs=lambda wildcards: SHARDS[(wildcards.genome, wildcards.vcf)],
    wildcard_constraints:
        genome=_alternatives(SHARDED_GENOMES),
        vcf=_alternatives(VCF_NAMES),
    threads: 1
    resources:
        mem_mb=2000,
        runtime=lambda wildcards: config["genomes"][wildcards.genome]["variants"]["runtime"],
    conda:
        "../envs/bioseq.yaml"
    shell:
        "python {params.script:q} split {input.vcf:q} --contigs {params.contigs:q} --out {output.shards:q} 2> {log:q}"


rule score_variant_shard:
    """bioseq score-variants on the records of one contig (shard_by_contig: true)."""
    input:
        unpack(score_inputs),
    output:
        vcf=temp(f"{RESULTS}/variants/{{genome}}/{{vcf}}/shards/{{model}}/{{contig}}.vcf.gz"),
        index=temp(f"{RESULTS}/variants/{{genome}}/{{vcf}}/shards/{{model}}/{{contig}}.vcf.gz.tbi"),
        tsv=temp(f"{RESULTS}/variants/{{genome}}/{{vcf}}/shards/{{model}}/{{contig}}.tsv"),
        summary=temp(f"{RESULTS}/variants/{{genome}}/{{vcf}}/shards/{{model}}/{{contig}}.vcf.gz.summary.json"),
    log:
        f"{RESULTS}/logs/score_variants/{{genome}}/{{vcf}}/{{model}}/{{contig}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/score_variants/{{genome}}/{{vcf}}/{{model}}/{{contig}}.tsv"
    params:
        run=run_param(),
        shard=lambda wildcards, input: os.path.join(input.shards, f"{wildcards.contig}.vcf.gz"),
        options=score_flags,
        device=device_flag,
    wildcard_constraints:
        genome=_alternatives(SHARDED_GENOMES),
        vcf=_alternatives(VCF_NAMES),
        contig="[^/]+",
    threads: model_resource("threads")
    resources:
        mem_mb=lambda wildcards: config["genomes"][wildcards.genome]["variants"]["mem_mb"],
        runtime=lambda wildcards: config["genomes"][wildcards.genome]["variants"]["runtime"],
        gpu=gpu_request,
    conda:
        "../envs/bioseq.yaml"
    shell:
        "bioseq score-variants {params.run:q} --vcf {params.shard:q} --reference {input.reference:q} "
        "{params.options} --out {output.vcf:q} --tsv {output.tsv:q} {params.device} 2> {log:q}"


rule merge_variant_shards:
    """The scored contigs of a sharded VCF in its contig order: bgzipped, tabix-indexed, the TSV and the
    summary (counts summed over the contigs)."""
    input:
        vcfs=lambda wildcards: [
            scored_shard(wildcards.genome, wildcards.vcf, wildcards.model, c)
            for c in SHARDS[(wildcards.genome, wildcards.vcf)]
        ],
        tsvs=lambda wildcards: [
            scored_shard(wildcards.genome, wildcards.vcf, wildcards.model, c, "tsv")
            for c in SHARDS[(wildcards.genome, wildcards.vcf)]
        ],
        summaries=lambda wildcards: [
            scored_shard(wildcards.genome, wildcards.vcf, wildcards.model, c, "vcf.gz.summary.json")
            for c in SHARDS[(wildcards.genome, wildcards.vcf)]
        ],
    output:
        vcf=f"{RESULTS}/variants/{{genome}}/{{vcf}}/{{model}}.vcf.gz",
        index=f"{RESULTS}/variants/{{genome}}/{{vcf}}/{{model}}.vcf.gz.tbi",
        tsv=f"{RESULTS}/variants/{{genome}}/{{vcf}}/{{model}}.tsv",
        summary=report(
            f"{RESULTS}/variants/{{genome}}/{{vcf}}/{{model}}.vcf.gz.summary.json",
            caption="../report/variants.rst",
            category="Variant scores",
            subcategory="{genome}",
            labels={"genome": "{genome}", "vcf": "{vcf}", "model": "{model}"},
        ),
    log:
        f"{RESULTS}/logs/merge_variant_shards/{{genome}}/{{vcf}}/{{model}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/merge_variant_shards/{{genome}}/{{vcf}}/{{model}}.tsv"
    params:
        script=os.path.join(SCRIPTS, "vcf_shards.py"),
    wildcard_constraints:
        genome=_alternatives(SHARDED_GENOMES),
        vcf=_alternatives(VCF_NAMES),
    threads: 1
    resources:
        mem_mb=2000,
        runtime=lambda wildcards: config["genomes"][wildcards.genome]["variants"]["runtime"],
    conda:
        "../envs/bioseq.yaml"
    shell:
        "python {params.script:q} merge {input.vcfs:q} --out {output.vcf:q} --tsv {output.tsv:q} "
        "--tsv-shards {input.tsvs:q} --summary {output.summary:q} --summary-shards {input.summaries:q} 2> {log:q}"
