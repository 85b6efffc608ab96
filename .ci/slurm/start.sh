#!/usr/bin/env bash
# Start a throw-away single-node SLURM cluster on this machine, for CI and for
# testing the SLURM parts of bioseq (the Snakemake profile, srun-launched DDP).
#
#   .ci/slurm/start.sh            # prints: export SLURM_CONF=...
#   eval "$(.ci/slurm/start.sh)"  # ... and use it in this shell
#   .ci/slurm/stop.sh             # stops every daemon again
#
# What it does (as root, Linux only):
#   1. installs slurm-wlm, munge, slurmdbd and mariadb-server with apt-get when
#      they are missing (their packaged start scripts are never used: daemons
#      are started by hand, so a policy-rc.d that blocks services is fine);
#   2. writes every config file, key, database, spool, log and pid file under
#      one directory, $BIOSEQ_SLURM_DIR (default /tmp/bioseq-slurm); the only
#      file outside it is the link /etc/slurm/slurm.conf -> $SLURM_CONF, made
#      when no slurm.conf is there (see below why) and removed by stop.sh;
#   3. starts munged, mariadbd (database slurm_acct_db and user slurm),
#      slurmdbd, slurmctld and slurmd, all bound to 127.0.0.1, registers the
#      cluster, an account "bioseq" and the current user with sacctmgr, and
#      waits until sinfo shows the node idle and sacct answers (about 10-15 s
#      the first time, a few seconds when the database already exists);
#   4. prints the environment a caller needs (SLURM_CONF) on stdout and writes
#      it to $BIOSEQ_SLURM_DIR/env as well; progress goes to stderr.
#
# Safe to call twice: a daemon whose pid file names a live process is left
# running (it keeps the config it started with); configs are rewritten on
# every call, the munge key, database password and database are kept. Delete
# $BIOSEQ_SLURM_DIR (after stop.sh) for a fresh cluster.
#
# Cluster layout: one node named after this machine (`hostname -s`) at
# 127.0.0.1, its CPUs and memory taken from `slurmd -C`; partitions "debug"
# (the default) and "gpu" (the same node, no GPUs: it only lets a profile that
# names slurm_partition=gpu submit here), both without a time limit.
# Choices that matter on containers and small CI machines:
#   ProctrackType=proctrack/linuxproc, TaskPlugin=task/none  (no cgroups needed)
#   SelectType=select/cons_tres with CR_Core                 (memory not enforced)
#   SlurmdParameters=config_overrides                        (no DRAIN on memory jitter)
#   AccountingStorageType=accounting_storage/slurmdbd        (the Snakemake SLURM plugin
#       polls sacct; with sacct installed but no slurmdbd it waits silently forever)
#   MinJobAge=300                                            (finished jobs stay visible)
#   AuthInfo=...,cred_expire=15, SchedulerParameters=sched_interval=2,bf_interval=2
#       (a requeued job, `scontrol requeue` or `sbatch --requeue` after a node failure, may start
#       again after cred_expire seconds, 120 by default, and is then started by the next
#       scheduler pass, every 60 s by default: with these it runs again within ~20 s, not ~3 min)
#
# Environment (all optional):
#   BIOSEQ_SLURM_DIR    state directory                   [/tmp/bioseq-slurm]
#   BIOSEQ_SLURM_PORT   first of four consecutive TCP ports on 127.0.0.1:
#                       slurmctld, slurmd, slurmdbd, mariadbd  [6817]
#   BIOSEQ_SLURM_WAIT   seconds to wait for each daemon   [60]
set -euo pipefail

DIR=${BIOSEQ_SLURM_DIR:-/tmp/bioseq-slurm}
PORT=${BIOSEQ_SLURM_PORT:-6817}
WAIT=${BIOSEQ_SLURM_WAIT:-60}
CLUSTER=bioseq
ACCOUNT=bioseq

log() { echo "slurm-ci: $*" >&2; }
die() { log "error: $*"; exit 1; }
# Exit status 3: this machine cannot host the cluster (tests skip on it); 1: a real failure.
unable() { log "error: $*"; exit 3; }

[[ $(uname -s) == Linux ]] || unable "a SLURM cluster needs Linux; this is $(uname -s)"
[[ $(id -u) == 0 ]] || unable "start.sh must run as root (the daemons run as root); run it with sudo"

# --- 1. packages ---------------------------------------------------------------
need=()
for pair in slurmctld:slurm-wlm slurmd:slurm-wlm sacct:slurm-client slurmdbd:slurmdbd \
            munged:munge mariadbd:mariadb-server; do
    command -v "${pair%%:*}" >/dev/null 2>&1 || need+=("${pair#*:}")
