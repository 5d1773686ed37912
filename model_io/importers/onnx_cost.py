"""Count an ONNX graph: load it with `onnx`, run its shape inference, cost each node into the same report as a
traced model (one row per node, initializers as parameters, counted once where shared).

`onnx` is an optional extra (`pip install netcost[onnx]`); without it the user gets that one line.
"""

from __future__ import annotations

from collections.abc import Sequence
from math import prod
from pathlib import Path
from typing import Any

from netcost.costing import CostReport, Totals
from netcost.costing.conventions import netcost_flops, peer_figures
from netcost.costing.dtypes import DTYPE_BYTES
from netcost.costing.graph import Graph, GraphInput, Measured, Node, Ref, unique_name
from netcost.costing.graph_eval import evaluate_graph
from netcost.costing.layers.activation import ACTIVATION_FLOPS
from netcost.costing.layers.recurrent import GATE_ELEMENTWISE
from netcost.costing.registry import Out

from ..errors import FailureKind, LoadFailure
from ..file_kinds import FileKind, sniff
from ..files.file_checks import must_be_file

# NetCost per-element FLOPs of element-wise ONNX ops (same constants as the layer formulas).
ELEMENTWISE = {"Relu": ACTIVATION_FLOPS["ReLU"], "LeakyRelu": ACTIVATION_FLOPS["LeakyReLU"],
               "Sigmoid": ACTIVATION_FLOPS["Sigmoid"], "Tanh": ACTIVATION_FLOPS["Tanh"],
               "Gelu": ACTIVATION_FLOPS["GELU"], "HardSwish": ACTIVATION_FLOPS["Hardswish"],
               "Softmax": ACTIVATION_FLOPS["Softmax"], "LogSoftmax": ACTIVATION_FLOPS["Softmax"],
               "Clip": 2, "Add": 1, "Sub": 1, "Mul": 1, "Div": 1, "Pow": 1, "Sqrt": 1, "Exp": 1, "Log": 1,
               "Neg": 1, "Abs": 1, "Erf": 1, "Reciprocal": 1, "Max": 1, "Min": 1, "Where": 1, "Equal": 1,
               "Less": 1, "Greater": 1, "Not": 1, "And": 1, "Or": 1, "Sin": 1, "Cos": 1, "HardSigmoid": 3,
               "Elu": 3, "Selu": 3, "Softplus": 3, "PRelu": 2}
ACTIVATIONS = {"Relu", "LeakyRelu", "Sigmoid", "Tanh", "Gelu", "HardSwish", "Softmax", "LogSoftmax", "Clip",
               "HardSigmoid", "Elu", "Selu", "Softplus", "PRelu"}
REDUCTIONS = {"ReduceMean", "ReduceSum", "ReduceMax", "ReduceMin", "ReduceProd", "ReduceL2", "ReduceSumSquare"}
NORM_FLOPS = {"BatchNormalization": 2, "LayerNormalization": 5, "GroupNormalization": 5,
              "InstanceNormalization": 5, "SimplifiedLayerNormalization": 4, "RMSNormalization": 4}
FREE = {"Reshape", "Flatten", "Transpose", "Concat", "Gather", "GatherElements", "Unsqueeze", "Squeeze", "Shape",
        "Constant", "ConstantOfShape", "Identity", "Dropout", "Cast", "Slice", "Split", "Expand", "Tile", "Pad",
        "Range", "Size", "NonZero", "ScatterND", "Trilu", "CastLike"}
GATES = {"LSTM": 4, "GRU": 3, "RNN": 1}


def _import_onnx() -> Any:
    try:
        import onnx
    except ImportError:
        raise LoadFailure("reading ONNX models needs the onnx package: pip install netcost[onnx]",
                          kind=FailureKind.USAGE) from None
    return onnx


def onnx_report(path: str, specs: Sequence[tuple[tuple[int, ...], str]] | None = None, dtype: str | None = None,
                batch_size: int | None = None) -> CostReport:
    return evaluate_graph(onnx_graph(path, specs, dtype, batch_size))


