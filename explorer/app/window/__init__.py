"""The main window, in parts named for what each does for a person: ``main_window``
builds it and renders the ViewState; the mixins open models (``model_opening``,
``recent_files``), take images in (``images``), handle weights (``weights``), write
exports (``exports``), fill the menus (``menus``), open the compare and help windows
(``compare_and_help``), place the docks (``dock_setup``) and move about the graph
(``navigation``)."""

from .main_window import MainWindow

__all__ = ["MainWindow"]
