"""`TrainConfig`: the one training configuration of ssr-keras, and the ranking model it builds.

The same dataclass, with the same defaults, is what `ssr-train --config`, the TFX Trainer's
`custom_config` (`ssr-pipeline run --config`) and the benchmarks take; explicit CLI flags override
its fields. The defaults are the recipe that won on real data (`benchmarks/results/quality.md`):
BatchNorm over the concatenated embeddings, embedding L2 1e-3, Adam 1e-3, batch 1024, early stopping
on validation AUC with patience 2. Tests on a few thousand rows pass their own settings (BatchNorm's
moving statistics need more steps than such runs have).

Example:

>>> config = TrainConfig.from_dict({"backbone": "dnn", "backbone_config": {"hidden_units": [64]}})
>>> config.embedding_l2, config.replace(epochs=2).epochs
(0.001, 2)
>>> TrainConfig.from_dict({"epoch": 2})
Traceback (most recent call last):
...
ValueError: Unknown training config key(s) ['epoch']; expected any of ['backbone', 'backbone_config', \
'batch_size', 'embedding', 'embedding_budget', 'embedding_dim', 'embedding_l2', 'embedding_normalization', \
'embedding_options', 'epochs', 'in_memory_rows', 'layout', 'learning_rate', 'max_train_rows', 'max_valid_rows', \
'min_count', 'patience', 'seed']. \
(did you mean 'epochs' for 'epoch'?)
"""

from __future__ import annotations

import dataclasses
import difflib
import inspect
from typing import Any, Dict, Mapping, Sequence

import tf_keras as keras

from ssr_keras.data.field_spec import FieldSpec
from ssr_keras.data.in_memory import DEFAULT_IN_MEMORY_ROWS
from ssr_keras.embeddings.codebook.baselines import METHODS as CODEBOOK_METHODS
from ssr_keras.json_object import read_json_object
from ssr_keras.models.ranking import BACKBONES, RankingModel

EMBEDDING_NORMALIZATIONS = (None, "batch", "layer")
# How the layout's user and item fields are embedded: one table row per id, or BACO's shared codebook
# (`ssr_keras.training.codebooks`).
EMBEDDINGS = ("table",) + tuple(CODEBOOK_METHODS)
# The arguments of a codebook method that TrainConfig sets itself (not `embedding_options`).
_CODEBOOK_ARGUMENTS = ("edges", "num_users", "num_items", "budget", "seed")


@dataclasses.dataclass(frozen=True)
class TrainConfig:
    """Everything that defines a ranking training run (saved verbatim with every trained model).

    Args:
        layout: a built-in layout name, a layout file path (YAML or JSON) or a layout inline as JSON
            (`ssr_keras.data.layouts.get_layout`).
        backbone: a name of the backbone registry `ssr_keras.models.ranking.BACKBONES`.
        backbone_config: keyword arguments of the backbone.
        embedding_dim: width of each field's default embedding.
        embedding_normalization: None, "batch" or "layer" normalisation of the concatenated embeddings.
        embedding_l2: L2 penalty on the default embedding tables (0 disables it).
        epochs: maximum epochs (early stopping on validation AUC may end sooner).
        batch_size: training and evaluation batch size.
        learning_rate: Adam learning rate.
        seed: seed of weights, shuffling and dropout.
        patience: epochs without validation-AUC gain before stopping (best weights restored).
        min_count: vocabulary values seen fewer times in training map to the OOV id.
        max_train_rows: train on the first N rows only (quick runs; `ssr-train` and benchmarks).
        max_valid_rows: early-stop on the first N validation rows only.
        in_memory_rows: training and validation splits of at most this many rows are parsed once and held
            in memory (`ssr_keras.data.in_memory`: every row reshuffled each epoch, no CSV parse per
            epoch); larger ones stream from the files, shuffled within a buffer. 0 always streams.
        embedding: "table" (one row per id) or a codebook method of `ssr_keras.embeddings.codebook`:
            "baco" (the layout's user and item fields share codebook rows, co-clustered on the training
            split's positive rows; `ssr_keras.training.codebooks`) or, as baselines at the same rows,
            "random-hash", "frequency-hash" and "louvain".
        embedding_budget: with a codebook, its rows as a fraction of the user plus item ids.
        embedding_options: with a codebook, further keyword arguments of its fitting function, e.g.
            `{"gamma": 4.0, "levels": 5}` for "baco" (`ssr_keras.embeddings.codebook.fit_baco`; the
            default `{}` is the paper's form).
    """

    layout: str = "frappe"
    backbone: str = "ssr-d"
    backbone_config: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    embedding_dim: int = 16
    embedding_normalization: str | None = "batch"
    embedding_l2: float = 1e-3
    epochs: int = 10
    batch_size: int = 1024
    learning_rate: float = 1e-3
    seed: int = 0
    patience: int = 2
    min_count: int = 1
    max_train_rows: int | None = None
    max_valid_rows: int | None = None
    in_memory_rows: int = DEFAULT_IN_MEMORY_ROWS
    embedding: str = "table"
    embedding_budget: float = 0.25
    embedding_options: Mapping[str, Any] = dataclasses.field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.backbone not in BACKBONES:
            raise ValueError(f"backbone must be one of {list(BACKBONES)}. Received: {self.backbone!r}")
        if not isinstance(self.backbone_config, Mapping):
            raise ValueError(f"backbone_config must be a JSON object of backbone arguments. "
                             f"Received: {self.backbone_config!r}")
        if self.embedding_normalization not in EMBEDDING_NORMALIZATIONS:
            raise ValueError(f"embedding_normalization must be one of {list(EMBEDDING_NORMALIZATIONS)}. "
                             f"Received: {self.embedding_normalization!r}")
        for name in ("embedding_dim", "epochs", "batch_size", "patience", "min_count"):
            _check_int(name, getattr(self, name), minimum=1)
        for name in ("max_train_rows", "max_valid_rows"):
            if getattr(self, name) is not None:
                _check_int(name, getattr(self, name), minimum=1)
        _check_int("seed", self.seed, minimum=0)
        _check_int("in_memory_rows", self.in_memory_rows, minimum=0)
        if self.embedding not in EMBEDDINGS:
            raise ValueError(f"embedding must be one of {list(EMBEDDINGS)}. Received: {self.embedding!r}")
        if isinstance(self.embedding_budget, bool) or not isinstance(self.embedding_budget, (int, float)) \
                or not 0 < self.embedding_budget < 1:
            raise ValueError(f"embedding_budget must be a fraction in (0, 1). Received: {self.embedding_budget!r}")
        _check_embedding_options(self.embedding, self.embedding_options)
        _check_number("embedding_l2", self.embedding_l2, allow_zero=True)
        _check_number("learning_rate", self.learning_rate, allow_zero=False)
        object.__setattr__(self, "backbone_config", dict(self.backbone_config))
        object.__setattr__(self, "embedding_options", dict(self.embedding_options))

    @classmethod
    def keys(cls) -> Sequence[str]:
        """The field names, sorted: the keys `from_dict` accepts."""
        return sorted(f.name for f in dataclasses.fields(cls))

    @classmethod
    def from_dict(cls, values: Mapping[str, Any]) -> TrainConfig:
        """A config from a mapping of field values (defaults for the rest); unknown keys are an error."""
        unknown = sorted(set(values) - set(cls.keys()))
        if unknown:
            hints = {key: cls.close_keys(key) for key in unknown}
            hint = "".join(f" (did you mean {matches[0]!r} for {key!r}?)" for key, matches in hints.items() if matches)
            raise ValueError(f"Unknown training config key(s) {unknown}; expected any of {list(cls.keys())}.{hint}")
        return cls(**values)

    @classmethod
    def close_keys(cls, key: str) -> Sequence[str]:
        """Config keys spelled like `key` (typo hints)."""
        return difflib.get_close_matches(key, cls.keys(), n=1, cutoff=0.8)

    def replace(self, **overrides: Any) -> TrainConfig:
        """A copy with some fields changed (validated again)."""
        return dataclasses.replace(self, **overrides)

    def to_dict(self) -> Dict[str, Any]:
        """The config as a JSON-ready dict (`from_dict(to_dict())` round-trips)."""
        return dataclasses.asdict(self)


