"""Every formula, checked against numbers worked out by hand (the arithmetic is in the comments)."""

from __future__ import annotations

import pytest

from netcost.costing import LayerSpec, cost_layer, kinds
from netcost.costing.registry import Out, register


def cost(type_, shape, dtype="float32", **args):
    return cost_layer(LayerSpec(type_, args), 0, shape, dtype)


# ------------------------------------------------------------------------------------------------------ Linear
def test_linear_with_leading_dims():
    r = cost("Linear", (2, 5, 7, 16), out_features=32)
    assert r.output_shape == (2, 5, 7, 32)
    assert r.params == 16 * 32 + 32 == 544  # Cin*Cout + Cout
    assert r.macs == 35_840  # leading 2*5*7 = 70 rows x 16*32 = 512
    assert r.totals.bias_adds == 2_240  # 70 rows x 32
    assert r.flops == 73_920  # 2*35,840 + 2,240 (no element-wise work)
    assert r.args["in_features"] == 16 and r.inferred == ("in_features",)
    assert r.param_bytes == 2_176  # 544 x 4 B
    # read: input 2*5*7*16 = 1,120 elems + 544 weights = 1,664 x 4 = 6,656 B; written: 70*32 = 2,240 x 4 = 8,960 B
    assert (r.totals.read_bytes, r.totals.written_bytes, r.memory_access_bytes) == (6_656, 8_960, 15_616)
    assert r.arithmetic_intensity == pytest.approx(73_920 / 15_616)
    # torchinfo multiplies params by the batch dim only: 544 x 2; ptflops' nn.Linear hook adds the bias per row:
    # (16*32 + 32) x 70 = 35,840 + 2,240 (as ptflops 0.7.4 prints for this layer)
    assert (r.totals.torchinfo, r.totals.ptflops) == (1_088, 38_080)


def test_linear_without_bias_and_in_half_precision():
    r = cost("Linear", (3, 10), "float16", in_features=10, out_features=4, bias=False)
    assert r.params == 40  # 10*4
    assert r.macs == 120  # 3 rows x 40
    assert r.flops == 240 and r.totals.bias_adds == 0
    assert r.param_bytes == 80  # 40 x 2 B
    assert r.inferred == ()


# -------------------------------------------------------------------------------------------------------- Conv
def test_conv1d_stride_padding_bias():
    r = cost("Conv1d", (1, 4, 20), out_channels=8, kernel_size=3, stride=2, padding=1)
    assert r.output_shape == (1, 8, 10)  # floor((20 + 2*1 - 1*(3-1) - 1)/2 + 1) = floor(19/2) + 1 = 10
    assert r.params == 3 * 4 * 8 + 8 == 104  # K*Cin*Cout + Cout
    assert r.macs == 960  # B*Cin*K*Fout*Cout = 1*4*3*10*8
    assert r.totals.bias_adds == 80  # 8 channels x 10 positions


def test_conv2d_groups_dilation_asymmetric():
    r = cost("Conv2d", (2, 6, 10, 12), out_channels=9, kernel_size=[3, 5], stride=[1, 2], padding=[2, 1],
             dilation=[2, 1], groups=3)
    # H: floor((10 + 4 - 2*(3-1) - 1)/1 + 1) = 10; W: floor((12 + 2 - 1*(5-1) - 1)/2 + 1) = floor(9/2) + 1 = 5
    assert r.output_shape == (2, 9, 10, 5)
    assert r.params == 279  # K0*K1*(Cin/g)*Cout + Cout = 3*5*2*9 + 9
    assert r.macs == 27_000  # B*(Cin/g*K0*K1)*Hout*Wout*Cout = 2*(2*15)*10*5*9
    assert r.totals.bias_adds == 900  # 2*9*10*5
    assert r.flops == 54_900  # 2*27,000 + 900


def test_conv2d_padding_same_with_dilation_keeps_the_size():
    r = cost("Conv2d", (1, 3, 7, 7), out_channels=4, kernel_size=4, padding="same", dilation=2, bias=False)
    assert r.output_shape == (1, 4, 7, 7)  # 'same' pads d*(k-1) = 6 in total (3 each side)
    assert r.params == 192  # 4*4*3*4
    assert r.macs == 9_408  # (3*16)*49*4


