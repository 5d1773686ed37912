"""`netcost rewrites --sort saving --top N [--by params] [--show-hidden]`; without them the listing is unchanged."""

from __future__ import annotations

import contextlib
import json

from netcost.model_io.cli.cli import main


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def _ids(out: str) -> list[str]:
    return [r["id"] for r in json.loads(out)["rewrites"]]


def test_sort_saving_top_lists_the_best_first_and_hides_the_harmful(capsys) -> None:
    code, out, err = run(capsys, "rewrites", "zoo:alexnet", "--sort", "saving", "--top", "3")
    assert (code, err) == (0, "")
    rows = [line.split()[0] for line in out.splitlines()[4:7]]
    assert rows == ["width:*", "depthwise_separable:conv2", "reduce_1x1:conv2"]
    assert "biggest MACs saving first" in out and "two_3x3:conv1" not in out
    assert "6 more hidden" in out and "--show-hidden" in out
    code, out, _ = run(capsys, "rewrites", "zoo:alexnet", "--sort", "saving", "--format", "json")
    listed = json.loads(out)["rewrites"]
    assert len(listed) == 13 and all(r["hidden"] is None and r["macs_delta"] < 0 for r in listed)


def test_show_hidden_and_by_params(capsys) -> None:
    code, out, _ = run(capsys, "rewrites", "zoo:alexnet", "--sort", "saving", "--show-hidden", "--format", "json")
    listed = json.loads(out)["rewrites"]
    assert code == 0 and len(listed) == 19 and listed[-1]["id"] == "two_3x3:conv1"
    assert listed[-1]["hidden"] == "increases MACs by 1,456 %"
    code, out, _ = run(capsys, "rewrites", "zoo:alexnet", "--sort", "saving", "--by", "params", "--top", "2",
                       "--format", "json")
    assert code == 0 and _ids(out) == ["width:*", "global_avg_pool:fc1"]


def test_default_order_unchanged_and_top_alone(capsys) -> None:
    _, full, _ = run(capsys, "rewrites", "zoo:alexnet", "--format", "json")
    _, top, _ = run(capsys, "rewrites", "zoo:alexnet", "--format", "json", "--top", "4")
    assert _ids(top) == _ids(full)[:4] == ["two_3x3:conv1", "factorize_nx1:conv1", "depthwise_separable:conv1",
                                           "reduce_1x1:conv1"]
    assert "hidden" not in json.loads(full)["rewrites"][0]


def test_bad_sort_flags_exit_2_with_one_line(capsys) -> None:
    for argv in (("--top", "0"), ("--sort", "cost"), ("--show-hidden",), ("--by", "params")):
        code, out, err = run(capsys, "rewrites", "zoo:alexnet", *argv)
        assert code == 2 and out == "" and err.count("\n") == 1, (argv, err)


def test_help_names_the_new_flags(capsys) -> None:
    with contextlib.suppress(SystemExit):
        main(["rewrites", "--help"])
    out = capsys.readouterr().out
    assert all(flag in out for flag in ("--sort", "--top", "--by", "--show-hidden"))
