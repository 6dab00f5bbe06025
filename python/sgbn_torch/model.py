"""CNN, CNN-BIN and the SGBN family in PyTorch, built from an sgbn ``ModelSpec``.

The twin of ``sgbn_models::ConvNet`` (crates/models/src/conv_net.rs) for the
models that ``cargo xtask export`` writes: conv blocks (conv → BN → ReLU, each
optionally gated: eq. 4.1–4.2 of the thesis) → flatten → hidden dense → ReLU or
binary unit (eq. 2.12–2.13) → dense logits. Attribute paths equal the sgbn
parameter names (``conv0.weight``, ``gate1.hidden1.weight``, ``bn0.running_var``,
``hidden.bias``, …), so an exported file loads with ``load_state_dict``.

As in the thesis, the gates and the binary unit sample at evaluation too: the
model is stochastic, so attack it with EOT (docs/interop.md).
"""

import math

import torch
import torch.nn.functional as F
from torch import nn


def _out_size(size, kernel, stride, padding):
    return (size + 2 * padding - kernel) // stride + 1


class MaskedConv2d(nn.Module):
    """A conv layer without bias whose weights can be masked per sample
    (eq. 4.2: ``W ⊙ M_b`` for sample b)."""

    def __init__(self, in_channels, out_channels, kernel, stride, padding, own_weight=True):
        super().__init__()
        self.stride, self.padding = stride, padding
        self.shape = (out_channels, in_channels, kernel, kernel)
        if own_weight:
            self.weight = nn.Parameter(torch.empty(self.shape))
            nn.init.xavier_uniform_(self.weight)

    def forward(self, x, masks=None, weight=None):
        w = self.weight if weight is None else weight
        if masks is None:
            return F.conv2d(x, w, stride=self.stride, padding=self.padding)
        b, c, h, wd = x.shape
        o, i, k, _ = w.shape
        if masks.shape != (b, o, i, k, k):
            raise ValueError(f"masks of shape {tuple(masks.shape)}, expected {(b, o, i, k, k)}")
        # One grouped conv: sample b's filters W ⊙ M_b see only sample b.
        wm = (w.unsqueeze(0) * masks).reshape(b * o, i, k, k)
        y = F.conv2d(x.reshape(1, b * c, h, wd), wm, stride=self.stride, padding=self.padding, groups=b)
        return y.reshape(b, o, y.shape[2], y.shape[3])


class Gate(nn.Module):
    """The gate of one conv layer (Tables 4.1–4.4; the authors' variant via the
    spec's ``order`` and ``dropout_sites``): conv → BN → ReLU → flatten → dense
    → ReLU/BN → dense → asinh/tanh → dense to ``C_out·C_in·k·k`` logits →
    ``1[u < σ(a)]`` with the hard STE (ST) or ``σ(a)`` (DT)."""

    def __init__(self, spec, in_channels, out_channels, kernel, stride, padding, height, width, bn):
        super().__init__()
        self.spec = spec
        self.mask_shape = (out_channels, in_channels, kernel, kernel)
        self.conv = MaskedConv2d(
            in_channels, out_channels, kernel, stride, padding, own_weight=not spec["share_weights"]
        )
        self.conv_bn = nn.BatchNorm2d(out_channels, eps=bn["eps"], momentum=bn["momentum"])
        ho, wo = _out_size(height, kernel, stride, padding), _out_size(width, kernel, stride, padding)
        h1, h2 = spec["hidden"]
        self.hidden1 = nn.Linear(out_channels * ho * wo, h1)
        self.hidden1_bn = nn.BatchNorm1d(h1, eps=bn["eps"], momentum=bn["momentum"])
        self.hidden2 = nn.Linear(h1, h2)
        self.logits = nn.Linear(h2, math.prod(self.mask_shape))
        if spec["output"] not in ("hard-ste", "sigmoid"):
            raise ValueError(f"gate output {spec['output']!r} has no PyTorch twin")
        if spec["activation"] not in ("asinh", "tanh"):
            raise ValueError(f"gate activation {spec['activation']!r} unknown")

    def _dropout(self, x):
        return F.dropout(x, self.spec["dropout"], self.training) if self.spec["dropout"] > 0 else x

    def forward(self, x, shared_weight=None):
        """Returns ``(masks, probabilities)``, each ``(B, C_out, C_in, k, k)``."""
        h = F.relu(self.conv_bn(self.conv(x, weight=shared_weight))).flatten(1)
        h = self.hidden1(h)
        if self.spec.get("order", "relu-then-batch-norm") == "batch-norm-then-relu":
            h = F.relu(self.hidden1_bn(h))
        else:
            h = self.hidden1_bn(F.relu(h))
        if self.spec.get("dropout_sites", "each-hidden") == "each-hidden":
            h = self._dropout(h)
        z = self.hidden2(h)
        f = torch.asinh(z) if self.spec["activation"] == "asinh" else torch.tanh(z)
        a = self.logits(self._dropout(f))
        p = torch.sigmoid(a)
        if self.spec["output"] == "sigmoid":
            masks = p
        else:
            # 1[u < σ(a)], differentiated as the identity in a (hard STE).
            sample = (torch.rand_like(p) < p).to(a.dtype)
            masks = sample + (a - a.detach())
        shape = (x.shape[0],) + self.mask_shape
        return masks.reshape(shape), p.detach().reshape(shape)


