"""`DiagramText`: every label of the diagram — a block's title, arguments, shape and figure, a container's header
or collapsed label, the names as they shrink zoomed out, and the edges' shape labels — made from the document's
report for the scene to hand its items (`BlockText`, `GroupText`). One rule names every block: relative to the
frame around it, and blocks whose names share a dotted prefix inside one frame shed it together."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from PySide6.QtCore import QRectF
from PySide6.QtGui import QFont, QFontMetricsF

from netcost.costing import LayerCost
from netcost.costing.formatting import key_args, shape
from netcost.costing.records import DASH, NOT_COSTED
from netcost.gui.common.cost_colors import share_text
from netcost.gui.diagram.blocks import BlockText, GroupFrameItem, GroupText, LayerBlockItem
from netcost.gui.diagram.context import DiagramContext
from netcost.gui.diagram.edges import EdgesItem, Label
from netcost.gui.diagram.keys import InputKey
from netcost.gui.diagram.layout import Route
from netcost.gui.diagram.names import dropped, fit_title, relative_name, short_name, without_leading
from netcost.gui.diagram.style import BLOCK_W


class DiagramText:
    """The labels of one scene's items. `blocks`: the scene's block items by node id (the name groups are the
    blocks made so far)."""

    def __init__(self, scene: DiagramContext, blocks: Mapping[str, LayerBlockItem]) -> None:
        self.scene = scene
        self.blocks = blocks
        self._titles: dict[tuple[str, str, int, float], tuple[str, str]] = {}
        # blocks whose names share a dotted prefix inside one frame ("branch2." of a layer list's "branch2.conv",
        # "branch2.relu1"): they shed it together (`name_drops`); the drops per group, with the refresh they follow
        self._name_groups: dict[str, tuple[str, str]] | None = None
        self._grouped = 0  # how many blocks there were when they were grouped
        self._group_members: dict[tuple[str, str], list[str]] = {}
        self._drops: dict[tuple[str, str], tuple[int, tuple[int, int, int]]] = {}

    def names_changed(self) -> None:
        """A block's name or the structure changed: group the names again when next asked."""
        self._name_groups = None

    def label_key(self) -> tuple:
        """What block labels depend on besides each block's own cost and share (items keep their laid-out text
        while it is unchanged)."""
        state = self.scene.state
        return (state.metric, self.scene.document.convention, state.width_metric)

    # ---- blocks ---------------------------------------------------------------------------------------------
    def block_text(self, item: LayerBlockItem) -> BlockText:
        """The block's label record: the one it has while what it shows is unchanged, else a new one."""
        drops = self.name_drops(item)
        key = (id(item.cost), item.share, item.fallback, item.width_fraction, self.label_key(), drops,
               self.scene.document.report.complete)
        text = item.text
        if isinstance(text, BlockText) and text.key == key:
            return text
        name = self.block_name(item)
        return BlockText(key, tuple(self.block_lines(item)), without_leading(name, drops[1]),
                         without_leading(name, drops[2]))

    def block_lines(self, item: LayerBlockItem) -> list[tuple[str, QFont]]:
        f = self.scene.fonts
        cost = item.cost
        if cost is None:
            return [(item.fallback or "…", f.title), (f"{DASH} · {NOT_COSTED}", f.small)]
        room = BLOCK_W * item.width_fraction - 8
        name = without_leading(self.block_name(item), self.name_drops(item)[0])
        key = (name, cost.type, id(cost.args), room)
        hit = self._titles.get(key)
        if hit is None:
            hit = self._titles[key] = self._title_lines(cost, name, room)
            if len(self._titles) > 20000:
                self._titles.clear()
        title, args = hit
        scene = self.scene
        value = scene.value(cost)
        report = scene.document.report
        if not report.complete:  # no share of a partial total
            share = ""
        elif not item.share:
            total = scene.value(report)
            share = share_text(value / total if total else 0.0)
        else:
            share = item.share
        figure = f"{scene.format_value(value)} · {share}" if share else scene.format_value(value)
        return [(title, f.title), (args, f.small), ("→ " + shape(cost.output_shape), f.small), (figure, f.value)]

    def _title_lines(self, cost: LayerCost, name: str, room: float) -> tuple[str, str]:
        """A block's title and argument lines, fitted to `room` (remembered per layer and width): its `name`
        (relative to the frame around it) and type."""
        f = self.scene.fonts
        args = key_args(cost.type, cost.args) or cost.category
        title = fit_title(name, cost.type, f.title, room)
        if cost.type not in name and QFontMetricsF(f.title).horizontalAdvance(title) > room:
            title = fit_title(name, "", f.title, room)  # no room for both: the type joins the args line
            args = f"{cost.type} · {args}"
        return title, args

    def block_name(self, item: LayerBlockItem) -> str:
        """A block's name relative to the frame around it (the one rule of every label)."""
        cost = item.cost
        return relative_name(cost.name if cost is not None else item.fallback,
                             self.scene.structure.scope_of(item.layer_id))

    def name_drops(self, item: LayerBlockItem) -> tuple[int, int, int]:
        """How many leading components the block's name sheds in its title, and zoomed out in the big and the huge
        font: as many as the most any block of its group must shed to fit (so "branch2.conv" is not shown beside
        "reduce" and "relu1" of the same branch)."""
        scene = self.scene
        groups = self._name_groups
        if groups is None or self._grouped != len(self.blocks):  # (blocks made since join their groups)
            groups = self._name_groups = {}
            self._grouped = len(self.blocks)
            members: dict[tuple[str, str], list[str]] = {}
            st = scene.structure
            for nid, b in self.blocks.items():
                prefix = self.block_name(b).rpartition(".")[0]
                if prefix:
                    g = groups[nid] = (st.scope_of(nid), prefix)
                    members.setdefault(g, []).append(nid)
            self._group_members = members
            self._drops = {}
        group = groups.get(item.layer_id)
        if group is None:
            return (0, 0, 0)
        hit = self._drops.get(group)
        if hit is not None and hit[0] == scene.gen:
            return hit[1]
        f = scene.fonts
        title = big = huge = 0
        for nid in self._group_members[group]:
            b = scene.sync_block(self.blocks[nid], quiet=True)
            if b.cost is None:
                continue
            name = self.block_name(b)
            room = BLOCK_W * b.width_fraction - 8
            shown = self._title_lines(b.cost, name, room)[0]
            title = max(title, dropped(name, shown.removesuffix(f"  {b.cost.type}")))
            big = max(big, dropped(name, short_name(name, f.big, room)))
            huge = max(huge, dropped(name, short_name(name, f.huge, room)))
        drops = (title, big, huge)
        self._drops[group] = (scene.gen, drops)
        return drops

    def shown_name(self, item: LayerBlockItem, font: QFont) -> str:
        """The name a zoomed-out block shows in `font` (big or huge): as its group sheds components for it."""
        drops = self.name_drops(item)
        return without_leading(self.block_name(item), drops[1] if font is self.scene.fonts.big else drops[2])

    # ---- containers -----------------------------------------------------------------------------------------
    def group_name(self, path: str) -> str:
        """A container's name as a block's: relative to the frame around it."""
        scope = self.scene.structure.scopes.get(path)
        return relative_name(path, scope.parent or "") if scope is not None else path

    def group_text(self, item: GroupFrameItem) -> GroupText:
        """The container's label record: the one it has while what it shows is unchanged, else a new one."""
        node = item.node
        scope = self.scene.structure.scopes.get(node.path)
        key = (item.label, node, item.collapsed, scope.count if scope else 0, self.label_key(),
               self.scene.document.report.complete, self.scene.gen if not item.label else -1)
        text = item.text
        if isinstance(text, GroupText) and text.key == key:
            return text
        return GroupText(key, tuple(self.group_lines(item)), self.group_name(node.path))

    def relabel_groups(self, groups: Iterable[GroupFrameItem]) -> None:
        """Hand the visible containers their labels (the others get theirs when shown: the refresh after)."""
        for g in groups:
            if g.isVisible():
                g.text = self.group_text(g)

    def group_lines(self, item: GroupFrameItem) -> list[tuple[str, QFont]]:
        scene = self.scene
        f = scene.fonts
        node = item.node
        value = scene.value(node)
        report = scene.document.report
        total = scene.value(report)
        share = value / total if total else 0.0  # a ratio of two report figures, for display
        scope = scene.structure.scopes.get(node.path)
        count = scope.count if scope is not None else 0
        name = self.group_name(node.path)
        if not node.complete:  # its sum leaves nodes out: no figure at all, and why
            figure = f"{DASH} · {node.not_costed} {NOT_COSTED}"
            if item.collapsed:
                return [(f"{name}  ▸", f.title), (f"{node.type} · {count} nodes", f.small), (figure, f.value)]
            return [(f"{name}  {node.type}", f.header), (figure, f.header)]
        if not report.complete:  # a complete scope of an incomplete model: its figure, no share
            if item.collapsed:
                return [(f"{name}  ▸", f.title), (f"{node.type} · {count} nodes", f.small),
                        (scene.format_value(value), f.value)]
            return [(f"{name}  {node.type}", f.header), (scene.format_value(value), f.header)]
        if item.collapsed:
            return [(f"{name}  ▸", f.title), (f"{node.type} · {count} nodes", f.small),
                    (f"{scene.format_value(value)} · {share_text(share)}", f.value)]
        return [(f"{name}  {node.type}", f.header),
                (f"{scene.format_value(value)} · {share_text(share)}", f.header)]

    # ---- edges ----------------------------------------------------------------------------------------------
    def edge_label(self, route: Route) -> str:
        """The shape of the tensor an edge carries (as its consumer reads it)."""
        shp = self.edge_shape(route)
        return shape(shp) if shp else ""

    def edge_shape(self, route: Route) -> tuple[int, ...] | None:
        report = self.scene.document.report
        cost = report.by_id.get(route.dst_node)
        if cost is not None and route.dst_input < len(cost.input_shapes):
            return cost.input_shapes[route.dst_input]
        src = report.by_id.get(route.value)
        if src is not None and src.output_shapes and route.index < len(src.output_shapes):
            return src.output_shapes[route.index]
        for name, (shp, _) in zip(report.input_names, report.inputs, strict=False):
            if name == route.value:
                return shp
        return None

    def edge_bytes(self, route: Route) -> int:
        """Activation bytes of the value an edge carries: what its producer writes (views write nothing)."""
        report = self.scene.document.report
        src = report.by_id.get(route.value)
        if src is not None:
            n = max(len(src.output_shapes), 1)
            return src.totals.activation_bytes // n
        return report.summary.input_bytes if isinstance(route.src, InputKey) else 0

    def edge_labels(self, chunk: EdgesItem) -> list[Label]:
        """(x, y, text) of each label of a piece of the edges: one per value, just below where it leaves its
        producer (read once, kept on the piece until `stale_label_rect` finds them changed)."""
        if chunk.label_cache is None:
            out, done = [], set()
            by_id = self.scene.document.report.by_id
            chunk.label_costs = [by_id.get(r.dst_node) for r in chunk.routes]
            for r in chunk.routes:
                if len(r.points) < 2:
                    continue
                text = self.edge_label(r)
                if text and (r.src, text) not in done:
                    done.add((r.src, text))
                    out.append((r.points[0][0], r.points[0][1], text))
            chunk.label_cache = out
        return chunk.label_cache

    def stale_labels_rect(self, chunks: Iterable[EdgesItem]) -> QRectF:
        """`stale_label_rect` of every piece of the edges, united."""
        rect = QRectF()
        for chunk in chunks:
            rect = rect.united(self.stale_label_rect(chunk))
        return rect

    def stale_label_rect(self, chunk: EdgesItem) -> QRectF:
        """After a new report: the area (item coordinates) of a piece's labels whose text changed, read again only
        where a consumer's record changed (its input shapes are the labels). Empty when none was drawn yet."""
        if chunk.label_cache is None:
            return QRectF()
        by_id = self.scene.document.report.by_id
        if all(by_id.get(r.dst_node) is c for r, c in zip(chunk.routes, chunk.label_costs, strict=True)):
            return QRectF()
        old = set(chunk.label_cache)
        chunk.label_cache = None
        new = set(self.edge_labels(chunk))
        rect = QRectF()
        for x, y, _ in old ^ new:
            rect = rect.united(QRectF(x, y, 160, 20))
        return rect
