"""The model zoo: ``list_models``, ``get_info`` and ``build`` are the only way in."""

from . import (  # noqa: F401  (each family file registers its models on import)
    alexnet,
    deconvnet,
    densenet,
    fcn,
    googlenet,
    inception,
    lenet,
    mobilenet,
    resnet,
    segnet,
    shufflenet,
    unet,
    vgg,
    xception,
)
from .registry import ModelInfo, Option, ZooError, build, get_info, input_shape, list_models

__all__ = ["ModelInfo", "Option", "ZooError", "build", "get_info", "input_shape", "list_models"]
