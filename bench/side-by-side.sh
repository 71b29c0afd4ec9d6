#!/usr/bin/env bash
# The PyTorch anchor and `label-leak bench` on the same machine, case by case: PyTorch runs
# one workload, then label-leak the same one, so both see about the same machine load (on a
# shared machine the load drifts within minutes, and a ratio of runs taken far apart
# measures the drift). Each case prints a one-row table with the ratio. Run by hand, not in
# CI (about 5 minutes on 2 cores):
#
#   bash bench/side-by-side.sh [extra label-leak bench flags, e.g. --backends wasm]
#
# Needs Debian's python3-torch for /usr/bin/python3, with OpenBLAS as the system BLAS
# (apt-get install python3-torch libopenblas0-pthread): Debian's torch links the generic
# libblas.so.3, and with only the reference BLAS behind it PyTorch ran ResNet-20 + FGSM at
# 87 img/s here where OpenBLAS gives 172 (2026-11-30, one thread) — a slow anchor flatters wasm.
# PYTORCH_THREADS sets torch.set_num_threads (default: torch's own choice); CASES (comma-separated
# ids of bench/cases.json) runs only those cases, e.g. CASES=fastnet-fgsm-cifar.
set -euo pipefail
cd "$(dirname "$0")/.."
stamp=$(date -u +%Y%m%dT%H%M%SZ)
python=${PYTHON:-/usr/bin/python3}
if ! update-alternatives --query libblas.so.3-x86_64-linux-gnu 2>/dev/null | grep -q '^Value: .*openblas'; then
  echo "side-by-side: the system BLAS is not OpenBLAS, so PyTorch runs on the reference BLAS (2-6x slower);" \
    "install libopenblas0-pthread for a fair anchor" >&2
fi
threads=()
if [[ -n "${PYTORCH_THREADS:-}" ]]; then threads=(--threads "$PYTORCH_THREADS"); fi
ids=$(node -e "const c=require('./bench/cases.json'); console.log([...c.train, ...c.attack].map(x => x.id).join(' '))")
if [[ -n "${CASES:-}" ]]; then
  for id in ${CASES//,/ }; do
    if [[ " $ids " != *" $id "* ]]; then echo "side-by-side: CASES names $id, which bench/cases.json does not have (it has: $ids)" >&2; exit 2; fi
  done
  ids=${CASES//,/ }
fi
for id in $ids; do
  anchor="results/bench/pytorch-${stamp}-${id}.json"
  "$python" bench/pytorch_anchor.py "${threads[@]}" --only "$id" --out "$anchor" > /dev/null
  node bin/label-leak.mjs bench --only "$id" --anchor "$anchor" "$@"
  echo
done
