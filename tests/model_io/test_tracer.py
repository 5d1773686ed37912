"""The tracer: a traced model gives the layer list's numbers, counts functional work, shares and hierarchy, and
leaves the user's model exactly as it was."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from netcost.costing import evaluate
from netcost.model_io.files.zoo import load_layer_list
from netcost.model_io.importers.tracer import InputSpec, meta_construction, trace_module
from netcost.resources.zoo_models import ZOO


def _zoo(name: str) -> tuple[nn.Module, list[InputSpec]]:
    with meta_construction():
        model = ZOO[name].build()
    return model, [InputSpec(s, d) for s, d in ZOO[name].inputs]


def test_traced_alexnet_equals_the_layer_list() -> None:
    traced = trace_module(*_zoo("alexnet-module"))
    listed = evaluate(load_layer_list("alexnet"))
    assert traced.totals == listed.totals  # every field: params ... memory, and all peer views
    assert traced.summary == listed.summary  # torchsummary: 0.57 / 9.96 / 233.71 / 244.24 MB
    assert traced.by_category == listed.by_category
    assert traced.totals.peer_views() == {"thop": 861_301_280, "fvcore": 861_301_280, "torchinfo": 861_310_472,
                                          "ptflops": 863_437_704, "flop_counter": 1_722_602_560}
    convs = [r for r in traced.layers if r.type == "Conv2d"]
    assert [r.macs for r in convs] == [105_415_200, 335_923_200, 112_140_288, 149_520_384, 99_680_256]


def test_gpt2_attention_is_an_own_ops_row_and_the_head_is_shared() -> None:
    report = trace_module(*_zoo("gpt2"))
    rows = {r.path: r for r in report.layers}
    # the attention's own work is functional nodes inside it: SDPA on meta is two bmm (QK^T and AV)
    attn = [r for r in report.layers if r.scope == "blocks.0.attn" and r.category == "attention"]
    assert [r.type for r in attn] == ["aten.bmm", "aten.bmm"]
    # QK^T and AV, causal SDPA on meta: 2 * heads * L * L * head_dim = 2 * 12 * 1024 * 1024 * 64
    assert sum(r.macs for r in attn) == sum(r.totals.attention_macs for r in attn) == 1_610_612_736
    qk = attn[0]
    assert qk.input_shapes == ((12, 1024, 64), (12, 64, 1024)) and qk.output_shapes == ((12, 1024, 1024),)
    assert rows["lm_head"].params == 0 and rows["lm_head"].shared_with == ("wte",)
    assert rows["wte"].shared_with == ("lm_head",)
    assert report.totals.params == 124_439_808
    order = [r.path for r in report.layers]
    assert order.index("wpe") < order.index("blocks.0.ln_1") < order.index("ln_f") < order.index("lm_head")
    node = next(n for n in report.hierarchy if n.path == "blocks.0")
    assert node.type == "GPT2Block" and node.depth == 2
    assert node.totals.params == 7_087_872
    assert all(report.layers[i].path.startswith("blocks.0") for i in range(node.first, node.last + 1))


def _flop_counter_on_meta(model: nn.Module, *inputs: torch.Tensor) -> int:
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        model(*inputs)
    return counter.get_total_flops()


class Functional(nn.Module):
    """matmul, @, einsum, SDPA and bmm written in a forward, around one Linear."""

    def __init__(self) -> None:
        super().__init__()
        self.w = nn.Parameter(torch.empty(16, 16))
        self.proj = nn.Linear(16, 16)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = torch.matmul(x, self.w) + x @ self.w
        y = torch.einsum("bld,de->ble", y, self.w)
        q = y.view(2, 8, 2, 8).transpose(1, 2)
        y = F.scaled_dot_product_attention(q, q, q).transpose(1, 2).reshape(2, 8, 16)
        return self.proj(torch.bmm(y, y.transpose(1, 2)) @ y)


def test_functional_and_recurrent_work_matches_flop_counter_on_meta() -> None:
    cases = [
        (Functional, (2, 8, 16)),
        (lambda: nn.LSTM(16, 32, num_layers=2, batch_first=True), (2, 8, 16)),
        (lambda: nn.LSTM(16, 32, proj_size=8, bidirectional=True), (8, 2, 16)),
        (lambda: nn.GRU(16, 32), (8, 2, 16)),
        (lambda: nn.RNN(16, 32), (8, 2, 16)),
        (lambda: nn.MultiheadAttention(16, 4, batch_first=True), None),
        (lambda: nn.ConvTranspose2d(8, 4, 3, stride=2), (1, 8, 9, 9)),
        (lambda: nn.TransformerEncoder(nn.TransformerEncoderLayer(16, 4, 32, batch_first=True), 2,
                                       enable_nested_tensor=False), (2, 8, 16)),
    ]
    for build, shape in cases:
        with meta_construction():
            model = build().eval()
        # MultiheadAttention takes query, key and value
        spec = [InputSpec((2, 8, 16))] * 3 if shape is None else [InputSpec(shape)]
        report = trace_module(model, spec)
        inputs = [torch.empty(s.shape, device="meta") for s in spec]
        assert report.totals.flop_counter == _flop_counter_on_meta(model, *inputs) > 0, build
        assert not report.unsupported


def test_formula_rows_agree_with_measured_macs() -> None:
    """LSTM/GRU/MHA leaves are costed by the layer formula; the tracer only uses it when the ops agree."""
    model, inputs = _zoo("lstm_tagger_module")
    report = trace_module(model, inputs)
    lstm = next(r for r in report.layers if r.type == "LSTM")
    # per step: 4*256*128 + 4*256*256 (layer 1: 393,216) + 2 * 4*256*256 (layer 2: 524,288) = 917,504; x 50 steps
    assert lstm.macs == 50 * 917_504 and not report.warnings


class Shared(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.a = nn.Linear(8, 8)
        self.b = nn.Linear(8, 8)
        self.b.weight = self.a.weight
        self.act = nn.ReLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.act(self.b(self.act(self.a(x))))  # one ReLU module used twice


def test_shared_parameters_and_reused_modules() -> None:
    report = trace_module(Shared(), [InputSpec((1, 8))])
    assert report.totals.params == 64 + 8 + 8  # one weight, two biases
    rows = {r.path: r for r in report.layers}
    assert rows["b"].params == 8 and rows["b"].shared_with == ("a",)
    # one ReLU module, two calls: two nodes of 8 elements each, one module (an edit would change both)
    assert rows["act"].totals.elementwise_flops == rows["act#2"].totals.elementwise_flops == 8
    assert rows["act#2"].inputs == ("b",) and report.graph.modules["act"] == ("act", "act#2")


class WithBuffers(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3)
        self.bn = nn.BatchNorm2d(4)
        self.drop = nn.Dropout(0.5)
        self.frozen = nn.Linear(4, 2)
        self.frozen.requires_grad_(False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.frozen(self.drop(self.bn(self.conv(x))).mean((2, 3)))


def test_model_left_exactly_as_it_was() -> None:
    model = WithBuffers().train()
    model.bn.running_mean.normal_()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    flags = [m.training for m in model.modules()]
    params = [id(p) for p in model.parameters()]
    report = trace_module(model, [InputSpec((1, 3, 8, 8))])
    assert report.totals.params == 3 * 4 * 9 + 4 + 8 + 10 and report.totals.frozen_params == 10
    after = model.state_dict()
    assert list(after) == list(before) and all(torch.equal(before[k], after[k]) for k in before)
    assert [m.training for m in model.modules()] == flags
    assert [id(p) for p in model.parameters()] == params
    assert all(p.device.type == "cpu" for p in model.parameters())
    _assert_no_hooks_or_modes(model)


class Raises(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(4, 4)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        raise RuntimeError("boom")


def _assert_no_hooks_or_modes(model: nn.Module) -> None:
    from torch.nn.modules import module as module_mod
    from torch.utils._python_dispatch import _get_current_dispatch_mode

    assert _get_current_dispatch_mode() is None
    assert not module_mod._global_forward_pre_hooks and not module_mod._global_forward_hooks
    for m in model.modules():
        assert not m._forward_hooks and not m._forward_pre_hooks


def test_nothing_left_behind_after_an_exception() -> None:
    model = Raises().train()
    try:
        trace_module(model, [InputSpec((1, 4))])
    except RuntimeError as e:
        assert "boom" in str(e)
    else:
        raise AssertionError("the model's error must propagate")
    assert model.training and model.fc.weight.device.type == "cpu"
    _assert_no_hooks_or_modes(model)


class NeedsData(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(4, 4)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(x) * float(x.abs().max().item() >= 0)


def test_meta_fallback_to_cpu_is_noted() -> None:
    report = trace_module(NeedsData(), [InputSpec((1, 4))])
    assert report.totals.macs == 16
    assert any("real tensors on the CPU" in w for w in report.warnings)


class Unsupported(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.linalg.inv(x) + torch.fft.fft(x).real


def test_ops_without_a_formula_are_listed_not_zero() -> None:
    report = trace_module(Unsupported(), [InputSpec((1, 4, 4))])
    ops = {u["op"] for u in report.unsupported}
    assert ops and all(u["count"] >= 1 and u["module"] for u in report.unsupported)
    assert any("unsupported" in w for w in report.warnings)


def test_views_and_copies_are_free_not_unsupported() -> None:
    class Shapes(nn.Module):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            y = x.view(2, 8).t().contiguous().reshape(4, 4).unsqueeze(0).expand(2, 4, 4).clone()
            return torch.cat([y, y.flip(0)], 0).permute(1, 0, 2)[..., :2]

    report = trace_module(Shapes(), [InputSpec((16,))])
    assert not report.unsupported and report.totals.flops == 0


# --- the peers' pitfalls (formulas.md, "Pitfalls"): fused CPU kernels, reused modules --------------------------

class _Pitfall(nn.Module):
    """Wraps a module that has a fused CPU fast path; `real=True` reads a value (.item()), so the forward cannot
    run on the meta device and is counted with real CPU tensors, where torch would take the fast path."""

    def __init__(self, inner: nn.Module, real: bool, self_attention: bool = False) -> None:
        super().__init__()
        self.inner, self.real, self.self_attention = inner, real, self_attention

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.real:
            x = x * float(x.abs().max().item() >= 0)
        out = self.inner(x, x, x, need_weights=False) if self.self_attention else self.inner(x)
        return out[0] if isinstance(out, tuple) else out


def _pitfall_cases() -> list[tuple[str, object]]:
    return [
        # nn.MultiheadAttention in eval() + no_grad() with query is key is value: the fused fast path
        ("mha", lambda: nn.MultiheadAttention(32, 4, batch_first=True)),
        ("encoder", lambda: nn.TransformerEncoder(nn.TransformerEncoderLayer(32, 4, 64, batch_first=True), 2,
                                                  enable_nested_tensor=False)),
        ("lstm", lambda: nn.LSTM(32, 16, num_layers=2, batch_first=True)),  # mkldnn_rnn_layer on the CPU
        ("gru", lambda: nn.GRU(32, 16, batch_first=True)),
    ]


@pytest.mark.parametrize("real", [False, True], ids=["meta", "cpu-fallback"])
@pytest.mark.parametrize("name,build", _pitfall_cases(), ids=[c[0] for c in _pitfall_cases()])
def test_fused_fast_paths_are_counted_on_meta_and_on_the_cpu(name: str, build: object, real: bool) -> None:
    torch.manual_seed(0)
    inner = build().eval()  # type: ignore[operator]
    model = _Pitfall(inner, real, self_attention=name == "mha").eval()
    mha, mkldnn = torch.backends.mha.get_fastpath_enabled(), torch._C._get_mkldnn_enabled()
    report = trace_module(model, [InputSpec((2, 16, 32))])
    reference = _Pitfall(inner, False, self_attention=name == "mha").eval()
    meta_state = {k: torch.empty_like(v, device="meta") for k, v in reference.state_dict().items()}
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        torch.func.functional_call(reference, meta_state, (torch.empty(2, 16, 32, device="meta"),))
    assert report.totals.flop_counter == counter.get_total_flops() > 0
    assert not report.unsupported
    assert any("real tensors on the CPU" in w for w in report.warnings) == real
    assert not any("not called" in w for w in report.warnings)  # every sub-module ran, none fused away
    # the switches are put back
    assert (torch.backends.mha.get_fastpath_enabled(), torch._C._get_mkldnn_enabled()) == (mha, mkldnn)


def test_a_module_called_twice_counts_its_work_twice_and_its_parameters_once() -> None:
    class Twice(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.fc = nn.Linear(16, 16)
            self.alias = self.fc  # the same module under a second name

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.alias(self.fc(self.fc(x)))

    report = trace_module(Twice(), [InputSpec((4, 16))])
    assert [r.path for r in report.layers] == ["fc", "fc#2", "fc#3"]  # one node per call, unique names
    assert [r.inputs for r in report.layers] == [("x",), ("fc",), ("fc#2",)]
    assert [r.params for r in report.layers] == [16 * 16 + 16, 0, 0]
    assert report.totals.params == 16 * 16 + 16  # torchsummary would count it three times
    assert report.totals.macs == 3 * 4 * 16 * 16


class FlattensNoBoxes(nn.Module):
    """FCOS with no detections: a 0-row tensor flattened with its sizes spelled out (torch refuses -1 there)."""

    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(4, 4)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        boxes = x[:0]  # no detections
        return self.fc(boxes.view(boxes.size(0), 4))


def test_a_flatten_of_no_elements_keeps_its_sizes() -> None:
    report = trace_module(FlattensNoBoxes(), [InputSpec((3, 2, 2))])
    assert not report.problems and report.totals.params == 20 and report.totals.macs == 0
