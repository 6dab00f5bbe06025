"""Checks the PyTorch twin against a reference pass recorded by sgbn.

    python -m sgbn_torch.check EXPORT_DIR [--tolerance 1e-4]

``EXPORT_DIR`` holds ``model.safetensors`` and ``reference.safetensors`` from
``cargo xtask export``. The twin replays the reference pass on the same images
with the same gate masks (for ST gates; DT gates are deterministic and run
themselves) and the same dense-unit samples, and must give the same logits,
gate probabilities and dense-unit inputs ``m·a`` within the tolerance. Exit
status 1 when any difference is larger.
"""

import argparse
import os
import sys

import torch

from . import load, safetensors_io


def compare(export_dir, tolerance=1e-4):
    """Returns ``{quantity: max |difference|}`` of the twin against the reference."""
    torch.use_deterministic_algorithms(True)
    model = load(os.path.join(export_dir, "model.safetensors")).eval()
    ref, _ = safetensors_io.read(os.path.join(export_dir, "reference.safetensors"))
    masks = []
    for i, gated in enumerate(model.gated):
        gate = getattr(model, f"gate{i}", None)
        # ST masks are samples: replay them. DT masks are σ(a): recompute them.
        replay = gated and gate.spec["output"] != "sigmoid"
        masks.append(ref[f"gate{i}.masks"] if replay else None)
    with torch.no_grad():
        logits = model(
            ref["images"],
            gate_masks=masks,
            dense_unit_output=ref.get("dense_unit.output"),
            record_gates=True,
        )
    last = model.last
    diffs = {"logits": (logits - ref["logits"]).abs().max().item()}
    for name in sorted(ref):
        if name.endswith(".probabilities") or (name.endswith(".masks") and masks[int(name[4:].split(".")[0])] is None):
            diffs[name] = (last[name] - ref[name]).abs().max().item()
        elif name == "dense_unit.input":
            # m·a reaches tens of units: compared relative to max(1, |m·a|).
            scale = ref[name].abs().clamp(min=1.0)
            diffs[name + " (relative)"] = ((last[name] - ref[name]).abs() / scale).max().item()
    return diffs


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("export_dir")
    parser.add_argument("--tolerance", type=float, default=1e-4)
    args = parser.parse_args(argv)
    diffs = compare(args.export_dir, args.tolerance)
    worst = max(diffs.values())
    for name, d in sorted(diffs.items()):
        print(f"{name:28s} max |Δ| = {d:.3e}")
    verdict = "OK" if worst <= args.tolerance else "FAILED"
    print(f"{verdict}: largest difference {worst:.3e} (tolerance {args.tolerance:g})")
    return 0 if worst <= args.tolerance else 1


if __name__ == "__main__":
    sys.exit(main())
