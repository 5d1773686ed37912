"""Models that `export-torch` refused because a few ops stayed opaque now export, and the generated file counts
the same (params, MACs) as the model and as PyTorch: an activation bound at construction, a parameter-free module
with no formula, `gather` and `cumsum`."""

from __future__ import annotations

import warnings
from typing import Any

import pytest
import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from netcost.costing import LayerError
from netcost.costing.graph import Node
from netcost.costing.graph_eval import NodeError, cost_node
from netcost.model_io.files.export_torch import graph_to_torch_source
from netcost.model_io.importers.tracer import InputSpec, trace_graph, trace_module


class BoundGELU(nn.Module):
    """As Hugging Face's GELUActivation: F.gelu captured at construction, no parameters, no formula."""

    def __init__(self) -> None:
        super().__init__()
        self.act = F.gelu

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.act(x)


class TanhGELU(nn.Module):
    """As GPT-2's NewGELUActivation: written out with pow, tanh and friends."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return 0.5 * x * (1.0 + torch.tanh(0.7978845608 * (x + 0.044715 * torch.pow(x, 3.0))))


class Skip(nn.Module):
    """As torchvision's StochasticDepth in eval mode: returns its input, runs no op."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x


class Net(nn.Module):
    """Token ids -> embedding + token-type rows gathered from a buffer (BERT) + positions from a cumsum (GPT-2's
    mask path) -> an MLP with the three modules above."""

    def __init__(self) -> None:
        super().__init__()
        self.emb = nn.Embedding(50, 16)
        self.types = nn.Embedding(2, 16)
        self.register_buffer("type_ids", torch.zeros(1, 64, dtype=torch.long), persistent=False)
        self.fc1, self.act, self.skip, self.tanh, self.fc2 = nn.Linear(16, 32), BoundGELU(), Skip(), TanhGELU(), \
            nn.Linear(32, 16)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        types = torch.gather(self.type_ids[:, : ids.shape[1]].expand(ids.shape[0], -1), 1, torch.zeros_like(ids))
        positions = torch.cumsum(torch.ones_like(ids), dim=1)
        h = self.emb(ids) + self.types(types) + positions.unsqueeze(-1).float()
        return self.fc2(self.tanh(self.skip(self.act(self.fc1(h)))))


class Attention(nn.Module):
    """Reads a value with .item() (the meta device cannot: traced on the CPU, where F.scaled_dot_product_attention
    runs torch's fused CPU kernel) and branches on it, as transformers' mask code does."""

    def __init__(self) -> None:
        super().__init__()
        self.qkv = nn.Linear(16, 48)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        q, k, v = self.qkv(x).view(1, -1, 3, 2, 8).permute(2, 0, 3, 1, 4)
        causal = bool(x.amax().item() > float("-inf"))
        return F.scaled_dot_product_attention(q, k, v, is_causal=causal).transpose(1, 2).reshape(1, -1, 16)


def _torch_count(model: nn.Module, x: torch.Tensor) -> tuple[int, int]:
    """numel, and FlopCounterMode / 2 on the meta device (where nn.TransformerEncoder takes its decomposed path,
    as traced, not the fused CPU kernel FlopCounterMode has no formula for)."""
    model, x = model.to("meta"), x.to("meta")
    with FlopCounterMode(display=False) as counter, torch.no_grad():
        model(x)
    return sum(p.numel() for p in model.parameters()), counter.get_total_flops() // 2


def _round_trip(model: nn.Module, spec: InputSpec) -> tuple[Any, Any]:
    """The model's report, and the report of the file export-torch writes for it (built and traced again)."""
    report = trace_module(model.eval(), [spec])
    source = graph_to_torch_source(report.graph)
    namespace: dict[str, Any] = {"__name__": "generated"}
    exec(compile(source, "<export-torch>", "exec"), namespace)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        again = trace_module(namespace["build"]().eval(), [spec])
    return report, again


def test_bound_activation_parameter_free_modules_gather_and_cumsum_round_trip() -> None:
    model = Net().eval()
    report, again = _round_trip(model, InputSpec((2, 8), "int64"))
    assert not [n.display_name for n in report.graph.nodes if n.opaque]
    x = torch.zeros(2, 8, dtype=torch.long)
    assert (report.totals.params, report.totals.macs) == (again.totals.params, again.totals.macs) == \
        _torch_count(model, x)


def test_transformer_encoder_without_the_fast_path_round_trips() -> None:
    """nn.TransformerEncoderLayer binds F.relu at construction: ptflops never counts it, and the node says so."""
    layer = nn.TransformerEncoderLayer(32, 4, 64, batch_first=True)
    model = nn.TransformerEncoder(layer, 2, enable_nested_tensor=False).eval()
    report, again = _round_trip(model, InputSpec((1, 10, 32)))
    relu = [n for n in report.graph.nodes if n.op == "relu"]
    assert relu and not any(n.opaque for n in relu) and all(n.args.get("_ptflops_unpatched") for n in relu)
    assert (report.totals.params, report.totals.macs) == (again.totals.params, again.totals.macs) == \
        _torch_count(model, torch.zeros(1, 10, 32))


def test_a_value_read_by_python_and_the_fused_cpu_attention_round_trip() -> None:
    report, again = _round_trip(Attention(), InputSpec((1, 12, 16)))
    assert any("on the CPU" in w for w in report.warnings)  # the path that runs the fused kernel
    ops = {n.op: n.opaque for n in report.graph.nodes}
    assert ops["_scaled_dot_product_flash_attention_for_cpu"] is False and ops["_local_scalar_dense"] is True
    # 12 tokens x 48 outputs x 16 inputs (qkv) + 2 heads x 12 x 12 x (8 + 8) (QK^T and AV)
    assert (report.totals.macs, again.totals.macs) == (12 * 48 * 16 + 2 * 12 * 12 * 16,) * 2
    assert report.totals.params == again.totals.params == 16 * 48 + 48


