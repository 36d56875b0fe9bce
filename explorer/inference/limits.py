"""The limits live in ``explorer.limits`` (the zoo needs them too: a .pt2's size budget);
this name stays so the inference modules' imports read as before."""

from ..limits import *  # noqa: F403
