"""torchattacks' APGD (and FGSM, PGD, Square) on an exported sgbn model, for the
cross-checks against ``cargo xtask attack`` (docs/attacks.md, "Cross-check
against torchattacks") and ``cargo xtask audit`` (python/check_audit.sh).

    python3 python/check_apgd.py EXPORT_DIR --labels data/mnist/t10k-labels-idx1-ubyte.gz \
        --eps 0.1 --attacks apgd-ce,apgd-dlr,apgd-t --eot 1 --repeats 1 --out theirs.json

EXPORT_DIR is a folder written by ``cargo xtask export --reference-images N``;
its first N test images are attacked. Each attack runs with AutoAttack's
settings (100 steps, one restart, ρ 0.75; APGD-T over 9 targets) on the
images the model classifies correctly, as AutoAttack does; the accuracy is the
mean over ``--repeats`` fresh passes over the returned images, in evaluation
mode; the output JSON holds, per attack, each image's share of right passes.
The suites are built from torchattacks' parts with those settings:
``rand`` = APGD-CE + APGD-DLR with EOT, ``standard`` = APGD-CE + APGD-T +
Square 5,000 queries (FAB-T left out, as in sgbn). torchattacks' own
``AutoAttack`` class runs APGD with 10 steps (its default), so it is not used.
"""

import argparse
import json
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(__file__))
import sgbn_torch  # noqa: E402
from sgbn_torch import safetensors_io  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "examples"))
from attack_export import accuracy, check_unchanged, idx_labels, state_of  # noqa: E402


def per_image(model, x, y, passes):
    """Per image, the share of ``passes`` passes (evaluation mode) that are right."""
    model.eval()
    with torch.no_grad():
        right = sum((model(x).argmax(1) == y).float() for _ in range(passes))
    return (right / passes).tolist()


def build(name, model, eps, eot, steps, queries=1000):
    import torchattacks

    if name == "fgsm":
        return torchattacks.FGSM(model, eps=eps)
    if name == "pgd":  # sgbn's PGD: a random start, step 2.5·ε/steps
        return torchattacks.PGD(model, eps=eps, alpha=2.5 * eps / steps, steps=steps, random_start=True)
    if name == "pgd-eot":  # the same with the gradient averaged over `eot` draws
        return torchattacks.EOTPGD(model, eps=eps, alpha=2.5 * eps / steps, steps=steps, eot_iter=eot, random_start=True)
    if name == "square":
        return torchattacks.Square(model, eps=eps, n_queries=queries, n_restarts=1, p_init=0.8, seed=0)

    ce = lambda: torchattacks.APGD(model, eps=eps, steps=steps, n_restarts=1, loss="ce", eot_iter=eot, seed=0)
    dlr = lambda: torchattacks.APGD(model, eps=eps, steps=steps, n_restarts=1, loss="dlr", eot_iter=eot, seed=0)
    t = lambda: torchattacks.APGDT(model, eps=eps, steps=steps, n_restarts=1, eot_iter=eot, seed=0, n_classes=10)
    if name == "apgd-ce":
        return ce()
    if name == "apgd-dlr":
        return dlr()
    if name == "apgd-t":
        return t()
    if name == "rand":
        return torchattacks.MultiAttack([ce(), dlr()])
    if name == "standard":
        sq = torchattacks.Square(model, eps=eps, n_queries=5000, n_restarts=1, seed=0)
        return torchattacks.MultiAttack([ce(), t(), sq])
    raise SystemExit(f"unknown attack {name!r}")


def run_attacks(model, x, y, args):
    """Each of ``args.attacks`` on ``(x, y)``: per image, the share of
    ``args.repeats`` passes right on its adversarial image; the weights
    checked unchanged and every image checked inside the ε-ball and [0, 1]."""
    before = state_of(model)
    rows = {"images": int(x.shape[0])}
    for name in args.attacks.split(","):
        x_adv = build(name, model, args.eps, args.eot, args.steps, args.queries)(x, y)
        check_unchanged(model, before, name)
        moved = (x_adv - x).abs().max().item()
        if moved > args.eps + 1e-5 or x_adv.min() < 0 or x_adv.max() > 1:
            raise SystemExit(f"{name} left the ε-ball or [0, 1] (moved {moved})")
        rows[name] = per_image(model, x_adv, y, args.repeats)
        print(f"torchattacks {name}: {100 * sum(rows[name]) / len(rows[name]):.1f} %")
    return rows


def main():
    p = argparse.ArgumentParser()
    p.add_argument("export_dir")
    p.add_argument("--labels", required=True)
    p.add_argument("--eps", type=float, required=True)
    p.add_argument("--attacks", default="apgd-ce,apgd-dlr")
    p.add_argument("--eot", type=int, default=1)
    p.add_argument("--steps", type=int, default=100)
    p.add_argument("--repeats", type=int, default=1)
    p.add_argument("--queries", type=int, default=1000, help="Square's queries per image")
    p.add_argument("--out", required=True)
    args = p.parse_args()
    torch.manual_seed(0)
    model = sgbn_torch.load(os.path.join(args.export_dir, "model.safetensors")).eval()
    ref, _ = safetensors_io.read(os.path.join(args.export_dir, "reference.safetensors"))
    x = ref["images"]
    y = idx_labels(args.labels, x.shape[0])
    rows = {"clean": accuracy(model, x, y, args.repeats), **run_attacks(model, x, y, args)}
    with open(args.out, "w") as f:
        json.dump(rows, f, indent=1)


if __name__ == "__main__":
    main()
