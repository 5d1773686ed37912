"""Peak live activation memory (inference): the closed form of a chain, and what PyTorch itself allocates and frees
on real CPU tensors under torch.no_grad."""

from __future__ import annotations

import weakref
from math import prod

import pytest
import torch
from torch import nn
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils._pytree import tree_flatten

from netcost.costing import LayerSpec, Network, evaluate
from netcost.costing.graph_eval import evaluate_graph
from netcost.model_io.importers.tracer import InputSpec, trace_graph


def test_chain_layer_list_is_max_of_input_plus_output() -> None:
    layers = (LayerSpec("Linear", {"out_features": 300}), LayerSpec("ReLU"),
              LayerSpec("Linear", {"out_features": 40}), LayerSpec("Flatten"),
              LayerSpec("Linear", {"out_features": 900}), LayerSpec("Linear", {"out_features": 7}))
    report = evaluate(Network(layers, (100,), batch_size=4))
    sizes = [prod(report.layers[0].input_shape)] + [prod(r.output_shape) for r in report.layers]
    # Flatten is a view: its output is its input's storage, so the chain step over it allocates nothing
    closed = max(4 * (sizes[i] + sizes[i + 1]) for i in range(len(sizes) - 1) if report.layers[i].type != "Flatten")
    assert report.peak_activation_bytes == closed == 4 * 4 * (40 + 900)  # float32 × batch 4 × (Flatten output + 900)
    assert report.peak_activation_bytes < report.totals.activation_bytes  # torchsummary's sum stays as it was


def test_chain_graph_matches_closed_form() -> None:
    model = nn.Sequential(nn.Linear(64, 256), nn.GELU(), nn.Linear(256, 32), nn.Tanh(), nn.Linear(32, 512)).eval()
    report = evaluate_graph(trace_graph(model, [InputSpec((8, 64))]))
    shapes = [(8, 64)] + [r.output_shape for r in report.layers]
    closed = max(4 * (prod(shapes[i]) + prod(shapes[i + 1])) for i in range(len(shapes) - 1))
    assert report.peak_activation_bytes == closed


class _LiveBytes(TorchDispatchMode):
    """PyTorch's own view: every storage an op returns is live until the tensor that holds it is collected."""

    def __init__(self, held: tuple[torch.Tensor, ...], weights: set[int]) -> None:
        super().__init__()
        self.live = self.peak = 0
        self.sizes: dict[int, int] = {}
        self.weights = weights  # parameters and buffers (and their views, `t(weight)`) are not activations
        for t in held:
            self._track(t)

    def _track(self, t: torch.Tensor) -> None:
        st = t.untyped_storage()
        if st.data_ptr() in self.sizes or st.data_ptr() in self.weights or st.nbytes() == 0:
            return  # a view of a storage already counted
        self.sizes[st.data_ptr()] = st.nbytes()
        self.live += st.nbytes()
        self.peak = max(self.peak, self.live)
        weakref.finalize(st, self._free, st.data_ptr())

    def _free(self, key: int) -> None:
        self.live -= self.sizes.pop(key)

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):  # noqa: ANN001, ANN204
        out = func(*args, **(kwargs or {}))
        for t in tree_flatten(out)[0]:
            if isinstance(t, torch.Tensor):
                self._track(t)
        return out


def torch_peak(model: nn.Module, shape: tuple[int, ...]) -> int:
    """Run `model` on a real CPU tensor with torch.fx's interpreter, which drops each value after its last use (as
    NetCost's figure assumes; an eager forward's Python locals can hold a tensor longer), input handed over."""
    gm = torch.fx.symbolic_trace(model)
    placeholder = next(n for n in gm.graph.nodes if n.op == "placeholder")
    x = torch.randn(shape)
    with torch.no_grad():
        weights = {t.untyped_storage().data_ptr() for t in (*model.parameters(), *model.buffers())}
        mode = _LiveBytes((x,), weights)
        with mode:
            env = {placeholder: x}
            del x
            torch.fx.Interpreter(gm).run(initial_env=env)
            del env
    return mode.peak


class _Residual(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(16, 16, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(16)
        self.relu = nn.ReLU(inplace=True)  # in place: writes into bn1's output, no new storage
        self.conv2 = nn.Conv2d(16, 16, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(16)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(self.bn2(self.conv2(self.relu(self.bn1(self.conv1(x))))) + x)


class _InPlaceAdd(nn.Module):
    """`a.add_(b)` writes into a: a third tensor of a's size would raise the peak (3 × 16 channels vs 3 + 2 × 16)."""

    def __init__(self) -> None:
        super().__init__()
        self.c1 = nn.Conv2d(3, 16, 1)
        self.c2 = nn.Conv2d(3, 16, 1)
        self.pool = nn.AvgPool2d(2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        a = self.c1(x)
        b = self.c2(x)
        return self.pool(a.add_(b))


class _Branches(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.stem = nn.Conv2d(3, 16, 3, padding=1)
        self.a = nn.Conv2d(16, 8, 1)
        self.b = nn.Sequential(nn.Conv2d(16, 4, 1), nn.ReLU(), nn.Conv2d(4, 24, 3, padding=1))
        self.pool = nn.MaxPool2d(3, 1, 1)
        self.head = nn.Linear(48 * 8 * 8, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        s = self.stem(x)
        y = torch.cat([self.a(s), self.b(s), self.pool(s)], 1)
        return self.head(torch.flatten(y, 1))


class _Attention(nn.Module):
    def __init__(self, d: int = 32, heads: int = 4) -> None:
        super().__init__()
        self.heads = heads
        self.qkv = nn.Linear(d, 3 * d)
        self.proj = nn.Linear(d, d)
        self.mlp = nn.Sequential(nn.LayerNorm(d), nn.Linear(d, 4 * d), nn.GELU(), nn.Linear(4 * d, d))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, t, d = x.shape
        q, k, v = self.qkv(x).reshape(b, t, 3, self.heads, d // self.heads).permute(2, 0, 3, 1, 4).unbind(0)
        att = torch.softmax(q @ k.transpose(-2, -1), dim=-1)
        y = self.proj((att @ v).transpose(1, 2).reshape(b, t, d)) + x
        return self.mlp(y) + y


MODELS = {
    "mlp": (lambda: nn.Sequential(nn.Linear(50, 200), nn.ReLU(), nn.Linear(200, 30), nn.Sigmoid()), (4, 50)),
    "cnn": (lambda: nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(), nn.MaxPool2d(2),
                                  nn.Flatten(), nn.Linear(8 * 16 * 16, 10)), (2, 3, 32, 32)),
    "residual_inplace_relu": (_Residual, (2, 16, 12, 12)),
    "inplace_add": (_InPlaceAdd, (1, 3, 8, 8)),
    "branches_concat": (_Branches, (1, 3, 8, 8)),
    "attention": (_Attention, (2, 6, 32)),
}


@pytest.mark.parametrize("name", list(MODELS))
def test_peak_equals_pytorch_allocations_on_cpu(name: str) -> None:
    make, shape = MODELS[name]
    model = make().eval()
    report = evaluate_graph(trace_graph(model, [InputSpec(shape)]))
    assert report.peak_activation_bytes == torch_peak(model, shape)
