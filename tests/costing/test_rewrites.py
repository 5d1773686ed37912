"""The article's tricks as rewrites: every candidate's listed deltas equal hand arithmetic, and applying it gives
exactly base + delta (a full evaluation of the rewritten graph). On the article's AlexNet (convs without bias,
224×224) and the naive Inception block (1×1, 3×3, 5×5 convs with bias and a 3×3 max-pool on 192×28×28).

Hand formulas: a conv's weights = C_out · C_in/groups · kh · kw (+ C_out bias); MACs = weights · H_out · W_out;
NetCost FLOPs = 2 · MACs + one add per biased output element + one per activation (ReLU) element."""

from __future__ import annotations

import pytest

from netcost.costing import rewrites as R
from netcost.costing.graph import Graph
from netcost.costing.graph_eval import evaluate_graph
from netcost.model_io.files.zoo import load_model_graph


def conv(cin: int, cout: int, kh: int, kw: int, ho: int, wo: int, bias: bool = False, groups: int = 1
         ) -> tuple[int, int, int]:
    """(params, MACs, FLOPs) of one conv by hand."""
    w = cout * (cin // groups) * kh * kw
    params = w + (cout if bias else 0)
    macs = w * ho * wo
    return params, macs, 2 * macs + (cout * ho * wo if bias else 0)


def total(*parts: tuple[int, int, int]) -> tuple[int, int, int]:
    return tuple(sum(p[i] for p in parts) for i in range(3))  # type: ignore[return-value]


def minus(new: tuple[int, int, int], old: tuple[int, int, int], relu: int = 0) -> tuple[int, int, int]:
    """new - old, plus `relu` activation elements added between the new convs (1 FLOP each)."""
    return new[0] - old[0], new[1] - old[1], new[2] - old[2] + relu


# ---- AlexNet (zoo:alexnet): conv1 3→96 11×11/4 p2 (55×55), conv2 96→192 5×5 p2 (27×27), conv3 192→384,
# conv4 384→256, conv5 256→256 (3×3 p1, 13×13), fc1 9216→4096, fc2 4096→4096, fc3 4096→1000 -----------------
A_CONVS = {"conv1": (3, 96, 11, 224, 55), "conv2": (96, 192, 5, 27, 27), "conv3": (192, 384, 3, 13, 13),
           "conv4": (384, 256, 3, 13, 13), "conv5": (256, 256, 3, 13, 13)}  # cin, cout, k, H_in, H_out


def _alexnet_expected() -> dict[str, tuple[int, int, int]]:
    exp: dict[str, tuple[int, int, int]] = {}
    for name, (cin, cout, k, hi, ho) in A_CONVS.items():
        old = conv(cin, cout, k, k, ho, ho)
        if name == "conv1":  # 11×11 stride 4 pad 2: N×1 runs at 55×224 (stride (4,1), pad (2,0)), then 1×N → 55×55
            fact = total(conv(3, 96, 11, 1, 55, 224), conv(96, 96, 1, 11, 55, 55))
        else:  # N×1 (pad (p,0)) keeps the full output size, as does 1×N
            fact = total(conv(cin, cout, k, 1, ho, ho), conv(cout, cout, 1, k, ho, ho))
        exp[f"factorize_nx1:{name}"] = minus(fact, old)
        exp[f"depthwise_separable:{name}"] = minus(
            total(conv(cin, cin, k, k, ho, ho, groups=cin), conv(cin, cout, 1, 1, ho, ho)), old)
        r = max(1, int(cin * 0.25 + 0.5))  # 3 → 1, 96 → 24, 192 → 48, 384 → 96, 256 → 64
        # the 1×1 runs at the input size, followed by a copy of the conv's ReLU (r · H_in · W_in elements)
        exp[f"reduce_1x1:{name}"] = minus(total(conv(cin, r, 1, 1, hi, hi), conv(r, cout, k, k, ho, ho)), old,
                                          relu=r * hi * hi)
    # conv2 5×5 → two 3×3 96→192, 192→192 at 27×27 (+ a ReLU copy: 192·27·27)
    exp["two_3x3:conv2"] = minus(total(conv(96, 192, 3, 3, 27, 27), conv(192, 192, 3, 3, 27, 27)),
                                 conv(96, 192, 5, 5, 27, 27), relu=192 * 27 * 27)
    # conv1 11×11/4 p2 → five 3×3; paddings 1,1,0,0,0; the stride cannot go first at 224 (it would give 50),
    # so it goes last: 224 → 224 → 224 → 222 → 220 → (220-3)//4+1 = 55; a ReLU copy after each of the first four
    c1 = total(conv(3, 96, 3, 3, 224, 224), conv(96, 96, 3, 3, 224, 224), conv(96, 96, 3, 3, 222, 222),
               conv(96, 96, 3, 3, 220, 220), conv(96, 96, 3, 3, 55, 55))
    exp["two_3x3:conv1"] = minus(c1, conv(3, 96, 11, 11, 55, 55), relu=96 * (224 * 224 * 2 + 222 * 222 + 220 * 220))
    # fc1 reads 256 pooled features instead of 256·6·6 = 9216: (256 - 9216) · 4096 weights and MACs; the pool
    # costs 37 FLOPs per output (36 adds + 1 divide) × 256 outputs
    d = (256 - 9216) * 4096
    exp["global_avg_pool:fc1"] = (d, d, 2 * d + 256 * 37)
    # width × 0.5 on the whole model: every conv and fc1/fc2 halved, fc3 keeps its 1000 outputs (the model output)
    old = 61_264_904
    new = (48 * 3 * 121 + 96 * 48 * 25 + 192 * 96 * 9 + 128 * 192 * 9 + 128 * 128 * 9
           + 128 * 36 * 2048 + 2048 + 2048 * 2048 + 2048 + 2048 * 1000 + 1000)
    new_macs = (48 * 3 * 121 * 55 * 55 + 96 * 48 * 25 * 27 * 27 + (192 * 96 * 9 + 128 * 192 * 9 + 128 * 128 * 9) * 169
                + 128 * 36 * 2048 + 2048 * 2048 + 2048 * 1000)
    exp["width:*"] = (new - old, new_macs - 861_301_280, None)  # type: ignore[assignment]
    return exp


def _check(graph: Graph, expected: dict[str, tuple[int, int, int]]) -> None:
    base = evaluate_graph(graph)
    found = R.previews(graph, report=base)
    assert sorted(p.rewrite.id for p in found) == sorted(expected)
    for p in found:
        want = expected[p.rewrite.id]
        got = (p.params_delta, p.macs_delta, p.flops_delta)
        assert got[:2] == want[:2] and (want[2] is None or got[2] == want[2]), (p.rewrite.id, got, want)
        full = evaluate_graph(p.result.graph)  # apply, then evaluate from scratch: exactly base + delta
        assert full.complete and full.totals == base.totals + p.delta, p.rewrite.id
        assert full.layers == p.report.layers and full.hierarchy == p.report.hierarchy  # incremental = full
        assert full.output_shape == base.output_shape, p.rewrite.id


def test_alexnet_rewrites_match_hand_arithmetic() -> None:
    _check(load_model_graph("alexnet"), _alexnet_expected())


def naive_inception() -> Graph:
    """zoo:inception_naive: 1×1 (64), 3×3 (128), 5×5 (32) convs with bias + ReLU and a 3×3 max-pool on
    192×28×28, concatenated (the article's block before its 1×1 reductions)."""
    return load_model_graph("inception_naive")


def test_naive_inception_rewrites_match_hand_arithmetic() -> None:
    hw = 28  # every branch keeps 28×28
    c3, c5 = conv(192, 128, 3, 3, hw, hw, True), conv(192, 32, 5, 5, hw, hw, True)
    expected = {
        "factorize_nx1:branch2.conv": minus(
            total(conv(192, 128, 3, 1, hw, hw, True), conv(128, 128, 1, 3, hw, hw, True)), c3),
        "depthwise_separable:branch2.conv": minus(
            total(conv(192, 192, 3, 3, hw, hw, True, groups=192), conv(192, 128, 1, 1, hw, hw, True)), c3),
        # 192 · 1/4 = 48 reduced channels, then a ReLU copy (48 · 28 · 28 elements)
        "reduce_1x1:branch2.conv": minus(total(conv(192, 48, 1, 1, hw, hw, True), conv(48, 128, 3, 3, hw, hw, True)),
                                         c3, relu=48 * hw * hw),
        "two_3x3:branch3.conv": minus(total(conv(192, 32, 3, 3, hw, hw, True), conv(32, 32, 3, 3, hw, hw, True)), c5,
                                      relu=32 * hw * hw),
        "factorize_nx1:branch3.conv": minus(total(conv(192, 32, 5, 1, hw, hw, True), conv(32, 32, 1, 5, hw, hw, True)),
                                            c5),
        "depthwise_separable:branch3.conv": minus(
            total(conv(192, 192, 5, 5, hw, hw, True, groups=192), conv(192, 32, 1, 1, hw, hw, True)), c5),
        "reduce_1x1:branch3.conv": minus(total(conv(192, 48, 1, 1, hw, hw, True), conv(48, 32, 5, 5, hw, hw, True)),
                                         c5, relu=48 * hw * hw),
    }  # no width: every branch's width reaches the block's output (the concat), so it stays
    _check(naive_inception(), expected)


def test_parameters_change_the_deltas_and_bad_ones_are_refused() -> None:
    g = naive_inception()
    r = R.find(g, "reduce_1x1:branch3.conv:ratio=0.0833333")  # GoogLeNet 3a's reduction: 192 → 16
    assert r.params["ratio"] == pytest.approx(16 / 192, rel=1e-4)
    p = R.preview(g, r)
    c5 = conv(192, 32, 5, 5, 28, 28, True)
    want = minus(total(conv(192, 16, 1, 1, 28, 28, True), conv(16, 32, 5, 5, 28, 28, True)), c5, relu=16 * 28 * 28)
    assert (p.params_delta, p.macs_delta, p.flops_delta) == want
    with pytest.raises(R.RewriteError, match="ratio must be below 1"):
        R.with_params(r, ratio=2)
    with pytest.raises(R.RewriteError, match="unknown parameter 'factor'"):
        R.with_params(r, factor=0.5)
    with pytest.raises(R.RewriteError, match=r"no rewrite 'two_3x3:branch2.conv'.*did you mean two_3x3:branch3.conv"):
        R.find(g, "two_3x3:branch2.conv")
    with pytest.raises(R.RewriteError, match="unknown rewrite 'shrink:branch2.conv'"):
        R.find(g, "shrink:branch2.conv")


def test_width_on_a_branch_keeps_the_concat_valid_and_the_mapping_names_what_changed() -> None:
    g = load_model_graph("inception_3a")  # branch2/3 have 1×1 reductions: their widths are internal
    base = evaluate_graph(g)
    ids = [r.id for r in R.candidates(g, ["width"], base)]
    assert ids == ["width:branch2", "width:branch3", "width:*"]
    r = R.with_params(R.find(g, "width:branch3", base), factor=0.25)
    res = R.apply(g, r, base)
    assert res.graph.by_name("branch3.reduce").args["out_channels"] == 4  # 16 · 0.25
    assert res.graph.by_name("branch3.conv").args["out_channels"] == 32  # feeds the concat: unchanged
    # only the reduction's arguments change (the 5×5 infers its in_channels): it alone maps, to itself
    assert res.mapping == {"branch3.reduce": ("branch3.reduce",)} and not res.added and not res.removed
    p = R.preview(g, r, base)
    # reduce 192→4 1×1 + bias, 5×5 4→32 + bias instead of 192→16 and 16→32, at 28×28
    new = total(conv(192, 4, 1, 1, 28, 28, True), conv(4, 32, 5, 5, 28, 28, True))
    old = total(conv(192, 16, 1, 1, 28, 28, True), conv(16, 32, 5, 5, 28, 28, True))
    assert (p.params_delta, p.macs_delta) == (new[0] - old[0], new[1] - old[1])


def test_a_rewrite_maps_old_nodes_to_new_and_touches_only_its_neighbourhood() -> None:
    g = load_model_graph("alexnet")
    res = R.apply(g, R.find(g, "two_3x3:conv2"))
    assert res.mapping == {g.by_name("conv2").id: ("conv2.3x3_1", "conv2.relu", "conv2.3x3_2")}
    assert res.removed == ("conv2",) and res.added == ("conv2.3x3_1", "conv2.relu", "conv2.3x3_2")
    assert res.touched == {"conv2.3x3_1", "conv2.relu", "conv2.3x3_2", "ReLU-4"}
    assert [n.display_name for n in res.graph.nodes][3:7] == ["conv2.3x3_1", "conv2.relu", "conv2.3x3_2", "ReLU-4"]
    with pytest.raises(R.RewriteError, match="conv3 .*two_3x3 does not apply"):
        R.apply(g, R.Rewrite("two_3x3:conv3", "two_3x3", "conv3", ""))
