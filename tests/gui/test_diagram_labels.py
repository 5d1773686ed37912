"""Diagram labels follow one rule (the name relative to the frame around it, and the type), and the index
arithmetic that builds an attention mask folds into one `mask` group instead of filling a model's top level."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from netcost.gui.diagram.keys import InputKey, ScopeKey
from netcost.gui.diagram.scene import DiagramScene
from netcost.gui.document.cost_document import CostDocument
from netcost.model_io.files.zoo import load_model_graph
from netcost.model_io.importers.tracer import InputSpec, trace_graph
from netcost.model_io.worker.resolve import load_graph_ref


class _Branch(nn.Module):
    def __init__(self, cin: int, cout: int) -> None:
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, 3, padding=1)
        self.relu = nn.ReLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.relu(self.conv(x))


class _Block(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(8, 8, 3, padding=1)
        self.bn1 = nn.BatchNorm2d(8)
        self.branch1 = _Branch(8, 4)
        self.branch2 = _Branch(8, 4)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.bn1(self.conv1(x))
        return torch.cat([self.branch1(y), self.branch2(y)], 1)


class _Net(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(3, 8, 3, padding=1)
        self.block1 = _Block()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.block1(self.conv1(x))


def _scene(graph, qtbot) -> DiagramScene:  # noqa: ANN001
    doc = CostDocument()
    doc.set_graph(graph)
    return DiagramScene(doc)


def _titles(scene: DiagramScene) -> dict[str, str]:
    """Each block's name and type as it reads them: "name  Type" on its title line, or, when the type does not fit
    beside the name, the name above and the type first on the line below."""
    out = {}
    for b in scene.blocks():
        title, below = b.text_lines()[:2]
        out[b.layer_id] = title if "  " in title else f"{title}  {below.split(' · ')[0]}"
    return out


def test_every_block_is_named_relative_to_its_frame(qtbot) -> None:
    scene = _scene(trace_graph(_Net().eval(), [InputSpec((1, 3, 16, 16))]), qtbot)
    scene.set_expanded_scopes(g.node.path for g in scene.groups())
    titles = _titles(scene)
    assert titles["conv1"] == "conv1  Conv2d"
    assert titles["block1.conv1"] == "conv1  Conv2d"  # not "block1.conv1  Conv2d"
    assert titles["block1.bn1"] == "bn1  BatchNorm2d"
    # both branches read alike (one was "conv", the other "branch2.conv")
    assert titles["block1.branch1.conv"] == titles["block1.branch2.conv"] == "conv  Conv2d"
    assert titles["block1.branch1.relu"] == titles["block1.branch2.relu"] == "relu  ReLU"
    headers = {g.node.path: g.text_lines()[0] for g in scene.groups()}
    assert headers["block1"] == "block1  _Block" and headers["block1.branch2"] == "branch2  _Branch"
    scene.set_collapsed("block1.branch2", True)
    assert scene.group("block1.branch2").text_lines()[0] == "branch2  ▸"


def _one_rule_per_branch(labels: dict[str, str]) -> None:
    """Each branch's blocks all keep their "branchN." prefix or all shed it (none "branch2.conv" beside "reduce")."""
    for n in (1, 2, 3, 4):
        prefix = f"branch{n}."
        kept = {nid: label.startswith(prefix) for nid, label in labels.items() if nid.startswith(prefix)}
        assert len(kept) >= 2 and len(set(kept.values())) == 1, kept


def test_a_layer_lists_dotted_names_follow_one_rule_per_branch(qtbot) -> None:
    """The article's Inception block (zoo:inception_3a, a hand-made list with no module frames): blocks are as wide
    as their params, so the widest one once kept "branch2.conv" while its narrow neighbours read "reduce" and
    "relu1"; at every width encoding and level of detail a branch's labels follow one rule."""
    scene = _scene(load_model_graph("inception_3a"), qtbot)
    for width in ("params", None):
        scene.set_width_metric(width)
        titles = _titles(scene)
        _one_rule_per_branch(titles)
        if width is None:  # uniform blocks: every name fits whole, none is cut
            assert titles["branch2.conv"] == "branch2.conv  Conv2d" and titles["branch4.pool"].startswith(
                "branch4.pool")
        else:
            assert titles["branch2.conv"] == "conv  Conv2d" and titles["branch2.reduce"] == "reduce  Conv2d"
        for lod in (0.5, 0.3):  # zoomed out: the name alone, in a bigger font
            plans = {b.layer_id: b._label_plan(b.text, b.block_rect(), lod) for b in scene.blocks()}
            _one_rule_per_branch({nid: plan[0][1].text() for nid, plan in plans.items() if plan})


class _Attention(nn.Module):
    def __init__(self, d: int) -> None:
        super().__init__()
        self.qkv = nn.Linear(d, 3 * d)
        self.proj = nn.Linear(d, d)

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        b, t, d = x.shape
        q, k, v = (z.view(b, t, 2, d // 2).transpose(1, 2) for z in self.qkv(x).split(d, dim=2))
        y = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
        return x + self.proj(y.transpose(1, 2).reshape(b, t, d))


class _MaskedLM(nn.Module):
    """Builds its causal + padding mask at the top level from index arithmetic, as Hugging Face models do."""

    def __init__(self, d: int = 16) -> None:
        super().__init__()
        self.embed = nn.Embedding(100, d)
        self.pos = nn.Embedding(32, d)
        self.layers = nn.ModuleList(_Attention(d) for _ in range(2))
        self.head = nn.Linear(d, 100)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        t = tokens.shape[1]
        x = self.embed(tokens) + self.pos(torch.arange(t))  # position ids: not a mask
        idx = torch.arange(t)
        padded = tokens.ne(0).cumsum(-1).gt(0)
        mask = (idx[None, :] <= idx[:, None])[None] & padded[:, None, :]
        mask = mask[:, None].expand(-1, 2, -1, -1)
        for layer in self.layers:
            x = layer(x, mask)
        return self.head(x)


def test_mask_plumbing_folds_into_one_group(qtbot) -> None:
    graph = trace_graph(_MaskedLM().eval(), [InputSpec((2, 8), "int64")])
    scene = _scene(graph, qtbot)
    shown = [k.path if isinstance(k, ScopeKey) else k for k in scene.layout.boxes if not isinstance(k, InputKey)]
    top = [k for k in shown if "." not in k]
    assert "mask" in top and not scene.is_expanded("mask")  # one folded group, not open by default
    count = scene.structure.scopes["mask"].count
    assert count >= 8 and scene.group("mask").text_lines()[:2] == ["mask  ▸", f"mask plumbing · {count} nodes"]
    assert not {"ne", "cumsum", "gt", "bitwise_and", "le", "expand"} & set(shown)  # none of it on show
    assert {"embed", "pos", "head"} <= set(top)
    assert graph.node("arange").scope == ""  # the position ids feed an embedding: they stay where they are
    scene.set_collapsed("mask", False)
    assert {b.layer_id for b in scene.blocks() if b.layer_id in ("cumsum", "bitwise_and")} == {"cumsum", "bitwise_and"}
    # the report's hierarchy holds it too (the Modules tree folds it as a container)
    assert "mask" in {h.path for h in scene.document.report.hierarchy}


def test_gpt2_has_no_mask_group(qtbot) -> None:
    graph = load_graph_ref("zoo:gpt2")  # causal attention by is_causal=True: no mask is built
    assert not any(s.path.endswith("mask") for s in graph.scopes)
