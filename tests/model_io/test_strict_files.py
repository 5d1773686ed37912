"""Layer-list and project files are read strictly: what JSON leaves ambiguous, and NetCost's own keys in a shape
NetCost cannot use, are refused on load with the path of the bad field (never accepted and failing later)."""

from __future__ import annotations

import pytest

from netcost.costing import FormatError
from netcost.model_io import strict_json
from netcost.model_io.files.layer_file import loads_network

HEAD = '"format": "netcost.layers/1", "input_shape": [8]'


@pytest.mark.parametrize(("text", "reason"), [
    ('{' + HEAD + ', "layers": [{"type": "Linear", "out_features": 2, "out_features": 3}]}',
     "duplicate key 'out_features'"),
    ('{' + HEAD + ', "batch_size": 1, "batch_size": 2, "layers": []}', "duplicate key 'batch_size'"),
    ('{' + HEAD + ', "layers": [{"type": "Dropout", "p": NaN}]}', "NaN is not a JSON number"),
    ('{' + HEAD + ', "layers": [{"type": "Dropout", "p": -Infinity}]}', "-Infinity is not a JSON number"),
])
def test_duplicate_keys_and_nan_literals_are_refused(text, reason):
    with pytest.raises(FormatError, match=reason):
        loads_network(text)


@pytest.mark.parametrize(("view", "path"), [("[1, 2]", "view"), ('"flops"', "view"), ("null", "view"),
                                            ('{"convention": 3}', "view.convention"),
                                            ('{"convention": "bogus"}', "view.convention")])
def test_a_view_netcost_cannot_use_is_refused_on_load(view, path):
    with pytest.raises(FormatError) as info:
        loads_network('{' + HEAD + ', "layers": [], "view": ' + view + '}')
    assert info.value.path == path


def test_a_recovery_key_with_a_bad_path_is_refused():
    with pytest.raises(FormatError, match="recovery.path: must be a string or null"):
        loads_network('{' + HEAD + ', "layers": [], "recovery": {"path": 7}}')


def test_valid_view_and_unknown_keys_are_kept():
    _, extra = loads_network('{' + HEAD + ', "layers": [], "view": {"convention": "macs", "zoom": 2}, "mine": [1]}')
    assert extra == {"view": {"convention": "macs", "zoom": 2}, "mine": [1]}


def test_strict_loads_still_reads_ordinary_json():
    assert strict_json.loads('{"a": [1, 2.5, {"b": null}], "c": "\\u00e9"}') == {"a": [1, 2.5, {"b": None}], "c": "é"}


def test_a_save_removes_temporaries_left_by_a_killed_save_of_that_file(tmp_path):
    import os
    import time

    from netcost.model_io.files.layer_file import atomic_write

    target = tmp_path / "mine.json"
    killed = tmp_path / ".mine.json.k9abc.tmp"  # what kill -9 between mkstemp and rename leaves behind
    in_flight = tmp_path / ".mine.json.now1.tmp"  # another save running right now: not ours to delete
    other = tmp_path / ".other.json.old.tmp"
    for p in (killed, in_flight, other):
        p.write_text("{")
    old = time.time() - 3600
    os.utime(killed, (old, old))
    os.utime(other, (old, old))
    atomic_write(target, b"{}\n")
    assert target.read_bytes() == b"{}\n"
    assert not killed.exists() and in_flight.exists() and other.exists()