def test_conv2d_padding_valid():
    r = cost("Conv2d", (1, 3, 7, 7), out_channels=4, kernel_size=3, padding="valid")
    assert r.output_shape == (1, 4, 5, 5)  # 7 - 3 + 1
    assert r.params == 112  # 9*3*4 + 4
    assert r.macs == 2_700  # 27*25*4


def test_conv2d_padding_mode_does_not_change_the_count():
    zeros = cost("Conv2d", (1, 2, 6, 6), out_channels=2, kernel_size=3, padding=1)
    reflect = cost("Conv2d", (1, 2, 6, 6), out_channels=2, kernel_size=3, padding=1, padding_mode="reflect")
    assert (zeros.output_shape, zeros.params, zeros.macs) == (reflect.output_shape, reflect.params, reflect.macs)


def test_conv3d():
    r = cost("Conv3d", (1, 2, 5, 6, 7), out_channels=4, kernel_size=[1, 3, 3], stride=[1, 2, 2],
             padding=[0, 1, 1])
    # D: 5; H: floor((6+2-2-1)/2 + 1) = 3; W: floor((7+2-2-1)/2 + 1) = 4
    assert r.output_shape == (1, 4, 5, 3, 4)
    assert r.params == 76  # 1*3*3*2*4 + 4
    assert r.macs == 4_320  # (2*9) * (5*3*4) * 4


def test_conv_transpose1d_output_padding_groups():
    r = cost("ConvTranspose1d", (1, 4, 5), out_channels=6, kernel_size=3, stride=2, padding=1, output_padding=1,
             groups=2)
    assert r.output_shape == (1, 6, 10)  # (5-1)*2 - 2*1 + 1*(3-1) + 1 + 1 = 10
    assert r.params == 42  # Cin*(Cout/g)*K + Cout = 4*3*3 + 6
    assert r.macs == 180  # B*Cin*(Cout/g)*K*Lin = 4*3*3*5


def test_conv_transpose2d():
    r = cost("ConvTranspose2d", (2, 3, 4, 4), out_channels=2, kernel_size=[3, 2], stride=[2, 3], padding=[1, 0],
             output_padding=[1, 2], bias=False)
    # H: (4-1)*2 - 2 + (3-1) + 1 + 1 = 8; W: (4-1)*3 - 0 + (2-1) + 2 + 1 = 13
    assert r.output_shape == (2, 2, 8, 13)
    assert r.params == 36  # 3*2*3*2
    assert r.macs == 1_152  # B*Cin*(Cout/g)*K0*K1*Hin*Win = 2*3*2*6*16


def test_depthwise_separable_conv1d_shows_both_parts():
    r = cost("DepthwiseSeparableConv1d", (1, 64, 128), out_channels=128, kernel_size=3, padding=1)
    dw, pw = r.parts
    assert (dw.name, dw.type, pw.name, pw.type) == ("depthwise", "Conv1d", "pointwise", "Conv1d")
    assert dw.params == 192  # K*Cin = 3*64
    assert pw.params == 8_192  # Cin*Cout = 64*128
    assert r.params == 8_384  # 192 + 8,192
    assert dw.macs == 24_576  # K*Fout*Cin = 3*128*64
    assert pw.macs == 1_048_576  # Cin*Fout*Cout = 64*128*128
    assert r.macs == 1_073_152
    assert dw.output_shape == (1, 64, 128) and pw.input_shape == (1, 64, 128) and r.output_shape == (1, 128, 128)
    # the plain Conv1d it replaces: 3*64*128 = 24,576 params, 64*3*128*128 = 3,145,728 MACs
    plain = cost("Conv1d", (1, 64, 128), out_channels=128, kernel_size=3, padding=1, bias=False)
    assert (plain.params, plain.macs) == (24_576, 3_145_728)
    # memory: the parts move the intermediate too: dw reads 8,192 + 192, writes 8,192; pw reads 8,192 + 8,192,
    # writes 16,384 elements -> read 24,768 x 4, written 24,576 x 4
    assert (r.totals.read_bytes, r.totals.written_bytes) == (99_072, 98_304)
    assert r.totals == dw.totals + pw.totals


