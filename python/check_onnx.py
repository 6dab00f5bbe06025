"""A small CNN and a small stochastic model in PyTorch, trained briefly on
MNIST and exported by ``torch.onnx.export``, and torchattacks' attacks on the
same models, for ``cargo xtask audit --onnx`` against torchattacks
(python/check_audit.sh, docs/onnx.md).

    python3 python/check_onnx.py export WORK [--train-images 2000] [--test-images 100]
    python3 python/check_onnx.py attack WORK/cnn --eps 0.1 --attacks fgsm,pgd --out theirs.json

``export`` writes ``WORK/{cnn,stochastic}/model.onnx`` (opset 17, dynamic
batch axis) and ``model.pt`` (the same weights, for ``attack``), trained one
epoch on the first training images with a fixed seed. ``attack`` runs
python/check_apgd.py's attacks (same settings as the audit's lines) on the
first test images and writes each image's share of right passes.
"""

import argparse
import gzip
import json
import os
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(__file__))
from check_apgd import run_attacks  # noqa: E402

MNIST = os.path.join(os.path.dirname(__file__), "..", "data", "mnist")


def idx(name, n, images):
    with gzip.open(os.path.join(MNIST, name), "rb") as f:
        data = f.read()
    if images:
        x = torch.tensor(list(data[16 : 16 + n * 784]), dtype=torch.float32) / 255.0
        return x.view(n, 1, 28, 28)
    return torch.tensor(list(data[8 : 8 + n]), dtype=torch.long)


class Cnn(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.c1 = torch.nn.Conv2d(1, 8, 3, padding=1)
        self.c2 = torch.nn.Conv2d(8, 16, 3, padding=1)
        self.l1 = torch.nn.Linear(16 * 7 * 7, 10)

    def forward(self, x):
        h = F.max_pool2d(F.relu(self.c1(x)), 2)
        h = F.max_pool2d(F.relu(self.c2(h)), 2)
        return self.l1(h.view(h.size(0), -1))


class Stochastic(torch.nn.Module):
    """Gaussian input noise and input-dependent random gates on the first
    layer's activations (masks ``u < σ(gate(x))``, as an SGBN-like defense)."""

    def __init__(self):
        super().__init__()
        self.c1 = torch.nn.Conv2d(1, 8, 3, padding=1)
        self.gate = torch.nn.Conv2d(1, 8, 3, padding=1)
        self.c2 = torch.nn.Conv2d(8, 16, 3, padding=1)
        self.l1 = torch.nn.Linear(16 * 7 * 7, 10)

    def forward(self, x):
        x = x + 0.1 * torch.randn_like(x)
        g = torch.sigmoid(self.gate(x))
        h = F.relu(self.c1(x)) * (torch.rand_like(g) < g).float()
        h = F.max_pool2d(h, 2)
        h = F.max_pool2d(F.relu(self.c2(h)), 2)
        return self.l1(h.view(h.size(0), -1))


MODELS = {"cnn": Cnn, "stochastic": Stochastic}


def export(args):
    torch.manual_seed(0)
    x, y = idx("train-images-idx3-ubyte.gz", args.train_images, True), idx("train-labels-idx1-ubyte.gz", args.train_images, False)
    for name, cls in MODELS.items():
        model = cls()
        opt = torch.optim.Adam(model.parameters(), lr=1e-3)
        model.train()
        for i in range(0, len(x), 50):
            opt.zero_grad()
            F.cross_entropy(model(x[i : i + 50]), y[i : i + 50]).backward()
            opt.step()
        model.eval()
        out = os.path.join(args.work, name)
        os.makedirs(out, exist_ok=True)
        torch.save(model.state_dict(), os.path.join(out, "model.pt"))
        torch.onnx.export(
            model, (x[:2],), os.path.join(out, "model.onnx"), dynamo=False, opset_version=17,
            input_names=["images"], output_names=["logits"],
            dynamic_axes={"images": {0: "batch"}, "logits": {0: "batch"}},
        )
        print(f"exported {out}/model.onnx")


def attack(args):
    torch.manual_seed(0)
    name = os.path.basename(os.path.normpath(args.model_dir))
    model = MODELS[name]()
    model.load_state_dict(torch.load(os.path.join(args.model_dir, "model.pt")))
    model.eval()
    x, y = idx("t10k-images-idx3-ubyte.gz", args.test_images, True), idx("t10k-labels-idx1-ubyte.gz", args.test_images, False)
    rows = run_attacks(model, x, y, args)
    with open(args.out, "w") as f:
        json.dump(rows, f, indent=1)


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    e = sub.add_parser("export")
    e.add_argument("work")
    e.add_argument("--train-images", type=int, default=2000)
    a = sub.add_parser("attack")
    a.add_argument("model_dir")
    a.add_argument("--test-images", type=int, default=100)
    a.add_argument("--eps", type=float, required=True)
    a.add_argument("--attacks", required=True)
    a.add_argument("--eot", type=int, default=1)
    a.add_argument("--steps", type=int, default=20)
    a.add_argument("--repeats", type=int, default=1)
    a.add_argument("--queries", type=int, default=300)
    a.add_argument("--out", required=True)
    args = p.parse_args()
    export(args) if args.cmd == "export" else attack(args)


if __name__ == "__main__":
    main()
