"""`netcost export-torch`: runnable PyTorch source of a graph (a layer list, a graph file, a traced model, with
its edits), so that counting the generated file gives the same totals.

Layer nodes become torch.nn modules built from their resolved arguments (inferred sizes written out); functional
nodes become calls of the aten op they are (`torch.ops.aten.add.Tensor(...)`), the exact op the trace saw;
parameters and buffers that such ops read become the module's own. Opaque nodes (no formula, only the costs
measured when traced) cannot be written as code: the export refuses and names them.
"""

from __future__ import annotations

import keyword
import math
import re
from enum import Enum
from typing import Any

from netcost.costing import Network, evaluate
from netcost.costing.chain import graph_from_network
from netcost.costing.graph import Graph, Node, Ref
from netcost.costing.graph_eval import evaluate_graph
from netcost.costing.registry import kind

from .retrace import constructor_args

_DWS_CLASS = '''

class DepthwiseSeparableConv{n}d(nn.Module):
    """The article's block: a depthwise conv (groups = in_channels) then a 1x1 pointwise conv."""

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1, bias=False,
                 padding_mode="zeros"):
        super().__init__()
        self.depthwise = nn.Conv{n}d(in_channels, in_channels, kernel_size, stride=stride, padding=padding,
                                   dilation=dilation, groups=in_channels, bias=bias, padding_mode=padding_mode)
        self.pointwise = nn.Conv{n}d(in_channels, out_channels, 1, bias=bias)

    def forward(self, x):
        return self.pointwise(self.depthwise(x))
'''

_HF_CONV1D_CLASS = '''

class Conv1D(nn.Module):
    """Hugging Face's Conv1D (transformers.pytorch_utils, GPT-2): a linear layer with its weight stored transposed
    (nx x nf), always with a bias."""

    def __init__(self, nf, nx):
        super().__init__()
        self.nf = nf
        self.nx = nx
        self.weight = nn.Parameter(torch.zeros(nx, nf))
        self.bias = nn.Parameter(torch.zeros(nf))

    def forward(self, x):
        size_out = x.size()[:-1] + (self.nf,)
        return torch.addmm(self.bias, x.view(-1, x.size(-1)), self.weight).view(size_out)
'''

_LAYER_NORM_2D_CLASS = '''

class LayerNorm2d(nn.LayerNorm):
    """LayerNorm over the channels of a (N, C, H, W) map (ConvNeXt's): channels-last, normalise, back."""

    def forward(self, x):
        x = nn.functional.layer_norm(x.permute(0, 2, 3, 1), self.normalized_shape, self.weight, self.bias, self.eps)
        return x.permute(0, 3, 1, 2)
'''

_CUSTOM_LAYER_NORM_CLASS = '''

class CustomLayerNorm(nn.LayerNorm):
    """nn.LayerNorm's arithmetic in a subclass with its own forward (timm's LayerNorm), as the model had it."""

    def forward(self, x):
        return nn.functional.layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)
'''


# A layer list passes a recurrent layer's output sequence on, and runs attention as self-attention.
_WRAPPERS = {"recurrent": "SequenceOutput", "attention": "SelfAttention"}
_WRAPPER_SOURCE = {
    "recurrent": '''

class SequenceOutput(nn.Module):
    """Passes a recurrent layer's output sequence on (drops the hidden state)."""

    def __init__(self, rnn):
        super().__init__()
        self.rnn = rnn

    def forward(self, x):
        return self.rnn(x)[0]
''',
    "attention": '''

class SelfAttention(nn.Module):
    """Runs nn.MultiheadAttention as self-attention on the incoming sequence."""

    def __init__(self, attn):
        super().__init__()
        self.attn = attn

    def forward(self, x):
        return self.attn(x, x, x, need_weights=False)[0]
''',
}


def _literal(v: Any) -> str:
    """A Python literal for an argument value. Tuples stay tuples: some torch constructors (nn.Upsample's
    scale_factor) take a tuple but not a list; a 1-tuple becomes its one value."""
    if isinstance(v, (tuple, list)):
        return _literal(v[0]) if len(v) == 1 else "(" + ", ".join(_literal(e) for e in v) + ")"
    return _python(v)


