#!/usr/bin/env bash
# Stop the single-node SLURM cluster that .ci/slurm/start.sh started.
#
#   .ci/slurm/stop.sh
#
# Cancels the jobs still queued or running (so that no job step outlives its
# slurmd), then stops slurmd, slurmctld, slurmdbd, mariadbd and munged, each
# by the pid file start.sh left in $BIOSEQ_SLURM_DIR/run (default
# /tmp/bioseq-slurm/run): SIGTERM, then SIGKILL after 15 s. Processes are
# never looked up by name; the link /etc/slurm/slurm.conf is removed when it
# points into $BIOSEQ_SLURM_DIR. Safe to call twice or when nothing runs; state
# (database, job ids, configs) stays in $BIOSEQ_SLURM_DIR for the next start.
set -uo pipefail

DIR=${BIOSEQ_SLURM_DIR:-/tmp/bioseq-slurm}
RUN=$DIR/run
export SLURM_CONF=$DIR/etc/slurm.conf

log() { echo "slurm-ci: $*" >&2; }

alive() { [[ -s $1 ]] && kill -0 "$(cat "$1")" 2>/dev/null; }

stop() {  # stop NAME: end the process named by $RUN/NAME.pid
    local file=$RUN/$1.pid pid i
    if ! alive "$file"; then
        rm -f "$file"
        return 0
    fi
    pid=$(cat "$file")
    log "stopping $1 (pid $pid)"
    kill -TERM "$pid" 2>/dev/null
    for ((i = 0; i < 60; i++)); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.25
    done
    if kill -0 "$pid" 2>/dev/null; then
        log "$1 ignored SIGTERM; sending SIGKILL"
        kill -KILL "$pid" 2>/dev/null
    fi
    rm -f "$file"
}

if alive "$RUN/slurmctld.pid"; then
    jobs=$(timeout 10 squeue -h -o %i 2>/dev/null | tr '\n' ' ')
    if [[ -n ${jobs// /} ]]; then
        log "cancelling jobs $jobs"
        # shellcheck disable=SC2086  # one argument per job id
        timeout 10 scancel $jobs 2>/dev/null
        for ((i = 0; i < 40; i++)); do
            [[ -z $(timeout 10 squeue -h -t R,CG,PD -o %i 2>/dev/null) ]] && break
            sleep 0.25
        done
    fi
fi
for daemon in slurmd slurmctld slurmdbd mariadbd munged; do
    stop "$daemon"
done
# The link start.sh made, only when it still points at this cluster's config.
if [[ -L /etc/slurm/slurm.conf && $(readlink /etc/slurm/slurm.conf) == "$SLURM_CONF" ]]; then
    rm -f /etc/slurm/slurm.conf
fi
exit 0
