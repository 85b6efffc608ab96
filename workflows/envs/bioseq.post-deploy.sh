#!/usr/bin/env bash
# Runs once inside the new conda environment of envs/bioseq.yaml (Snakemake's post-deploy
# script): installs bioseq itself, without touching the conda-installed dependencies.
# Snakemake runs it from the working directory, which is the repository root in the documented
# commands; set BIOSEQ_SOURCE to a path or wheel to install bioseq from elsewhere.
set -euo pipefail
python -m pip install --no-deps "${BIOSEQ_SOURCE:-.}"
