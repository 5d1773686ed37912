"""Layer-list files (`netcost.layers/1`): strict loading with JSON paths, round trips, atomic saves, fuzzing."""

from __future__ import annotations

import copy
import json
import os
import stat
from pathlib import Path

import pytest
from hypothesis import given, note
from hypothesis import strategies as st

from netcost.costing import FormatError, LayerSpec, Network, evaluate
from netcost.model_io.files import layer_file, zoo
from netcost.model_io.files.layer_file import load_network, loads_network, network_to_dict, save_network

RESOURCES = sorted(zoo.LAYERS_DIR.glob("*.json"))
ISSUE_EXAMPLE = {
    "format": "netcost.layers/1", "name": "AlexNet (article)", "input_shape": [3, 224, 224], "batch_size": 1,
    "dtype": "float32",
    "layers": [{"type": "Conv2d", "name": "conv1", "out_channels": 96, "kernel_size": 11, "stride": 4, "padding": 2,
                "bias": False},
               {"type": "ReLU"}, {"type": "MaxPool2d", "kernel_size": 3, "stride": 2}, {"type": "Flatten"},
               {"type": "Linear", "out_features": 10, "trainable": False}],
}


def _doc(**changes):
    d = copy.deepcopy(ISSUE_EXAMPLE)
    d.update(changes)
    return d


def _error(data) -> FormatError:
    with pytest.raises(FormatError) as info:
        loads_network(data if isinstance(data, str) else json.dumps(data))
    return info.value


def test_the_issue_example_loads_and_evaluates():
    net, extra = loads_network(json.dumps(ISSUE_EXAMPLE))
    assert extra == {}
    assert net.input_shape == (3, 224, 224) and net.batched_input == (1, 3, 224, 224)
    assert [s.type for s in net.layers] == ["Conv2d", "ReLU", "MaxPool2d", "Flatten", "Linear"]
    assert net.layers[-1].trainable is False
    report = evaluate(net)
    assert report.layers[0].output_shape == (1, 96, 55, 55)
    # Linear 96*27*27 = 69,984 -> 10: 699,850 frozen params
    assert report.totals.frozen_params == 699_850 and report.totals.trainable_params == 34_848


@pytest.mark.parametrize("path", RESOURCES, ids=lambda p: p.stem)
def test_every_shipped_layer_list_loads_evaluates_and_round_trips(path, tmp_path):
    net, extra = load_network(path)
    report = evaluate(net)
    assert report.totals.params > 0 and report.totals.macs > 0
    out = tmp_path / "copy.json"
    save_network(out, net, extra)
    again, extra_again = load_network(out)
    assert again == net and extra_again == extra  # description etc. kept
    assert evaluate(again).totals == report.totals


@pytest.mark.parametrize(("mutate", "path", "words"), [
    (lambda d: d.update(format="netcost.layers/2"), "format", "newer version"),
    (lambda d: d.update(format="netcost.layers/0"), "format", "not a version"),
    (lambda d: d.update(format="something/1"), "format", "not a NetCost layer list"),
    (lambda d: d.pop("format"), "format", "missing"),
    (lambda d: d.pop("input_shape"), "input_shape", "missing"),
    (lambda d: d.update(input_shape=[3, 0]), "input_shape", "positive integers"),
    (lambda d: d.update(input_shape=[3, True]), "input_shape", "positive integers"),
    (lambda d: d.update(batch_size=0), "batch_size", "positive integer"),
    (lambda d: d.update(dtype="float64"), "dtype", "unknown dtype"),
    (lambda d: d.update(name=5), "name", "string"),
    (lambda d: d.update(layers={"a": 1}), "layers", "not a list"),
    (lambda d: d["layers"].__setitem__(3, "Flatten"), "layers[3]", "JSON object"),
    (lambda d: d["layers"][3].update(type="Flatten3d"), "layers[3].type", "unknown layer type 'Flatten3d'"),
    (lambda d: d["layers"][3].pop("type"), "layers[3].type", "missing"),
    (lambda d: d["layers"][2].update(kernel_size="3"), "layers[2].kernel_size", "must be an int or a list"),
    (lambda d: d["layers"][2].update(kernel_size=[3, 3, 3]), "layers[2].kernel_size", "list of 2 ints"),
    (lambda d: d["layers"][0].update(bias="false"), "layers[0].bias", "true or false"),
    (lambda d: d["layers"][0].update(kernal_size=3), "layers[0].kernal_size", "unknown argument 'kernal_size'"),
    (lambda d: d["layers"][0].pop("out_channels"), "layers[0].out_channels", "missing required argument"),
    (lambda d: d["layers"][4].update(trainable="no"), "layers[4].trainable", "true or false"),
    (lambda d: d["layers"][4].update(name=["x"]), "layers[4].name", "string"),
    (lambda d: d["layers"][0].update(padding="full"), "layers[0].padding", "'same' or 'valid'"),
])
def test_bad_fields_give_one_error_with_the_json_path(mutate, path, words):
    d = _doc()
    mutate(d)
    e = _error(d)
    assert e.path == path
    assert str(e).startswith(f"{path}: ")
    assert words in e.reason


