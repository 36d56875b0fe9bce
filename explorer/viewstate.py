"""What the window shows, held once and without Qt.

The window's widgets render this object and send it intents; none keeps a copy of what
it holds. Every part announces its changes through an event of its own, so a view
subscribes to what it shows and a script or a test can drive the state without a
QApplication. A model change clears everything derived from the old model, here and
nowhere else (``show_model``).

    state = ViewState()
    state.events.selection.connect(lambda node: print("selected", node))
    state.show_model(session.prepare("resnet18"))
    state.select("layer1.0")
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from .zoo import carries_weights

if TYPE_CHECKING:  # the state itself needs neither torch nor Pillow to import
    from PIL.Image import Image

    from .graph import FoldSpec, LayerGraph, Layout
    from .session import Prepared


class Event:
    """A list of callbacks, called in order on ``emit`` (napari's events, in small)."""

    def __init__(self) -> None:
        self._handlers: list[Callable[..., Any]] = []

    def connect(self, handler: Callable[..., Any]) -> Callable[..., Any]:
        self._handlers.append(handler)
        return handler

    def disconnect(self, handler: Callable[..., Any]) -> None:
        self._handlers.remove(handler)

    def emit(self, *args: Any) -> None:
        for handler in list(self._handlers):
            handler(*args)


@dataclass
class Events:
    model: Event = field(default_factory=Event)  # a new model (or new options) is shown
    view: Event = field(default_factory=Event)  # the same model, folded or laid out anew
    weights: Event = field(default_factory=Event)
    selection: Event = field(default_factory=Event)
    search: Event = field(default_factory=Event)
    image: Event = field(default_factory=Event)
    result: Event = field(default_factory=Event)
    history: Event = field(default_factory=Event)
    flow: Event = field(default_factory=Event)  # a flow measurement, or None when it goes


@dataclass(frozen=True)
class ModelKey:
    """What makes two prepared models the same model: name, options, input shape."""

    name: str
    options: tuple[tuple[str, Any], ...]
    input_shape: tuple[int, ...]

    @classmethod
    def of(cls, prepared: Prepared) -> ModelKey:
        return cls(prepared.name, tuple(sorted(prepared.options.items())),
                   tuple(prepared.input_shape))


@dataclass(frozen=True)
class Weights:
    """Where the live model's weights came from; ``path`` None is random init."""

    label: str = "random init"
    path: str | None = None
    labels: str | None = None  # the label set they were trained to tell ("shapes"), if known

    @property
    def trained(self) -> bool:
        return self.path is not None

    @property
    def in_file(self) -> bool:
        """The model's own file holds them (.pt2, ONNX): a rebuild keeps them."""
        return self.path is not None and carries_weights(self.path)

    @classmethod
    def of(cls, model: str) -> Weights:
        """What a fresh build of ``model`` runs with: a .pt2 or ONNX file's own weights,
        else random init."""
        if carries_weights(model):
            return cls("weights in the file", model)
        return cls()


@dataclass(frozen=True)
class LiveModel:
    """The real nn.Module images run through, for one model key and one set of weights."""

    key: ModelKey
    module: Any
    weights: Weights


@dataclass(frozen=True)
class Search:
    text: str = ""
    hits: tuple[str, ...] = ()  # every layer that matches, folded ones included
    position: int = -1  # the hit shown last
    error: str = ""  # why the query cannot be read (``groups>`` while typing)

    @property
    def current(self) -> str | None:
        return self.hits[self.position] if 0 <= self.position < len(self.hits) else None


@dataclass(frozen=True)
class Place:
    """One step of the Back/Forward history: a fold, a direction and a zoom."""

    spec: FoldSpec
    direction: str
    zoom: Any = None  # the view's own description of where it looked (opaque here)


class ViewState:
    def __init__(self) -> None:
        self.events = Events()
        self.model: Prepared | None = None
        self.live: LiveModel | None = None
        self.selection: str | None = None
        self.search = Search()
        self.image: Image | None = None
        self.image_name = ""
        self.result: Any = None  # inference.runner's RunResult of the image, or None
        self.back: list[Place] = []
        self.forward: list[Place] = []
        self.arrangement = "auto"  # column, or encoder-decoder "u"; "auto" picks for the view
        self.flow: Any = None  # analysis.flow results: the current model's first, then others

    # ------------------------------------------------------------------ the model
    @property
    def weights(self) -> Weights:
        """Where the live model's weights came from (random init without one)."""
        if self.live is not None:
            return self.live.weights
        return Weights.of(self.model.name) if self.model is not None else Weights()

    @property
    def key(self) -> ModelKey | None:
        return ModelKey.of(self.model) if self.model is not None else None

    def show_model(self, prepared: Prepared) -> None:
        """A model was built: everything derived from the previous one goes."""
        same = self.key == ModelKey.of(prepared)
        self.model = prepared
        self.back, self.forward = [], []
        if not same or self.selection not in prepared.view.nx:
            self.selection = None
        if not same:
            self.result = None
            self.arrangement = "auto"
            self.flow = None
            if self.live is not None and self.live.key != self.key:
                self.live = None
        # another model: its own search (the old query and count said nothing about it)
        self.search = self._searched(self.search.text) if same else Search("")
        self.events.model.emit(prepared)
        self.events.weights.emit(self.weights)
        self.events.selection.emit(self.selection)
        self.events.search.emit(self.search)
        self.events.result.emit(self.result)
        self.events.history.emit()
        self.events.flow.emit(self.flow)

    def show_view(self, spec: FoldSpec, direction: str, view: LayerGraph, layout: Layout,
                  table: Any, came_from: Place | None = None) -> None:
        """The same model, folded or laid out anew. ``came_from`` goes on the Back list."""
        assert self.model is not None
        if came_from is not None:
            self.back.append(came_from)
            self.forward.clear()
        self.model = replace(self.model, spec=spec, direction=direction, view=view,
                             layout=layout, table=table)
        self.events.view.emit(self.model)
        self.events.history.emit()
        if self.selection is not None and self.selection not in view.nx:
            self.select(None)

    def place(self, zoom: Any = None) -> Place | None:
        return Place(self.model.spec, self.model.direction, zoom) if self.model else None

    def step_back(self, here: Place) -> Place | None:
        """The place to go back to (``here`` goes on the Forward list), or None."""
        return self._step(self.back, self.forward, here)

    def step_forward(self, here: Place) -> Place | None:
        return self._step(self.forward, self.back, here)

    def _step(self, source: list[Place], other: list[Place], here: Place) -> Place | None:
        if not source:
            return None
        other.append(here)
        target = source.pop()
        self.events.history.emit()
        return target

    # ------------------------------------------------------------------ weights
    def set_live(self, live: LiveModel | None) -> None:
        """The live model a job built or loaded weights into (for the current key only)."""
        if live is not None and live.key != self.key:
            return
        before = self.weights
        self.live = live
        if self.weights != before:
            self.events.weights.emit(self.weights)
            if self.flow is not None:  # measured with other weights
                self.set_flow(None)

    def set_flow(self, flow: Any) -> None:
        """Gradient and activation flow measured for the current model (a tuple of
        ``FlowResult``, the current model's first), or None."""
        self.flow = flow
        self.events.flow.emit(flow)

    # ------------------------------------------------------------------ selection, search
    def select(self, node: str | None) -> None:
        if node is not None and (self.model is None or node not in self.model.view.nx):
            return
        if node != self.selection:
            self.selection = node
            self.events.selection.emit(node)

    def find(self, text: str) -> Search:
        self.search = self._searched(text)
        self.events.search.emit(self.search)
        return self.search

    def next_hit(self) -> str | None:
        """Step to the next match; the caller unfolds the view to it if it is folded."""
        if not self.search.hits:
            return None
        position = (self.search.position + 1) % len(self.search.hits)
        self.search = replace(self.search, position=position)
        self.events.search.emit(self.search)
        return self.search.current

    def _searched(self, text: str) -> Search:
        """Every layer of the whole graph matching the query: plain words match a name, a
        type or a box's caption, ``key OP value`` an attribute (``groups>1``); blocks match
        by type and caption (explorer.analysis.query)."""
        from .analysis.query import QueryError, find

        if not text or self.model is None:
            return Search(text)
        try:
            return Search(text, tuple(find(self.model.graph, text)))
        except QueryError as exc:
            return Search(text, error=str(exc))

    # ------------------------------------------------------------------ image
    def set_image(self, image: Image | None, name: str = "") -> None:
        self.image, self.image_name = image, name
        self.result = None
        self.events.image.emit(image, name)
        self.events.result.emit(None)

    def set_result(self, result: Any) -> None:
        self.result = result
        self.events.result.emit(result)


def revealing(spec: FoldSpec, hierarchy: list[str]) -> FoldSpec:
    """``spec`` with every block above a layer opened, so that the layer is visible."""
    blocks = {".".join(hierarchy[:k]) for k in range(1, len(hierarchy))}
    return replace(spec, expand=frozenset(spec.expand | blocks),
                   collapse=frozenset(spec.collapse - blocks))
