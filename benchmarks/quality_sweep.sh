#!/usr/bin/env bash
# Settings explored for issue 5 (one GPU; each line one quality.py run, ~1-2 min on an H200).
# Usage: bash benchmarks/quality_sweep.sh   (data: $BIOSEQ_SHARED_DATA or ../shared/data; results: $OUT or benchmarks/results)
set -u
export BIOSEQ_SHARED_DATA=${BIOSEQ_SHARED_DATA:-$PWD/../shared/data} PYTHONUNBUFFERED=1 PYTHONWARNINGS=ignore
R=${OUT:-benchmarks/results}/sweep.jsonl
q() { echo "== $*" >&2; timeout 150 python3 benchmarks/quality.py --results "$R" "$@" 2>&1 | grep -E "^\| |Error|error" | tail -3; }
G="--datasets gue_prom_core_all --epochs 15"
q $G --models transformer
q $G --models lstm
q $G --models cnn
q $G --models transformer --override '{"model_options": {"dropout": 0.2}, "weight_decay": 0.05}'
q $G --models transformer --override '{"model_options": {"input": "kmer", "k": 3}}'
q $G --models transformer --override '{"model_options": {"stem_kernel": 15, "stem_pool": 2}}'
q $G --models lstm --override '{"model_options": {"hidden_size": 128}, "lr": 0.002}'
q $G --models cnn --override '{"model_options": {"dropout": 0.3}, "lr": 0.002}'
q $G --models transformer --override '{"lr": 0.0005, "label_smoothing": 0.1}'
U="--datasets uci_splice --epochs 20 --max-folds 2"
q $U --models transformer
q $U --models lstm
q $U --models transformer --override '{"model_options": {"pooling": "mean"}}'
q --datasets splice42_dm_don_n1 --epochs 15 --max-folds 1 --models transformer
q --datasets gue_prom_core_tata --epochs 30 --models transformer
