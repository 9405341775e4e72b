"""Export: trained models as TF Serving SavedModels, one signature set per model kind.

* `export_ranker`: a ranking (CTR) model; Predict / Classify / Regress over raw `tf.Example`s;
* `export_history_ranker`: a ranker with a behaviour history (GateSID): raw ids, history and timestamp
  in the `tf.Example`, the SID table and training-window maturity statistics inside the SavedModel;
* `export_user_retriever` / `export_history_retriever`: top-k retrievers (user id, or an item history,
  -> the best unseen items), Predict only.

All share `save_servable` (immutable version folders, TF Serving method names) and `signature_names`.

Exports use core TensorFlow ops only, so the real TF Serving binary runs them as `ssr-serve` does.

Example:

>>> from ssr_keras.export import signature_names
>>> signature_names.PREDICT_OUTPUT
'probabilities'
"""

from ssr_keras.export import signature_names
from ssr_keras.export.history_ranker import export_history_ranker, history_example
from ssr_keras.export.method_names import read_method_names, set_method_names
from ssr_keras.export.ranker import export_ranker
from ssr_keras.export.retriever import export_history_retriever, export_user_retriever
from ssr_keras.export.saved_model import save_servable
from ssr_keras.export.tf_example import layout_example, make_example
from ssr_keras.export.warmup import write_warmup_requests

__all__ = [
    "export_history_ranker",
    "export_history_retriever",
    "export_ranker",
    "export_user_retriever",
    "history_example",
    "layout_example",
    "make_example",
    "read_method_names",
    "save_servable",
    "set_method_names",
    "signature_names",
    "write_warmup_requests",
]
