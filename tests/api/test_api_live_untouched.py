"""A live model is counted without copying its weights and without changing it: parameters, buffers (BatchNorm
running statistics in train mode included), devices, dtypes, training and requires_grad flags, hooks and
attributes are exactly as before, and the user's hooks are not called."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import torch
from torch import nn

import netcost
from netcost.live import HOOK_DICTS

ROOT = Path(__file__).resolve().parents[2]


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, padding=1)
        self.bn = nn.BatchNorm2d(8)
        self.drop = nn.Dropout(0.5)
        self.head = nn.Linear(8, 8)
        self.out = nn.Linear(8, 8)
        self.out.weight = self.head.weight  # tied
        self.register_buffer("calls", torch.zeros((), dtype=torch.long))
        self.scale = torch.full((8,), 0.5)  # a plain tensor attribute the forward reads

    def forward(self, x):
        y = self.drop(self.bn(self.conv(x))).mean((2, 3))
        return self.out(torch.relu(self.head(y)) * self.scale)


def snapshot(model: nn.Module) -> dict:
    state = {k: (v.detach().clone(), v.device, v.dtype, v.data_ptr(), type(v)) for k, v in model.state_dict(
        keep_vars=True).items()}
    return {
        "state": state,
        "objects": {k: id(v) for k, v in [*model.named_parameters(), *model.named_buffers()]},
        "training": {n: m.training for n, m in model.named_modules()},
        "requires_grad": {n: p.requires_grad for n, p in model.named_parameters()},
        "hooks": {(n, d): [(k, id(h)) for k, h in getattr(m, d).items()] for n, m in model.named_modules()
                  for d in HOOK_DICTS if isinstance(getattr(m, d, None), dict)},
        "attributes": {n: sorted(vars(m)) for n, m in model.named_modules()},
        "scale": (id(getattr(model, "scale", None)), getattr(model, "scale", torch.zeros(())).clone()),
        "grads": {n: p.grad for n, p in model.named_parameters()},
    }


def same(a: dict, b: dict) -> None:
    assert a["state"].keys() == b["state"].keys()
    for k, (value, device, dtype, ptr, kind) in a["state"].items():
        value2, device2, dtype2, ptr2, kind2 = b["state"][k]
        assert torch.equal(value, value2), k
        assert (device, dtype, ptr, kind) == (device2, dtype2, ptr2, kind2), k
    for key in ("objects", "training", "requires_grad", "hooks", "attributes", "grads"):
        assert a[key] == b[key], key
    assert a["scale"][0] == b["scale"][0] and torch.equal(a["scale"][1], b["scale"][1])


def test_a_model_in_train_mode_is_left_exactly_as_it_was():
    torch.manual_seed(0)
    model = Net()
    model.train()
    model.drop.eval()  # mixed flags stay mixed
    model.conv.bias.requires_grad_(False)
    calls = []
    model.conv.register_forward_hook(lambda *a: calls.append("forward"))
    model.register_forward_pre_hook(lambda *a: calls.append("pre"))
    model.head.register_full_backward_hook(lambda *a: calls.append("backward"))
    model.register_state_dict_pre_hook(lambda *a, **k: None)
    model(torch.randn(2, 3, 8, 8)).sum().backward()  # running stats moved, grads present
    calls.clear()
    before = snapshot(model)
    report = netcost.analyze(model, torch.randn(4, 3, 8, 8))
    assert calls == []  # the user's hooks do not run on the copy that is traced
    same(before, snapshot(model))
    assert model.bn.num_batches_tracked.item() == 1 and model.training and not model.drop.training
    t = report.totals
    assert t.params == 224 + 16 + 72 + 8  # the tied weight once: conv, bn, head (weight + bias), out's bias
    assert t.frozen_params == 8 and t.buffers == 8 + 8 + 1 + 1


def test_a_frozen_half_precision_model_keeps_its_dtype_and_flags():
    model = nn.Sequential(nn.Linear(16, 32), nn.LayerNorm(32), nn.Linear(32, 4)).half()
    model[0].requires_grad_(False)
    before = snapshot(model)
    report = netcost.analyze(model, torch.randn(3, 16, dtype=torch.float16))
    same(before, snapshot(model))
    assert report.cost_report.dtype == "float16" and report.totals.param_bytes == 2 * report.totals.params
    assert report.totals.frozen_params == 16 * 32 + 32


def test_a_model_on_the_meta_device_is_counted_as_it_is():
    with torch.device("meta"):
        model = nn.Sequential(nn.Conv2d(3, 64, 7, stride=2), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
                              nn.Linear(64, 1000))
    report = netcost.analyze(model, (1, 3, 224, 224))
    assert report.totals.params == 3 * 64 * 49 + 64 + 64 * 1000 + 1000
    assert all(p.is_meta for p in model.parameters())


class NeedsValues(nn.Module):
    """A forward that reads a value (it cannot run on the meta device) and writes a buffer in place."""

    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(8, 8)
        self.register_buffer("seen", torch.zeros(()))

    def forward(self, x):
        self.seen += 1
        if x.abs().sum().item() > -1:
            return self.fc(x)
        return x


def test_a_forward_that_needs_values_is_counted_on_real_tensors_without_touching_the_model():
    model = NeedsValues()
    before = snapshot(model)
    report = netcost.analyze(model, torch.randn(2, 8))
    same(before, snapshot(model))
    assert model.seen.item() == 0
    assert report.totals.macs == 2 * 64
    assert any("counted with real tensors on the CPU" in w for w in report.warnings)


@pytest.mark.filterwarnings("ignore:.*weight_norm.*is deprecated:FutureWarning")
def test_weight_norm_and_parametrizations_are_counted():
    old = torch.nn.utils.weight_norm(nn.Linear(8, 8)) if hasattr(torch.nn.utils, "weight_norm") else nn.Linear(8, 8)
    new = torch.nn.utils.parametrizations.weight_norm(nn.Linear(8, 8))
    for model in (old, new):
        before = snapshot(model)
        report = netcost.analyze(model, torch.randn(2, 8))
        same(before, snapshot(model))
        assert report.totals.macs == 2 * 64


class Tokens(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(100, 16)
        self.fc = nn.Linear(16, 2)

    def forward(self, input_ids, attention_mask=None, scale=1.0):
        x = self.embed(input_ids) * scale
        if attention_mask is not None:
            x = x * attention_mask.unsqueeze(-1)
        return self.fc(x)


def test_keyword_inputs_as_a_dict():
    ids = torch.randint(0, 100, (2, 10))
    report = netcost.analyze(Tokens(), {"input_ids": ids, "attention_mask": torch.ones(2, 10), "scale": 2.0})
    d = report.to_dict()
    assert [i["name"] for i in d["inputs"]] == ["input_ids", "attention_mask"]
    assert d["inputs"][0]["dtype"] == "int64"
    assert report.totals.macs == 2 * 10 * 16 * 2
    assert netcost.analyze(Tokens(), ids).to_dict()["inputs"][0]["name"] == "input_ids"


def test_mistakes_are_one_clear_error():
    with pytest.raises(TypeError, match="example input"):
        netcost.analyze(Net())
    with pytest.raises(TypeError, match="nn.Module, a reference"):
        netcost.analyze(42)
    with pytest.raises(netcost.ModelError, match="forward of Net raised"):
        netcost.analyze(Net(), torch.randn(1, 5, 8, 8))


def test_no_copy_of_the_weights():
    """The process's peak memory grows by less than 5 % of the model's weight bytes (256 MiB of them)."""
    script = textwrap.dedent("""
        import resource, torch, netcost
        from torch import nn
        torch.set_num_threads(1)
        model = nn.Sequential(nn.Linear(4096, 8192), nn.GELU(), nn.Linear(8192, 4096))
        weights = sum(p.numel() * p.element_size() for p in model.parameters())
        netcost.analyze(nn.Linear(2, 2), torch.randn(1, 2))  # imports and first-use caches out of the figure
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
        report = netcost.analyze(model, torch.randn(8, 4096))
        after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
        assert report.totals.params == 2 * 4096 * 8192 + 8192 + 4096
        print((after - before) / weights)
    """)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300,
                         env={**__import__("os").environ, "PYTHONPATH": str(ROOT)})
    assert out.returncode == 0, out.stderr
    assert float(out.stdout.split()[-1]) < 0.05