@pytest.mark.parametrize("text", ["", "{", "[1, 2]", "null", '{"format": "netcost.layers/1", "layers": [}',
                                  "[" * 100_000, '{"format": "netcost.layers/1", "input_shape": [' + "9" * 5000 + "]}"])
def test_junk(text):
    e = _error(text)
    assert e.path == "" and ("JSON" in str(e))


def test_unreadable_and_non_utf8_files(tmp_path):
    with pytest.raises(FormatError, match="cannot read"):
        load_network(tmp_path / "missing.json")
    (tmp_path / "bin.json").write_bytes(b"\xff\xfe\x00junk")
    with pytest.raises(FormatError, match="not a UTF-8 text file"):
        load_network(tmp_path / "bin.json")


def test_extra_top_level_keys_survive_a_round_trip(tmp_path):
    net, extra = loads_network(json.dumps(_doc(description="mine", tags=["a"])))
    assert extra == {"description": "mine", "tags": ["a"]}
    save_network(tmp_path / "x.json", net, extra)
    assert json.loads((tmp_path / "x.json").read_text())["tags"] == ["a"]


@given(name=st.text(max_size=20), batch=st.integers(1, 64), dtype=st.sampled_from(["float32", "float16", "bfloat16",
                                                                                    "int8"]),
       out=st.integers(1, 4096), trainable=st.booleans(), layer_name=st.text(max_size=10))
def test_round_trip_through_text(name, batch, dtype, out, trainable, layer_name):
    net = Network((LayerSpec("Conv2d", {"out_channels": out, "kernel_size": [3, 1], "padding": "same"}, layer_name),
                   LayerSpec("Flatten"), LayerSpec("Linear", {"out_features": 3}, trainable=trainable)),
                  (2, 5, 5), name, batch, dtype)
    text = json.dumps(network_to_dict(net))
    again, _ = loads_network(text)
    assert again == net


