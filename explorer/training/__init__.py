"""Training in the lab (no Qt): data sets as data (a catalogue of published sets fetched
only when asked, built-in generated sets, the shipped UCI digits, an image folder),
recipes as presets, a seeded and resumable training loop with per-epoch metrics and
safetensors checkpoints, and the run folder a training writes."""

from .datasets import NAMES, TensorData, load_dataset
from .loop import StepReport, Trainer, TrainingCancelled, TrainingDiverged
from .metrics import EpochMetrics
from .readers import DataError
from .recipes import PRESETS, Recipe, get_recipe
from .run import Contender, RunSpec, prepare, train_side_by_side, write_outputs

__all__ = ["NAMES", "PRESETS", "Contender", "DataError", "EpochMetrics", "Recipe", "RunSpec",
           "StepReport", "Trainer", "TensorData", "TrainingCancelled", "TrainingDiverged",
           "get_recipe", "load_dataset", "prepare", "train_side_by_side", "write_outputs"]