def test_fused_cpu_attention_rule_equals_torch() -> None:
    q, k, v = torch.randn(1, 2, 5, 8), torch.randn(1, 2, 7, 8), torch.randn(1, 2, 7, 8)
    op = torch.ops.aten._scaled_dot_product_flash_attention_for_cpu.default
    out, lse = op(q, k, v, 0.0, False)
    values = tuple((tuple(t.shape), "float") for t in (q, k, v))
    row, outs = cost_node(Node("a", "_scaled_dot_product_flash_attention_for_cpu", {}), values, 4)
    assert outs == ((tuple(out.shape), "float"), (tuple(lse.shape), "float"))
    with FlopCounterMode(display=False) as counter:
        F.scaled_dot_product_attention(q.to("meta"), k.to("meta"), v.to("meta"))
    assert row.macs == counter.get_total_flops() // 2 == 2 * 5 * 7 * 16
    with pytest.raises(NodeError):
        cost_node(Node("a", "_scaled_dot_product_flash_attention_for_cpu", {}), (*values[:2], ((1, 2, 6, 8), "float")),
                  4)  # key and value of different lengths


def test_a_parameter_free_module_with_an_op_without_a_rule_stays_one_opaque_node() -> None:
    class Fourier(nn.Module):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return torch.fft.fft(x).real

    model = nn.Sequential(nn.Linear(8, 8), Fourier(), nn.Linear(8, 4))
    graph = trace_graph(model, [InputSpec((2, 8))])
    opaque = [n for n in graph.nodes if n.opaque]
    assert [n.display_name for n in opaque] == ["1"]  # the module's own row, nothing of its ops left behind
    assert all(n.scope != "1" for n in graph.nodes)
    with pytest.raises(ValueError, match="no formula"):
        graph_to_torch_source(graph)


@pytest.mark.parametrize(("x", "index", "dim"), [((3, 5), (3, 2), 1), ((4, 6, 2), (2, 6, 2), 0), ((5,), (7,), 0)])
def test_gather_rule_equals_torch(x: tuple[int, ...], index: tuple[int, ...], dim: int) -> None:
    row, outs = cost_node(Node("g", "gather", {"dim": dim}), ((x, "float"), (index, "int64")), 4)
    y = torch.gather(torch.zeros(x, device="meta"), dim, torch.zeros(index, dtype=torch.long, device="meta"))
    assert outs == ((tuple(y.shape), "float"),) and row.macs == 0


def test_gather_rule_refuses_what_torch_refuses() -> None:
    for ins in [(((3, 5), "float"), ((3, 2), "float")),  # a float index
                (((3, 5), "float"), ((4, 2), "int64")),  # larger than the input outside dim
                (((3, 5), "float"), ((3,), "int64"))]:  # another rank
        with pytest.raises((NodeError, LayerError)):
            cost_node(Node("g", "gather", {"dim": 1}), ins, 4)


@pytest.mark.parametrize(("dtype", "kind"), [(torch.float32, "float"), (torch.long, "int64"), (torch.bool, "int64"),
                                             (torch.int32, "int64")])
def test_cumsum_rule_equals_torch(dtype: torch.dtype, kind: str) -> None:
    y = torch.cumsum(torch.zeros(2, 7, dtype=dtype, device="meta"), dim=1)
    in_kind = "float" if dtype.is_floating_point else str(dtype).removeprefix("torch.")
    row, outs = cost_node(Node("c", "cumsum", {"dim": 1}), (((2, 7), in_kind),), 4)
    assert outs == (((2, 7), kind),) and str(y.dtype).removeprefix("torch.") in (kind, "float32")
    assert row.totals.elementwise_flops == 14


@pytest.mark.parametrize(("x", "indices"), [((1, 64), [(1, 1, 1, 1), (1, 1, 64, 1)]), ((5, 6, 7), [(3, 1), (1, 4)]),
                                            ((4, 3), [(2,)])])
def test_index_rule_equals_torch(x: tuple[int, ...], indices: list[tuple[int, ...]]) -> None:
    """transformers' mask functions index a grid: x[b, i] with broadcasting integer index tensors."""
    values = ((x, "float"), *((i, "int64") for i in indices))
    _, outs = cost_node(Node("i", "index", {"_overload": "Tensor"}), values, 4)
    y = torch.ops.aten.index.Tensor(torch.zeros(x, device="meta"),
                                    [torch.zeros(i, dtype=torch.long, device="meta") for i in indices])
    assert outs == ((tuple(y.shape), "float"),)
    with pytest.raises(NodeError):  # a boolean mask selects by its values: no rule can know the shape
        cost_node(Node("i", "index", {}), ((x, "float"), (x, "bool")), 4)


def test_bitwise_and_of_masks_is_a_bool_elementwise_op() -> None:
    row, outs = cost_node(Node("b", "bitwise_and", {"_overload": "Tensor"}),
                          (((), "bool"), ((1, 1, 8, 8), "bool")), 4)
    y = torch.ones((), dtype=torch.bool) & torch.ones(1, 1, 8, 8, dtype=torch.bool)
    assert outs == ((tuple(y.shape), "bool"),) and row.totals.elementwise_flops == 64
