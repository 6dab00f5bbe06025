"""sgbn_torch: the sgbn models in PyTorch, loaded from ``cargo xtask export``.

    import sgbn_torch
    model = sgbn_torch.load("export/model.safetensors").eval()
    logits = model(images)          # images (B, 1, 28, 28) in [0, 1]
    sgbn_torch.save(model, "back.safetensors")   # for `cargo xtask import`

Only torch is needed (safetensors is read and written by hand). See
docs/interop.md for attacking an exported SGBN with torchattacks or AutoAttack.
"""

import json

import torch

from . import safetensors_io
from .model import Gate, MaskedConv2d, SgbnNet

FORMAT = "sgbn-pytorch-1"
FORMAT_KEY = "sgbn.format"
SPEC_KEY = "sgbn.spec"
SLOPE_KEY = "sgbn.slope"

__all__ = ["FORMAT", "Gate", "MaskedConv2d", "SgbnNet", "load", "save"]


def load(path):
    """The model of an exported file, with its parameters and running statistics."""
    tensors, metadata = safetensors_io.read(path)
    if metadata.get(FORMAT_KEY) != FORMAT:
        raise ValueError(f"{path}: format {metadata.get(FORMAT_KEY)!r}, expected {FORMAT!r} (cargo xtask export)")
    spec = json.loads(metadata[SPEC_KEY])
    model = SgbnNet(spec, slope=float(metadata[SLOPE_KEY]))
    model.load_state_dict(tensors, strict=True)
    return model


def save(model, path):
    """Writes ``model`` (an ``SgbnNet``) for ``cargo xtask import``."""
    state = {k: v for k, v in model.state_dict().items()}
    for name, t in state.items():
        if t.is_floating_point():
            state[name] = t.to(torch.float32)
            if not torch.isfinite(t).all():
                raise ValueError(f"tensor {name} holds a non-finite value")
    metadata = {FORMAT_KEY: FORMAT, SPEC_KEY: json.dumps(model.spec), SLOPE_KEY: repr(float(model.slope))}
    safetensors_io.write(path, state, metadata)
