#!/usr/bin/env bash
# Slurm end to end, for real: installs Debian's Slurm and munge if missing, starts a one-node
# cluster on localhost (no systemd, no accounting, everything under a temporary folder),
# submits `rowseq slurm --submit` for a tiny 4-run sweep as a 2-task array, waits for it,
# and checks that the merged results of the shards equal those of a local run of the sweep.
# Needs root (apt-get, munged as the munge user) and target/release/rowseq (scripts/test.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
ROWSEQ="$PWD/target/release/rowseq"
[ -x "$ROWSEQ" ] || { echo "build first: cargo build --release" >&2; exit 1; }

if ! command -v slurmctld >/dev/null || ! command -v munged >/dev/null; then
  echo "==> installing slurm-wlm and munge"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    slurmctld slurmd slurm-client munge >/dev/null
fi

T="$(mktemp -d /tmp/rowseq-slurm.XXXXXX)"
chmod 755 "$T"
NODE="$(hostname -s)"
export SLURM_CONF="$T/slurm.conf"

stop() { # pid file, name: TERM, then KILL after a wait
  local pid
  pid="$(cat "$1" 2>/dev/null || true)"
  [ -n "$pid" ] || return 0
  kill -TERM "$pid" 2>/dev/null || return 0
  for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
  echo "$2 did not stop: KILL" >&2
  kill -KILL "$pid" 2>/dev/null || true
}
cleanup() {
  local rc=$?
  stop "$T/slurmd.pid" slurmd
  stop "$T/slurmctld.pid" slurmctld
  stop "$T/munged.pid" munged
  if [ "$rc" = 0 ]; then rm -rf "$T"; else echo "logs kept in $T" >&2; fi
}
trap cleanup EXIT

echo "==> munge"
mkdir -p /run/munge /var/log/munge /var/lib/munge
chown munge:munge /run/munge /var/log/munge /var/lib/munge /etc/munge/munge.key
chmod 0400 /etc/munge/munge.key
if munge -n </dev/null | unmunge >/dev/null 2>&1; then
  echo "munged already running: using it"
else
  runuser -u munge -- munged
  cp /run/munge/munged.pid "$T/munged.pid"
fi

echo "==> slurm.conf and daemons"
mkdir -p "$T/state" "$T/spool"
cat >"$SLURM_CONF" <<EOF
ClusterName=rowseqci
SlurmctldHost=$NODE(127.0.0.1)
SlurmUser=root
SlurmdUser=root
SlurmctldPort=16817
SlurmdPort=16818
AuthType=auth/munge
CredType=cred/munge
StateSaveLocation=$T/state
SlurmdSpoolDir=$T/spool
SlurmctldPidFile=$T/slurmctld.pid
SlurmdPidFile=$T/slurmd.pid
SlurmctldLogFile=$T/slurmctld.log
SlurmdLogFile=$T/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
MpiDefault=none
ReturnToService=2
SchedulerType=sched/backfill
SchedulerParameters=batch_sched_delay=0,bf_interval=1
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
NodeName=$NODE NodeAddr=127.0.0.1 CPUs=$(nproc) State=UNKNOWN
PartitionName=ci Nodes=ALL Default=YES MaxTime=INFINITE State=UP
EOF
slurmctld -i
slurmd -N "$NODE"
for i in $(seq 60); do
  state="$(sinfo -h -o %T 2>/dev/null || true)"
  [ "$state" = idle ] && break
  [ "$i" = 60 ] && { echo "node not idle: '$state'" >&2; tail -20 "$T"/slurm*.log >&2; exit 1; }
  sleep 1
done
echo "node $NODE idle"

SWEEP=(configs/quick.toml --set 'name="slurm"' --set 'num_units=[8, 16, 24, 32]'
  --set epochs=2 --set train_size=2000 --set val_size=500 --set test_size=500
  --set batch_size=64)

echo "==> submitting the array"
out="$("$ROWSEQ" slurm "${SWEEP[@]}" --out "$T/shared" --threads 1 --tasks 2 --submit)"
echo "$out"
job="$(echo "$out" | sed -n 's/^Submitted batch job \([0-9]*\)$/\1/p')"
[ -n "$job" ] || { echo "no job id from sbatch" >&2; exit 1; }
for i in $(seq 600); do
  [ -z "$(squeue -h -j "$job" 2>/dev/null)" ] && break
  [ "$i" = 600 ] && { echo "array $job did not finish" >&2; exit 1; }
  sleep 1
done
for task in 1 2; do
  log="$T/shared/slurm/slurm-${job}_${task}.out"
  echo "--- $log"; cat "$log"
  grep -q "2 in shard $task/2" "$log" || { echo "task $task did not run its shard" >&2; exit 1; }
  grep -q "2 trained, 0 already done, 0 failed" "$log" || { echo "task $task failed" >&2; exit 1; }
done

echo "==> the same sweep locally"
"$ROWSEQ" sweep "${SWEEP[@]}" --out "$T/local" --threads 1 --device cpu >/dev/null

echo "==> comparing merged shard results with the local run"
python3 - "$T/shared/slurm" "$T/local/slurm" <<'EOF'
import json, pathlib, sys
def rows(d):
    out = {}
    for line in (pathlib.Path(d) / "results.jsonl").read_text().splitlines():
        r = json.loads(line)
        r.pop("env")
        r.pop("memory", None)  # the process's RSS: differs from machine to machine
        out[r["run_id"]] = {k: v for k, v in r.items() if "seconds" not in k}
    return out
def metrics(d, run):
    lines = (pathlib.Path(d) / run / "metrics.jsonl").read_text().splitlines()
    return [{k: v for k, v in json.loads(l).items() if "seconds" not in k} for l in lines]
shared, local = rows(sys.argv[1]), rows(sys.argv[2])
assert len(local) == 4, local.keys()
assert shared == local, "merged shard results differ from the local run"
for run in local:
    assert metrics(sys.argv[1], run) == metrics(sys.argv[2], run), run
    a = (pathlib.Path(sys.argv[1]) / run / "model.safetensors").read_bytes()
    b = (pathlib.Path(sys.argv[2]) / run / "model.safetensors").read_bytes()
    assert a == b, f"{run}: weights differ"
print(f"ok: {len(local)} runs from 2 shards equal the local run (metrics, results, weights)")
EOF
"$ROWSEQ" status "$T/shared/slurm"
