"""Which nodes the mask group takes (costing.mask_plumbing), on hand-made graphs."""

from __future__ import annotations

from netcost.costing.graph import Measured, Node, Ref
from netcost.costing.mask_plumbing import mask_scopes
from netcost.costing.records import Totals


def _chain(opaque: bool, scope: str = "model") -> list[Node]:
    m = Measured((), (), Totals()) if opaque else None
    return [Node(f"{scope}.arange", "arange", scope=scope),
            Node(f"{scope}.cumsum", "cumsum", inputs=(Ref(f"{scope}.arange"),), scope=scope, measured=m),
            Node(f"{scope}.le", "le", inputs=(Ref(f"{scope}.cumsum"), Ref(f"{scope}.arange")), scope=scope,
                 measured=m),
            Node(f"{scope}.pos", "unsqueeze", inputs=(Ref(f"{scope}.arange"),), scope=scope)]


KINDS = {"model.arange": ("int64",), "model.cumsum": ("int64",), "model.le": ("bool",), "model.pos": ("int64",)}


def test_drawn_index_chain_that_ends_in_a_bool_is_grouped() -> None:
    # cumsum and le are opaque (drawn, as Hugging Face's mask helpers are): grouped under model.mask
    moves = mask_scopes(_chain(opaque=True), KINDS, ("input_ids",), (), {"", "model"})
    assert moves == {"model.arange": "model.mask", "model.cumsum": "model.mask", "model.le": "model.mask"}
    # `pos` reaches no bool (position ids): it stays


def test_undrawn_constants_and_taken_names_are_left_alone() -> None:
    assert mask_scopes(_chain(opaque=False), KINDS, ("input_ids",), (), {""}) == {}  # nothing on show to fold
    assert mask_scopes(_chain(opaque=True), KINDS, ("x",), (), {"model.mask"}) == {}  # a module of that name
    assert mask_scopes(_chain(opaque=True), KINDS, ("x",), ("model.le",), {""}) == {}  # a mask it returns


def test_a_float_bias_made_from_the_mask_joins_it() -> None:
    nodes = [*_chain(opaque=True), Node("model.bias", "where", inputs=(Ref("model.le"),), scope="model"),
             Node("model.h", "add", inputs=(Ref("model.bias"), Ref("x")), scope="model")]
    kinds = {**KINDS, "model.bias": ("float",), "model.h": ("float",)}
    moves = mask_scopes(nodes, kinds, ("x",), (), {""})
    assert moves.get("model.bias") == "model.mask" and "model.h" not in moves  # h reads the data too
