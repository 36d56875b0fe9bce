"""Which layers Grad-CAM can look at, and which one it looks at first.

Grad-CAM hooks a module and needs its output to still be a spatial map (N x C x H x W
with H, W > 1). The candidates are each stage (a top-level block: ResNet's ``layer4``,
GoogLeNet's ``inception5b``) and every convolution; the default is the last stage whose
output is still a map, the layer Selvaraju et al. use. A node picked in the diagram is
a target when it is a module (or a folded block) with such an output."""

from __future__ import annotations

from dataclasses import dataclass

from ..graph.layergraph import LayerGraph


@dataclass(frozen=True)
class CamTarget:
    node: str  # the graph node id or block path a person picks
    module: str  # the module path whose output is hooked
    call: int | None  # which call of that module (a ReLU used twice in a block); None: last
    label: str  # "layer4 (stage, 512×7×7)"


def _spatial(shape) -> bool:
    return (len(shape or ()) == 4 and all(isinstance(s, int) for s in shape)
            and min(shape[2:]) > 1)


def _size(shape) -> str:
    return "×".join(map(str, shape[1:]))


def _block(graph: LayerGraph, path: str, what: str) -> CamTarget | None:
    try:
        last = graph.resolve(path)
    except KeyError:
        return None
    shape = graph.node(last).get("out_shape")
    if not _spatial(shape) or last == path:
        return None
    return CamTarget(path, path, None, f"{path} ({what}, {_size(shape)})")


def cam_target(graph: LayerGraph, name: str) -> CamTarget | None:
    """The target for a node or folded block a person picked; None when Grad-CAM cannot
    look there (a function such as an add, or an output that is no longer a map)."""
    if name in graph.nx:
        data = graph.node(name)
        if data["kind"] != "module" or not _spatial(data.get("out_shape")):
            return None
        head, _, suffix = name.rpartition(":")
        call = int(suffix) if head and suffix.isdigit() else 0
        return CamTarget(name, data["path"], call,
                         f"{name} ({data['op']}, {_size(data['out_shape'])})")
    if name in graph.modules:
        return _block(graph, name, graph.modules[name])
    return None


def stages(graph: LayerGraph) -> list[CamTarget]:
    """Top-level blocks whose output is still a spatial map, in call order."""
    tops = [p for p in graph.modules if "." not in p]
    found = [t for t in (_block(graph, p, "stage") for p in tops) if t is not None]
    return sorted(found, key=lambda t: graph.node(graph.resolve(t.module))["order"])


def cam_targets(graph: LayerGraph) -> list[CamTarget]:
    """Every stage and every convolution with a spatial output, in call order (a stage
    after the layers inside it)."""
    order: list[tuple[float, CamTarget]] = []
    for n in graph.nodes():
        data = graph.node(n)
        if "Conv" in data["op"] and (t := cam_target(graph, n)) is not None:
            order.append((data["order"], t))
    for t in stages(graph):
        order.append((graph.node(graph.resolve(t.module))["order"] + 0.5, t))
    return [t for _, t in sorted(order, key=lambda pair: pair[0])]


def default_cam_target(graph: LayerGraph) -> CamTarget | None:
    """The last stage whose output is still a map; without stages (one Sequential holding
    everything), the last module whose output is one."""
    found = stages(graph)
    if found:
        return found[-1]
    modules = [t for t in (cam_target(graph, n) for n in graph.nodes()) if t is not None]
    return modules[-1] if modules else None
