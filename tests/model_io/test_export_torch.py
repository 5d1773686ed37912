"""`export-torch` round trip: the generated nn.Sequential has the engine's params and output shape."""

from __future__ import annotations

import warnings

import pytest
import torch
from hypothesis import given, note
from hypothesis import strategies as st

from netcost.costing import CostReport, LayerError, LayerSpec, Network, cost_layer, evaluate
from netcost.model_io.files import zoo
from netcost.model_io.files.export_torch import to_torch_source


def _run(source: str, device: str) -> tuple[torch.nn.Module, tuple[int, ...]]:
    namespace: dict = {"__name__": "generated"}
    exec(compile(source, "<export-torch>", "exec"), namespace)
    with warnings.catch_warnings(), torch.device(device):
        warnings.simplefilter("ignore")
        module = namespace["build"]()
        module.eval()
        with torch.no_grad():
            y = module(namespace["example_input"]())
    return module, tuple(y.shape)


def _check(net: Network, report: CostReport, device: str = "meta") -> None:
    module, shape = _run(to_torch_source(net), device)
    assert shape == report.output_shape
    assert sum(p.numel() for p in module.parameters()) == report.totals.params
    assert sum(p.numel() for p in module.parameters() if p.requires_grad) == report.totals.trainable_params
    assert sum(b.numel() for b in module.buffers()) == report.totals.buffers


@pytest.mark.parametrize("name", zoo.layer_list_names())
def test_shipped_layer_lists_run_on_cpu(name):
    net = zoo.load_layer_list(name)
    _check(net, evaluate(net), "cpu" if name != "alexnet" else "meta")


# ------------------------------------------------------------------------------------------ random layer lists
def _k(draw, n):
    return draw(st.integers(1, 3)) if draw(st.booleans()) else [draw(st.integers(1, 3)) for _ in range(n)]


def _image_layer(draw, n):
    """A layer for an n-d (batch, channels, spatial...) input."""
    c = draw(st.integers(1, 6))
    choices = {
        "conv": lambda: LayerSpec(f"Conv{n}d", {"out_channels": c, "kernel_size": _k(draw, n),
                                                "padding": draw(st.sampled_from([0, 1, "same"])),
                                                "bias": draw(st.booleans()),
                                                "padding_mode": draw(st.sampled_from(["zeros", "replicate"]))}),
        "convt": lambda: LayerSpec(f"ConvTranspose{n}d", {"out_channels": c, "kernel_size": 2, "stride": 2,
                                                          "groups": 1}),
        "dws": lambda: LayerSpec(f"DepthwiseSeparableConv{n}d", {"out_channels": c, "kernel_size": 3, "padding": 1,
                                                                 "bias": draw(st.booleans())}),
        "bn": lambda: LayerSpec(f"BatchNorm{n}d", {"affine": draw(st.booleans())}),
        "gn": lambda: LayerSpec("GroupNorm", {"num_groups": 1}),
        "max": lambda: LayerSpec(f"MaxPool{n}d", {"kernel_size": 2, "ceil_mode": draw(st.booleans())}),
        "avg": lambda: LayerSpec(f"AvgPool{n}d", {"kernel_size": 2, "stride": 1}),
        "adaptive": lambda: LayerSpec(f"AdaptiveAvgPool{n}d", {"output_size": draw(st.integers(1, 4))}),
        "up": lambda: LayerSpec("Upsample", {"scale_factor": draw(st.sampled_from([2, 1.5, [2] * n]))}),
        "act": lambda: LayerSpec(draw(st.sampled_from(["ReLU", "ReLU6", "SiLU", "Hardswish", "Tanh", "GELU"]))),
        "drop": lambda: LayerSpec("Dropout", {"p": 0.2}),
        "id": lambda: LayerSpec("Identity"),
    }
    return choices[draw(st.sampled_from(sorted(choices)))]()


