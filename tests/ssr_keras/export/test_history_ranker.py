"""`export_history_ranker`: raw requests -> the trained features in-graph, consistent signatures, bad input."""

import numpy as np
import pytest
import tensorflow as tf

from ssr_keras.data.ids import OOV_ID, PADDING_ID
from ssr_keras.data.movielens_history import maturity_at, user_stats_at
from ssr_keras.export import read_method_names
from ssr_keras.export.history_ranker import HistoryRequestParser, history_example
from ssr_keras.export.signature_names import RANKER_METHOD_NAMES, WARMUP_FILE

from .history_cases import CATALOG, DAY, HISTORY_LENGTH, build_case, export_case, training_requests


@pytest.fixture(scope="module")
def case():
    return build_case()


@pytest.fixture(scope="module")
def exported(case, tmp_path_factory):
    path = export_case(case, str(tmp_path_factory.mktemp("history_ranker") / "1"))
    return path, tf.saved_model.load(path)


def _parser(case):
    return HistoryRequestParser(case.data.catalog_keys, case.data.user_keys, case.item_log, case.user_log,
                                HISTORY_LENGTH)


def test_training_requests_parse_to_the_training_features(case):
    features = _parser(case)(tf.constant(training_requests(case)))
    split = case.data.splits["train"]
    for key in ("user", "item", "history"):
        np.testing.assert_array_equal(features[key].numpy(), split[key], err_msg=key)
    for key in ("maturity", "user_stats"):
        np.testing.assert_allclose(features[key].numpy(), split[key], atol=1e-6, err_msg=key)


def test_maturity_at_a_later_time_counts_the_training_window_only(case):
    keys, times = np.array([100, 101, 129, 999]), np.array([150, 190, 190, 190]) * DAY
    serialized = tf.constant([history_example(item=k, timestamp=t, user=3).SerializeToString()
                              for k, t in zip(keys, times)])
    features = _parser(case)(serialized)
    np.testing.assert_allclose(features["maturity"].numpy(), maturity_at(case.item_log, keys, times), atol=1e-6)
    np.testing.assert_allclose(features["user_stats"].numpy(), user_stats_at(case.user_log, [3] * 4, times),
                               atol=1e-6)
    # An item never seen in training (content-only 129, unknown 999) is cold: age 0, no exposures.
    assert (features["maturity"].numpy()[2:] == 0).all()


def test_unknown_ids_empty_and_long_histories_fall_back(case):
    serialized = tf.constant([
        history_example(item=999, timestamp=DAY, history=[]).SerializeToString(),
        history_example(item=CATALOG[0], timestamp=DAY, history=[CATALOG[1], 999, CATALOG[2], CATALOG[3], CATALOG[4]],
                        user=12345).SerializeToString()])
    features = _parser(case)(serialized)
    catalog = {int(k): i for i, k in enumerate(case.data.catalog_keys)}
    assert features["item"].numpy().tolist() == [OOV_ID, catalog[CATALOG[0]]]
    assert features["user"].numpy().tolist() == [OOV_ID, OOV_ID]
    # The last 3 of the list, most recent first; an unknown history id is OOV_ID, not padding.
    assert features["history"].numpy().tolist() == [
        [PADDING_ID] * 3, [catalog[CATALOG[4]], catalog[CATALOG[3]], catalog[CATALOG[2]]]]
    history = _parser(case)(tf.constant([history_example(item=CATALOG[0], timestamp=DAY,
                                                         history=[999]).SerializeToString()]))["history"]
    assert history.numpy().tolist() == [[OOV_ID, PADDING_ID, PADDING_ID]]


def test_served_scores_equal_the_model_on_the_training_features(case, exported):
    path, loaded = exported
    split = case.data.splits["train"]
    expected = case.model({k: split[k] for k in ("user", "item", "history", "maturity", "user_stats")}).numpy()
    requests = tf.constant(training_requests(case))
    served = loaded.signatures["serving_default"](examples=requests)["probabilities"].numpy()
    np.testing.assert_allclose(served, expected, atol=1e-5)
    scores = loaded.signatures["classification"](inputs=requests)["scores"].numpy()
    np.testing.assert_allclose(scores[:, 1:], expected, atol=1e-5)
    np.testing.assert_allclose(loaded.signatures["regression"](inputs=requests)["outputs"].numpy(), expected,
                               atol=1e-5)
    method_names = read_method_names(path)
    assert {key: method_names[key] for key in RANKER_METHOD_NAMES} == RANKER_METHOD_NAMES
    assert tf.io.gfile.exists(f"{path}/{WARMUP_FILE}")


@pytest.mark.parametrize("example, message", [
    (tf.train.Example(features=tf.train.Features(feature={
        "item": tf.train.Feature(int64_list=tf.train.Int64List(value=[100]))})), "timestamp"),
    (history_example(item=100, timestamp=-5), "timestamp` must be integer seconds since the epoch"),
    (tf.train.Example(features=tf.train.Features(feature={
        "item": tf.train.Feature(int64_list=tf.train.Int64List(value=[100])),
        "timestamp": tf.train.Feature(bytes_list=tf.train.BytesList(value=[b"yesterday"]))})), "timestamp"),
    (history_example(item=100, timestamp=5).__class__(features=tf.train.Features(feature={
        "timestamp": tf.train.Feature(int64_list=tf.train.Int64List(value=[5]))})), "item"),
])
def test_bad_requests_are_invalid_argument_naming_the_feature(exported, example, message):
    _, loaded = exported
    with pytest.raises(tf.errors.InvalidArgumentError, match=message):
        loaded.signatures["serving_default"](examples=tf.constant([example.SerializeToString()]))
