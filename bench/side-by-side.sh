#!/usr/bin/env bash
# The PyTorch anchor and `label-leak bench` on the same machine, case by case: PyTorch runs
# one workload, then label-leak the same one, so both see about the same machine load (on a
# shared machine the load drifts within minutes, and a ratio of runs taken far apart
# measures the drift). Each case prints a one-row table with the ratio. Run by hand, not in
# CI (about 5 minutes on 2 cores):
#
#   bash bench/side-by-side.sh [extra label-leak bench flags, e.g. --backends wasm]
#
# Needs Debian's python3-torch for /usr/bin/python3 (apt-get install python3-torch).
# PYTORCH_THREADS sets torch.set_num_threads (default: torch's own choice).
set -euo pipefail
cd "$(dirname "$0")/.."
stamp=$(date -u +%Y%m%dT%H%M%SZ)
python=${PYTHON:-/usr/bin/python3}
threads=()
if [[ -n "${PYTORCH_THREADS:-}" ]]; then threads=(--threads "$PYTORCH_THREADS"); fi
ids=$(node -e "const c=require('./bench/cases.json'); console.log([...c.train, ...c.attack].map(x => x.id).join(' '))")
for id in $ids; do
  anchor="results/bench/pytorch-${stamp}-${id}.json"
  "$python" bench/pytorch_anchor.py "${threads[@]}" --only "$id" --out "$anchor" > /dev/null
  node bin/label-leak.mjs bench --only "$id" --anchor "$anchor" "$@"
  echo
done
