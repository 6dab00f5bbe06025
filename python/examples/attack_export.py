"""torchattacks on an exported SGBN: EOT-PGD through the gates, and PGD with
the masks drawn on the clean image held fixed (docs/interop.md).

    python python/examples/attack_export.py EXPORT_DIR --labels data/mnist/t10k-labels-idx1-ubyte.gz

EXPORT_DIR is a folder written by ``cargo xtask export``; its
``reference.safetensors`` holds the first MNIST test images, and ``--labels``
names the MNIST label file (``data/mnist/t10k-labels-idx1-ubyte.gz``).
"""

import argparse
import gzip
import os
import sys

import torch

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
import sgbn_torch  # noqa: E402
from sgbn_torch import safetensors_io  # noqa: E402


def idx_labels(path, n):
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        data = f.read()
    return torch.tensor(list(data[8 : 8 + n]), dtype=torch.long)


class FixedMasks(torch.nn.Module):
    """The model with the gate masks of a given batch held fixed.

    A new module starts in training mode, and torchattacks puts the module it
    attacks back in the mode it found it in, which reaches the wrapped model:
    callers build it in evaluation mode (``.eval()``), as ``run`` does.
    """

    def __init__(self, model, masks):
        super().__init__()
        self.model, self.masks = model, masks

    def forward(self, x):
        return self.model(x, gate_masks=self.masks)


def state_of(model):
    """The model's mode and a copy of every parameter and buffer."""
    return model.training, {k: v.detach().clone() for k, v in model.state_dict().items()}


def check_unchanged(model, before, after_what):
    """Raises if ``model`` left evaluation mode or any tensor of its state moved."""
    training, tensors = before
    if model.training != training:
        raise RuntimeError(f"{after_what} left the model in training mode")
    for name, value in model.state_dict().items():
        if not torch.equal(value, tensors[name]):
            raise RuntimeError(f"{after_what} changed the model's {name}")


def accuracy(model, x, y, passes=5):
    """Mean accuracy over ``passes`` passes, in evaluation mode."""
    model.eval()
    with torch.no_grad():
        return sum((model(x).argmax(1) == y).float().mean().item() for _ in range(passes)) / passes


def run(model, x, y, eps=0.3, steps=20, eot=5):
    """EOT-PGD and, for a gated model, PGD with fixed masks; accuracy (0–1) of each.

    Checks after each attack that the model is still in evaluation mode and
    that no parameter or buffer moved (RuntimeError otherwise).
    """
    import torchattacks

    model.eval()
    before = state_of(model)
    alpha = 2.5 * eps / steps
    results = {"clean": accuracy(model, x, y)}
    check_unchanged(model, before, "the clean evaluation")
    attack = torchattacks.EOTPGD(model, eps=eps, alpha=alpha, steps=steps, eot_iter=eot)
    x_adv = attack(x, y)
    check_unchanged(model, before, "EOT-PGD")
    results["eot_pgd"] = accuracy(model, x_adv, y)
    check_unchanged(model, before, "the evaluation after EOT-PGD")
    if any(model.gated):
        with torch.no_grad():
            model(x)
        masks = [model.last.get(f"gate{i}.masks") for i in range(len(model.gated))]
        wrapper = FixedMasks(model, masks).eval()
        x_adv = torchattacks.PGD(wrapper, eps=eps, alpha=alpha, steps=steps)(x, y)
        check_unchanged(model, before, "PGD with fixed masks")
        results["fixed_masks"] = accuracy(model, x_adv, y)
        check_unchanged(model, before, "the evaluation after PGD with fixed masks")
    return results


def main():
    p = argparse.ArgumentParser()
    p.add_argument("export_dir")
    p.add_argument("--labels", required=True, help="MNIST t10k-labels-idx1-ubyte[.gz]")
    p.add_argument("--images", type=int, default=100)
    p.add_argument("--eps", type=float, default=0.3)
    p.add_argument("--steps", type=int, default=20)
    p.add_argument("--eot", type=int, default=5)
    args = p.parse_args()
    torch.manual_seed(0)
    model = sgbn_torch.load(os.path.join(args.export_dir, "model.safetensors")).eval()
    ref, _ = safetensors_io.read(os.path.join(args.export_dir, "reference.safetensors"))
    x = ref["images"][: args.images]
    y = idx_labels(args.labels, args.images)
    r = run(model, x, y, args.eps, args.steps, args.eot)
    print(f"{model.spec['name']}: clean {100 * r['clean']:.1f} %")
    print(f"EOT-PGD ε {args.eps}, {args.steps} steps, EOT {args.eot}: {100 * r['eot_pgd']:.1f} %")
    if "fixed_masks" in r:
        print(f"PGD with fixed masks, ε {args.eps}, {args.steps} steps (fresh masks at evaluation): "
              f"{100 * r['fixed_masks']:.1f} %")
    print("the model's mode and every parameter and buffer are unchanged after each attack")


if __name__ == "__main__":
    main()
