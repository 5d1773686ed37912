"""Model references and input specs are parsed without torch and without running user code."""

from __future__ import annotations

import pytest

from netcost.model_io.model_ref import ModelRef, RefError, list_candidates, parse_input, parse_ref


def test_references() -> None:
    assert parse_ref("zoo:gpt2") == ModelRef("zoo", "gpt2")
    assert parse_ref("dir/m.py:Net") == ModelRef("python", "dir/m.py", "Net")
    assert parse_ref("m.py:Net(num_classes=10, width=0.5, dims=(1, 2))").kwargs == \
        {"num_classes": 10, "width": 0.5, "dims": (1, 2)}
    assert parse_ref("a.pt").kind == parse_ref("b.pth").kind == "torchscript"
    assert parse_ref("a.pt2").kind == "export" and parse_ref("a.onnx").kind == "onnx"


@pytest.mark.parametrize("bad", ["m.py", "m.py:Net(__import__('os').system('x'))", "m.py:Net(1)",
                                 "m.py:Net(**k)", "m.py:Net(a=b)", "model.bin"])
def test_bad_references_are_one_line(bad: str) -> None:
    with pytest.raises(RefError) as info:
        parse_ref(bad)
    assert "\n" not in str(info.value)


def test_inputs() -> None:
    assert parse_input("1,3,224,224") == ((1, 3, 224, 224), "float32")
    assert parse_input("long:1,2048") == ((1, 2048), "int64")
    assert parse_input("fp16:2x8") == ((2, 8), "float16")
    assert parse_input("1,3,") == ((1, 3), "float32")  # a trailing comma is harmless
    for bad in ("a,b", "complex:1,2", "", "1,x", "1,,2", "long:", "-1,4"):
        with pytest.raises(RefError):
            parse_input(bad)


def test_candidates_by_reading_only(tmp_path) -> None:  # noqa: ANN001
    f = tmp_path / "m.py"
    f.write_text("import torch\nfrom torch import nn\nraise SystemExit('never run')\n"
                 "class A(nn.Module): pass\nclass B(A): pass\nclass C: pass\n"
                 "class D(torch.nn.Conv2d): pass\ndef build(): return A()\ndef _private(): pass\n"
                 "def example_input(): pass\n")
    assert list_candidates(f) == ["A", "B", "D", "build"]
    assert list_candidates(tmp_path / "missing.py") == []