def onnx_graph(path: str, specs: Sequence[tuple[tuple[int, ...], str]] | None = None, dtype: str | None = None,
               batch_size: int | None = None) -> Graph:
    """The ONNX graph as NetCost's: one opaque node per ONNX node (costs measured from its shapes), edges from
    value names, initializers as the parameters of the first node that reads them."""
    name = Path(path).name
    must_be_file(path)
    onnx = _import_onnx()
    try:
        model = onnx.load(path)
    except Exception as e:
        what = sniff(path)
        why = f"it holds {what.words}" if what is not FileKind.UNKNOWN else \
            f"{type(e).__name__}: {str(e).splitlines()[0][:160]}"
        raise LoadFailure(f"{name} is not an ONNX model: {why}", kind=FailureKind.FORMAT) from None
    if not model.graph.node:
        raise LoadFailure(f"{name} is not an ONNX model (no graph nodes)", kind=FailureKind.FORMAT)
    graph = model.graph
    inits = {i.name: tuple(i.dims) for i in graph.initializer}
    inputs = [i for i in graph.input if i.name not in inits]
    if specs:
        if len(specs) != len(inputs):
            raise LoadFailure(f"{name} takes {len(inputs)} input(s); {len(specs)} --input given",
                              kind=FailureKind.USAGE)
        for value, (shape, _) in zip(inputs, specs, strict=True):
            dims = value.type.tensor_type.shape.dim
            del dims[:]
            for d in shape:
                dims.add().dim_value = d
    elif batch_size:
        for value in inputs:
            dims = value.type.tensor_type.shape.dim
            if dims:
                dims[0].Clear()
                dims[0].dim_value = batch_size
    for init in graph.initializer:  # shape inference copies the model: leave big weights behind (dims are kept)
        if prod(init.dims) > 4096 and init.HasField("raw_data"):
            init.ClearField("raw_data")
    try:
        model = onnx.shape_inference.infer_shapes(model)
    except Exception as e:
        raise LoadFailure(f"{name}: ONNX shape inference failed ({str(e).splitlines()[0][:200]})",
                          kind=FailureKind.MODEL) from None
    graph = model.graph
    shapes: dict[str, tuple[int, ...]] = dict(inits)
    for v in [*graph.input, *graph.value_info, *graph.output]:
        dims = v.type.tensor_type.shape.dim
        shapes.setdefault(v.name, tuple(d.dim_value if d.HasField("dim_value") else 1 for d in dims))
    dtype = dtype or "float32"
    elem = DTYPE_BYTES[dtype]
    kinds = {v.name: _kind(v.type.tensor_type.elem_type) for v in [*graph.input, *graph.value_info, *graph.output]}
    owner: set[str] = set()
    taken = {v.name for v in inputs}
    producer: dict[str, Ref] = {v.name: Ref(v.name) for v in inputs}
    nodes: list[Node] = []
    for i, node in enumerate(graph.node):
        label = unique_name(node.name or f"{node.op_type}_{i}", taken)
        taken.add(label)
        op = node.op_type
        ins = [shapes.get(x, ()) for x in node.input]
        out = shapes.get(node.output[0], ()) if node.output else ()
        cost = None if op in FREE else _node_cost(node, ins, out, inits)
        category, o, buffers_idx = cost if cost is not None else ("other", Out(out), set())
        params = buffers = 0
        for j, x in enumerate(node.input):
            if x in inits and x not in owner:
                owner.add(x)
                if j in buffers_idx:
                    buffers += prod(inits[x])
                else:
                    params += prod(inits[x])
        if cost is None:  # no arithmetic (a reshape) or no formula: no cost of its own, as it always was
            totals = Totals()
        else:
            read = sum(prod(s) for x, s in zip(node.input, ins, strict=False) if x) * elem
            written = sum(prod(shapes.get(y, ())) for y in node.output if y) * elem
            o.params = params
            peers = peer_figures(category, o, params)
            totals = Totals(params=params, trainable_params=params, buffers=buffers, macs=o.macs,
                            flops=netcost_flops(o), bias_adds=o.bias_adds, elementwise_flops=o.elementwise,
                            attention_macs=o.attention_macs, param_bytes=params * elem, activation_bytes=written,
                            read_bytes=read, written_bytes=written, memory_access_bytes=read + written, **peers)
        edges = [(x, s) for x, s in zip(node.input, ins, strict=False) if x in producer]
        outs = tuple((shapes.get(y, ()), kinds.get(y, "float")) for y in node.output if y)
        unsupported = ((op, 1),) if cost is None and op not in FREE else ()
        m = Measured(tuple((s, kinds.get(x, "float")) for x, s in edges), outs, totals, category, unsupported)
        nodes.append(Node(label, op, {}, tuple(producer[x] for x, _ in edges), name=label, measured=m, label=op))
        for k, y in enumerate(y for y in node.output if y):
            producer[y] = Ref(label, k)
    graph_inputs = tuple(GraphInput(v.name, shapes.get(v.name, ()), _kind(v.type.tensor_type.elem_type))
                         for v in inputs)
    outputs = tuple(producer[v.name] for v in graph.output if v.name in producer)
    n_unsupported = sum(1 for n in nodes if n.measured and n.measured.unsupported)
    warnings = [f"{n_unsupported} node(s) have no cost formula and are listed as unsupported"] if n_unsupported \
        else []
    return Graph(tuple(nodes), graph_inputs, outputs, name=name, dtype=dtype,
                 source={"kind": "onnx", "warnings": warnings})


