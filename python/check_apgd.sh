#!/usr/bin/env bash
# sgbn's APGD against torchattacks' on the same exported weights and the same
# first test images (docs/attacks.md). Needs torch and torchattacks; without
# them, says so and exits 0 (CI installs them where the registry serves them).
#
#   bash python/check_apgd.sh [WORK_DIR]
#
# A CNN and an SGBN (DT) trained briefly are exported with their first test
# images; each is attacked by `cargo xtask attack` and by python/check_apgd.py
# with the same settings, and the two are compared image by image: with d_i
# the difference of image i's share of right passes (sgbn − torchattacks),
# the mean of d must lie within 3 standard errors of 0, 3·sd(d)/√n + 1/n (a
# paired test: the same images, so only the attacks' own randomness differs;
# on a deterministic model sd(d) counts the images the two disagree on).
#
# CHECK_APGD_FULL=1 runs the figures of docs/attacks.md (the SGBN on 200
# images, 100 steps, EOT 5: about 25 minutes here); the default is CI's size
# (the SGBN on 100 images, 20 steps, EOT 2).
set -euo pipefail
cd "$(dirname "$0")/.."
if ! python3 -c "import torch, torchattacks" 2>/dev/null; then
    echo "check_apgd: torch or torchattacks is not installed; skipped (pip install torch torchattacks)"
    exit 0
fi
work="${1:-$(mktemp -d)}"
labels=data/mnist/t10k-labels-idx1-ubyte.gz
n=200
compare() { # [--info] ours.json theirs.json our-attack=their-attack...
    python3 - "$@" <<'PY'
import json, math, sys
info = sys.argv[1] == "--info"
args = sys.argv[2:] if info else sys.argv[1:]
ours, theirs, pairs = json.load(open(args[0])), json.load(open(args[1])), args[2:]
repeats = ours["repeats"]
failed = False
for pair in pairs:
    mine, their = pair.split("=")
    row = [r for r in ours["rows"] if r["attack"] == mine][0]
    a = [c / repeats for c in row["correct_passes"]]
    b = theirs[their]
    n = len(b)
    d = [p - q for p, q in zip(a, b)]
    mean = sum(d) / n
    sd = math.sqrt(sum((v - mean) ** 2 for v in d) / max(n - 1, 1))
    tol = 3 * sd / math.sqrt(n) + 1 / n
    ok = len(a) == n and abs(mean) <= tol
    failed |= not ok
    print(f"  {ours['model']:<9} {mine:<9} n {n}  sgbn {100*sum(a)/n:5.1f} %  torchattacks {100*sum(b)/n:5.1f} %  "
          f"mean difference {100*mean:+5.1f} ± {100*tol:4.1f}: {('within' if ok else 'outside') if info else ('agree' if ok else 'DISAGREE')}")
sys.exit(0 if info else (1 if failed else 0))
PY
}
if [ "${CHECK_APGD_FULL:-0}" = 1 ]; then sgbn_n=200 sgbn_steps=100 sgbn_eot=5; else sgbn_n=100 sgbn_steps=20 sgbn_eot=2; fi
for model in cnn sgbn-dt; do
    cargo xtask train --model "$model" --epochs 1 --train-size 2000 --seed 0 --out "$work/$model" >/dev/null 2>&1
done
cargo xtask export --checkpoint "$work/cnn/checkpoint.safetensors" --out "$work/cnn/export" --reference-images $n >/dev/null
cargo xtask export --checkpoint "$work/sgbn-dt/checkpoint.safetensors" --out "$work/sgbn-dt/export" --reference-images $sgbn_n >/dev/null
# The CNN: deterministic, one pass; APGD-CE, APGD-DLR, APGD-T.
cargo xtask attack --checkpoint "$work/cnn/checkpoint.safetensors" --attack apgd-ce,apgd-dlr,apgd-t \
    --eps 0.1 --test-size $n --out "$work/cnn/ours" >/dev/null
python3 python/check_apgd.py "$work/cnn/export" --labels $labels --eps 0.1 \
    --attacks apgd-ce,apgd-dlr,apgd-t --out "$work/cnn/theirs.json" >/dev/null
compare "$work/cnn/ours/attack.json" "$work/cnn/theirs.json" apgd-ce=apgd-ce apgd-dlr=apgd-dlr apgd-t=apgd-t
# The SGBN (DT): stochastic gates; EOT, accuracy over 10 passes. Compared
# under AutoAttack's rule on a stochastic model (--apgd-autoattack-rule: the
# last EOT draw decides, an unbroken image is returned clean), which
# torchattacks follows; sgbn's own rule (a majority of the draws, the best
# point) is printed beside it, and may be stronger.
cargo xtask attack --checkpoint "$work/sgbn-dt/checkpoint.safetensors" --attack apgd-ce,apgd-dlr \
    --eps 0.1 --steps $sgbn_steps --eot $sgbn_eot --repeats 10 --test-size $sgbn_n --apgd-autoattack-rule \
    --out "$work/sgbn-dt/ours" >/dev/null
cargo xtask attack --checkpoint "$work/sgbn-dt/checkpoint.safetensors" --attack apgd-ce,apgd-dlr \
    --eps 0.1 --steps $sgbn_steps --eot $sgbn_eot --repeats 10 --test-size $sgbn_n \
    --out "$work/sgbn-dt/ours-majority" >/dev/null
python3 python/check_apgd.py "$work/sgbn-dt/export" --labels $labels --eps 0.1 --steps $sgbn_steps --eot $sgbn_eot \
    --repeats 10 --attacks apgd-ce,apgd-dlr --out "$work/sgbn-dt/theirs.json" >/dev/null
compare "$work/sgbn-dt/ours/attack.json" "$work/sgbn-dt/theirs.json" apgd-ce=apgd-ce apgd-dlr=apgd-dlr
echo "  sgbn's own rule on a stochastic model (a majority of the EOT draws; the best point):"
compare --info "$work/sgbn-dt/ours-majority/attack.json" "$work/sgbn-dt/theirs.json" apgd-ce=apgd-ce apgd-dlr=apgd-dlr
echo "check_apgd: sgbn's APGD agrees with torchattacks'"
