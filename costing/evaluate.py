"""Evaluate a network: shapes flow layer by layer, each row gets a `LayerCost`, totals are exact integer sums.

`evaluate(net, previous, first_dirty)` re-evaluates only rows >= first_dirty; for an edit that leaves the layer
count unchanged it also stops as soon as a row's input shape and spec are what they were (everything after is
then unchanged), and adjusts the totals by difference. That is what lets the GUI recompute on every keystroke.
"""

from __future__ import annotations

from math import prod

from .args import check_output_shape, coerce_args
from .conventions import netcost_flops, peer_figures
from .dtypes import DTYPE_BYTES, TOKEN_BYTES
from .errors import LayerError, SpecError
from .records import CostReport, LayerCost, SummaryFigures, Totals, empty_categories
from .registry import Out, kind
from .spec import LayerSpec, Network
from .storage import check_allocatable

Shape = tuple[int, ...]


def _memory(out: Out, x: Shape, elem: int) -> tuple[int, int, int]:
    """(read, written, activation) bytes of one (non-composite) cost."""
    read_in = prod(x) * (TOKEN_BYTES if out.token_input else elem)
    weights = out.params if out.weight_reads is None else out.weight_reads
    written = 0 if out.view else prod(out.shape) * elem
    return read_in + weights * elem, written, written


def _totals(out: Out, x: Shape, category: str, trainable: bool, elem: int) -> Totals:
    if out.parts:
        read = written = 0
        prev = x
        for _, _, part in out.parts:
            r, w, _ = _memory(part, prev, elem)
            read, written, prev = read + r, written + w, part.shape
        activation = written
    else:
        read, written, activation = _memory(out, x, elem)
    peers = peer_figures(category, out, out.params)
    return Totals(
        params=out.params, trainable_params=out.params if trainable else 0,
        frozen_params=0 if trainable else out.params, buffers=out.buffers, macs=out.macs,
        flops=netcost_flops(out), bias_adds=out.bias_adds, elementwise_flops=out.elementwise,
        attention_macs=out.attention_macs, param_bytes=out.params * elem, activation_bytes=activation,
        read_bytes=read, written_bytes=written, memory_access_bytes=read + written, **peers)


def cost_layer(spec: LayerSpec, index: int, x: Shape, dtype: str = "float32") -> LayerCost:
    """Cost one layer at input shape `x` (with batch). Raises `LayerError` naming the layer and field."""
    name = spec.display_name(index)
    try:
        k = kind(spec.type)
    except (KeyError, TypeError):  # TypeError: a type that is not even a string (unhashable)
        raise LayerError(f"unknown layer type {spec.type!r}", "type", index, name, str(spec.type)) from None
    try:
        args = spec.checked_args(lambda raw: coerce_args(k.args, raw, k.dims))
        out = k.fn(args, x)
        check_output_shape(out.shape)  # issue 13: sizes above int64 are refused, outputs included
        check_allocatable(out, DTYPE_BYTES[dtype])
    except SpecError as e:
        raise LayerError(e.reason, e.field, index, name, spec.type) from None
    except (TypeError, ValueError, ArithmeticError, IndexError, KeyError) as e:  # never let a value crash a view
        raise LayerError(f"cannot evaluate these arguments ({e})", None, index, name, spec.type) from None
    elem = DTYPE_BYTES[dtype]
    resolved = {**args, **out.inferred}
    parts = tuple(
        LayerCost(index, pname, ptype, k.category, pin, p.shape, _totals(p, pin, k.category, spec.trainable, elem),
                  path=f"{name}.{pname}", depth=1)
        for (pname, ptype, p), pin in zip(out.parts, _part_inputs(out, x), strict=True)) if out.parts else ()
    return LayerCost(index=index, name=name, type=spec.type, category=k.category, input_shape=x,
                     output_shape=out.shape, totals=_totals(out, x, k.category, spec.trainable, elem),
                     args=resolved, inferred=tuple(out.inferred), path=name, parts=parts)


