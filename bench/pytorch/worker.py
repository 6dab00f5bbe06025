"""The PyTorch side of `cargo xtask bench --against pytorch`.

The same workloads as sgbn-bench, on the same shapes, built from the same
ModelSpec by python/sgbn_torch: a training step (train mode, cross-entropy,
backward, Adam 1e-3) on a batch of 50 MNIST-shaped images, and FGSM (ε 0.1,
true labels, gradients for the input only, then one judging forward pass, as
sgbn's `GradientAttack::perturb`) on a batch of 500; and torchattacks' APGD-CE
(ε 0.3, `steps` steps, one restart, no EOT) on a batch of 500 labelled with the
model's own clean predictions, as `sgbn_bench::apgd_ce`. Two threads, as sgbn.

Protocol, one JSON object per line on stdin:
    {"workload": "train_step" | "fgsm" | "apgd_ce", "spec": {...ModelSpec...}, "batch": 50,
     "steps": 100, "iterations": 5}
answered with one line: {"seconds": [t1, t2, ...]} (after one warm-up
iteration per new set-up), or {"error": "..."}. The process ends on EOF.
"""

import json
import os
import sys
import time

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "python"))
from sgbn_torch import SgbnNet  # noqa: E402

torch.set_num_threads(2)
torch.manual_seed(0)


def images(batch, channels, size):
    g = torch.Generator().manual_seed(3)
    x = torch.rand(batch, channels, size, size, generator=g)
    y = torch.randint(0, 10, (batch,), generator=g)
    return x, y


def train_step(spec, batch):
    model = SgbnNet(spec).train()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    c, h, _ = spec["input"]
    x, y = images(batch, c, h)

    def step():
        opt.zero_grad(set_to_none=True)
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()

    return step


def fgsm(spec, batch):
    model = SgbnNet(spec).eval()
    for p in model.parameters():
        p.requires_grad_(False)
    c, h, _ = spec["input"]
    x, y = images(batch, c, h)

    def step():
        xr = x.clone().requires_grad_(True)
        loss = F.cross_entropy(model(xr), y)
        (g,) = torch.autograd.grad(loss, xr)
        adv = (x + 0.1 * g.sign()).clamp(0.0, 1.0)
        with torch.no_grad():
            model(adv).argmax(1)

    return step


def apgd_ce(spec, batch, steps):
    import torchattacks

    model = SgbnNet(spec).eval()
    for p in model.parameters():
        p.requires_grad_(False)
    c, h, _ = spec["input"]
    x, _ = images(batch, c, h)
    with torch.no_grad():
        y = model(x).argmax(1)
    attack = torchattacks.APGD(model, norm="Linf", eps=0.3, steps=steps, n_restarts=1, loss="ce", eot_iter=1, seed=0)

    def step():
        attack(x, y)

    return step


WORKLOADS = {"train_step": train_step, "fgsm": fgsm, "apgd_ce": apgd_ce}


def main():
    cache = {}
    for line in sys.stdin:
        try:
            req = json.loads(line)
            steps = req.get("steps", 0)
            key = (req["workload"], json.dumps(req["spec"], sort_keys=True), req["batch"], steps)
            if key not in cache:
                cache.clear()  # one model at a time in memory
                make = WORKLOADS[req["workload"]]
                args = (req["spec"], req["batch"]) + ((steps,) if req["workload"] == "apgd_ce" else ())
                cache[key] = make(*args)
                cache[key]()  # warm-up
            step = cache[key]
            seconds = []
            for _ in range(req["iterations"]):
                start = time.perf_counter()
                step()
                seconds.append(time.perf_counter() - start)
            print(json.dumps({"seconds": seconds}), flush=True)
        except Exception as e:  # the Rust side reports it
            print(json.dumps({"error": f"{type(e).__name__}: {e}"}), flush=True)


if __name__ == "__main__":
    main()
