"""The training engine against PyTorch itself, on the zoo and on edits of it (issue 21).

- backward MACs = FlopCounterMode over forward + backward minus forward (meta device, inputs not requiring grad),
  all parameters trainable or scopes frozen with `requires_grad_(False)`; a checkpointed scope's backward includes
  the forward it runs again (`torch.utils.checkpoint`, non-reentrant, which stops at the last saved tensor);
- saved-activation bytes = the distinct storages `saved_tensors_hooks` sees during the forward, less parameters and
  buffers (plus, under checkpointing, the scope inputs the checkpoint keeps itself);
- grouped convolutions: FlopCounterMode ignores `groups` in `convolution_backward` (pytorch#183405), so the
  reference counts their backward by the closed form (`training_reference.GROUPED_FIX`);
- optimizer-state bytes = the states a real torch.optim optimizer holds after one step.
"""

from __future__ import annotations

import pytest
import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode
from training_reference import build, memtracker_peak, ours, state_after_one_step, torch_training

MODELS = ["alexnet-module", "vgg16", "resnet18", "resnet50", "mobilenet_v2", "inception_block",
          "lstm_tagger_module", "gru", "transformer_encoder", "gpt2", "llama7b-2"]

# (model, frozen scopes, checkpointed scopes)
WHAT_IFS = [
    ("resnet18", ("conv1", "bn1", "layer1"), ()),
    ("resnet18", (), ("layer2",)),
    ("resnet18", ("layer1",), ("layer3.0",)),
    ("gpt2", ("wte", "wpe"), ()),
    ("gpt2", (), ("blocks.3",)),
    ("transformer_encoder", ("layers.0",), ("layers.2",)),
    ("mobilenet_v2", ("features.0",), ("features.3",)),
    ("lstm_tagger_module", ("embed",), ()),
    ("vgg16", ("features",), ()),
    ("llama7b-2", (), ("layers.0",)),
    ("inception_block", (), ("branch2",)),
]


def _check(name, model, inputs, frozen=(), checkpointed=()):
    report = ours(model, inputs, freeze=frozen, checkpoint=checkpointed)
    fwd, bwd, saved = torch_training(model, inputs, frozen, checkpointed)
    t = report.totals
    assert t.forward_macs == fwd, name
    assert t.backward_macs + t.recompute_macs == bwd, name
    assert t.saved_activation_bytes == saved, name
    assert t.step_macs == t.forward_macs + t.backward_macs + t.recompute_macs
    return report


@pytest.mark.parametrize("name", MODELS)
def test_zoo_matches_torch(name):
    model, inputs = build(name)
    report = _check(name, model, inputs)
    assert report.totals.recompute_macs == 0
    assert sum(r.backward_macs for r in report.rows) == report.totals.backward_macs


@pytest.mark.parametrize(("name", "frozen", "checkpointed"), WHAT_IFS)
def test_freeze_and_checkpoint_match_torch(name, frozen, checkpointed):
    model, inputs = build(name)
    _check(name, model, inputs, frozen, checkpointed)


def test_edited_models_match_torch():
    """Edits of zoo models: a new classifier head, a wider stem, a block removed."""
    model, inputs = build("resnet18")
    with torch.device("meta"):
        model.fc = nn.Linear(512, 10)
        model.conv1 = nn.Conv2d(3, 64, 5, 2, 2, bias=True)
    _check("resnet18 edited", model, inputs)
    model, inputs = build("transformer_encoder")
    model.layers = model.layers[:3]
    model.num_layers = 3
    _check("transformer_encoder, 3 of 6 layers", model, inputs)


def test_flop_counter_ignores_groups_in_backward():
    """Why the reference uses the closed form for grouped convolutions: a depthwise 3x3 on 32x56x56 costs 0.9 M
    MACs forward (32 * 56 * 56 * 9 = 903,168) and 2 * 0.9 M backward; FlopCounterMode (before pytorch#183405)
    charges its backward as if groups were 1, about 32 times the closed form (29.8 M MACs with both gradients)."""
    with torch.device("meta"):
        conv = nn.Conv2d(32, 32, 3, padding=1, groups=32, bias=False)
        x = torch.zeros(1, 32, 56, 56, requires_grad=True)
    with FlopCounterMode(display=False) as fc:
        conv(x).sum().backward()
    measured = fc.get_total_flops() // 2 - 903_168
    closed = 2 * 903_168
    if measured == closed:
        pytest.skip("this torch counts groups in convolution_backward (pytorch#183405 is in)")
    assert measured > 10 * closed
    model = nn.Sequential(conv)
    report = ours(model, [((1, 32, 56, 56), "float32")])
    assert report.totals.backward_macs == 903_168  # the input needs no gradient: dW only


@pytest.mark.parametrize("optimizer", ["sgd", "momentum", "adam", "adamw", "adafactor"])
@pytest.mark.parametrize("name", ["resnet18", "lstm_tagger_module", "transformer_encoder"])
def test_optimizer_states_match_torch_optim(name, optimizer):
    model, inputs = build(name)
    report = ours(model, inputs, optimizer=optimizer)
    cpu_model = model.to_empty(device="cpu")
    for p in cpu_model.parameters():
        nn.init.normal_(p, std=0.01)
    for b in cpu_model.buffers():
        b.zero_() if b.dtype != torch.float32 else b.fill_(1.0)
    assert report.totals.optimizer_bytes == state_after_one_step(cpu_model, inputs, optimizer)


# (model, batch): every zoo model at its own input, and the convolutional and recurrent ones at larger batches
# where the saved activations, not the weights and states, make the peak
PEAK_CASES = [(m, None) for m in MODELS] + [("resnet18", 32), ("mobilenet_v2", 16), ("alexnet-module", 64),
                                            ("vgg16", 8), ("resnet50", 8), ("inception_block", 16), ("gru", 16)]


@pytest.mark.parametrize(("name", "batch"), PEAK_CASES)
def test_peak_within_ten_percent_of_memtracker(name, batch):
    model, inputs = build(name, batch)
    ours_peak = ours(model, inputs, optimizer="adam").totals.peak_bytes
    theirs = memtracker_peak(model, inputs, "adam")
    assert abs(ours_peak / theirs - 1) <= 0.10, (name, batch, ours_peak, theirs)