def _python(v: Any) -> str:
    """`repr(v)`, but a non-finite float as `float('-inf')` (its repr, `-inf`, is no Python literal), also
    inside lists and tuples."""
    if isinstance(v, float) and not math.isfinite(v):
        return f"float('{v}')"
    if isinstance(v, list):
        return "[" + ", ".join(_python(e) for e in v) + "]"
    if isinstance(v, tuple):
        return "(" + ", ".join(_python(e) for e in v) + ("," if len(v) == 1 else "") + ")"
    return repr(v)


def _comment(text: str) -> str:
    """A name as it may safely appear in a comment (repr escapes newlines, so it cannot end the comment)."""
    return repr(text)


def to_torch_source(net: Network) -> str:
    """Python source defining `build()` and `example_input()` for a layer list (evaluated first, so inferred
    sizes are written out and an invalid list is refused)."""
    evaluate(net)  # raises LayerError for an invalid list, naming the layer
    return graph_to_torch_source(graph_from_network(net))


def _ident(name: str, taken: set[str]) -> str:
    base = re.sub(r"\W", "_", name).strip("_") or "node"
    if base[0].isdigit() or keyword.iskeyword(base):
        base = f"n_{base}"
    out, k = base, 2
    while out in taken:
        out, k = f"{base}_{k}", k + 1
    taken.add(out)
    return out


def module_attributes(graph: Graph) -> dict[str, str]:
    """Node id -> the attribute of the generated Model that holds its torch.nn module (one per module: the calls
    of one module share it). Deterministic, so a measurement of the generated file maps back to the rows."""
    taken: set[str] = set()
    by_key: dict[str, str] = {}
    out: dict[str, str] = {}
    for n in graph.nodes:
        if n.op in ("parameter", "buffer", "constant") or n.opaque or kind(n.op).functional:
            continue
        key = n.module or n.id
        if key not in by_key:
            by_key[key] = _ident(f"m_{n.display_name}", taken)
        out[n.id] = by_key[key]
    return out


