"""Tests of the PyTorch twin that need torch only (no sgbn build).

    cd python && python -m unittest discover -s tests

The check against sgbn itself (same logits within 1e-4 as a recorded sgbn pass)
is ``python/check_interop.sh``.
"""

import importlib.util
import math
import os
import sys
import tempfile
import unittest

import torch
import torch.nn.functional as F

import sgbn_torch
from sgbn_torch import safetensors_io
from sgbn_torch.model import Gate, MaskedConv2d, SgbnNet


def small_spec(output="hard-ste", dense_unit="stochastic-binary", share_weights=False):
    gate = {
        "hidden": [16, 12],
        "activation": "asinh",
        "output": output,
        "dropout": 0.0,
        "uniform_bound": None,
        "share_weights": share_weights,
    }
    return {
        "name": "small",
        "input": [1, 12, 12],
        "classes": 10,
        "convs": [
            {"filters": 4, "kernel": 3, "stride": 2, "padding": 0, "gate": gate},
            {"filters": 6, "kernel": 3, "stride": 1, "padding": 1, "gate": dict(gate, activation="tanh")},
        ],
        "hidden": 20,
        "dense_unit": dense_unit,
        "conv_batch_norm": True,
        "batch_norm": {"eps": 1e-4, "momentum": 0.1},
    }


class SafetensorsTest(unittest.TestCase):
    def test_round_trip_keeps_values_dtypes_and_metadata(self):
        tensors = {
            "a": torch.randn(3, 4, generator=torch.Generator().manual_seed(0)),
            "b": torch.tensor(7, dtype=torch.int64),
            "c": torch.arange(5, dtype=torch.float64),
        }
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "x.safetensors")
            safetensors_io.write(path, tensors, {"k": "v"})
            back, meta = safetensors_io.read(path)
            self.assertEqual(meta, {"k": "v"})
            self.assertEqual(sorted(back), ["a", "b", "c"])
            for name, t in tensors.items():
                self.assertEqual(back[name].dtype, t.dtype)
                self.assertTrue(torch.equal(back[name], t), name)
            self.assertEqual(os.listdir(d), ["x.safetensors"])

    def test_a_truncated_file_is_refused(self):
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "x.safetensors")
            with open(path, "wb") as f:
                f.write((10**6).to_bytes(8, "little") + b"{}")
            with self.assertRaisesRegex(ValueError, "runs past the end"):
                safetensors_io.read(path)


class MaskedConvTest(unittest.TestCase):
    def test_grouped_conv_equals_one_conv_per_sample(self):
        g = torch.Generator().manual_seed(1)
        conv = MaskedConv2d(3, 5, 3, stride=2, padding=1)
        x = torch.rand(4, 3, 9, 9, generator=g)
        masks = (torch.rand(4, 5, 3, 3, 3, generator=g) < 0.5).float()
        y = conv(x, masks)
        for b in range(4):
            expect = F.conv2d(x[b : b + 1], conv.weight * masks[b], stride=2, padding=1)
            torch.testing.assert_close(y[b : b + 1], expect, rtol=1e-5, atol=1e-6)
        # A mask of ones is the plain conv; zero masks give zero outputs.
        torch.testing.assert_close(conv(x, torch.ones_like(masks)), conv(x), rtol=1e-5, atol=1e-6)
        self.assertEqual(conv(x, torch.zeros_like(masks)).abs().max().item(), 0.0)


class GateTest(unittest.TestCase):
    def test_st_masks_are_bernoulli_with_the_gate_probabilities(self):
        torch.manual_seed(2)
        spec = small_spec()["convs"][0]["gate"]
        gate = Gate(spec, 1, 4, 3, 2, 0, 12, 12, {"eps": 1e-5, "momentum": 0.1}).eval()
        x = torch.rand(1, 1, 12, 12).expand(4000, 1, 12, 12)
        with torch.no_grad():
            masks, p = gate(x)
        freq = masks.mean(0)
        # 4,000 draws per mask entry: the frequency is within 5 standard
        # deviations √(p(1−p)/n) of p.
        sd = (p[0] * (1 - p[0]) / 4000).sqrt().clamp(min=1e-3)
        self.assertTrue(((freq - p[0]).abs() <= 5 * sd).all())
        self.assertTrue(set(masks.unique().tolist()) <= {0.0, 1.0})

    def test_hard_ste_passes_the_gradient_of_the_identity_to_the_logits(self):
        torch.manual_seed(3)
        spec = small_spec()["convs"][0]["gate"]
        gate = Gate(spec, 1, 4, 3, 2, 0, 12, 12, {"eps": 1e-5, "momentum": 0.1}).eval()
        captured = {}

        def keep(module, inputs, output):
            output.retain_grad()
            captured["a"] = output

        gate.logits.register_forward_hook(keep)
        masks, _ = gate(torch.rand(2, 1, 12, 12))
        weights = torch.randn_like(masks)
        (masks * weights).sum().backward()
        torch.testing.assert_close(captured["a"].grad, weights.reshape(2, -1))


