"""Training: the one run configuration (`TrainConfig`), the model it builds, the experiment runner.

`TrainConfig` is what `ssr-train --config`, the TFX Trainer's `custom_config` (`ssr-pipeline
--config`) and the benchmarks all take; its defaults are the recipe that wins on real data.

Example:

>>> from ssr_keras.training import TrainConfig
>>> TrainConfig(backbone="dnn").embedding_normalization
'batch'
"""

from ssr_keras.training.callbacks import TrainingThroughput
from ssr_keras.training.config import TrainConfig, build_ranking_model, read_config_mapping
from ssr_keras.training.experiment import ExperimentResult, run_experiment
from ssr_keras.training.pruning import PruningSchedule, TopKPruning

__all__ = ["ExperimentResult", "PruningSchedule", "TopKPruning", "TrainConfig", "TrainingThroughput",
           "build_ranking_model", "read_config_mapping", "run_experiment"]