def test_depthwise_separable_conv2d_with_bias():
    r = cost("DepthwiseSeparableConv2d", (1, 32, 16, 16), out_channels=64, kernel_size=3, padding=1, bias=True)
    dw, pw = r.parts
    assert dw.params == 288 + 32  # 9*32 weights + 32 bias
    assert pw.params == 2_048 + 64  # 32*64 weights + 64 bias
    assert dw.macs == 73_728  # 9*256*32
    assert pw.macs == 524_288  # 32*256*64
    assert r.macs == 598_016 and r.params == 2_432


# -------------------------------------------------------------------------------------------------- recurrent
def test_lstm_two_layers_batch_first():
    r = cost("LSTM", (1, 50, 128), hidden_size=256, num_layers=2, batch_first=True)
    assert r.output_shape == (1, 50, 256)
    # layer 0: 4h*Cin + 4h*h + 8h = 131,072 + 262,144 + 2,048 = 395,264
    # layer 1: 4h*h + 4h*h + 8h = 262,144 + 262,144 + 2,048 = 526,336
    assert r.params == 921_600
    # per step: (131,072 + 262,144) + (262,144 + 262,144) = 917,504; x 50 steps
    assert r.macs == 45_875_200
    assert r.totals.bias_adds == 204_800  # 2 layers x 50 steps x 8h


def test_lstm_bidirectional_seq_first():
    r = cost("LSTM", (7, 3, 10), hidden_size=20, num_layers=2, bidirectional=True)
    assert r.output_shape == (7, 3, 40)  # 2 directions x h
    # layer 0 per dir: 4*20*10 + 4*20*20 + 8*20 = 2,560; layer 1 input 40: 4*20*40 + 1,600 + 160 = 4,960; x 2 dirs
    assert r.params == 15_040
    # 21 steps (7*3) x 2 dirs x (2,400 + 4,800)
    assert r.macs == 302_400


def test_lstm_proj_size():
    r = cost("LSTM", (2, 4, 10), hidden_size=20, proj_size=5, batch_first=True)
    assert r.output_shape == (2, 4, 5)
    assert r.params == 1_460  # 4*20*10 + 4*20*5 + 8*20 + 20*5 (weight_hr)
    assert r.macs == 10_400  # (800 + 400 + 100) x 8 steps


def test_gru_and_rnn():
    gru = cost("GRU", (3, 2, 10), hidden_size=20)
    assert gru.params == 1_920  # 3*20*10 + 3*20*20 + 6*20
    assert gru.macs == 10_800  # 6 steps x (600 + 1,200)
    rnn = cost("RNN", (4, 1, 10), hidden_size=20, num_layers=3, bias=False)
    assert rnn.params == 2_200  # (200 + 400) + (400 + 400) + (400 + 400)
    assert rnn.macs == 8_800  # 4 steps x 2,200
    assert rnn.totals.fvcore == 0 and rnn.totals.thop == 8_800  # fvcore counts RNNs as 0


# -------------------------------------------------------------------------------------------------- attention
def test_multihead_attention_self_attention():
    r = cost("MultiheadAttention", (10, 2, 64), num_heads=8)
    assert r.output_shape == (10, 2, 64)
    assert r.params == 16_640  # 4*E*E + 4*E = 16,384 + 256
    # projections 4*B*L*E*E = 4*20*4,096 = 327,680; QK^T and AV 2*B*L*L*E = 2*2*100*64 = 25,600
    assert r.macs == 353_280
    assert r.totals.attention_macs == 25_600
    assert r.totals.thop == 0  # thop has no rule for nn.MultiheadAttention
    assert r.totals.fvcore == 327_680  # fvcore misses the attention matmuls
    assert r.totals.flop_counter == 706_560  # 2 x MACs


def test_multihead_attention_batch_first_no_bias():
    r = cost("MultiheadAttention", (2, 10, 64), num_heads=8, batch_first=True, bias=False)
    assert r.params == 16_384 and r.macs == 353_280 and r.totals.bias_adds == 0


# -------------------------------------------------------------------------------------------------- embedding
def test_embedding():
    r = cost("Embedding", (1, 50), num_embeddings=10_000, embedding_dim=128)
    assert r.output_shape == (1, 50, 128)
    assert r.params == 1_280_000 and r.macs == 0
    # reads 50 int64 ids (400 B) and only the 50 gathered rows (50*128*4 = 25,600 B); writes 25,600 B
    assert (r.totals.read_bytes, r.totals.written_bytes) == (26_000, 25_600)


