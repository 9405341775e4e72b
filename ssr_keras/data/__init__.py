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

from ssr_keras.data import ids
from ssr_keras.data.csv_files import MalformedRowError
from ssr_keras.data.field_lookup import FieldLookup
from ssr_keras.data.field_spec import FieldSpec
from ssr_keras.data.frappe import build_frappe_ctr
from ssr_keras.data.layouts import LAYOUTS, Layout, criteo_log_squared, get_layout
from ssr_keras.data.movielens import prepare_movielens
from ssr_keras.data.raw_examples import RawExampleParser, VocabularyIds, raw_feature_spec
from ssr_keras.data.reader import make_dataset
from ssr_keras.data.vocabulary import Vocabularies, build_vocabularies

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