def graph_to_torch_source(graph: Graph) -> str:
    """Python source defining `Model`, `build()` and `example_input()` for `graph`. Raises ValueError for a graph
    that cannot be written (an opaque node, a node that does not evaluate)."""
    report = evaluate_graph(graph)
    if report.problems:
        p = report.problems[0]
        raise ValueError(f"{p.name}: {p.message}")
    read = {r.node for n in graph.nodes for r in n.inputs} | {r.node for r in graph.output_refs}
    python_reads = {n.id for n in graph.nodes if _python_read(n, read)}
    opaque = [n.display_name for n in graph.nodes if n.opaque and n.id not in python_reads]
    if opaque:
        raise ValueError(f"{len(opaque)} node(s) have no formula, only the costs measured when traced, and cannot be "
                         f"written as PyTorch code: {', '.join(opaque[:5])}{' ...' if len(opaque) > 5 else ''}")
    rows = report.by_id
    taken: set[str] = set()
    var: dict[str, str] = {gi.name: _ident(f"x_{gi.name}", taken) for gi in graph.inputs}
    attrs: dict[str, str] = {}  # module key (or node id) -> attribute name
    modules = module_attributes(graph)
    init: list[str] = []
    body: list[str] = []
    helpers: set[str] = set()
    multi: set[str] = set()  # nodes whose value is a tuple of outputs (split, native_batch_norm, ...)

    def _value(r: Ref) -> str:
        return f"{var[r.node]}[{r.index}]" if r.node in multi else var[r.node]

    device_of = var[graph.inputs[0].name] if graph.inputs else None
    for n in graph.nodes:
        row = rows[n.id]
        key = n.module or n.id
        ins = [_value(r) for r in n.inputs]
        out = _ident(f"v_{n.display_name}", taken)
        if n.id in python_reads:
            body.append(f"        # {_comment(n.display_name)}: a number Python read (.item()), its branch taken")
            continue
        if n.op in ("parameter", "buffer", "constant"):
            if n.shares:
                raise ValueError(f"{n.display_name}: a parameter tied to another layer cannot be written as code")
            attr = attrs.setdefault(key, _ident(f"p_{n.display_name}", taken))
            shape = list(row.output_shape)
            dtype = n.args.get("dtype", "float")
            dt = "" if dtype == "float" else f", dtype={_torch_enum(dtype, TorchEnum.DTYPE, n.display_name)}"
            if n.op == "parameter":
                init.append(f"        self.{attr} = nn.Parameter(torch.zeros({shape}{dt}), "
                            f"requires_grad={bool(n.trainable)})  # {_comment(n.display_name)}")
            else:
                persistent = "" if n.op == "buffer" else ", persistent=False"
                init.append(f"        self.register_buffer({attr!r}, torch.zeros({shape}{dt}){persistent})")
            body.append(f"        {out} = self.{attr}")
        elif kind(n.op).functional:
            call, several = _aten_call(n, ins, device_of)
            body.append(f"        {out} = {call}")
            if several:
                multi.add(n.id)
        else:
            if key not in attrs:
                attrs[key] = modules[n.id]
                expr = _module_expr(n, row, helpers)
                init.append(f"        self.{attrs[key]} = {expr}  # {_comment(n.display_name)}")
                for other, _ in n.shares:  # a tied weight: the same tensor, as in the traced model
                    holder = graph.node(other)
                    if (holder.module or holder.id) in attrs:
                        init.append(f"        self.{attrs[key]}.weight = self.{attrs[holder.module or holder.id]}"
                                    f".weight")
            call = f"self.{attrs[key]}({ins[0]})" if ins else f"self.{attrs[key]}()"
            body.append(f"        {out} = {call}")
        var[n.id] = out
    outs = [_value(r) for r in graph.output_refs]
    lines = ['"""Generated by `netcost export-torch`."""', "", f"# from {_comment(graph.name)}", "",
             "import torch", "from torch import nn", ""]
    for h in sorted(helpers):
        lines += [_HELPERS[h].rstrip(), ""]
    lines += ["", "class Model(nn.Module):", "    def __init__(self) -> None:", "        super().__init__()",
              *init, "", f"    def forward(self, {', '.join(var[gi.name] for gi in graph.inputs)}):", *body,
              f"        return {outs[0] if len(outs) == 1 else '(' + ', '.join(outs) + ',)'}", "", "",
              "def build() -> nn.Module:", "    return Model()", "", "", "def example_input():"]
    examples = [_example(graph, gi.name, gi.shape, gi.dtype) for gi in graph.inputs]
    lines.append(f"    return {examples[0] if len(examples) == 1 else '(' + ', '.join(examples) + ',)'}")
    lines += ["", "", 'if __name__ == "__main__":', "    model = build()", "    print(model)",
              "    x = example_input()", "    y = model(*x) if isinstance(x, tuple) else model(x)",
              "    print(tuple(y.shape))", ""]
    return "\n".join(lines)


def _python_read(n: Node, read: set[str]) -> bool:
    """An opaque op that gave Python a number (`.item()`, aten `_local_scalar_dense`): no tensor comes out, nothing
    reads it, it costs nothing. The control flow it decided is already the traced path: there is no code to write."""
    m = n.measured
    return m is not None and not m.outputs and n.id not in read and m.totals.flops == 0 and m.totals.macs == 0


