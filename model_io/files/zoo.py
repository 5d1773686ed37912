"""Built-in entries addressable as `zoo:NAME`: the layer lists shipped in resources/layers/."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

from netcost.costing import FormatError, Network
from netcost.costing.graph import Graph

from .layer_file import load_network

LAYERS_DIR = Path(__file__).resolve().parents[2] / "resources" / "layers"
GRAPHS_DIR = Path(__file__).resolve().parents[2] / "resources" / "graphs"  # hand-written graphs (branches)
DEFAULT = "alexnet"

# Before/after pairs from the article's closing section: what a design change buys.
COMPARISONS: tuple[tuple[str, str, str], ...] = (
    ("plain_conv1d", "dws_conv1d", "Conv1d vs depthwise-separable Conv1d"),
    ("conv5x5", "conv3x3_stack", "5×5 vs two 3×3"),
    ("conv7x7", "conv7x1_1x7", "N×N vs N×1 + 1×N"),
    ("flatten_fc", "gap_fc", "Flatten + Linear vs global average pooling"),
    ("conv3x3", "dws_conv3x3", "3×3 vs depthwise-separable 3×3"),
    ("conv5x5_wide", "reduce_conv5x5", "5×5 vs 1×1 reduction + 5×5"),
)


@cache
def layer_list_names() -> tuple[str, ...]:
    return tuple(sorted(p.stem for p in LAYERS_DIR.glob("*.json")))


@cache
def graph_names() -> tuple[str, ...]:
    return tuple(sorted(p.stem for p in GRAPHS_DIR.glob("*.json")))


def model_names() -> tuple[str, ...]:
    """Every built-in layer list and graph (`zoo:NAME`, costed here without tracing)."""
    return tuple(sorted(layer_list_names() + graph_names()))


def _file(name: str) -> Path:
    return (GRAPHS_DIR if name in graph_names() else LAYERS_DIR) / f"{name}.json"


def describe(name: str) -> str:
    data = json.loads(_file(name).read_text(encoding="utf-8"))
    return str(data.get("description", data.get("name", name)))


def load_layer_list(name: str) -> Network:
    """The built-in layer list `name` (without the `zoo:` prefix); FormatError for a built-in graph."""
    if name not in layer_list_names():
        raise FormatError("", f"unknown built-in layer list 'zoo:{name}' (available: {', '.join(layer_list_names())})")
    return load_network(LAYERS_DIR / f"{name}.json")[0]


def load_model_graph(name: str) -> Graph:
    """The built-in layer list or hand-written graph `name` as a graph."""
    from .graph_file import load_graph

    if name not in model_names():
        raise FormatError("", f"unknown built-in layer list 'zoo:{name}' (available: {', '.join(model_names())})")
    return load_graph(_file(name))[0]