def read_config_mapping(value: str | None, flag: str = "--config") -> Dict[str, Any]:
    """A CLI's `--config` value: an inline JSON object, or the path of a JSON file holding one.

    Args:
        value: the flag's text (None or empty: no config).
        flag: the flag's name, for error messages.

    Raises:
        ValueError: not a JSON object nor an existing JSON file holding one; the message names the flag.
    """
    if not value:
        return {}
    try:
        return read_json_object(value, "a JSON object of training config keys", allow_file=True)
    except ValueError as error:
        raise ValueError(f"{flag}: {error}") from None


def _check_embedding_options(embedding: str, options: Any) -> None:
    """`embedding_options` must be keyword arguments of the codebook method's fitting function."""
    if not isinstance(options, Mapping):
        raise ValueError(f"embedding_options must be a JSON object of codebook arguments. Received: {options!r}")
    if not options:
        return
    if embedding == "table":
        raise ValueError(f"embedding_options applies to a codebook embedding, not embedding='table'. "
                         f"Received: {dict(options)!r}")
    accepted = [name for name in inspect.signature(CODEBOOK_METHODS[embedding]).parameters
                if name not in _CODEBOOK_ARGUMENTS]
    unknown = sorted(set(options) - set(accepted))
    if unknown:
        raise ValueError(f"embedding_options {unknown} are not arguments of embedding={embedding!r}; expected any "
                         f"of {accepted}. Received: {dict(options)!r}")


def _check_int(name: str, value: Any, minimum: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}. Received: {value!r}")


def _check_number(name: str, value: Any, allow_zero: bool) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0 or (value == 0 and not allow_zero):
        raise ValueError(f"{name} must be a number {'>=' if allow_zero else '>'} 0. Received: {value!r}")


def build_ranking_model(config: TrainConfig, fields: Sequence[FieldSpec],
                        embedders: Mapping[str, keras.layers.Layer] | None = None) -> RankingModel:
    """The compiled `RankingModel` a config describes, over the given fields.

    Args:
        config: the run's settings.
        fields: the model's fields (from `Vocabularies.field_specs` or the Transform vocabularies).
        embedders: per-field embedder overrides (see `ssr_keras.embeddings`).

    Example:

    >>> model = build_ranking_model(TrainConfig(backbone="dnn"), [FieldSpec("user", 10)])
    >>> model.optimizer.learning_rate.numpy().round(4)
    0.001
    """
    model = RankingModel(fields, backbone=config.backbone, embedding_dim=config.embedding_dim,
                         backbone_config=config.backbone_config, embedders=embedders,
                         embedding_normalization=config.embedding_normalization,
                         embedding_l2=config.embedding_l2)
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=config.learning_rate))
    return model
