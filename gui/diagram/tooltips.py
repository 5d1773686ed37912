"""`DiagramTooltips`: the full record of a block, a container, an input or an edge, as rich text for the view's
tooltips: every metric, its share of the totals, the conventions' names, and the hidden view ops an edge runs
through."""

from __future__ import annotations

from html import escape

from netcost.costing import CONVENTIONS, PEERS
from netcost.costing.formatting import grouped, key_args, nbytes, percent, shape, si
from netcost.costing.records import NOT_COSTED
from netcost.gui.common.cost_colors import convention_label
from netcost.gui.diagram.blocks import GroupFrameItem, InputItem, LayerBlockItem
from netcost.gui.diagram.context import DiagramContext
from netcost.gui.diagram.keys import BoxKey, InputKey, ScopeKey
from netcost.gui.diagram.layout import Route
from netcost.gui.diagram.text import DiagramText


class DiagramTooltips:
    def __init__(self, scene: DiagramContext, text: DiagramText) -> None:
        self.scene = scene
        self.text = text

    def edge_tooltip(self, route: Route) -> str:
        st = self.scene.structure
        graph = self.scene.document.graph

        def name(key: BoxKey) -> str:
            if isinstance(key, ScopeKey):
                return key.path
            if isinstance(key, InputKey):
                return f"input {key.name}"
            return graph.nodes[st.row[key]].display_name

        shp = self.text.edge_shape(route)
        lines = [f"<b>{escape(name(route.src))}</b> → <b>{escape(name(route.dst))}</b>"]
        if shp:
            lines.append(f"tensor {shape(shp)}")
        b = self.text.edge_bytes(route)
        if b:
            lines.append(f"activation {nbytes(b)}")
        if route.dst_node in st.row and not isinstance(route.dst, ScopeKey):
            via = self._via(route)
            if via:
                lines.append(f"through {escape(', '.join(via))}")
        return "<br>".join(lines)

    def _via(self, route: Route) -> list[str]:
        """The hidden view ops between the value and its consumer (`view`, `transpose`, ...)."""
        graph = self.scene.document.graph
        st = self.scene.structure
        node = graph.nodes[st.row[route.dst_node]]
        if route.dst_input >= len(node.inputs):
            return []
        out: list[str] = []
        ref = node.inputs[route.dst_input]
        while ref.node in st.hidden and len(out) < 8:
            n = graph.nodes[st.row[ref.node]]
            out.append(n.op)
            if not n.inputs:
                break
            ref = n.inputs[0]
        return out[::-1]

    def tooltip_html(self, item: LayerBlockItem | GroupFrameItem | InputItem) -> str:
        """The full record of a block or container: every metric, % of totals, and the conventions' names."""
        scene = self.scene
        report = scene.document.report
        conv = scene.document.convention
        if isinstance(item, InputItem):
            return f"<b>input {escape(item.name)}</b><br>{escape(item.text)}"
        if isinstance(item, GroupFrameItem):
            node = item.node
            scope = scene.structure.scopes.get(node.path)
            count = scope.count if scope is not None else 0
            head = (f"<b>{escape(node.path)}</b> &nbsp;{escape(node.type)}<br>{count} nodes"
                    f" ({'double-click to expand' if item.collapsed else 'click the header to fold'})")
            if not node.complete:
                return (f"{head}<br><b>{node.not_costed} of them {NOT_COSTED}</b>: no figures are shown for it "
                        "until they are")
            totals = node.totals
        else:
            cost = item.cost
            if cost is None:
                return f"<b>{escape(item.fallback)}</b><br>{NOT_COSTED}"
            head = (f"<b>{escape(cost.name)}</b> &nbsp;{escape(cost.type)} &nbsp;<i>{cost.category}</i><br>"
                    f"{escape(key_args(cost.type, cost.args))}<br>"
                    f"{' + '.join(shape(s) for s in (cost.input_shapes or (cost.input_shape,)))}"
                    f" → {shape(cost.output_shape)}")
            if cost.path and cost.path != cost.name:
                head += f"<br><span>{escape(cost.path)}</span>"
            if item.badge[0]:
                head += f"<br><b>vs the baseline: {escape(item.badge[0])}</b> ({escape(scene.metric_title())})"
            totals = cost.totals
        t = report.totals

        def pct(field: str) -> str:
            total = getattr(t, field) if report.complete else 0  # no share of a partial total
            return percent(getattr(totals, field) / total) if total else "–"

        rows = [
            ("Params", f"{grouped(totals.params)}", pct("params")),
            ("&nbsp;&nbsp;trainable / frozen", f"{grouped(totals.trainable_params)} / {grouped(totals.frozen_params)}",
             ""),
            ("Buffers", grouped(totals.buffers), ""),
            ("MACs", si(totals.macs), pct("macs")),
            ("FLOPs (NetCost)", si(totals.flops), pct("flops")),
            ("&nbsp;&nbsp;bias adds / element-wise", f"{si(totals.bias_adds)} / {si(totals.elementwise_flops)}", ""),
            ("Param bytes", nbytes(totals.param_bytes), pct("param_bytes")),
            ("Activations", nbytes(totals.activation_bytes), pct("activation_bytes")),
            ("Memory access", nbytes(totals.memory_access_bytes), pct("memory_access_bytes")),
            ("FLOPs / byte", f"{totals.flops / totals.memory_access_bytes:.1f}" if totals.memory_access_bytes else "–",
             ""),
        ]
        for key in PEERS:
            c = CONVENTIONS[key]
            rows.append((f"{escape(c.label)} <i>({c.unit})</i>", si(getattr(totals, key)), pct(key)))
        body = "".join(f"<tr><td>{a}</td><td align=right>&nbsp;{b}</td><td align=right>&nbsp;{c}</td></tr>"
                       for a, b, c in rows)
        note = (f"Coloured by {escape(scene.metric_title())}; FLOPs figures use the {escape(convention_label(conv))}"
                " convention")
        return f"{head}<table cellspacing=0>{body}</table><small>{note}</small>"
