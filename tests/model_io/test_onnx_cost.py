"""ONNX graphs are costed into the same report: the article's AlexNet exported to ONNX gives its figures."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest
import torch

pytest.importorskip("onnx")

from netcost.model_io.errors import LoadFailure  # noqa: E402
from netcost.model_io.importers.onnx_cost import onnx_report  # noqa: E402
from netcost.resources.zoo_models import AlexNet  # noqa: E402


@pytest.fixture(scope="module")
def alexnet_onnx(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("onnx") / "alexnet.onnx"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(AlexNet().eval(), (torch.zeros(1, 3, 224, 224),), str(path), dynamo=False)
    return path


def test_alexnet_onnx_matches_the_article(alexnet_onnx: Path) -> None:
    report = onnx_report(str(alexnet_onnx))
    assert report.totals.params == 61_264_904 and report.totals.macs == 861_301_280
    assert report.totals.flop_counter == 1_722_602_560 and report.source == "onnx"
    assert [r.macs for r in report.layers if r.type == "Conv"][0] == 105_415_200
    assert not report.unsupported


def test_batch_override(alexnet_onnx: Path) -> None:
    report = onnx_report(str(alexnet_onnx), [((4, 3, 224, 224), "float32")])
    # the exported graph fixed the flatten to batch 1 (a constant Reshape), so only the convs scale
    convs = [r.macs for r in report.layers if r.type == "Conv"]
    assert convs[0] == 4 * 105_415_200 and report.inputs[0][0] == (4, 3, 224, 224)


def test_recurrent_and_matmul_nodes(tmp_path: Path) -> None:
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    seq, batch, cin, h = 5, 2, 8, 16
    w = numpy_helper.from_array(torch.zeros(1, 4 * h, cin).numpy(), "W")
    r = numpy_helper.from_array(torch.zeros(1, 4 * h, h).numpy(), "R")
    b = numpy_helper.from_array(torch.zeros(1, 8 * h).numpy(), "B")
    m = numpy_helper.from_array(torch.zeros(h, 3).numpy(), "M")
    graph = helper.make_graph(
        [helper.make_node("LSTM", ["x", "W", "R", "B"], ["y"], hidden_size=h),
         helper.make_node("Squeeze", ["y"], ["ys"]),
         helper.make_node("MatMul", ["ys", "M"], ["out"])],
        "lstm", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [seq, batch, cin])],
        [helper.make_tensor_value_info("out", TensorProto.FLOAT, None)], [w, r, b, m])
    path = tmp_path / "lstm.onnx"
    onnx.save(helper.make_model(graph), str(path))
    report = onnx_report(str(path))
    lstm = report.layers[0]
    assert lstm.params == 4 * h * cin + 4 * h * h + 8 * h
    assert lstm.macs == seq * batch * (4 * h * cin + 4 * h * h)  # the gate matmuls
    matmul = next(r for r in report.layers if r.type == "MatMul")  # after the free Squeeze (a row of its own)
    assert matmul.macs == seq * batch * h * 3
    assert matmul.inputs == ("Squeeze_1",) and report.layers[1].inputs == ("LSTM_0",)  # edges from value names


def test_missing_file_and_garbage(tmp_path: Path) -> None:
    with pytest.raises(LoadFailure, match="no such file"):
        onnx_report(str(tmp_path / "none.onnx"))
    junk = tmp_path / "junk.onnx"
    junk.write_bytes(b"\x00\xffnot protobuf")
    with pytest.raises(LoadFailure, match="not an ONNX model"):
        onnx_report(str(junk))
