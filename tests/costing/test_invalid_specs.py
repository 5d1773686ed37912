"""Invalid specs give `LayerError` (a `SpecError`) naming the layer, the field and the reason, never anything else."""

from __future__ import annotations

import math
import warnings

import pytest
from hypothesis import given, note
from hypothesis import strategies as st
from layer_strategies import STRATEGIES, Case, case
from torch_reference import measure

from netcost.costing import LayerError, LayerSpec, Network, SpecError, cost_layer, evaluate, kind

JUNK = st.one_of(
    st.sampled_from(["", "same", "valid", "x", "3", "zeros", "none", "tanh"]),
    st.sampled_from([-1, 0, -7, 10**6, 2**70, 1.5, -0.5, 0.0, math.nan, math.inf, -math.inf, True, False]),
    st.none(),
    st.lists(st.one_of(st.integers(-2, 5), st.none(), st.text(max_size=2), st.floats()), max_size=4),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
)
INFERRED = ("in_channels", "in_features", "input_size", "num_features", "num_channels", "embed_dim",
            "normalized_shape")


@st.composite
def mutated(draw):
    c: Case = draw(st.sampled_from(sorted(STRATEGIES)).flatmap(case))
    args = dict(c.spec_args)
    shape = c.shape
    names = [a.name for a in kind(c.type).args]
    how = draw(st.sampled_from(["junk", "junk", "junk", "unknown", "drop", "contradict", "rank"]))
    if how == "junk" and names:
        args[draw(st.sampled_from(names))] = draw(JUNK)
    elif how == "unknown":
        args[draw(st.sampled_from(["kernel", "out_feature", "Stride", "", "type"]))] = 1
    elif how == "drop" and args:
        del args[draw(st.sampled_from(sorted(args)))]
    elif how == "contradict":
        for name in INFERRED:
            if name in c.kwargs:
                v = c.kwargs[name]
                args[name] = [*v[:-1], v[-1] + 1] if isinstance(v, list) else v + draw(st.integers(1, 3))
                break
    else:
        shape = draw(st.sampled_from([shape[:-1], (*shape, 2), (2, *shape)]))
    return Case(c.type, c.kwargs, args, tuple(shape), c.token_input), how


def _plain(v) -> bool:
    """A value torch may safely be built with on the CPU (no giant sizes)."""
    if isinstance(v, (list, tuple)):
        return all(_plain(e) for e in v)
    return not (isinstance(v, int) and v > 64)


@given(mutated())
def test_mutated_specs_give_layer_error_or_agree_with_torch(m):
    c, how = m
    note(f"{how}: {c.type} {c.spec_args} at {c.shape}")
    try:
        row = cost_layer(LayerSpec(c.type, c.spec_args), 3, c.shape)
    except LayerError as e:
        assert isinstance(e, SpecError)
        assert str(e).startswith(f"{c.type} #3 '{c.type}-3': ")
        if e.field not in (None, "input", "type"):
            assert e.field in {a.name for a in kind(c.type).args} or e.field in c.spec_args
        return
    # accepted: then torch, built with the same (inferred-filled) arguments, must run it and agree
    if not all(_plain(v) for v in c.spec_args.values()) or not row.args:
        return
    kwargs = {k: (list(v) if isinstance(v, tuple) else v) for k, v in row.args.items() if k in c.spec_args
              or k in row.inferred}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = measure(Case(c.type, kwargs, c.spec_args, c.shape, c.token_input))
    assert (row.output_shape, row.params, row.macs) == (ref.shape, ref.params, ref.macs)


def _err(spec: LayerSpec, shape: tuple[int, ...], index: int = 0) -> LayerError:
    with pytest.raises(LayerError) as info:
        cost_layer(spec, index, shape)
    return info.value


