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
    """The model with the gate masks of a given batch held fixed."""

    def __init__(self, model, masks):
        super().__init__()
        self.model, self.masks = model, masks

    def forward(self, x):
        return self.model(x, gate_masks=self.masks)


def accuracy(model, x, y, passes=5):
    with torch.no_grad():
        return sum((model(x).argmax(1) == y).float().mean().item() for _ in range(passes)) / passes


def main():
    import torchattacks

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
    alpha = 2.5 * args.eps / args.steps
    print(f"{model.spec['name']}: clean {100 * accuracy(model, x, y):.1f} %")
    eot = torchattacks.EOTPGD(model, eps=args.eps, alpha=alpha, steps=args.steps, eot_iter=args.eot)
    x_adv = eot(x, y)
    print(f"EOT-PGD ε {args.eps}, {args.steps} steps, EOT {args.eot}: {100 * accuracy(model, x_adv, y):.1f} %")
    if any(model.gated):
        with torch.no_grad():
            model(x)
        masks = [model.last.get(f"gate{i}.masks") for i in range(len(model.gated))]
        fixed = torchattacks.PGD(FixedMasks(model, masks), eps=args.eps, alpha=alpha, steps=args.steps)
        x_adv = fixed(x, y)
        print(f"PGD with fixed masks, ε {args.eps}, {args.steps} steps (fresh masks at evaluation): "
              f"{100 * accuracy(model, x_adv, y):.1f} %")


if __name__ == "__main__":
    main()