class SgbnNetTest(unittest.TestCase):
    def test_save_then_load_restores_every_tensor_and_the_slope(self):
        torch.manual_seed(4)
        for spec in (small_spec(), small_spec("sigmoid", "relu"), small_spec(share_weights=True)):
            model = SgbnNet(spec, slope=2.5)
            model.train()
            model(torch.rand(8, 1, 12, 12))  # running statistics move
            with tempfile.TemporaryDirectory() as d:
                path = os.path.join(d, "m.safetensors")
                sgbn_torch.save(model, path)
                back = sgbn_torch.load(path)
            self.assertEqual(back.slope, 2.5)
            self.assertEqual(back.spec, spec)
            for (n, a), (m, b) in zip(model.state_dict().items(), back.state_dict().items()):
                self.assertEqual(n, m)
                self.assertTrue(torch.equal(a, b), n)
            if spec["convs"][0]["gate"]["share_weights"]:
                self.assertNotIn("gate0.conv.weight", back.state_dict())

    def test_fixed_masks_and_samples_make_a_pass_deterministic(self):
        torch.manual_seed(5)
        model = SgbnNet(small_spec(), slope=1.5).eval()
        x = torch.rand(3, 1, 12, 12)
        with torch.no_grad():
            first = model(x)
            masks = [model.last["gate0.masks"], model.last["gate1.masks"]]
            h = model.last["dense_unit.output"]
            replay = model(x, gate_masks=masks, dense_unit_output=h)
        torch.testing.assert_close(replay, first, rtol=0, atol=0)

    def test_unsupported_parts_are_refused_by_name(self):
        spec = small_spec()
        spec["convs"][0]["bnn"] = "deterministic"
        with self.assertRaisesRegex(ValueError, "conv 0's bnn"):
            SgbnNet(spec)
        spec = small_spec(dense_unit="reinforce")
        with self.assertRaisesRegex(ValueError, "reinforce"):
            SgbnNet(spec)
        spec = small_spec(output="stochastic-sign")
        with self.assertRaisesRegex(ValueError, "stochastic-sign"):
            SgbnNet(spec)

    def test_a_file_that_is_not_an_export_is_refused(self):
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "x.safetensors")
            safetensors_io.write(path, {"a": torch.zeros(1)}, {"sgbn.format": "sgbn-checkpoint-1"})
            with self.assertRaisesRegex(ValueError, "sgbn-pytorch-1"):
                sgbn_torch.load(path)


class AttackExampleTest(unittest.TestCase):
    """python/examples/attack_export.py leaves the model as it found it."""

    @unittest.skipUnless(importlib.util.find_spec("torchattacks"), "torchattacks is not installed")
    def test_every_attack_leaves_the_model_in_eval_mode_with_its_state(self):
        sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "examples"))
        import attack_export

        torch.manual_seed(6)
        model = SgbnNet(small_spec(), slope=1.5)
        model.train()
        model(torch.rand(16, 1, 12, 12))  # running statistics away from their start
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "m.safetensors")
            sgbn_torch.save(model, path)
            loaded = sgbn_torch.load(path).eval()
        reference = {k: v.clone() for k, v in loaded.state_dict().items()}
        x = torch.rand(6, 1, 12, 12)
        y = torch.arange(6) % 10
        results = attack_export.run(loaded, x, y, eps=0.3, steps=3, eot=2)
        self.assertEqual(sorted(results), ["clean", "eot_pgd", "fixed_masks"])
        self.assertFalse(loaded.training)
        self.assertTrue(all(not m.training for m in loaded.modules()))
        for name, value in loaded.state_dict().items():
            self.assertTrue(torch.equal(value, reference[name]), name)

    def test_the_check_catches_a_model_left_in_training_mode(self):
        sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "examples"))
        import attack_export

        model = SgbnNet(small_spec(), slope=1.5).eval()
        before = attack_export.state_of(model)
        model.train()
        with self.assertRaisesRegex(RuntimeError, "training mode"):
            attack_export.check_unchanged(model, before, "an attack")
        model.eval()
        with torch.no_grad():
            model.train()
            model(torch.rand(4, 1, 12, 12))  # batch statistics overwrite the running ones
            model.eval()
        with self.assertRaisesRegex(RuntimeError, "running_mean|running_var"):
            attack_export.check_unchanged(model, before, "an attack")


if __name__ == "__main__":
    unittest.main()
