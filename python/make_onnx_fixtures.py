"""Writes the ONNX fixtures of crates/onnx/tests/data/ (docs/onnx.md): small
PyTorch models exported by ``torch.onnx.export`` with, for each, PyTorch's
own numbers on fixed inputs that the Rust tests compare against.

    python3 python/make_onnx_fixtures.py crates/onnx/tests/data

- ``cnn.onnx``, ``zoo.onnx`` (deterministic): for 3 inputs, the logits and
  the gradient of ``sum(logits * c)`` with respect to the image (``c`` fixed);
- ``stochastic.onnx`` (random gates by ``rand_like < σ``, ``bernoulli`` and
  Gaussian noise): the mean and standard deviation over 4,000 passes of
  each softmax probability on one input.

Needs torch and onnx (``pip install torch onnx``); the weights are seeded, so
the files are the same on every run with the same torch version.
"""

import json
import os
import sys

import torch
import torch.nn.functional as F

H = 12


class Cnn(torch.nn.Module):
    """Conv, batch norm, ReLU, max pool, strided conv, leaky ReLU, view, Linear."""

    def __init__(self):
        super().__init__()
        self.c1 = torch.nn.Conv2d(1, 4, 3, padding=1)
        self.bn = torch.nn.BatchNorm2d(4)
        self.c2 = torch.nn.Conv2d(4, 6, 3, stride=2, padding=1)
        self.l1 = torch.nn.Linear(6 * 3 * 3, 16)
        self.l2 = torch.nn.Linear(16, 10)

    def forward(self, x):
        h = F.max_pool2d(F.relu(self.bn(self.c1(x))), 2)
        h = F.leaky_relu(self.c2(h), 0.1)
        h = torch.tanh(self.l1(h.view(h.size(0), -1)))
        return self.l2(h)


class Zoo(torch.nn.Module):
    """The other operators an exported classifier tends to use."""

    def __init__(self):
        super().__init__()
        self.c1 = torch.nn.Conv2d(1, 4, 3, padding=1, bias=False)
        self.c2 = torch.nn.Conv2d(4, 4, 3, padding=2, dilation=2, groups=2)
        self.l1 = torch.nn.Linear(8, 10)
        self.w = torch.nn.Parameter(torch.randn(10, 10) * 0.3)

    def forward(self, x):
        h = F.gelu(self.c1(x))  # Erf
        h = torch.where(h > 0, h, 0.1 * h)  # Greater, Where
        h = F.avg_pool2d(F.softplus(self.c2(h)), 2)  # Softplus, AveragePool
        a = torch.sigmoid(h[:, :2])  # Slice
        b = torch.sqrt(h[:, 2:].abs() + 1.0) - h[:, 2:].pow(2) / 4.0  # Abs, Sqrt, Pow, Div, Sub
        h = torch.cat([a, b], dim=1)  # Concat
        g = F.adaptive_avg_pool2d(h, 1)  # GlobalAveragePool
        m = h.amax(dim=(2, 3), keepdim=True)  # ReduceMax
        h = torch.flatten(torch.cat([g, -m], 1), 1)  # Neg, Flatten
        h = torch.clamp(self.l1(h), -3.0, 3.0)  # Clip
        h = h.unsqueeze(1).matmul(self.w.t().unsqueeze(0)).squeeze(1)  # Unsqueeze, MatMul, Squeeze, Transpose
        h = h - h.mean(dim=1, keepdim=True)  # ReduceMean
        return F.log_softmax(h * torch.exp(torch.tensor(0.5)), dim=1)  # Exp, Mul, LogSoftmax


class Stochastic(torch.nn.Module):
    """Input noise, input-dependent random gates and Bernoulli dropout."""

    def __init__(self):
        super().__init__()
        self.c1 = torch.nn.Conv2d(1, 4, 3, padding=1)
        self.gate = torch.nn.Conv2d(1, 4, 3, padding=1)
        self.l1 = torch.nn.Linear(4 * 6 * 6, 10)

    def forward(self, x):
        x = x + 0.2 * torch.randn_like(x)  # RandomNormalLike
        g = torch.sigmoid(self.gate(x))
        h = F.relu(self.c1(x)) * (torch.rand_like(g) < g).float()  # RandomUniformLike, Less, Cast
        h = F.max_pool2d(h, 2)
        h = h * torch.bernoulli(torch.full_like(h, 0.7)) / 0.7  # Bernoulli
        return self.l1(h.flatten(1))


def export(model, path):
    x = torch.rand(2, 1, H, H)
    torch.onnx.export(
        model, (x,), path, dynamo=False, opset_version=17, input_names=["images"],
        output_names=["logits"], dynamic_axes={"images": {0: "batch"}, "logits": {0: "batch"}},
    )


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    torch.manual_seed(0)
    x = torch.rand(3, 1, H, H)
    c = torch.randn(3, 10)
    for name, model in [("cnn", Cnn()), ("zoo", Zoo())]:
        if name == "cnn":  # running statistics that are not the identity
            model.bn.running_mean.uniform_(-0.5, 0.5)
            model.bn.running_var.uniform_(0.5, 2.0)
        model.eval()
        export(model, os.path.join(out, f"{name}.onnx"))
        xi = x.clone().requires_grad_(True)
        logits = model(xi)
        (logits * c).sum().backward()
        json.dump(
            {"images": x.flatten().tolist(), "shape": list(x.shape), "c": c.flatten().tolist(),
             "logits": logits.detach().flatten().tolist(), "grad": xi.grad.flatten().tolist()},
            open(os.path.join(out, f"{name}.json"), "w"),
        )
    model = Stochastic().eval()
    export(model, os.path.join(out, "stochastic.onnx"))
    n = 4000
    with torch.no_grad():
        p = F.softmax(model(x[:1].repeat(n, 1, 1, 1)), dim=1)
    json.dump(
        {"image": x[0].flatten().tolist(), "passes": n, "mean": p.mean(0).tolist(), "std": p.std(0).tolist()},
        open(os.path.join(out, "stochastic.json"), "w"),
    )
    print(f"wrote {out}/{{cnn,zoo,stochastic}}.{{onnx,json}} with torch {torch.__version__}")


if __name__ == "__main__":
    main()
