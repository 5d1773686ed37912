"""Sizes a hostile or careless file can hold: every cost is closed-form, and sizes torch cannot build are refused."""

from __future__ import annotations

import pytest

from netcost.costing import LayerError, LayerSpec, Network, cost_layer, evaluate, kinds
from netcost.costing.args import MAX_SIZE
from tests.hang_guard import no_hang


def params_and_macs(type_: str, layers: int) -> tuple[int, int]:
    with no_hang(20, f"{type_} with num_layers={layers}"):
        r = cost_layer(LayerSpec(type_, {"hidden_size": 8, "num_layers": layers, "bidirectional": True}), 0,
                       (2, 5, 4), "float32")
    return r.params, r.macs


@pytest.mark.parametrize("type_", ["LSTM", "GRU", "RNN"])
def test_a_trillion_recurrent_layers_cost_at_once(type_):
    # every layer after the first adds the same; the huge stack must agree with the engine's own small stacks
    p2, m2 = params_and_macs(type_, 2)
    p3, m3 = params_and_macs(type_, 3)
    n = 10**12
    assert params_and_macs(type_, n) == (p2 + (n - 2) * (p3 - p2), m2 + (n - 2) * (m3 - m2))


# every kind, every integer argument at a size no formula may loop over: a cost or a clear error, never a hang
HUGE = 10**12
CASES = [(t, a.name) for t, k in sorted(kinds().items()) for a in k.args if a.kind in ("int", "opt_int")]


@pytest.mark.parametrize(("type_", "arg"), CASES, ids=[f"{t}.{a}" for t, a in CASES])
def test_no_formula_loops_over_a_user_size(type_, arg):
    shape = (1, 4, 8, 8) if type_.endswith("2d") else (1, 4, 8) if type_.endswith(("1d", "RNN", "GRU", "LSTM")) \
        else (1, 4, 8, 8, 8) if type_.endswith("3d") else (1, 4, 8)
    required = {a.name: 2 for a in kinds()[type_].args if a.required}
    spec = LayerSpec(type_, {**required, arg: HUGE})
    with no_hang(20, f"{type_}({arg}={HUGE})"):
        try:
            evaluate(Network((spec,), shape[1:], batch_size=shape[0]))
        except LayerError as e:
            assert str(e)


@pytest.mark.parametrize(("type_", "args"), [("Linear", {"out_features": 2**63}),
                                             ("Conv2d", {"out_channels": 3, "kernel_size": [1, 2**70]}),
                                             ("LSTM", {"hidden_size": 4, "num_layers": 2**64}),
                                             ("Flatten", {"start_dim": -(2**63) - 1})])
def test_sizes_above_int64_are_refused_with_the_reason(type_, args):
    net = Network((LayerSpec(type_, args),), (3, 8, 8) if type_ == "Conv2d" else (5, 4))
    with pytest.raises(LayerError, match=r"larger than torch can build \(sizes are int64"):
        evaluate(net)


def test_the_largest_tensor_torch_allocates_is_accepted():
    """torch refuses a tensor whose bytes overflow int64 ("Storage size calculation overflowed"): Linear(2, 2**60 - 1)
    in float32 is the largest it builds (issue 23: int64 max itself was costed, past int64 in params)."""
    out = MAX_SIZE // 8
    r = cost_layer(LayerSpec("Linear", {"out_features": out}), 0, (1, 2), "float32")
    assert r.params == 2 * out + out
    for too_big in (out + 1, MAX_SIZE):
        with pytest.raises(LayerError, match="more than torch can allocate"):
            cost_layer(LayerSpec("Linear", {"out_features": too_big}), 0, (1, 2), "float32")


def test_network_refuses_an_input_torch_cannot_build():
    with pytest.raises(ValueError, match="int64"):
        Network((), (2**63,))
    with pytest.raises(ValueError, match="int64"):
        Network((), (3,), batch_size=2**63)


def test_an_output_torch_cannot_build_is_refused():
    # found by the fuzz test: the tables then failed on a float overflow of a 4e300-element output
    with pytest.raises(LayerError, match=r"output size 4e\+300 is larger than torch can build"):
        evaluate(Network((LayerSpec("Upsample", {"scale_factor": 1e300}),), (3, 4)))
