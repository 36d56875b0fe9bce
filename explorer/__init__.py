"""Architecture Explorer: look inside convolutional networks."""

__version__ = "0.1.0"
