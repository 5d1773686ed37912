"""Structure-aware fuzzing of layer-list files: any registered layer type, its own argument names with values from
tiny to far past int64, of the right and wrong types. Every file must end as a report in every table format or as
one clear FormatError / LayerError — never another exception, and never a hang (a formula looping over a size)."""

from __future__ import annotations

import json

import pytest
from hypothesis import Phase, given, note, settings
from hypothesis import strategies as st

from netcost.costing import FormatError, LayerError, evaluate, kinds
from netcost.costing.args import Arg
from netcost.model_io.files import tables
from netcost.model_io.files.layer_file import loads_network
from tests.hang_guard import no_hang

KINDS = kinds()
# a failing case is reported as found (with its file, see note()): shrinking a hang would re-run it for minutes
NO_SHRINK = (Phase.explicit, Phase.reuse, Phase.generate)
SIZES = st.integers(1, 8) | st.sampled_from([10**6, 10**12, 2**63 - 1, 0, -1, 2**63, 10**30])
HUGE = st.sampled_from([10**12, 10**15, 2**62, 2**63 - 1, 2**63, 10**30, -(10**12)])
VALUES = st.one_of(SIZES, SIZES, st.booleans(), st.none(), st.floats(-1e9, 1e9), st.sampled_from([1e300, -1e300]),
                   st.text(max_size=4), st.lists(SIZES, max_size=4))
NAMES = st.one_of(st.just(""), st.text(max_size=8), st.sampled_from(["=cmd|' /C calc'!A0", "a\nb", "\x1b[2J"]))


def typed(arg: Arg, huge: bool) -> st.SearchStrategy:
    """Mostly a value of the argument's own kind (so files get past type checks into the formulas), else junk.
    `huge`: sizes from the far end (10**12 .. int64 and past it)."""
    sizes = HUGE if huge else SIZES
    own = {"int": sizes, "opt_int": sizes, "bool": st.booleans(), "opt_bool": st.booleans(),
           "float": st.floats(0, 1), "opt_float": st.floats(0, 1), "ints": sizes | st.lists(sizes, max_size=3),
           "padding": sizes, "opt_ints": sizes, "shape": sizes, "size": sizes, "opt_sizes": sizes,
           "choice": st.sampled_from(arg.choices) if arg.choices else VALUES}.get(arg.kind, VALUES)
    return st.integers(0, 9).flatmap(lambda pick: VALUES if pick == 0 else own)  # one in ten junk


@st.composite
def layer(draw: st.DrawFn, type_: str | None = None) -> dict:
    type_ = type_ or draw(st.sampled_from(sorted(KINDS)))
    huge = draw(st.booleans())
    item: dict = {"type": type_}
    for arg in KINDS[type_].args:
        if arg.required or draw(st.integers(0, 2)) > 0:
            item[arg.name] = draw(typed(arg, huge))
    if draw(st.integers(0, 19)) == 0:
        item[draw(st.text(min_size=1, max_size=5))] = draw(VALUES)  # an argument that does not exist
    name = draw(NAMES)
    if name:
        item["name"] = name
    return item


def size(draw: st.DrawFn, usual: st.SearchStrategy) -> int:
    """One in eight anything, else what a real input looks like."""
    return draw(SIZES if draw(st.integers(0, 7)) == 0 else usual)


def check(doc: dict) -> None:
    """The file ends as a report in every table format, or as one FormatError / LayerError; never a hang."""
    text = json.dumps(doc)
    note(text)
    with no_hang(5, "loading and costing the file"):
        try:
            net, _ = loads_network(text)
            report = evaluate(net)
        except (FormatError, LayerError) as e:
            assert str(e)
            return
        for fmt in tables.FORMATS.values():
            assert fmt(report)


@pytest.mark.parametrize("type_", sorted(KINDS))
@settings(max_examples=30, phases=NO_SHRINK)
@given(data=st.data())
def test_fuzz_one_layer_of_each_type_at_every_input_rank(type_, data):
    item = data.draw(layer(type_))
    dims = [size(data.draw, st.integers(1, 16)) for _ in range(4)]
    for rank in range(1, 5):  # whichever rank the type accepts is among them
        check({"format": "netcost.layers/1", "input_shape": dims[:rank], "layers": [item]})


@settings(phases=NO_SHRINK)
@given(data=st.data())
def test_fuzz_layer_files_end_as_a_report_or_one_clear_error(data):
    rank = data.draw(st.integers(1, 4))
    check({"format": "netcost.layers/1", "name": data.draw(NAMES),
           "input_shape": [size(data.draw, st.integers(1, 16)) for _ in range(rank)],
           "batch_size": size(data.draw, st.integers(1, 4)),
           "layers": data.draw(st.lists(layer(), min_size=1, max_size=3))})
