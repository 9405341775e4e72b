"""A dropped SavedModel takes the custom gradients its load registered with it (no leak per hot swap)."""

import gc

import tensorflow as tf
from tensorflow.python.eager import context
from tensorflow.python.framework import ops

from serving import saved_model_loading
from serving.servable import Servable


class _WithCustomGradient(tf.Module):
    """A signature traced through a `tf.custom_gradient`, as SSR-D's ICS activation is."""

    def __init__(self):
        super().__init__()
        self.scale = tf.Variable(2.0)

    @tf.function(input_signature=[tf.TensorSpec([None], tf.float32)])
    def serve(self, x):
        @tf.custom_gradient
        def scaled(v, scale):
            return v * scale, lambda upstream: (upstream * scale, tf.reduce_sum(upstream * v))

        return {"y": scaled(x, tf.convert_to_tensor(self.scale))}


def _export(path):
    module = _WithCustomGradient()
    tf.saved_model.save(module, path, signatures={"serving_default": module.serve})


def _counts():
    gc.collect()
    return len(ops._gradient_registry._registry), len(context.context().list_function_names())


def test_loads_and_drops_leave_no_gradient_or_function_behind(tmp_path):
    path = str(tmp_path / "1")
    _export(path)
    loaded = saved_model_loading.load(path, tags=[tf.saved_model.SERVING])
    assert loaded.signatures["serving_default"](x=tf.constant([1.5]))["y"].numpy().tolist() == [3.0]
    del loaded
    baseline = _counts()
    for _ in range(3):
        servable = Servable.load("m", 1, path)
        assert servable.signature("serving_default").definition.outputs["y"].dtype == tf.float32.as_datatype_enum
        loaded_counts = _counts()
        assert loaded_counts[0] > baseline[0]  # the load registered the custom gradient again ...
        del servable
        assert _counts() == baseline  # ... and freeing the version released it and its functions


def test_plain_tensorflow_load_keeps_them_forever(tmp_path):
    # The TensorFlow behaviour the module works around: if this starts failing, TF fixed the leak.
    path = str(tmp_path / "1")
    _export(path)
    baseline = _counts()
    loaded = tf.saved_model.load(path)
    del loaded
    registrations, functions = _counts()
    assert registrations > baseline[0] and functions > baseline[1]
