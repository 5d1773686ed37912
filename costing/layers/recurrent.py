"""LSTM, GRU and RNN (torch semantics: num_layers, bidirectional, bias, batch_first, LSTM proj_size).

A recurrent layer passes its output sequence on, not the hidden state.
"""

from __future__ import annotations

from ..args import Arg
from ..errors import SpecError
from ..registry import Operands, Out, register
from ._shape import expect_rank, infer

GATES = {"LSTM": 4, "GRU": 3, "RNN": 1}
# NetCost's element-wise FLOPs per hidden unit, step and direction (besides the gate matmuls and biases):
# LSTM: add x/h gate parts 4, 3 sigmoids + 2 tanh counted 1 each 5, c = f*c + i*g 3, h = o*tanh(c) 1 -> 13.
# GRU: add x/h parts for r,z 2, sigmoids 2, r*(W h) 1, add 1, tanh 1, h = (1-z)*n + z*h 3 -> 10.  RNN: add 1, tanh 1.
GATE_ELEMENTWISE = {"LSTM": 13, "GRU": 10, "RNN": 2}


def rnn_args(type_: str) -> tuple[Arg, ...]:
    args = [
        Arg("input_size", "int", minimum=1, inferred=True),
        Arg("hidden_size", "int", minimum=1),
        Arg("num_layers", "int", 1, minimum=1),
    ]
    if type_ == "RNN":
        args.append(Arg("nonlinearity", "choice", "tanh", choices=("tanh", "relu")))
    args += [
        Arg("bias", "bool", True),
        Arg("batch_first", "bool", False),
        Arg("dropout", "float", 0.0, minimum=0),
        Arg("bidirectional", "bool", False),
    ]
    if type_ == "LSTM":
        args.append(Arg("proj_size", "int", 0, minimum=0))
    return tuple(args)


@register("LSTM", "GRU", "RNN", category="recurrent", args=rnn_args,
          operands=lambda t: Operands(("input",), ("h0", "c0") if t == "LSTM" else ("hx",), scalars=False))
def recurrent(a: dict, x: tuple[int, ...], type_: str) -> Out:
    """Per layer l, direction and time step: MACs = G*h*in_l + G*h*h_out (+ h*proj for LSTM proj_size).

    params per layer and direction = G*h*in_l + G*h*h_out + 2*G*h (two bias vectors) (+ h*proj).
    G = 4 (LSTM), 3 (GRU), 1 (RNN); in_l = input_size for l = 0, else dirs*h_out.
    """
    expect_rank(x, (3,), "(batch, seq, features)" if a["batch_first"] else "(seq, batch, features)")
    inferred: dict = {}
    cin = infer(a, "input_size", x[-1], inferred)
    h, layers, g = a["hidden_size"], a["num_layers"], GATES[type_]
    if a["dropout"] > 1:
        raise SpecError(f"dropout={a['dropout']} must be between 0 and 1", "dropout")
    proj = a.get("proj_size", 0)
    if proj and proj >= h:
        raise SpecError(f"proj_size={proj} must be smaller than hidden_size={h}", "proj_size")
    h_out = proj or h
    dirs = 2 if a["bidirectional"] else 1
    steps = x[0] * x[1]  # batch * sequence length, whichever order
    # closed form over the layers (never a loop over num_layers, which a user may set to 10**12): layer 0 reads
    # input_size features, each of the `layers - 1` others reads dirs * h_out
    bias = 2 * g * h if a["bias"] else 0
    per_dir_params = g * h * cin + g * h * h_out + bias + h * proj
    per_dir_params += (layers - 1) * (g * h * dirs * h_out + g * h * h_out + bias + h * proj)
    per_step_macs = g * h * cin + g * h * h_out + h * proj
    per_step_macs += (layers - 1) * (g * h * dirs * h_out + g * h * h_out + h * proj)
    params = dirs * per_dir_params
    macs = dirs * steps * per_step_macs
    bias_adds = layers * dirs * steps * bias
    elementwise = layers * dirs * steps * GATE_ELEMENTWISE[type_] * h
    out = (x[0], x[1], dirs * h_out)
    return Out(out, params=params, macs=macs, bias_adds=bias_adds, elementwise=elementwise, inferred=inferred)