done
if ((${#need[@]})); then
    command -v apt-get >/dev/null 2>&1 || unable "missing ${need[*]} and no apt-get to install them"
    log "installing slurm-wlm munge slurmdbd mariadb-server with apt-get"
    export DEBIAN_FRONTEND=noninteractive
    { apt-get update -qq && apt-get install -y -qq --no-install-recommends \
        slurm-wlm munge slurmdbd mariadb-server; } >&2 || unable "apt-get could not install SLURM"
fi

# --- 2. layout and configs --------------------------------------------------------
HOST=$(hostname -s)
mkdir -p "$DIR"/{etc,run,log,munge,mysql,spool/ctld,spool/d}
chmod 0755 "$DIR"
chmod 0700 "$DIR/munge"
export SLURM_CONF=$DIR/etc/slurm.conf
MUNGE_SOCKET=$DIR/run/munge.socket  # run/ is world-searchable, as munge clients need
DB_SOCKET=$DIR/mysql/mysql.sock
DB_PASSWORD_FILE=$DIR/etc/db.password

alive() {  # alive PIDFILE: true when the pid file names a running process
    [[ -s $1 ]] && kill -0 "$(cat "$1")" 2>/dev/null
}

wait_for() {  # wait_for WHAT COMMAND...: retry COMMAND for $WAIT seconds
    local what=$1 deadline=$((SECONDS + WAIT))
    shift
    until "$@" >/dev/null 2>&1; do
        ((SECONDS < deadline)) || die "$what did not come up within ${WAIT}s; see the logs in $DIR/log"
        sleep 0.25
    done
}

[[ -s $DIR/munge/munge.key ]] || {
    dd if=/dev/urandom of="$DIR/munge/munge.key" bs=1024 count=1 status=none
    chmod 0400 "$DIR/munge/munge.key"
}
[[ -s $DB_PASSWORD_FILE ]] || {
    (umask 077 && od -An -N16 -tx1 /dev/urandom | tr -d ' \n' >"$DB_PASSWORD_FILE")
}

{
    # e.g. "NodeName=vm CPUs=2 Boards=1 SocketsPerBoard=1 CoresPerSocket=2 ThreadsPerCore=1 RealMemory=24105"
    node=$(slurmd -C 2>/dev/null | grep '^NodeName=') || die "slurmd -C could not describe this machine"
    node="NodeName=$HOST ${node#NodeName=* }"
    cat >"$SLURM_CONF.new" <<EOF
# Written by .ci/slurm/start.sh: a single-node cluster on 127.0.0.1.
ClusterName=$CLUSTER
SlurmctldHost=$HOST(127.0.0.1)
SlurmUser=root
SlurmdUser=root
SlurmctldPort=$PORT
SlurmdPort=$((PORT + 1))
AuthType=auth/munge
# cred_expire: also the seconds a requeued job waits before it may start again (default 120).
AuthInfo=socket=$MUNGE_SOCKET,cred_expire=15
CredType=cred/munge
StateSaveLocation=$DIR/spool/ctld
SlurmdSpoolDir=$DIR/spool/d
SlurmctldPidFile=$DIR/run/slurmctld.pid
SlurmdPidFile=$DIR/run/slurmd.pid
SlurmctldLogFile=$DIR/log/slurmctld.log
SlurmdLogFile=$DIR/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
MpiDefault=none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SlurmdParameters=config_overrides
SchedulerType=sched/backfill
# Scheduler passes every 2 s (default 60 s main, 30 s backfill): pending jobs start promptly.
SchedulerParameters=sched_interval=2,bf_interval=2
ReturnToService=2
MinJobAge=300
KillWait=5
InactiveLimit=0
JobAcctGatherType=jobacct_gather/linux
JobAcctGatherFrequency=30
AccountingStorageType=accounting_storage/slurmdbd
AccountingStorageHost=127.0.0.1
AccountingStoragePort=$((PORT + 2))
# The munge socket for talking to slurmdbd: without it clients use the system default.
AccountingStoragePass=$MUNGE_SOCKET
JobCompType=jobcomp/none
# Keep sbatch --comment in the database: the Snakemake plugin writes rule_<name> there.
AccountingStoreFlags=job_comment
$node NodeAddr=127.0.0.1 State=UNKNOWN
PartitionName=debug Nodes=$HOST Default=YES MaxTime=INFINITE State=UP
PartitionName=gpu Nodes=$HOST MaxTime=INFINITE State=UP
EOF
    mv "$SLURM_CONF.new" "$SLURM_CONF"
}

(
    umask 077  # slurmdbd refuses a config that others can read (it holds the password)
    cat >"$DIR/etc/slurmdbd.conf.new" <<EOF
# Written by .ci/slurm/start.sh. slurmdbd finds this file beside \$SLURM_CONF.
AuthType=auth/munge
AuthInfo=socket=$MUNGE_SOCKET
DbdHost=$HOST
DbdAddr=127.0.0.1
DbdPort=$((PORT + 2))
SlurmUser=root
PidFile=$DIR/run/slurmdbd.pid
LogFile=$DIR/log/slurmdbd.log
StorageType=accounting_storage/mysql
StorageHost=127.0.0.1
StoragePort=$((PORT + 3))
StorageUser=slurm
StoragePass=$(cat "$DB_PASSWORD_FILE")
StorageLoc=slurm_acct_db
EOF
    mv "$DIR/etc/slurmdbd.conf.new" "$DIR/etc/slurmdbd.conf"
)

# The one file outside $DIR: Snakemake's slurm-jobstep plugin (0.6) drops SLURM_CONF from the
# environment of the `srun` it runs inside each job, so srun must find the config at the
# compiled-in path. A slurm.conf that is already there and not ours is left alone.
SYSTEM_CONF=/etc/slurm/slurm.conf
if [[ -L $SYSTEM_CONF && $(readlink "$SYSTEM_CONF") == "$SLURM_CONF" ]]; then
    :
elif [[ -e $SYSTEM_CONF || -L $SYSTEM_CONF ]]; then
    log "warning: $SYSTEM_CONF exists and is not ours; srun inside Snakemake jobs will use it"
else
    mkdir -p "$(dirname "$SYSTEM_CONF")"
    ln -s "$SLURM_CONF" "$SYSTEM_CONF"
fi

# --- 3. daemons ----------------------------------------------------------------------
if ! alive "$DIR/run/munged.pid"; then
    log "starting munged"
    # --force: munged refuses to run as root without it.
    munged --force --socket="$MUNGE_SOCKET" --key-file="$DIR/munge/munge.key" \
        --pid-file="$DIR/run/munged.pid" --log-file="$DIR/log/munged.log" \
        --seed-file="$DIR/munge/munged.seed"
fi
wait_for munged munge --socket="$MUNGE_SOCKET" --no-input

sql() { mariadb --no-defaults --socket="$DB_SOCKET" --user=root "$@"; }
if ! alive "$DIR/run/mariadbd.pid"; then
    if [[ ! -d $DIR/mysql/data/mysql ]]; then
        log "creating the accounting database"
        mariadb-install-db --no-defaults --datadir="$DIR/mysql/data" --user=root \
            --auth-root-authentication-method=socket --skip-test-db >"$DIR/log/mariadb-install.log" 2>&1 ||
            die "mariadb-install-db failed; see $DIR/log/mariadb-install.log"
    fi
    log "starting mariadbd"
    setsid mariadbd --no-defaults --user=root --datadir="$DIR/mysql/data" --socket="$DB_SOCKET" \
        --pid-file="$DIR/run/mariadbd.pid" --bind-address=127.0.0.1 --port=$((PORT + 3)) \
        --skip-name-resolve --log-error="$DIR/log/mariadbd.log" --innodb-buffer-pool-size=64M \
        </dev/null >>"$DIR/log/mariadbd.log" 2>&1 &
fi
wait_for mariadbd sql -e "SELECT 1"
password=$(cat "$DB_PASSWORD_FILE")
sql <<EOF
CREATE DATABASE IF NOT EXISTS slurm_acct_db;
CREATE USER IF NOT EXISTS 'slurm'@'127.0.0.1' IDENTIFIED BY '$password';
GRANT ALL ON slurm_acct_db.* TO 'slurm'@'127.0.0.1';
EOF

if ! alive "$DIR/run/slurmdbd.pid"; then
    log "starting slurmdbd"
    slurmdbd  # daemonizes; finds slurmdbd.conf beside $SLURM_CONF
fi
wait_for slurmdbd timeout 10 sacctmgr -n list cluster

# Registration: `sacctmgr -i add` fails when the entity exists, so ask first.
acctmgr() { timeout 30 sacctmgr "$@"; }
[[ -n $(acctmgr -n -P list cluster "$CLUSTER" format=cluster) ]] ||
    acctmgr -i add cluster "$CLUSTER" >&2
[[ -n $(acctmgr -n -P list account "$ACCOUNT" format=account) ]] ||
    acctmgr -i add account "$ACCOUNT" Cluster="$CLUSTER" Description="bioseq CI" Organization=bioseq >&2
user=$(id -un)
acctmgr -n -P list association cluster="$CLUSTER" account="$ACCOUNT" user="$user" format=user | grep -qx "$user" ||
    acctmgr -i add user "$user" Account="$ACCOUNT" DefaultAccount="$ACCOUNT" Cluster="$CLUSTER" >&2

if ! alive "$DIR/run/slurmctld.pid"; then
    log "starting slurmctld"
    slurmctld
fi
wait_for slurmctld timeout 10 scontrol ping
if ! alive "$DIR/run/slurmd.pid"; then
    log "starting slurmd"
    slurmd -N "$HOST"
fi
# Idle on a fresh start; mix/alloc when called again while jobs run.
node_up() { [[ $(sinfo -h -N -n "$HOST" -p debug -o %t) =~ ^(idle|mix|alloc)$ ]]; }
wait_for "node $HOST" node_up
wait_for sacct timeout 10 sacct -n -X

echo "export SLURM_CONF=$SLURM_CONF" | tee "$DIR/env"
log "cluster $CLUSTER is up: node $HOST, partitions debug (default) and gpu; stop it with .ci/slurm/stop.sh"
