"""The compare window: two models side by side, their structural difference drawn."""
