"""Tables and comparisons as CSV, Markdown and JSON (no Qt)."""

from __future__ import annotations

import csv
import io
import json
from typing import TYPE_CHECKING

from ..limits import bytes_text

if TYPE_CHECKING:  # the analysis imports torch; `explorer info` needs only human()
    from ..analysis.compare import Comparison
    from ..analysis.summary import LayerTable

COLUMNS = ("name", "type", "in_shape", "out_shape", "params", "trainable_params", "macs",
           "flops", "activation_bytes", "share", "receptive_field", "stride", "family")


def _shape(s) -> str:
    return "×".join(str(d) for d in s)


def _cell(key: str, value) -> str:
    if key in ("in_shape", "out_shape"):
        return _shape(value)
    if key == "share":
        return f"{100 * value:.2f}%"
    if key == "stride":
        return f"{value:g}"
    return str(value)


def table_csv(table: LayerTable) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(COLUMNS)
    for r in table.rows:
        d = r.as_dict()
        writer.writerow([_cell(k, d[k]) if k in ("in_shape", "out_shape") else d[k]
                         for k in COLUMNS])
    t, one = table.total, table.per_image
    writer.writerow(["total", "", "", "", t["params"], t["trainable_params"], t["macs"],
                     t["flops"], t["activation_bytes"], 1.0, "", "", ""])
    if table.batch > 1:  # rows and total count the whole batch
        writer.writerow([f"per image (batch of {table.batch})", "", "", "", t["params"],
                         t["trainable_params"], one["macs"], one["flops"],
                         one["activation_bytes"], 1.0, "", "", ""])
    return buf.getvalue()


def human(n: float, unit: str = "") -> str:
    for suffix, scale, digits in (("G", 1e9, 3), ("M", 1e6, 2), ("k", 1e3, 2)):
        if abs(n) >= scale:
            return f"{n / scale:.{digits}f}{suffix}{unit}"
    return f"{n:g}{unit}"


def table_markdown(table: LayerTable) -> str:
    cols = ("name", "type", "out_shape", "params", "macs", "activation_bytes", "share",
            "receptive_field", "stride")
    counted = "one image" if table.batch == 1 else f"the batch of {table.batch}"
    lines = [f"# {table.model} — input {_shape(table.input_shape)}, {table.dtype}; "
             f"MACs and activations for {counted}", "",
             "| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for r in table.rows:
        d = {**r.as_dict(), "name": r.label}  # a folded run as the graph names it
        cells = [_cell(k, d[k]) for k in cols]
        lines.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    t, one = table.total, table.per_image
    lines.append(f"| **total** | | | {t['params']:,} | {t['macs']:,} | {t['activation_bytes']:,} "
                 "| 100% | | |")
    if table.batch > 1:
        lines.append(f"| **per image** | | | {t['params']:,} | {one['macs']:,} | "
                     f"{one['activation_bytes']:,} | | | |")
    lines += ["", f"Parameters {human(t['params'])} ({t['trainable_params']:,} trainable); "
              f"per image MACs {human(one['macs'])}, FLOPs {human(one['flops'])}, "
              f"activations {bytes_text(one['activation_bytes'])}"
              + (f"; for the batch of {table.batch} MACs {human(t['macs'])}, "
                 f"FLOPs {human(t['flops'])}, activations {bytes_text(t['activation_bytes'])}"
                 if table.batch > 1 else "") + ".", "",
              "| family | params | MACs |", "|---|---|---|"]
    for fam, v in table.by_family.items():
        lines.append(f"| {fam} | {v['params']:,} | {v['macs']:,} |")
    return "\n".join(lines) + "\n"


def table_json(table: LayerTable) -> str:
    return json.dumps(table.as_dict(), indent=1)


def comparison_markdown(c: Comparison) -> str:
    a, b = c.a.model, c.b.model
    lines = [f"# {a} vs {b}", "", f"| metric | {a} | {b} | {b} / {a} |", "|---|---|---|---|"]
    for m, (va, vb, ratio) in c.totals.items():
        lines.append(f"| {m} | {va:,} | {vb:,} | {ratio:.3f} |")
    lines += ["", f"| stage | {a} MACs | {b} MACs | {a} params | {b} params |",
              "|---|---|---|---|---|"]
    for stage, fa, fb in c.stages:
        lines.append(f"| {stage} | {fa['macs']:,} | {fb['macs']:,} | {fa['params']:,} | "
                     f"{fb['params']:,} |")
    return "\n".join(lines) + "\n"


def comparison_csv(c: Comparison) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["section", "key", f"{c.a.model}", f"{c.b.model}", "ratio"])
    for m, (va, vb, ratio) in c.totals.items():
        writer.writerow(["total", m, va, vb, f"{ratio:.6f}"])
    for stage, fa, fb in c.stages:
        for m in fa:
            writer.writerow([stage, m, fa[m], fb[m], ""])
    return buf.getvalue()


def comparison_json(c: Comparison) -> str:
    return json.dumps(c.as_dict(), indent=1)