class SgbnNet(nn.Module):
    """An sgbn ``ModelSpec`` (a dict, as in the exported file's header) in
    PyTorch. ``slope`` is the dense binary unit's ``m`` at evaluation."""

    def __init__(self, spec, slope=1.0):
        super().__init__()
        for key, what in (
            ("sap", "stochastic activation pruning"),
            ("hidden_bnn", "a BNN hidden layer"),
            ("probe", "a gate probe"),
        ):
            if spec.get(key):
                raise ValueError(f"{spec['name']}: {what} has no PyTorch twin")
        if spec["dense_unit"] not in ("relu", "stochastic-binary", "deterministic-binary"):
            raise ValueError(f"{spec['name']}: dense unit {spec['dense_unit']!r} has no PyTorch twin")
        self.spec, self.slope = spec, float(slope)
        bn = spec.get("batch_norm") or {"eps": 1e-5, "momentum": 0.1}
        channels, height, width = spec["input"]
        self.gated = []
        for i, c in enumerate(spec["convs"]):
            for key in ("bnn", "random_mask", "adaptive_dropout"):
                if c.get(key):
                    raise ValueError(f"{spec['name']}: conv {i}'s {key} has no PyTorch twin")
            k, s, p = c["kernel"], c["stride"], c["padding"]
            self.add_module(f"conv{i}", MaskedConv2d(channels, c["filters"], k, s, p))
            if spec.get("conv_batch_norm", True):
                self.add_module(f"bn{i}", nn.BatchNorm2d(c["filters"], eps=bn["eps"], momentum=bn["momentum"]))
            if c.get("gate"):
                gate = Gate(c["gate"], channels, c["filters"], k, s, p, height, width, bn)
                self.add_module(f"gate{i}", gate)
            self.gated.append(bool(c.get("gate")))
            channels, height, width = c["filters"], _out_size(height, k, s, p), _out_size(width, k, s, p)
        self.hidden = nn.Linear(channels * height * width, spec["hidden"])
        self.output = nn.Linear(spec["hidden"], spec["classes"])
        self.last = {}

    def forward(self, x, gate_masks=None, dense_unit_output=None, record_gates=False):
        """Logits of images ``x`` (B, C, H, W) in [0, 1].

        ``gate_masks``: a list with, for each conv layer, fixed masks or
        ``None`` (the gate samples); ``dense_unit_output``: a fixed binary
        ``h`` for the dense unit. Both replay a recorded stochastic pass
        (``python -m sgbn_torch.check``) or hold masks fixed in an attack.
        ``self.last`` keeps the pass's gate probabilities (with fixed masks
        only when ``record_gates``), masks, ``m·a`` and ``h``.
        """
        self.last = {}
        h = x
        for i, gated in enumerate(self.gated):
            conv = getattr(self, f"conv{i}")
            masks = None
            if gated:
                gate = getattr(self, f"gate{i}")
                fixed = gate_masks[i] if gate_masks is not None else None
                shared = conv.weight if gate.spec["share_weights"] else None
                # With fixed masks the gate still runs, for its probabilities,
                # when asked to (``record_gates``).
                if fixed is None or record_gates:
                    masks, probabilities = gate(h, shared)
                    self.last[f"gate{i}.probabilities"] = probabilities
                if fixed is not None:
                    masks = fixed
                self.last[f"gate{i}.masks"] = masks.detach()
            z = conv(h, masks)
            if hasattr(self, f"bn{i}"):
                z = getattr(self, f"bn{i}")(z)
            h = F.relu(z)
        a = self.hidden(h.flatten(1))
        unit = self.spec["dense_unit"]
        if unit == "relu":
            h = F.relu(a)
        else:
            m = self.slope if not self.training else self.train_slope
            p = torch.sigmoid(m * a)
            self.last["dense_unit.input"] = (m * a).detach()
            if dense_unit_output is not None:
                sample = dense_unit_output.to(p.dtype)
            elif unit == "stochastic-binary":
                sample = (torch.rand_like(p) < p).to(p.dtype)
            else:
                sample = (p >= 0.5).to(p.dtype)
            # The soft STE (eq. 2.13): the value of the sample, the gradient of σ(m·a).
            h = sample + (p - p.detach())
            self.last["dense_unit.output"] = h.detach()
        dropout = self.spec.get("dense_dropout", 0.0)
        if self.training and dropout > 0:
            h = F.dropout(h, dropout, True)
        return self.output(h)

    @property
    def train_slope(self):
        """The slope in training mode: set it from your own schedule
        (``self.training_slope``); 1 unless set."""
        return getattr(self, "training_slope", 1.0)
