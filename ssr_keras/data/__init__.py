"""Data for ssr-keras models: the id scheme, layouts, vocabularies, readers and data set preparation.

* `ids`: the one id scheme (OOV 0, known values 1..n, padding -1) every path follows;
* `FieldSpec`: what a model needs to know about one input field;
* `layouts`: each data set's raw CSV columns and how they become model fields;
* `csv_files`: the one CSV row check (file, line and column in every error);
* `Vocabularies` / `build_vocabularies`, `make_dataset`: CSV files -> `tf.data` batches of ids;
* `RawExampleParser`: serialized raw `tf.Example`s -> ids, inside exported models.

Example:

>>> from ssr_keras import data
>>> layout = data.get_layout("frappe")
>>> vocabularies = data.build_vocabularies(layout, "../shared/data/frappe-ctr/valid.csv", max_rows=2000)
>>> train = data.make_dataset(layout, "../shared/data/frappe-ctr/valid.csv", vocabularies, batch_size=256,
...                           shuffle=True, max_rows=2000)
>>> [f.name for f in vocabularies.field_specs(layout)][:2]  # -> ssr_keras.models.RankingModel(fields)
['user', 'item']

Downloading the public sets: `from ssr_keras.data.download import download` (kept out of this
namespace so that `ssr_keras.data.download` stays the module).
"""

import importlib

# Public name -> the module defining it; imported on first use (PEP 562) so that a light submodule
# (`ssr_keras.data.layout_file`, read by the CLIs before TensorFlow starts) does not import TensorFlow.
_EXPORTS = {
    "ids": None,
    "MalformedRowError": "csv_files",
    "FieldLookup": "field_lookup",
    "FieldSpec": "field_spec",
    "build_frappe_ctr": "frappe",
    "LAYOUTS": "layouts",
    "Layout": "layouts",
    "criteo_log_squared": "layouts",
    "get_layout": "layouts",
    "prepare_movielens": "movielens",
    "RawExampleParser": "raw_examples",
    "VocabularyIds": "raw_examples",
    "raw_feature_spec": "raw_examples",
    "make_dataset": "reader",
    "Vocabularies": "vocabulary",
    "build_vocabularies": "vocabulary",
}

__all__ = [
    "LAYOUTS",
    "FieldLookup",
    "FieldSpec",
    "Layout",
    "MalformedRowError",
    "RawExampleParser",
    "Vocabularies",
    "VocabularyIds",
    "build_frappe_ctr",
    "build_vocabularies",
    "criteo_log_squared",
    "get_layout",
    "ids",
    "make_dataset",
    "prepare_movielens",
    "raw_feature_spec",
]


def __getattr__(name: str):
    if name not in _EXPORTS:
        raise AttributeError(f"module 'ssr_keras.data' has no attribute {name!r}")
    module = _EXPORTS[name]
    if module is None:
        return importlib.import_module(f"ssr_keras.data.{name}")
    return getattr(importlib.import_module(f"ssr_keras.data.{module}"), name)


def __dir__():
    return sorted(list(globals()) + __all__)
