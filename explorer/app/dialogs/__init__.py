"""The window's dialogs: Compare and Lessons, File ▸ Export…, Model ▸ Model info."""