# ------------------------------------------------------------------------------------------------------ norms
def test_batch_norm_params_and_buffers():
    r = cost("BatchNorm2d", (2, 16, 8, 8))
    assert r.params == 32  # weight + bias, 2*C
    assert r.buffers == 33  # running mean + var 2*C, num_batches_tracked 1
    assert r.macs == 0 and r.flops == 4_096  # 2 per element, 2*16*64 = 2,048 elements
    assert cost("BatchNorm1d", (4, 16), affine=False, track_running_stats=False).params == 0


def test_layer_norm_group_norm_rms_norm():
    ln = cost("LayerNorm", (2, 4, 8, 16), normalized_shape=[8, 16])
    assert ln.params == 256  # prod(8, 16) = 128 for weight and for bias
    assert ln.flops == 5_120  # 5 per element, 1,024 elements
    assert cost("LayerNorm", (2, 4, 8, 16), normalized_shape=[8, 16], bias=False).params == 128
    assert cost("LayerNorm", (2, 4, 16)).args["normalized_shape"] == [16]
    gn = cost("GroupNorm", (2, 16, 5), num_groups=4)
    assert gn.params == 32  # 2*C
    rms = cost("RMSNorm", (2, 3, 16))
    assert rms.params == 16 and rms.flops == 384  # 4 per element x 96


# ------------------------------------------------------------------------------------------------------ pools
def test_max_pool2d_as_in_alexnet():
    r = cost("MaxPool2d", (1, 96, 55, 55), kernel_size=3, stride=2)
    assert r.output_shape == (1, 96, 27, 27)  # floor((55 - 3)/2) + 1 = 27
    assert r.params == 0 and r.macs == 0
    assert r.flops == 559_872  # 96*27*27 = 69,984 outputs x (9 - 1) comparisons


def test_pool_ceil_mode_and_padding():
    assert cost("MaxPool2d", (1, 1, 5, 5), kernel_size=2, stride=2, ceil_mode=True).output_shape == (1, 1, 3, 3)
    # ceil((5 - 2)/2) + 1 = 3, and (3-1)*2 = 4 < 5 so the last window starts inside the input
    assert cost("MaxPool1d", (1, 1, 5), kernel_size=2, stride=2).output_shape == (1, 1, 2)  # floor: 2
    # input 2 < kernel 3, yet with ceil_mode torch gives one window: (2 - 3 + 1)//2 + 1 = 1
    assert cost("MaxPool1d", (1, 1, 2), kernel_size=3, stride=2, ceil_mode=True).output_shape == (1, 1, 1)
    avg = cost("AvgPool1d", (1, 2, 7), kernel_size=3, stride=2, padding=1)
    assert avg.output_shape == (1, 2, 4)  # floor((7 + 2 - 3)/2) + 1 = 4
    assert avg.flops == 24  # 8 outputs x 3 (2 adds + 1 divide)
    assert cost("MaxPool2d", (1, 1, 9, 9), kernel_size=4, stride=1, padding=2, dilation=2).output_shape == \
        (1, 1, 7, 7)  # floor((9 + 4 - 2*3 - 1)/1) + 1 = 7


def test_adaptive_pools():
    r = cost("AdaptiveAvgPool2d", (1, 4, 6, 9), output_size=[None, 3])
    assert r.output_shape == (1, 4, 6, 3)  # None keeps the dim
    assert cost("AdaptiveMaxPool2d", (2, 8, 7, 7), output_size=1).output_shape == (2, 8, 1, 1)
    assert cost("AdaptiveAvgPool1d", (2, 8, 7), output_size=10).output_shape == (2, 8, 10)


# ------------------------------------------------------------------------------------------------ activations
@pytest.mark.parametrize(("type_", "per"), [("ReLU", 1), ("ReLU6", 2), ("LeakyReLU", 2), ("Sigmoid", 4),
                                            ("Tanh", 5), ("SiLU", 5), ("GELU", 8), ("Hardswish", 5),
                                            ("Softmax", 5)])