def _sequence_layer(draw):
    """A layer for a batch-first (batch, seq, features) input."""
    h = draw(st.integers(1, 6))
    choices = {
        "linear": lambda: LayerSpec("Linear", {"out_features": h, "bias": draw(st.booleans())}),
        "rnn": lambda: LayerSpec(draw(st.sampled_from(["LSTM", "GRU", "RNN"])),
                                 {"hidden_size": h, "batch_first": True, "num_layers": draw(st.integers(1, 2)),
                                  "bidirectional": draw(st.booleans())}),
        "lstm_proj": lambda: LayerSpec("LSTM", {"hidden_size": h + 1, "proj_size": h, "batch_first": True}),
        "mha": lambda: LayerSpec("MultiheadAttention", {"num_heads": 1, "batch_first": True,
                                                        "bias": draw(st.booleans())}),
        "ln": lambda: LayerSpec(draw(st.sampled_from(["LayerNorm", "RMSNorm"]))),
        "act": lambda: LayerSpec(draw(st.sampled_from(["GELU", "Sigmoid", "LeakyReLU"]))),
        "softmax": lambda: LayerSpec("Softmax", {"dim": -1}),
    }
    return choices[draw(st.sampled_from(sorted(choices)))]()


@st.composite
def layer_lists(draw) -> Network:
    family = draw(st.sampled_from(["image1d", "image2d", "sequence", "tokens"]))
    if family.startswith("image"):
        n = int(family[-2])
        shape: tuple[int, ...] = (draw(st.integers(1, 4)), *(draw(st.integers(4, 9)) for _ in range(n)))
    elif family == "sequence":
        shape = (draw(st.integers(1, 5)), draw(st.integers(1, 6)))
    else:
        shape = (draw(st.integers(1, 6)),)
    layers: list[LayerSpec] = []
    x = (draw(st.integers(1, 2)), *shape)
    if family == "tokens":
        layers.append(LayerSpec("Embedding", {"num_embeddings": draw(st.integers(2, 30)),
                                              "embedding_dim": draw(st.integers(1, 6))}))
        x = (*x, layers[0].args["embedding_dim"])
    for _ in range(draw(st.integers(1, 6))):
        spec = _image_layer(draw, len(x) - 2) if family.startswith("image") else _sequence_layer(draw)
        if draw(st.integers(0, 5)) == 0:
            spec = LayerSpec(spec.type, spec.args, draw(st.sampled_from(["a", "x\ny", 'q"""', "# c"])),
                             trainable=draw(st.booleans()))
        try:  # keep the list valid: a layer the running shape cannot take is left out
            x = cost_layer(spec, len(layers), x).output_shape
        except LayerError:
            continue
        layers.append(spec)
    if family.startswith("image") and draw(st.booleans()):
        layers += [LayerSpec("Flatten"), LayerSpec("Linear", {"out_features": draw(st.integers(1, 5))})]
    return Network(tuple(layers), shape, draw(st.sampled_from(["net", "it's \"x\"\nimport os", '"""'])),
                   x[0])


@given(layer_lists())
def test_random_layer_lists_round_trip(net):
    note(repr(net.layers))
    report = evaluate(net)
    _check(net, report, "meta")


def test_a_name_cannot_inject_code():
    net = Network((LayerSpec("ReLU", name="x\nraise SystemExit('injected')"),), (3,),
                  name='"""\nraise SystemExit("injected")\n"""')
    source = to_torch_source(net)
    _check(net, evaluate(net), "cpu")
    assert "\nraise SystemExit" not in source


def test_frozen_layers_are_frozen():
    net = Network((LayerSpec("Linear", {"out_features": 3}, trainable=False), LayerSpec("Linear",
                                                                                       {"out_features": 2})), (4,))
    module, _ = _run(to_torch_source(net), "cpu")
    assert [p.requires_grad for p in module.parameters()] == [False, False, True, True]


def test_invalid_lists_are_refused():
    with pytest.raises(LayerError):
        to_torch_source(Network((LayerSpec("Conv2d", {"out_channels": 1, "kernel_size": 3}),), (5,)))
