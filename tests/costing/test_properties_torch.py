"""The engine against real torch modules: random specs, built on the meta device, shape / numel / FlopCounterMode.

Differential: for every drawn case, torch either runs it, and then the engine must give the same output shape,
parameter count, buffer count and MACs (FlopCounterMode's FLOPs / 2: conv, linear, recurrent and attention all
decompose to mm/bmm/addmm/convolution on meta), or torch refuses it, and then the engine must raise `LayerError`.
The strategies are built to be valid most of the time; `test_strategies_are_mostly_valid` keeps them honest.
"""

from __future__ import annotations

import pytest
from hypothesis import given, note, settings
from hypothesis import strategies as st
from layer_strategies import STRATEGIES, case
from torch_reference import measure

from netcost.costing import LayerError, LayerSpec, cost_layer, kinds


def _torch(c):
    try:
        return measure(c), None
    except Exception as e:  # torch's refusal (ValueError, RuntimeError, AssertionError, ...)
        return None, e


def _engine(c):
    try:
        return cost_layer(LayerSpec(c.type, c.spec_args), 0, c.shape), None
    except LayerError as e:
        return None, e


def test_every_registered_kind_has_a_strategy():
    assert set(kinds()) == set(STRATEGIES)


@pytest.mark.parametrize("type_", sorted(STRATEGIES))
@given(data=st.data())
def test_engine_matches_torch(type_, data):
    c = data.draw(case(type_))
    note(f"{c.type} kwargs={c.kwargs} spec={c.spec_args} input={c.shape}")
    ref, torch_error = _torch(c)
    row, engine_error = _engine(c)
    if ref is None:
        assert engine_error is not None, f"torch refuses ({torch_error}) but the engine accepts: {row}"
        return
    assert engine_error is None, f"torch runs it (-> {ref}) but the engine refuses: {engine_error}"
    assert row.output_shape == ref.shape
    assert row.params == ref.params
    assert row.buffers == ref.buffers
    assert row.macs == ref.macs
    assert row.flops >= 2 * row.macs
    # inferred sizes are reported with the value torch was built with
    for name in set(c.kwargs) - set(c.spec_args):
        assert name in row.inferred
        assert list(row.args[name]) == list(c.kwargs[name]) if isinstance(row.args[name], (list, tuple)) \
            else row.args[name] == c.kwargs[name]


@pytest.mark.parametrize("type_", sorted(STRATEGIES))
def test_strategies_are_mostly_valid(type_):
    """The differential test above is only worth something if most drawn cases are valid torch modules."""
    valid: list[bool] = []

    @settings(max_examples=60, database=None, derandomize=True)
    @given(c=case(type_))
    def draw(c):
        valid.append(_torch(c)[0] is not None)

    draw()
    assert sum(valid) >= 0.6 * len(valid), f"only {sum(valid)} of {len(valid)} drawn {type_} cases are valid"
