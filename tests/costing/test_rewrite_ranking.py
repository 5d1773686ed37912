"""Rewrite candidates ranked by what they save, with the harmful and meaningless ones hidden, saying why."""

from __future__ import annotations

from netcost.costing import rewrite_ranking as RR
from netcost.costing import rewrites as R
from netcost.costing.graph_eval import evaluate_graph
from netcost.model_io.files.zoo import load_model_graph


def _ranked(graph, by=RR.Saving.MACS):
    report = evaluate_graph(graph)
    return RR.rank(graph, R.previews(graph, report=report), by, report)


def test_alexnet_ranked_by_macs_saved_with_the_worst_hidden_and_why() -> None:
    ranked = _ranked(load_model_graph("alexnet"))
    shown = [r for r in ranked if not r.hidden]
    savings = [r.saving for r in ranked]
    assert savings == sorted(savings, reverse=True)
    assert shown[0].rewrite.id == "width:*" and shown[1].rewrite.id == "depthwise_separable:conv2"
    hidden = {r.rewrite.id: r.hidden for r in ranked if r.hidden}
    assert hidden["two_3x3:conv1"] == "increases MACs by 1,456 %"  # 12.5 G more than the 861 M of the model
    assert hidden["factorize_nx1:conv3"] == "changes no MACs"
    assert "reads only 3 channels" in hidden["reduce_1x1:conv1"]
    assert "reads only 3 channels" in hidden["depthwise_separable:conv1"]
    assert all(r.saving > 0 for r in shown)


def test_ranked_by_params_puts_the_pooling_rewrite_before_the_convs() -> None:
    shown = [r.rewrite.id for r in _ranked(load_model_graph("alexnet"), RR.Saving.PARAMS) if not r.hidden]
    assert shown[:2] == ["width:*", "global_avg_pool:fc1"]


def test_a_second_reduction_on_a_reduced_conv_is_hidden() -> None:
    graph = load_model_graph("alexnet")
    graph = R.apply(graph, R.find(graph, "reduce_1x1:conv2")).graph
    hidden = {r.rewrite.id: r.hidden for r in _ranked(graph)}
    assert hidden["reduce_1x1:conv2"] == "conv2 already reads a 1×1 reduction (conv2.reduce)"
    assert hidden["reduce_1x1:conv3"] == ""


def test_next_best_after_apply_is_the_next_one_still_offered() -> None:
    ids = ["a", "b", "c", "d"]
    assert RR.next_best(ids, "b", lambda i: i != "b") == "c"
    assert RR.next_best(ids, "b", lambda i: i in ("a", "d")) == "d"
    assert RR.next_best(ids, "d", lambda i: i != "d") == "c"
    assert RR.next_best(ids, "x", lambda i: i != "a") == "b"
    assert RR.next_best(ids, "b", lambda i: False) is None