def _kind(elem_type: int) -> str:
    """ONNX element types as NetCost element kinds (float types follow the document dtype)."""
    return {6: "int32", 7: "int64", 9: "bool", 2: "uint8", 3: "int8"}.get(elem_type, "float")


def _attr(node: Any, key: str, default: Any) -> Any:
    for a in node.attribute:
        if a.name == key:
            if a.ints:
                return list(a.ints)
            return a.i if a.type == 2 else a.f if a.type == 1 else a.s.decode() if a.type == 3 else default
    return default


def _node_cost(node: Any, ins: list[tuple[int, ...]], out: tuple[int, ...], inits: dict[str, tuple[int, ...]]
               ) -> tuple[str, Out, set[int]] | None:
    """(category, cost, indices of inputs that are buffers, not parameters), or None when unsupported."""
    op = node.op_type
    n_out = prod(out) if out else 0
    has_bias = len(node.input) > 2 and bool(node.input[2])
    if op == "Conv":
        w = ins[1]
        macs = n_out * prod(w[1:])
        return "conv", Out(out, macs=macs, bias_adds=n_out if has_bias else 0), set()
    if op == "ConvTranspose":
        w = ins[1]
        macs = prod(ins[0]) * prod(w[1:])
        return "conv", Out(out, macs=macs, bias_adds=n_out if has_bias else 0), set()
    if op == "Gemm":
        a = ins[0]
        k = a[0] if _attr(node, "transA", 0) else a[-1]
        return "linear", Out(out, macs=n_out * k, bias_adds=n_out if has_bias else 0), set()
    if op == "MatMul":
        k = ins[0][-1] if ins[0] else 1
        macs = n_out * k
        param = node.input[1] in inits
        return ("linear" if param else "attention"), Out(out, macs=macs, attention_macs=0 if param else macs), set()
    if op in GATES:
        x, w = ins[0], ins[1]
        g, dirs, hidden = GATES[op], w[0], w[1] // GATES[op]
        steps = x[0] * x[1]
        macs = steps * dirs * (g * hidden * x[2] + g * hidden * hidden)
        bias = steps * dirs * 2 * g * hidden if len(node.input) > 3 and node.input[3] else 0
        return "recurrent", Out(out, macs=macs, bias_adds=bias,
                                elementwise=steps * dirs * GATE_ELEMENTWISE[op] * hidden), set()
    if op in NORM_FLOPS:
        n = prod(ins[0])
        return "norm", Out(out, elementwise=NORM_FLOPS[op] * n), ({3, 4} if op == "BatchNormalization" else set())
    if op in ("MaxPool", "AveragePool"):
        k = prod(_attr(node, "kernel_shape", [1]))
        return "pool", Out(out, elementwise=n_out * (k - 1 if op == "MaxPool" else k)), set()
    if op in ("GlobalAveragePool", "GlobalMaxPool"):
        n = prod(ins[0])
        return "pool", Out(out, elementwise=n + (n_out if "Average" in op else 0)), set()
    if op in ELEMENTWISE:
        return ("activation" if op in ACTIVATIONS else "other"), Out(out, elementwise=ELEMENTWISE[op] * n_out), set()
    if op in REDUCTIONS:
        return "other", Out(out, elementwise=prod(ins[0]) if ins else n_out), set()
    return None