# ------------------------------------------------------------------------------------------------ atomic save
def test_save_is_atomic_a_failing_write_leaves_the_old_file(tmp_path, monkeypatch):
    target = tmp_path / "net.json"
    net = zoo.load_layer_list("alexnet")
    save_network(target, net)
    before = target.read_bytes()

    def broken_fsync(fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(layer_file.os, "fsync", broken_fsync)
    with pytest.raises(OSError, match="No space"):
        save_network(target, net.with_settings(name="changed"))
    assert target.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["net.json"]  # the temporary file is gone too


def test_save_writes_via_a_temporary_file_and_rename(tmp_path, monkeypatch):
    target = tmp_path / "net.json"
    target.write_text("old")
    renames = []
    real = os.replace

    def spy(src, dst):
        renames.append((Path(src).parent, Path(dst).name, Path(src).read_text(encoding="utf-8")[:1]))
        assert target.read_text() == "old"  # untouched until the rename
        return real(src, dst)

    monkeypatch.setattr(layer_file.os, "replace", spy)
    save_network(target, zoo.load_layer_list("alexnet"))
    assert renames == [(tmp_path, "net.json", "{")]
    assert load_network(target)[0] == zoo.load_layer_list("alexnet")


def test_save_keeps_the_file_mode(tmp_path):
    target = tmp_path / "shared.json"
    target.write_text("{}")
    target.chmod(0o644)
    save_network(target, zoo.load_layer_list("conv3x3"))
    assert stat.S_IMODE(target.stat().st_mode) == 0o644  # not mkstemp's private 0o600
    fresh = tmp_path / "fresh.json"
    save_network(fresh, zoo.load_layer_list("conv3x3"))
    assert stat.S_IMODE(fresh.stat().st_mode) & 0o644 == 0o644 & ~_umask()


def _umask() -> int:
    m = os.umask(0)
    os.umask(m)
    return m


# ---------------------------------------------------------------------------------------------------- fuzzing
SOURCES = {p.stem: p.read_bytes() for p in RESOURCES}


@st.composite
def byte_mutations(draw) -> bytes:
    data = bytearray(SOURCES[draw(st.sampled_from(sorted(SOURCES)))])
    for _ in range(draw(st.integers(1, 4))):
        op = draw(st.sampled_from(["flip", "delete", "insert", "truncate"]))
        i = draw(st.integers(0, max(len(data) - 1, 0)))
        if op == "flip" and data:
            data[i] ^= 1 << draw(st.integers(0, 7))
        elif op == "delete" and data:
            del data[i:i + draw(st.integers(1, 8))]
        elif op == "insert":
            data[i:i] = draw(st.sampled_from([b"{", b"}", b"[", b",", b'"', b"-", b"0", b"1e999", b"null", b"\xff"]))
        else:
            del data[i:]
    return bytes(data)


@pytest.fixture(scope="module")
def fuzz_file(tmp_path_factory):
    return tmp_path_factory.mktemp("fuzz") / "layers.json"


@given(data=byte_mutations())
def test_fuzz_bytes_give_format_error_or_load(fuzz_file, data):
    fuzz_file.write_bytes(data)
    try:
        net, _ = load_network(fuzz_file)
    except FormatError as e:
        assert str(e)  # a message, never empty
        return
    assert isinstance(net, Network)


JUNK_VALUES = st.one_of(st.none(), st.booleans(), st.integers(-3, 3), st.floats(allow_nan=False, allow_infinity=False),
                        st.text(max_size=5),
                        st.lists(st.integers(-1, 3), max_size=4), st.dictionaries(st.text(max_size=3), st.integers(),
                                                                                  max_size=2))


@given(name=st.sampled_from(sorted(SOURCES)), data=st.data())
def test_fuzz_keys_errors_point_into_the_mutated_layer(name, data):
    doc = json.loads(SOURCES[name])
    i = data.draw(st.integers(0, len(doc["layers"]) - 1))
    layer = doc["layers"][i]
    op = data.draw(st.sampled_from(["delete", "replace", "add", "replace_layer"]))
    if op == "delete":
        layer.pop(data.draw(st.sampled_from(sorted(layer))))
    elif op == "replace":
        layer[data.draw(st.sampled_from(sorted(layer)))] = data.draw(JUNK_VALUES)
    elif op == "add":
        layer[data.draw(st.text(min_size=1, max_size=6))] = data.draw(JUNK_VALUES)
    else:
        doc["layers"][i] = data.draw(JUNK_VALUES)
    note(f"{op} -> layers[{i}] = {doc['layers'][i]!r}")
    try:
        loads_network(json.dumps(doc))
    except FormatError as e:
        assert e.path == f"layers[{i}]" or e.path.startswith(f"layers[{i}].")
        assert str(e).startswith(f"{e.path}: ")


@given(name=st.sampled_from(sorted(SOURCES)), key=st.sampled_from(["format", "name", "input_shape", "batch_size",
                                                                    "dtype", "layers"]), value=JUNK_VALUES,
       delete=st.booleans())
def test_fuzz_top_level_keys(name, key, value, delete):
    doc = json.loads(SOURCES[name])
    if delete:
        doc.pop(key)
    else:
        doc[key] = value
    try:
        loads_network(json.dumps(doc))
    except FormatError as e:
        assert e.path == key or e.path.startswith(f"{key}[")
