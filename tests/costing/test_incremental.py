"""Incremental evaluation: after an edit at row k only rows >= k are recomputed, and the result equals a full one."""

from __future__ import annotations

import importlib
from dataclasses import replace

import pytest
from hypothesis import given, note
from hypothesis import strategies as st

from netcost.costing import LayerError, LayerSpec, Network, evaluate
from netcost.model_io.files import zoo

# `netcost.costing.evaluate` as an attribute is the function (re-exported by the package); the module is in sys.modules
ev = importlib.import_module("netcost.costing.evaluate")


@pytest.fixture
def spy(monkeypatch):
    """Record the row index of every `cost_layer` call made by `evaluate`."""
    calls: list[int] = []
    real = ev.cost_layer

    def recording(spec, index, x, dtype="float32"):
        calls.append(index)
        return real(spec, index, x, dtype)

    monkeypatch.setattr(ev, "cost_layer", recording)
    return calls


def _alexnet() -> Network:
    return zoo.load_layer_list("alexnet")


def test_editing_a_shape_changing_argument_recomputes_from_k(spy):
    net = _alexnet()
    before = evaluate(net)
    spy.clear()
    edited = net.replace_layer(6, net.layers[6].with_arg("out_channels", 320))  # conv3: 384 -> 320 channels
    after = evaluate(edited, before, 6)
    # conv3 and its ReLU change shape; conv4 gets 320 input channels but still writes 256x13x13, so from the
    # ReLU after conv4 on, input shapes and specs are what they were and the old rows are reused
    assert spy == [6, 7, 8]
    assert after.totals.params == before.totals.params - 64 * 9 * (192 + 256)  # 64 fewer 3x3 filters in/out
    assert after == evaluate(edited)


def test_editing_without_shape_change_stops_early(spy):
    net = _alexnet()
    before = evaluate(net)
    spy.clear()
    edited = net.replace_layer(8, net.layers[8].with_arg("bias", True))  # conv4 gains a bias, same output shape
    after = evaluate(edited, before, 8)
    assert spy == [8]  # conv5's input shape and spec are unchanged: the rest is reused
    assert after.totals.params == before.totals.params + 256  # conv4's bias: 256 channels
    assert after == evaluate(edited)


def test_a_report_with_other_settings_is_not_reused(spy):
    net = _alexnet()
    before = evaluate(net)
    spy.clear()
    after = evaluate(net.with_settings(batch_size=2), before, 20)
    assert spy == list(range(21))
    assert after.totals.macs == 2 * before.totals.macs


def test_insert_and_delete(spy):
    net = _alexnet()
    before = evaluate(net)
    spy.clear()
    layers = list(net.layers)
    layers.insert(2, LayerSpec("BatchNorm2d"))
    inserted = replace(net, layers=tuple(layers))
    after = evaluate(inserted, before, 2)
    assert spy == list(range(2, 22)) and after == evaluate(inserted)
    spy.clear()
    removed = replace(net, layers=net.layers[:-1])  # drop fc3
    after = evaluate(removed, before, 20)
    assert spy == [] and after == evaluate(removed)
    assert after.totals.params == 61_264_904 - 4_097_000


# ------------------------------------------------------------------------------------------ random edit scripts
CONV = st.builds(lambda c, k, p, b: LayerSpec("Conv2d", {"out_channels": c, "kernel_size": k, "padding": p,
                                                          "bias": b}),
                 st.integers(1, 8), st.integers(1, 3), st.integers(0, 1), st.booleans())
SIMPLE = st.sampled_from([LayerSpec("ReLU"), LayerSpec("BatchNorm2d"), LayerSpec("Dropout", {"p": 0.1}),
                          LayerSpec("MaxPool2d", {"kernel_size": 2}), LayerSpec("Identity"), LayerSpec("GELU")])
LINEAR = st.builds(lambda n, b: LayerSpec("Linear", {"out_features": n, "bias": b}), st.integers(1, 16),
                   st.booleans())


@st.composite
def alexnet_like(draw) -> Network:
    features = draw(st.lists(st.one_of(CONV, SIMPLE), min_size=1, max_size=10))
    head = draw(st.lists(st.one_of(LINEAR, st.just(LayerSpec("ReLU"))), min_size=1, max_size=5))
    return Network((*features, LayerSpec("Flatten"), *head), (3, draw(st.integers(12, 32)), 24))


@st.composite
def edit(draw, net: Network) -> tuple[Network, int]:
    n = len(net.layers)
    op = draw(st.sampled_from(["arg", "arg", "replace", "insert", "delete"])) if n else "insert"
    k = draw(st.integers(0, n - 1 if op != "insert" else n))
    layers = list(net.layers)
    if op == "arg":
        spec = layers[k]
        key, value = draw(st.sampled_from([("out_channels", st.integers(1, 8)), ("kernel_size", st.integers(1, 3)),
                                           ("padding", st.integers(0, 2)), ("bias", st.booleans()),
                                           ("out_features", st.integers(1, 16)), ("p", st.just(0.3))]))
        if spec.type == "Conv2d" and key in ("out_channels", "kernel_size", "padding", "bias") or \
                spec.type == "Linear" and key in ("out_features", "bias") or spec.type == "Dropout" and key == "p":
            layers[k] = spec.with_arg(key, draw(value))
        else:
            layers[k] = replace(spec, name=f"renamed{k}")
    elif op == "replace":
        layers[k] = draw(st.one_of(CONV, SIMPLE, LINEAR))
    elif op == "insert":
        layers.insert(k, draw(st.one_of(CONV, SIMPLE, LINEAR)))
    else:
        del layers[k]
    return replace(net, layers=tuple(layers)), k


def _full(net: Network):
    try:
        return evaluate(net), None
    except LayerError as e:
        return None, str(e)


@given(data=st.data())
def test_random_edit_scripts_match_full_evaluation(data):
    net = data.draw(alexnet_like())
    report, error = _full(net)
    steps = 0
    while steps < 6:
        steps += 1
        edited, k = data.draw(edit(net))
        note(f"edit at {k}: {edited.layers}")
        full, full_error = _full(edited)
        calls: list[int] = []
        real = ev.cost_layer

        def recording(spec, index, x, dtype="float32", calls=calls, real=real):
            calls.append(index)
            return real(spec, index, x, dtype)

        ev.cost_layer = recording
        try:
            inc, inc_error = (None, None)
            if report is not None:
                try:
                    inc = evaluate(edited, report, k)
                except LayerError as e:
                    inc_error = str(e)
        finally:
            ev.cost_layer = real
        if report is not None:
            assert all(i >= k for i in calls), f"rows {calls} recomputed after an edit at {k}"
            assert inc_error == full_error
            assert inc == full
        net, report = edited, full  # after an invalid edit `report` is None: the next step starts afresh
