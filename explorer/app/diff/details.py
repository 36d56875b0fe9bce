"""Text of the compare window: the row of a difference in the list, and the two layers
of a matched pair side by side with what differs marked."""

from __future__ import annotations

from html import escape

from ...export.diff_export import changes_text, value_text
from ...graph.diff import NodeDiff
from ...graph.style import DIFF_STYLES, node_label

STATUS_WORDS = {"same": "same", "changed": "changed", "only_a": "only in {a}",
                "only_b": "only in {b}"}
# attribute -> how it is read from a node's data
_ROWS = (("operator", lambda d: d.get("op")),
         ("kernel", lambda d: d.get("attrs", {}).get("kernel_size")),
         ("stride", lambda d: d.get("attrs", {}).get("stride")),
         ("padding", lambda d: d.get("attrs", {}).get("padding")),
         ("groups", lambda d: d.get("attrs", {}).get("groups")),
         ("parameters", lambda d: d.get("params")),
         ("MACs", lambda d: d.get("flops", 0) // 2),
         ("input", lambda d: tuple(d["in_shapes"][0]) if d.get("in_shapes") else None),
         ("output_shape", lambda d: tuple(d.get("out_shape", ()))),
         ("layers", lambda d: len(d["members"]) if d.get("members") else None))


def status_text(status: str, a: str, b: str) -> str:
    return STATUS_WORDS[status].format(a=a, b=b)


def row_texts(node: NodeDiff, data_a: dict | None, data_b: dict | None) -> list[str]:
    """The list's columns: A, B, status, Δ parameters, Δ MACs, what differs."""
    def delta(key: str, scale: int = 1) -> str:
        va = (data_a.get(key, 0) if data_a else 0) // scale
        vb = (data_b.get(key, 0) if data_b else 0) // scale
        return f"{vb - va:+,}" if vb != va else ""

    what = changes_text(node.changes) if node.changes else ""
    return [node.a or "—", node.b or "—", status_text(node.status, "A", "B"), delta("params"),
            delta("flops", 2), what]


def pair_html(node: NodeDiff, data_a: dict | None, data_b: dict | None, a: str, b: str) -> str:
    """The two layers side by side: their boxes' captions, then attribute by attribute,
    the rows that differ marked in the 'changed' colour."""
    colour = DIFF_STYLES.get(node.status, ("#999999", ""))[0]
    head = (f"<p><span style='background:{colour}; padding:0 6px'>&nbsp;</span> "
            f"<b>{escape(status_text(node.status, a, b))}</b></p>")

    def caption(n, d):
        return escape(node_label(n, d)[0]) if d else "—"

    rows = [f"<tr><th></th><th>{escape(a)}</th><th>{escape(b)}</th></tr>",
            f"<tr><td>layer</td><td>{escape(node.a or '—')}</td><td>{escape(node.b or '—')}"
            f"</td></tr>",
            f"<tr><td>drawn as</td><td>{caption(node.a, data_a)}</td>"
            f"<td>{caption(node.b, data_b)}</td></tr>"]
    for name, read in _ROWS:
        va = read(data_a) if data_a else None
        vb = read(data_b) if data_b else None
        if va is None and vb is None:
            continue
        differs = va != vb and data_a is not None and data_b is not None
        style = f" style='background:{DIFF_STYLES['changed'][0]}'" if differs else ""
        rows.append(f"<tr{style}><td>{escape(name)}</td><td>{escape(value_text(name, va))}</td>"
                    f"<td>{escape(value_text(name, vb))}</td></tr>")
    return head + "<table border=1 cellpadding=3 cellspacing=0>" + "".join(rows) + "</table>"
