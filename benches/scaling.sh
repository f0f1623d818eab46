#!/usr/bin/env bash
# Prints the verify/parallel scaling for a core count: usage `scaling.sh [THREADS]` (default:
# every core). Runs the criterion bench `verify/parallel` with rayon's global pool at THREADS
# threads beside a pool of one thread, in the same run, and prints
#   speed-up = (1-thread time) / (THREADS-thread time), efficiency = speed-up / THREADS
# against the target efficiency of 0.85.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
target="${CARGO_TARGET_DIR:-$root/target}"
threads=${1:-$(nproc)}
RAYON_NUM_THREADS=$threads cargo bench -q -p kycvs-benches --bench verify -- \
    '^verify/parallel/' > /dev/null
python3 - "$target/criterion" "$threads" <<'PY'
import json, sys
from pathlib import Path

group = next(Path(sys.argv[1]).glob("verify_parallel_*"))
threads = int(sys.argv[2])
def median(n):
    return json.loads((group / "kycvs" / str(n) / "new" / "estimates.json").read_text())["median"]["point_estimate"]
one, many = median(1), median(threads)
speedup = one / many
print(f"verify/parallel ({group.name.rsplit('_', 1)[1]} tokens): 1 thread {one / 1e6:.1f} ms, "
      f"{threads} threads {many / 1e6:.1f} ms")
print(f"speed-up {speedup:.2f} x on {threads} threads, efficiency {speedup / threads:.2f} "
      f"(target >= 0.85: {'met' if speedup / threads >= 0.85 else 'missed'})")
PY