def _aten_call(n: Node, ins: list[str], device: str | None) -> tuple[str, bool]:
    """The call of the aten overload the node is, and whether it returns several values."""
    import torch  # heavy: only for a graph with functional (aten) nodes to write

    packet = getattr(torch.ops.aten, n.op)
    wanted = n.args.get("_overload", "default")
    if not isinstance(wanted, str) or wanted not in packet.overloads():  # a graph file names it: check, never getattr
        raise ValueError(f"{n.display_name}: _overload={str(wanted)[:40]!r} is not an overload of aten.{n.op} (it has: "
                         f"{', '.join(packet.overloads())})")
    op = getattr(packet, wanted)
    if "_overload" not in n.args and n.inputs and "Tensor" in packet.overloads() \
            and not any("Tensor" in str(a.type) for a in op._schema.arguments):
        op = packet.Tensor  # a hand-written `add`: aten.add.default is the Scalar + Scalar overload
    overload = op._overloadname
    pos: list[str] = []
    kw: list[str] = []
    k = 0
    for a in op._schema.arguments:
        t = str(a.type)
        if "Tensor" in t:
            if a.name in n.args:  # an absent optional tensor, or a number where a tensor goes (`x + 0`)
                value = _python(n.args[a.name])
            elif t.startswith("List[") or t.startswith("Tensor[]") or "[]" in t:  # Tensor?[] too (index)
                value = "[" + ", ".join(ins[k:]) + "]"
                k = len(ins)
            elif k < len(ins):
                value = ins[k]
                k += 1
            else:
                continue
        elif a.name == "device" and device is not None:
            value = f"{device}.device"
        elif a.name in n.args:
            value = _literal_arg(n.args[a.name], a.name, n.display_name)
        else:
            continue
        if a.kwarg_only:
            kw.append(f"{a.name}={value}")
        else:
            pos.append(value if not kw else f"{a.name}={value}")
    returns = op._schema.returns
    kinds = [str(r.type) for r in returns]
    several = len(kinds) > 1 or (len(kinds) == 1 and ("[]" in kinds[0] or "List" in kinds[0]))
    return f"torch.ops.aten.{n.op}.{overload}({', '.join(pos + kw)})", several


class TorchEnum(Enum):
    """torch's named constants an aten argument takes (the schema names them `int`: known by argument name)."""

    DTYPE = "dtype"
    MEMORY_FORMAT = "memory format"
    LAYOUT = "layout"


_ENUM_ARGS = {"dtype": TorchEnum.DTYPE, "memory_format": TorchEnum.MEMORY_FORMAT, "layout": TorchEnum.LAYOUT}


def _torch_enum(v: Any, which: TorchEnum, node: str) -> str:
    """`torch.NAME` for a name that is one of torch's constants of that kind; anything else (a graph file's string
    is data, never code) is refused."""
    import torch  # heavy: only for a graph that names a torch dtype or memory format

    cls = {TorchEnum.DTYPE: torch.dtype, TorchEnum.MEMORY_FORMAT: torch.memory_format,
           TorchEnum.LAYOUT: torch.layout}[which]
    if isinstance(v, str) and v.isidentifier() and not v.startswith("_") and isinstance(getattr(torch, v, None), cls):
        return f"torch.{v}"
    raise ValueError(f"{node}: {v!r} is not a torch {which.value} name (as torch.float16): it is not written as "
                     f"code")


def _literal_arg(v: Any, name: str, node: str) -> str:
    """An aten argument as code: a dtype, memory format or layout name as a checked torch constant, else a
    literal (repr of JSON data: numbers, strings, lists)."""
    which = _ENUM_ARGS.get(name)
    if which is not None and isinstance(v, str):
        return _torch_enum(v, which, node)
    return _python(v)


def _module_expr(n: Node, row: Any, helpers: set[str]) -> str:
    args = constructor_args(n, row)
    call = ", ".join(f"{k}={_literal(v)}" for k, v in args.items())
    if n.op in _HELPERS:  # a layer type that is no torch.nn class: the generated file defines it
        helpers.add(n.op)
        expr = f"{n.op}({call})"
    else:
        expr = f"nn.{n.op}({call})"
    if row.category in _WRAPPERS:
        helpers.add(row.category)
        expr = f"{_WRAPPERS[row.category]}({expr})"
    if not n.trainable:
        expr += ".requires_grad_(False)"  # frozen
    return expr


def _example(graph: Graph, name: str, shape: tuple[int, ...], dtype: str) -> str:
    if dtype == "float":
        return f"torch.randn({list(shape)})"
    vocab = 2
    for n in graph.nodes:
        if n.op == "Embedding" and n.inputs and n.inputs[0].node == name:
            vocab = int(n.args["num_embeddings"])
            break
    return f"torch.randint(0, {vocab}, {list(shape)})"


_HELPERS = {**_WRAPPER_SOURCE, **{f"DepthwiseSeparableConv{k}d": _DWS_CLASS.format(n=k) for k in (1, 2)},
            "Conv1D": _HF_CONV1D_CLASS, "LayerNorm2d": _LAYER_NORM_2D_CLASS,
            "CustomLayerNorm": _CUSTOM_LAYER_NORM_CLASS}