def _part_inputs(out: Out, x: Shape) -> list[Shape]:
    shapes, prev = [], x
    for _, _, part in out.parts:
        shapes.append(prev)
        prev = part.shape
    return shapes


def evaluate(net: Network, previous: CostReport | None = None, first_dirty: int = 0) -> CostReport:
    """Cost every layer of `net`. With `previous` (a report of an earlier version of the same document under the
    same settings), rows before `first_dirty` are reused and only the rest is recomputed."""
    prev_net = previous.network if previous is not None else None
    reusable = (
        prev_net is not None
        and prev_net.batched_input == net.batched_input
        and prev_net.dtype == net.dtype
        and 0 <= first_dirty <= min(len(previous.layers), len(net.layers))
    )
    if not reusable:
        previous, first_dirty = None, 0
    n = len(net.layers)
    rows: list[LayerCost] = list(previous.layers[:first_dirty]) if previous else []
    x = rows[-1].output_shape if rows else net.batched_input
    stop = n
    same_length = previous is not None and len(previous.layers) == n
    for i in range(first_dirty, n):
        spec = net.layers[i]
        if (same_length and i > first_dirty and x == previous.layers[i].input_shape
                and spec == prev_net.layers[i]):
            stop = i  # shapes and specs agree from here on: the rest is what it was
            break
        row = cost_layer(spec, i, x, net.dtype)
        rows.append(row)
        x = row.output_shape
    if stop < n:
        rows.extend(previous.layers[stop:])
    if previous is not None:  # adjust the old sums by the rows that changed (exact: integers only)
        old_changed = previous.layers[first_dirty:stop if same_length else len(previous.layers)]
        new_changed = rows[first_dirty:stop]
        old_sum, old_by_cat = sum_layers(old_changed)
        new_sum, new_by_cat = sum_layers(new_changed)
        totals = previous.totals + new_sum - old_sum
        by_category = dict(previous.by_category)
        for c in {r.category for r in old_changed} | {r.category for r in new_changed}:
            by_category[c] = by_category[c] + new_by_cat[c] - old_by_cat[c]
    else:
        totals, by_category = sum_layers(rows)
    return make_report(net.name, ((net.batched_input, _input_dtype(net)),), net.batch_size, net.dtype,
                       tuple(rows), totals, by_category, network=net, input_names=("input",))


def _input_dtype(net: Network) -> str:
    return "int64" if net.layers and net.layers[0].type == "Embedding" else net.dtype


def sum_layers(rows: list[LayerCost] | tuple[LayerCost, ...]) -> tuple[Totals, dict[str, Totals]]:
    """Totals over `rows` and per category (every category present, empty ones zero)."""
    groups: dict[str, list[Totals]] = {}
    for r in rows:
        groups.setdefault(r.category, []).append(r.totals)
    by_category = empty_categories()
    for c, items in groups.items():
        by_category[c] = Totals.sum(items)
    return Totals.sum(r.totals for r in rows), by_category


def make_report(model: str, inputs: tuple[tuple[Shape, str], ...], batch_size: int, dtype: str,
                rows: tuple[LayerCost, ...], totals: Totals, by_category: dict[str, Totals], **extra: object
                ) -> CostReport:
    """Assemble a report; the torchsummary figures follow from the totals (forward + backward = 2 x activations)."""
    elem = DTYPE_BYTES[dtype]
    input_bytes = sum(prod(shape) * (TOKEN_BYTES if dt == "int64" else elem) for shape, dt in inputs)
    summary = SummaryFigures(input_bytes=input_bytes, forward_backward_bytes=2 * totals.activation_bytes,
                             params_bytes=totals.params * elem)
    return CostReport(model=model, inputs=inputs, batch_size=batch_size, dtype=dtype, layers=rows, totals=totals,
                      by_category=by_category, summary=summary, **extra)
