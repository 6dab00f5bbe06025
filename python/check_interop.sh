#!/usr/bin/env bash
# The PyTorch twin against sgbn, both ways (docs/interop.md). Needs torch;
# without it, says so and exits 0 (CI machines have only Rust).
#
#   bash python/check_interop.sh [WORK_DIR]
#
# 1. trains a small SGBN (DT) and an SGBN (ST) (one epoch on 1,000 images),
#    exports each with a reference pass on 100 test images, and checks the
#    twin's logits, gate probabilities and dense-unit inputs within 1e-4;
# 2. runs the twin's own tests;
# 3. saves the loaded twin from Python, imports that file with
#    `cargo xtask import`, exports the imported checkpoint again, and checks
#    that every tensor came back bit for bit.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! python3 -c "import torch" 2>/dev/null; then
    echo "check_interop: torch is not installed; skipped (pip install torch)"
    exit 0
fi
work="${1:-$(mktemp -d)}"
xtask="cargo xtask"
for model in sgbn-dt sgbn; do
    $xtask train --model "$model" --epochs 1 --train-size 1000 --seed 0 --out "$work/$model" >/dev/null
    $xtask export --checkpoint "$work/$model/checkpoint.safetensors" --out "$work/$model/export" --reference-images 100
    (cd python && python3 -m sgbn_torch.check "$work/$model/export")
done
(cd python && python3 -m unittest discover -s tests)
(cd python && python3 - "$work" <<'PY'
import sys, sgbn_torch
work = sys.argv[1]
sgbn_torch.save(sgbn_torch.load(f"{work}/sgbn/export/model.safetensors"), f"{work}/from-python.safetensors")
PY
)
$xtask import --file "$work/from-python.safetensors" --out "$work/imported"
$xtask export --checkpoint "$work/imported/checkpoint.safetensors" --out "$work/re-export" --reference-images 0
(cd python && python3 - "$work" <<'PY'
import sys, torch
from sgbn_torch import safetensors_io
work = sys.argv[1]
a, ma = safetensors_io.read(f"{work}/sgbn/export/model.safetensors")
b, mb = safetensors_io.read(f"{work}/re-export/model.safetensors")
assert sorted(a) == sorted(b), "tensor names differ"
bad = [n for n in a if not torch.equal(a[n], b[n])]
assert not bad, f"tensors changed on the way through Python: {bad}"
assert ma["sgbn.spec"] == mb["sgbn.spec"] and float(ma["sgbn.slope"]) == float(mb["sgbn.slope"])
print(f"round trip sgbn → PyTorch → sgbn: {len(a)} tensors, spec and slope identical")
PY
)
echo "check_interop: OK"