def test_groups_not_dividing_names_layer_field_and_reason():
    e = _err(LayerSpec("Conv2d", {"in_channels": 64, "out_channels": 96, "kernel_size": 3, "groups": 3},
                       name="conv3"), (1, 64, 8, 8), index=4)
    assert str(e) == "Conv2d #4 'conv3': groups=3 does not divide in_channels=64"
    assert (e.index, e.name, e.type, e.field) == (4, "conv3", "Conv2d", "groups")


def test_groups_not_dividing_out_channels():
    e = _err(LayerSpec("Conv1d", {"out_channels": 5, "kernel_size": 1, "groups": 2}), (1, 4, 8))
    assert e.reason == "groups=2 does not divide out_channels=5"


def test_kernel_larger_than_padded_input():
    e = _err(LayerSpec("Conv2d", {"out_channels": 4, "kernel_size": 7}), (1, 3, 5, 5))
    assert e.reason == "kernel_size 7 is larger than the padded input 5"
    assert e.field == "kernel_size"
    # with padding 1 the padded input is 5 + 2 = 7: exactly fits, one output
    assert cost_layer(LayerSpec("Conv2d", {"out_channels": 4, "kernel_size": 7, "padding": 1}), 0,
                      (1, 3, 5, 5)).output_shape == (1, 4, 1, 1)


def test_dilated_kernel_larger_than_input_says_so():
    e = _err(LayerSpec("Conv1d", {"out_channels": 1, "kernel_size": 3, "dilation": 3}), (1, 1, 6))
    # effective kernel 3*(3-1)+1 = 7 > 6
    assert e.reason == "dilated kernel size 7 (kernel_size 3, dilation 3) is larger than the padded input 6"


def test_contradicting_input_size():
    e = _err(LayerSpec("Conv2d", {"in_channels": 4, "out_channels": 8, "kernel_size": 1}), (1, 3, 5, 5))
    assert (e.field, e.reason) == ("in_channels", "in_channels=4 contradicts the incoming shape, which has 3")
    e = _err(LayerSpec("Linear", {"in_features": 10, "out_features": 2}), (1, 9))
    assert e.field == "in_features"


@pytest.mark.parametrize("padding", ["full", "SAME", "", "circular"])
def test_bad_padding_string(padding):
    e = _err(LayerSpec("Conv2d", {"out_channels": 1, "kernel_size": 1, "padding": padding}), (1, 1, 4, 4))
    assert e.field == "padding" and "'same' or 'valid'" in e.reason


def test_same_padding_with_stride_is_refused():
    e = _err(LayerSpec("Conv2d", {"out_channels": 1, "kernel_size": 3, "padding": "same", "stride": 2}),
             (1, 1, 8, 8))
    assert e.field == "padding"


@pytest.mark.parametrize(("args", "field", "reason"), [
    ({"out_channels": "8", "kernel_size": 3}, "out_channels", "out_channels='8' must be an integer"),
    ({"out_channels": 8.0, "kernel_size": 3}, "out_channels", "out_channels=8.0 must be an integer"),
    ({"out_channels": True, "kernel_size": 3}, "out_channels", "out_channels=True must be an integer"),
    ({"out_channels": 0, "kernel_size": 3}, "out_channels", "out_channels=0 must be positive"),
    ({"out_channels": 8, "kernel_size": [3, 3, 3]}, "kernel_size", "kernel_size=[3, 3, 3] must be an int or a list "
                                                                   "of 2 ints"),
    ({"out_channels": 8, "kernel_size": 3, "padding": -1}, "padding", "padding=-1 must be non-negative"),
    ({"out_channels": 8, "kernel_size": 3, "bias": "no"}, "bias", "bias='no' must be true or false"),
    ({"out_channels": 8, "kernel_size": 3, "padding_mode": "wrap"}, "padding_mode", None),
    ({"out_channels": 8}, "kernel_size", "missing required argument 'kernel_size'"),
    ({"out_channels": 8, "kernel_size": 3, "kernel": 3}, "kernel", None),
])
def test_wrong_types_missing_and_unknown_arguments(args, field, reason):
    e = _err(LayerSpec("Conv2d", args), (1, 3, 8, 8))
    assert e.field == field
    if reason is not None:
        assert e.reason == reason