def test_activations_are_elementwise(type_, per):
    r = cost(type_, (2, 3, 4))
    assert r.output_shape == (2, 3, 4) and r.params == 0 and r.macs == 0
    assert r.flops == 24 * per  # 2*3*4 elements x the per-element constant
    assert r.activation_bytes == 96  # 24 x 4 B


def test_gelu_tanh_costs_one_more():
    assert cost("GELU", (1, 10), approximate="tanh").flops == 90  # 10 x (8 + 1)


# ------------------------------------------------------------------------------------------------------- misc
def test_upsample():
    r = cost("Upsample", (1, 3, 4, 5), scale_factor=2)
    assert r.output_shape == (1, 3, 8, 10)
    assert r.flops == 0  # nearest copies
    r = cost("Upsample", (1, 1, 2, 2), size=[3, 7], mode="bilinear", align_corners=True)
    assert r.output_shape == (1, 1, 3, 7) and r.flops == 147  # 21 outputs x 7
    assert cost("Upsample", (1, 1, 5), scale_factor=1.5, mode="linear").output_shape == (1, 1, 7)  # floor(7.5)
    assert cost("Upsample", (1, 1, 3, 3, 3), scale_factor=[1, 2, 0.5]).output_shape == (1, 1, 3, 6, 1)


def test_flatten_is_a_view():
    r = cost("Flatten", (2, 3, 4, 5))
    assert r.output_shape == (2, 60)  # 3*4*5
    assert r.activation_bytes == 0 and r.flops == 0
    assert cost("Flatten", (2, 3, 4, 5), start_dim=1, end_dim=2).output_shape == (2, 12, 5)
    assert cost("Flatten", (2, 3, 4, 5), start_dim=-2).output_shape == (2, 3, 20)


def test_dropout_and_identity():
    d = cost("Dropout", (1, 9216), p=0.5)
    assert d.output_shape == (1, 9216) and d.flops == 0
    assert d.activation_bytes == 36_864  # its own output tensor: 9,216 x 4 B (torchsummary counts it)
    i = cost("Identity", (1, 7))
    assert i.output_shape == (1, 7) and i.activation_bytes == 0


def test_frozen_layer_counts_frozen_params():
    r = cost_layer(LayerSpec("Linear", {"out_features": 10}, trainable=False), 0, (1, 4))
    assert (r.params, r.trainable_params, r.frozen_params) == (50, 0, 50)  # 4*10 + 10


def test_netcost_flops_convention():
    r = cost("Conv2d", (1, 2, 4, 4), out_channels=3, kernel_size=3)
    # out 2x2; MACs = 2*9*4*3 = 216; bias adds = 3*4 = 12; FLOPs = 2*216 + 12
    assert (r.macs, r.flops, r.totals.flop_counter) == (216, 444, 432)
    assert r.totals.torchinfo == 228  # conv: MACs + bias adds


def test_registering_a_type_twice_is_an_error():
    kinds()  # the built-in kinds are registered (they load on first use)
    with pytest.raises(ValueError, match="registered twice"):
        @register("Linear", category="linear", args=())
        def again(a, x):  # pragma: no cover - never called
            return Out(x)


def test_registering_an_unknown_category_is_an_error():
    with pytest.raises(ValueError, match="unknown category"):
        register("Foo", category="magic", args=())


# ------------------------------------------------------------------------------------------- Hugging Face Conv1D
def test_hf_conv1d_is_a_transposed_linear_with_its_peer_figures():
    r = cost("Conv1D", (1, 32, 64), nf=192)
    assert r.output_shape == (1, 32, 192)
    assert r.params == 64 * 192 + 192 == 12_480  # nx*nf weight (stored nx x nf) + nf bias, always
    assert r.macs == 393_216  # 32 rows x 64*192
    assert r.totals.bias_adds == 6_144  # 32 rows x 192
    assert r.args["nx"] == 64 and r.inferred == ("nx",)
    # as the tools print for GPT-2's c_attn (n_embd 64, 32 tokens): thop has no rule for the class; ptflops
    # counts the addmm with its bias once (393,216 + 192); torchinfo treats a class named "Conv..." as a conv:
    # params x (batch x features) = 12,480 x 192
    t = r.totals
    assert (t.thop, t.fvcore, t.ptflops, t.torchinfo) == (0, 393_216, 393_408, 2_396_160)
