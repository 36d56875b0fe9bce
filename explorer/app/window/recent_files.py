"""File ▸ Open recent: the model files last shown (most recent first, at most
``MAX_RECENT``), kept in QSettings. Mixed into MainWindow."""

from __future__ import annotations

import functools

MAX_RECENT = 8


class RecentFilesMixin:
    def _add_recent(self, path: str) -> None:
        recent = [p for p in (self.settings.value("recent") or []) if p != path]
        self.settings.setValue("recent", [path] + recent[: MAX_RECENT - 1])
        self._refresh_recent()

    def _refresh_recent(self) -> None:
        self.recent_menu.clear()
        for path in self.settings.value("recent") or []:
            self.recent_menu.addAction(path, functools.partial(self.open_model_path, path))
