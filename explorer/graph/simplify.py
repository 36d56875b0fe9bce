"""Graph clean-ups after tracing."""

from __future__ import annotations

import networkx as nx

RESHAPE_OPS = {"view", "reshape", "transpose", "permute", "contiguous", "flatten", "unsqueeze",
               "squeeze", "unflatten", "swapaxes", "movedim"}


def merge_reshape_chains(g: nx.DiGraph) -> None:
    """Fold runs of pure reshapes into one node. A run that transposes and gives back the
    shape it took (view → transpose → view) is a ``channel_shuffle``."""
    for start in sorted(g.nodes, key=lambda n: g.nodes[n]["order"]):
        if start not in g or g.nodes[start]["op"] not in RESHAPE_OPS:
            continue
        chain = [start]
        while True:
            succ = list(g.successors(chain[-1]))
            if (len(succ) != 1 or g.nodes[succ[0]]["op"] not in RESHAPE_OPS
                    or g.in_degree(succ[0]) != 1
                    or g.nodes[succ[0]]["scope"] != g.nodes[start]["scope"]):
                break
            chain.append(succ[0])
        ops = [g.nodes[n]["op"] for n in chain]
        first, last = g.nodes[chain[0]], g.nodes[chain[-1]]
        shuffles = ({"transpose", "permute"} & set(ops)) and first["in_shapes"] and (
            tuple(first["in_shapes"][0]) == tuple(last["out_shape"]))
        if len(chain) == 1 and not shuffles:
            continue
        first["op"] = "channel_shuffle" if shuffles else ops[-1]
        first["raw"] = chain[-1]  # whose output this node shows, for activation capture
        first.pop("seen_at", None)  # where capture can see it: where the chain's end is seen
        if "seen_at" in last:
            first["seen_at"] = last["seen_at"]
        first["attrs"] = {"ops": " → ".join(ops), **(last["attrs"] or {})}
        first["out_shape"], first["out_shapes"] = last["out_shape"], last["out_shapes"]
        for succ in list(g.successors(chain[-1])):
            g.add_edge(chain[0], succ, **g.edges[chain[-1], succ])
        g.remove_nodes_from(chain[1:])
        if shuffles:
            base = f"{first['scope']}.channel_shuffle" if first["scope"] else "channel_shuffle"
            new, i = base, 0
            while new in g:
                i += 1
                new = f"{base}:{i}"
            first["path"] = new
            nx.relabel_nodes(g, {start: new}, copy=False)
