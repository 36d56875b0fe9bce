"""The menus filled once the core has loaded (recent files, image exports, panels, theme,
devices, samples, weights), and View ▸ Theme. Mixed into MainWindow."""

from __future__ import annotations

import functools

from PySide6.QtGui import QAction, QActionGroup


class MenusMixin:
    def _fill_menus(self) -> None:
        from ...assets import RESOURCES, sample_images
        from ...inference.devices import available_devices
        from ..actions import DEVICES, DOCKS, EXPORT_IMAGE, RECENT, SAMPLES, THEME, WEIGHTS
        from ..controllers.weights_menu import WeightsMenu
        from ..theme import THEMES

        self.recent_menu = self.menus[RECENT]
        self._refresh_recent()
        for what in ("features", "overlay", "side-by-side"):
            self.menus[EXPORT_IMAGE].addAction(f"{what.capitalize()} as PNG…",
                                               functools.partial(self.ask_export_image, what))
        for dock in self.docks.values():
            self.menus[DOCKS].addAction(dock.toggleViewAction())
        self.menus[DOCKS].addAction(self.toolbar.toggleViewAction())
        self._radio(self.menus[THEME], THEMES, str(self.settings.value("theme", "system")),
                    self.set_theme)
        device = self.inference.device
        self._radio(self.menus[DEVICES], available_devices(),
                    device.type if device.index is None else str(device),
                    self.inference.set_device)
        for path in sample_images():
            self.menus[SAMPLES].addAction(path.stem.replace("_", " "),
                                          functools.partial(self.inference.open_image,
                                                            str(path)))
        # the shapes the demo U-Net learnt (Model ▸ Load demo weights): on a photo its
        # overlay means nothing
        shapes = sorted((RESOURCES / "demo").glob("shapes_*.png"))
        if shapes:
            self.menus[SAMPLES].addSeparator()
        for path in shapes:
            self.menus[SAMPLES].addAction(f"{path.stem.replace('_', ' ')} (demo U-Net)",
                                          functools.partial(self.inference.open_image,
                                                            str(path)))
        self.menus[SAMPLES].setEnabled(bool(self.menus[SAMPLES].actions()))
        self.weights_menu = WeightsMenu(self, self.menus[WEIGHTS])

    def _radio(self, menu, names, current: str, slot) -> None:
        group = QActionGroup(self)
        for name in names:
            action = QAction(name.upper() if name == "cpu" else name.capitalize()
                             if name.isalpha() else name, self, checkable=True)
            action.setChecked(name == current)
            action.triggered.connect(functools.partial(slot, name))
            group.addAction(action)
            menu.addAction(action)

    def set_theme(self, name: str) -> None:
        from ..theme import apply_theme

        self.settings.setValue("theme", name)
        self.theme = apply_theme(name)
        if self.core_loaded:
            self.panel.set_canvas(self.theme)