def test_unknown_type():
    e = _err(LayerSpec("Conv4d", {}), (1, 3))
    assert (e.field, e.reason) == ("type", "unknown layer type 'Conv4d'")


@pytest.mark.parametrize("value", [math.nan, math.inf])
def test_non_finite_numbers_are_refused(value):
    e = _err(LayerSpec("Dropout", {"p": value}), (1, 3))
    assert e.field == "p"


@pytest.mark.parametrize(("spec", "shape", "field"), [
    (LayerSpec("Linear", {"out_features": 3}), (4,), "input"),
    (LayerSpec("Conv2d", {"out_channels": 3, "kernel_size": 1}), (1, 3, 4), "input"),
    (LayerSpec("LSTM", {"hidden_size": 3, "proj_size": 3}), (1, 2, 3), "proj_size"),
    (LayerSpec("MultiheadAttention", {"num_heads": 3}), (1, 2, 8), "num_heads"),
    (LayerSpec("GroupNorm", {"num_groups": 3}), (1, 8, 2), "num_groups"),
    (LayerSpec("LayerNorm", {"normalized_shape": [4, 5]}), (1, 5, 4), "normalized_shape"),
    (LayerSpec("MaxPool2d", {"kernel_size": 3, "padding": 2}), (1, 1, 9, 9), "padding"),
    (LayerSpec("Flatten", {"start_dim": 3}), (1, 2, 3), "start_dim"),
    (LayerSpec("Flatten", {"start_dim": 2, "end_dim": 1}), (1, 2, 3), "start_dim"),
    (LayerSpec("Upsample", {"scale_factor": 2}), (1, 2, 3, 4, 5, 6), "input"),
    (LayerSpec("Upsample", {"size": 2, "scale_factor": 2}), (1, 2, 3), "size"),
    (LayerSpec("Upsample", {"scale_factor": 2, "align_corners": True}), (1, 2, 3), "align_corners"),
    (LayerSpec("Upsample", {"size": [2, 2]}), (1, 2, 3), "size"),
    (LayerSpec("Embedding", {"num_embeddings": 4, "embedding_dim": 2, "padding_idx": 4}), (1, 3), "padding_idx"),
    (LayerSpec("ConvTranspose2d", {"out_channels": 1, "kernel_size": 3, "stride": 2, "output_padding": 2}),
     (1, 1, 3, 3), "output_padding"),
    (LayerSpec("Conv1d", {"out_channels": 1, "kernel_size": 3, "padding": 4, "padding_mode": "reflect"}),
     (1, 1, 4), "padding"),
    (LayerSpec("Conv1d", {"out_channels": 1, "kernel_size": 3, "padding": 5, "padding_mode": "circular"}),
     (1, 1, 4), "padding"),
    (LayerSpec("BatchNorm1d", {"track_running_stats": False}), (1, 3), "track_running_stats"),
    (LayerSpec("AdaptiveAvgPool2d", {"output_size": None}), (1, 1, 4, 4), "output_size"),
    (LayerSpec("MaxPool2d", {"kernel_size": 2, "return_indices": True}), (1, 1, 4, 4), "return_indices"),
])
def test_shape_and_value_errors_name_the_field(spec, shape, field):
    assert _err(spec, shape).field == field


def test_evaluate_names_the_failing_row():
    net = Network((LayerSpec("Linear", {"out_features": 4}), LayerSpec("ReLU"),
                   LayerSpec("Conv2d", {"out_channels": 2, "kernel_size": 3}, name="bad")), (8,))
    with pytest.raises(LayerError) as info:
        evaluate(net)
    assert info.value.index == 2 and info.value.name == "bad"
    assert str(info.value).startswith("Conv2d #2 'bad': expects a 4-d input")
