"""`set_method_names`: the one private TensorFlow call (the fingerprint refresh) is covered here."""

import pytest
import tensorflow as tf

from ssr_keras.export import read_method_names, set_method_names


@pytest.fixture()
def saved_module(tmp_path):
    module = tf.Module()
    module.scale = tf.Variable(2.0)
    function = tf.function(lambda x: {"y": x * module.scale}, input_signature=[tf.TensorSpec([None], tf.float32)])
    path = str(tmp_path / "1")
    tf.saved_model.save(module, path, signatures={"serving_default": function.get_concrete_function(),
                                                  "regression": function.get_concrete_function()})
    return path


def test_sets_names_and_refreshes_the_fingerprint(saved_module):
    before = tf.saved_model.experimental.read_fingerprint(saved_module)
    assert read_method_names(saved_module)["regression"] == tf.saved_model.PREDICT_METHOD_NAME
    set_method_names(saved_module, {"regression": tf.saved_model.REGRESS_METHOD_NAME})
    names = read_method_names(saved_module)
    assert (names["serving_default"], names["regression"]) == (tf.saved_model.PREDICT_METHOD_NAME,
                                                               tf.saved_model.REGRESS_METHOD_NAME)
    after = tf.saved_model.experimental.read_fingerprint(saved_module)
    # The fingerprint hashes saved_model.pb: it must follow the rewrite, or loaders see a stale one.
    assert after.saved_model_checksum != before.saved_model_checksum
    loaded = tf.saved_model.load(saved_module)
    assert float(loaded.signatures["regression"](tf.constant([3.0]))["y"][0]) == 6.0


def test_unknown_signature_is_an_error(saved_module):
    with pytest.raises(KeyError, match=r"no signature\(s\) \['classification'\]"):
        set_method_names(saved_module, {"classification": tf.saved_model.CLASSIFY_METHOD_NAME})
