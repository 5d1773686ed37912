"""The training engine on hand-checked cases (pure: no torch). Expected numbers carry their arithmetic."""

from __future__ import annotations

import pytest

from netcost.costing import LayerSpec, Network
from netcost.costing.chain import graph_from_network
from netcost.costing.devices import Device, parse_device
from netcost.costing.graph_eval import evaluate_graph
from netcost.costing.optimizers import PRECISIONS, param_memory, state_bytes
from netcost.costing.training import TrainingError, analyze_training
from netcost.costing.training_fit import default_batches, memory_sweep, step_time


def mlp(batch: int = 4):
    """Linear(100 -> 300) -> ReLU -> Linear(300 -> 10), batch 4."""
    layers = (LayerSpec("Linear", {"out_features": 300}), LayerSpec("ReLU"), LayerSpec("Linear", {"out_features": 10}))
    return evaluate_graph(graph_from_network(Network(layers, (100,), batch_size=batch)))


def test_optimizer_state_formulas():
    assert state_bytes("sgd", (300, 100)) == 0
    assert state_bytes("momentum", (300, 100)) == 300 * 100 * 4
    assert state_bytes("adam", (300, 100)) == 2 * 300 * 100 * 4 + 4  # exp_avg, exp_avg_sq, a 0-d float32 step
    assert state_bytes("adamw", (300,)) == 2 * 300 * 4 + 4
    assert state_bytes("adafactor", (300, 100)) == (300 + 100) * 4 + 4  # row and column variances, step
    assert state_bytes("adafactor", (300,)) == 300 * 4 + 4  # a vector keeps its full variance
    assert state_bytes("adafactor", (2, 3, 5)) == (2 * 3 + 2 * 5) * 4 + 4  # leading dims kept: (2,3,1), (2,1,5)
    assert state_bytes("adam8bit", (300, 100)) == 2 * 30_000 + 2 * 118 * 4  # uint8 states, absmax per 256: ceil
    assert state_bytes("adam8bit", (300,)) == 2 * 300 * 4  # under 4,096 elements: 32-bit states


def test_precision_bytes_per_parameter_with_adam():
    """The 16 bytes per parameter of mixed-precision Adam (ZeRO): 2 weights + 4 master + 2 gradient + 8 states."""
    shape = (1000, 1000)
    n = 1000 * 1000
    mixed = param_memory([(shape, True, 1)], "adam", PRECISIONS["bf16-mixed"])
    assert mixed.param_bytes + mixed.grad_bytes + mixed.optimizer_bytes == 16 * n + 4
    full = param_memory([(shape, True, 1)], "adam", PRECISIONS["fp32"])
    assert full.param_bytes + full.grad_bytes + full.optimizer_bytes == 16 * n + 4  # 4 + 4 + 8
    pure = param_memory([(shape, True, 1)], "adam", PRECISIONS["bf16"])
    assert pure.param_bytes + pure.grad_bytes + pure.optimizer_bytes == 8 * n + 4  # 2 + 2 + 4
    frozen = param_memory([(shape, False, 3)], "adam", PRECISIONS["bf16-mixed"])
    assert (frozen.param_bytes, frozen.grad_bytes, frozen.optimizer_bytes) == (3 * 2 * n, 0, 0)


def test_mlp_step():
    t = analyze_training(mlp(), "sgd")
    fc1, relu, fc2 = t.rows
    # the input needs no gradient: fc1's backward is dW only (4*100*300 = 120,000 MACs); fc2 both (2 * 4*300*10)
    assert (fc1.backward_input_macs, fc1.backward_weight_macs) == (0, 120_000)
    assert (fc2.backward_input_macs, fc2.backward_weight_macs) == (12_000, 12_000)
    assert t.totals.backward_macs == 144_000
    assert t.totals.step_macs == 132_000 + 144_000  # forward 120,000 + 12,000
    # saved: fc1 its input (4*100*4 B), ReLU its output (4*300*4 B), fc2 its input: ReLU's output again, once
    assert (fc1.saved_activation_bytes, relu.saved_activation_bytes, fc2.saved_activation_bytes) == (1600, 4800, 0)
    params = 100 * 300 + 300 + 300 * 10 + 10
    assert t.totals.param_bytes == t.totals.grad_bytes == 4 * params and t.totals.optimizer_bytes == 0
    # peak: the backward of fc1, the last one: weights and every gradient (8 B per parameter), fc1's saved input
    # (1,600) and the gradient of its input from ReLU (4*300*4 = 4,800)
    assert t.totals.peak_bytes == 8 * params + 1600 + 4800


def test_freeze_and_checkpoint_scopes():
    report = mlp()
    first = report.graph.nodes[0].display_name
    frozen = analyze_training(report, "adam", freeze=[first])
    assert frozen.rows[0].backward_macs == 0 and frozen.rows[0].grad_bytes == 0 and not frozen.rows[0].trainable
    assert frozen.totals.saved_activation_bytes == 4800  # fc1 keeps nothing; ReLU's output for fc2's dW
    ck = analyze_training(report, "sgd", checkpoint=[first])
    # a checkpointed Linear keeps its input (as it saved it anyway) and is not run again: torch.utils.checkpoint
    # stops recomputing at the last saved tensor, and a matmul saves its input before it runs
    assert ck.rows[0].checkpointed and ck.totals.recompute_macs == 0
    assert ck.totals.saved_activation_bytes == 6400
    with pytest.raises(TrainingError, match="no module or node"):
        analyze_training(report, freeze=["nothing.here"])
    with pytest.raises(TrainingError, match="unknown optimizer"):
        analyze_training(report, "lion")
    with pytest.raises(TrainingError, match="unknown precision"):
        analyze_training(report, precision_name="fp8")


def test_batch_scaling_and_fit():
    t4, t8 = analyze_training(mlp(4), "adam"), analyze_training(mlp(8), "adam")
    assert t4.peak_at(8) == t8.totals.peak_bytes  # activations grow linearly with the batch
    fit = t4.max_batch(10 * 2 ** 20)
    assert t4.peak_at(fit) <= 10 * 2 ** 20 < t4.peak_at(fit + 1)
    assert t4.max_batch(100) == 0  # not even the weights fit
    points = memory_sweep(t4, [1, 1000, 100_000], memory=t4.peak_at(1000))
    assert [p.fits for p in points] == [True, True, False]
    assert default_batches(t4)[:3] == (1, 2, 4)


def test_step_time_and_device_memory():
    dev = Device("round", {"fp32": 1e12, "bf16": 2e12}, 100e9, "test", launch_overhead_us=0.0,
                 memory_bytes=2 ** 30)
    t = analyze_training(mlp(), "adam")
    st = step_time(t, dev)
    assert st.forward_s > 0 and st.backward_s > 0 and st.recompute_s == 0
    # the optimizer reads and writes weights and states, reads gradients: (2*4p + 4p + 2*8p) bytes at 100 GB/s
    params = 100 * 300 + 300 + 300 * 10 + 10
    assert st.optimizer_s == pytest.approx((2 * 4 * params + 4 * params + 2 * (8 * params + 4 * 4)) / 100e9)
    assert parse_device({"name": "x", "peak_flops": {"fp32": 1e12}, "memory_bandwidth": 1e9,
                         "memory_bytes": 8e9}, "f").memory_bytes == 8e9
