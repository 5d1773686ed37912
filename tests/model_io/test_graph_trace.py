"""Models that arrive as graphs (torch.export .pt2, TorchScript .pt) count the peers' pitfalls too: attention in
eval() + no_grad() and recurrent layers, whose graphs create tensors (an LSTM's zero state) on the export device."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest
import torch
from torch import nn

from netcost.model_io.importers.graph_trace import load_exported, trace_exported, trace_script
from netcost.model_io.importers.tracer import InputSpec, trace_module


class AttentionThenLSTM(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.mha = nn.MultiheadAttention(32, 4, batch_first=True)
        self.lstm = nn.LSTM(32, 16, batch_first=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.mha(x, x, x, need_weights=False)[0]
        return self.lstm(y)[0]


pytestmark = [pytest.mark.filterwarnings("ignore::DeprecationWarning"),  # torch.jit.load, torch.jit.script
              pytest.mark.filterwarnings("ignore::UserWarning")]  # torch.export on nn.LSTM

SHAPE = (2, 8, 32)
# MHA: q/k/v and out projections 4 * (2*8 tokens) * 32*32 = 65,536; QK^T and AV 2 * 2 * 8*8*32 = 8,192;
# LSTM: 4 gates * (2*8 tokens) * 16 * (32 + 16) = 49,152
MACS = 65_536 + 8_192 + 49_152


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("graphs")
    model = AttentionThenLSTM().eval()
    example = torch.zeros(SHAPE)
    torch.export.save(torch.export.export(model, (example,)), str(folder / "m.pt2"))
    with warnings.catch_warnings():  # torch.jit.script is deprecated; TorchScript files still exist
        warnings.simplefilter("ignore")
        torch.jit.script(model).save(str(folder / "m.pt"))
    return folder


def test_the_eager_model_gives_the_reference() -> None:
    report = trace_module(AttentionThenLSTM().eval(), [InputSpec(SHAPE)])
    assert report.totals.macs == MACS and not report.unsupported


def test_exported_lstm_and_attention_are_counted(files: Path) -> None:
    report = trace_exported(load_exported(str(files / "m.pt2")), None, "m.pt2", None)
    assert report.totals.macs == MACS and not report.unsupported
    assert report.totals.params == sum(p.numel() for p in AttentionThenLSTM().parameters())
    # another sequence length than the example's: the graph's own zeros follow the input to the meta device
    longer = trace_exported(load_exported(str(files / "m.pt2")), [((2, 8, 32), "float32")], "m.pt2", None)
    assert longer.totals.macs == MACS


@pytest.mark.parametrize("device", ["meta", "cpu"])
def test_torchscript_attention_and_lstm_are_counted(files: Path, device: str) -> None:
    scripted = torch.jit.load(str(files / "m.pt"), map_location=device)
    report = trace_script(scripted, [(SHAPE, "float32")], "m.pt", None)
    assert report.totals.macs == MACS and not report.unsupported


@pytest.mark.parametrize("activation", ["relu", "gelu"])
def test_torchscript_takes_the_fused_encoder_kernel_on_the_cpu_and_it_is_costed(tmp_path: Path,
                                                                                activation: str) -> None:
    """Scripted code always takes the fast path (`_transformer_encoder_layer_fwd`): costed as the ops it fuses."""
    layer = nn.TransformerEncoderLayer(32, 4, 64, batch_first=True, activation=activation)
    encoder = nn.TransformerEncoder(layer, 2, enable_nested_tensor=False).eval()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.jit.script(encoder).save(str(tmp_path / "enc.pt"))
    eager = trace_module(encoder, [InputSpec(SHAPE)]).totals
    report = trace_script(torch.jit.load(str(tmp_path / "enc.pt"), map_location="cpu"), [(SHAPE, "float32")],
                          "enc.pt", None)
    assert {u["op"] for u in report.unsupported} == set()
    assert report.totals.macs == eager.macs and report.totals.bias_adds == eager.bias_adds
    assert report.totals.attention_macs == eager.attention_macs
    assert report.totals.flops == pytest.approx(eager.flops, rel=0.01)


def test_a_file_whose_content_is_another_format_says_what_it_holds(files: Path, tmp_path: Path) -> None:
    from netcost.model_io.errors import LoadFailure
    from netcost.model_io.importers.onnx_cost import onnx_report
    from netcost.model_io.importers.torch_files import load_torch_file

    (tmp_path / "export.pt").write_bytes((files / "m.pt2").read_bytes())
    (tmp_path / "script.pt2").write_bytes((files / "m.pt").read_bytes())
    (tmp_path / "layers.onnx").write_text('{"format": "netcost.layers/1"}')
    with pytest.raises(LoadFailure, match=r"^export.pt holds a torch.export program \(use the .pt2 extension\)$"):
        load_torch_file(str(tmp_path / "export.pt"), trust_pickle=False)
    with pytest.raises(LoadFailure, match=r"^script.pt2 is not a torch.export program: it holds a TorchScript "
                                          r"archive \(use the .pt extension\)$"):
        load_exported(str(tmp_path / "script.pt2"))
    with pytest.raises(LoadFailure, match=r"^layers.onnx is not an ONNX model: it holds JSON text"):
        onnx_report(str(tmp_path / "layers.onnx"))
