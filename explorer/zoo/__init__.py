"""The model zoo: ``list_models``, ``get_info`` and ``build`` are the only way in.

Importing it is cheap: the family files (and torch) load on the first build."""

from .registry import (
    TASKS,
    ModelInfo,
    Option,
    ZooError,
    build,
    carries_weights,
    get_info,
    input_shape,
    list_models,
    load_families,
    model_file,
    papers_init,
    parameter_count,
    variant_name,
)

__all__ = ["TASKS", "ModelInfo", "Option", "ZooError", "build", "carries_weights",
           "get_info", "input_shape", "list_models", "load_families", "model_file",
           "papers_init", "parameter_count", "variant_name"]
