"""A first screen shows its first module whole (issue 24, defect 17: Inception v3 opened
with its first module's join cut off at the bottom; at 1280x720 GoogLeNet did too)."""

from __future__ import annotations

import pytest
import torch

from explorer import zoo
from explorer.graph import default_spec, fold, layout, trace
from explorer.graph.first_screen import first_screen_start


def first_layout(name: str):
    with torch.device("meta"):
        model = zoo.build(name)
    graph = trace(model, zoo.input_shape(name))
    return layout(fold(graph, default_spec(graph)).nx)


# scene units a screen shows at the readable zoom (0.8): the graph panel of a window on a
# 1024x640, 1280x720 and 1600x1000 screen, and the default window
@pytest.mark.parametrize("name,module", [("inception_v3", "Mixed_5b"),
                                         ("googlenet", "inception3a")])
def test_the_first_module_is_whole_on_the_first_screen(name, module):
    lay = first_layout(name)
    boxes = [b for n, b in lay.boxes.items() if n.startswith(module + ".")]
    for screen in (412.0, 512.0, 560.0, 650.0):
        start = first_screen_start(lay, screen)
        cut = [b for b in boxes if b.y < start or b.y + b.h > start + screen]
        assert not cut, (screen, start, cut[:2])
