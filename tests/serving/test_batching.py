"""Request batching: TF Serving's parameters file, and identical scores with batching on and off."""

import threading

import numpy as np
import pytest
import tensorflow as tf

from serving import testing
from serving.batching import BatchingOptions
from serving.config_protos import BatchingParameters, parse_text_file
from serving.servable import Servable
from ssr_keras.export import make_example

pytestmark = pytest.mark.timeout(180)
CLIENTS = 8


def test_parameters_file_in_tf_serving_format(tmp_path):
    path = tmp_path / "batching.config"
    path.write_text("max_batch_size { value: 64 }\nbatch_timeout_micros { value: 2000 }\n"
                    "num_batch_threads { value: 2 }\nmax_enqueued_batches { value: 100 }\n"
                    "allowed_batch_sizes: 8\nallowed_batch_sizes: 64\npad_variable_length_inputs: true\n")
    options = BatchingOptions.from_proto(parse_text_file(str(path), BatchingParameters, "--batching_parameters_file"))
    assert options == BatchingOptions(max_batch_size=64, batch_timeout_micros=2000, num_batch_threads=2,
                                      max_enqueued_batches=100, allowed_batch_sizes=(8, 64))
    path.write_text("max_batch_size { value: 16 }")  # the rest keeps TF Serving's defaults
    options = BatchingOptions.from_proto(parse_text_file(str(path), BatchingParameters, "--batching_parameters_file"))
    assert (options.max_batch_size, options.batch_timeout_micros, options.max_enqueued_batches) == (16, 0, 10)


def test_bad_parameters_are_named(tmp_path):
    path = tmp_path / "batching.config"
    path.write_text("max_batch_size: 64")
    with pytest.raises(ValueError, match=r"--batching_parameters_file .*batching.config: not a text-format "
                                         r"BatchingParameters"):
        parse_text_file(str(path), BatchingParameters, "--batching_parameters_file")
    with pytest.raises(ValueError, match=r"allowed_batch_sizes must increase and end with max_batch_size \(64\)"):
        BatchingOptions(max_batch_size=64, allowed_batch_sizes=(8, 32))
    with pytest.raises(ValueError, match="num_batch_threads must be >= 1; got 0"):
        BatchingOptions(num_batch_threads=0)


def _concurrent_scores(servable, examples, rows_per_request):
    """Every client scores all examples, `rows_per_request` at a time, all clients at once."""
    signature = servable.signature("serving_default")
    results = [[] for _ in range(CLIENTS)]
    start = threading.Barrier(CLIENTS)

    def client(number):
        start.wait()
        for i in range(0, len(examples), rows_per_request):
            request = np.array(examples[i:i + rows_per_request], dtype=object)
            results[number].append(signature.run({"examples": request})["probabilities"])

    threads = [threading.Thread(target=client, args=(n,)) for n in range(CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return np.stack([np.concatenate(r) for r in results])


def test_batching_on_and_off_give_identical_scores(toy_exports):
    examples = [make_example(row).SerializeToString() for row in testing.toy_rows(40, seed=5)]
    path = str(toy_exports[1])
    formed = []
    plain = Servable.load("toy", 1, path)
    batched = Servable.load("toy", 1, path, batching=BatchingOptions(max_batch_size=16, batch_timeout_micros=5000,
                                                                     num_batch_threads=1),
                            observe_batch=lambda model, signature, size: formed.append(size))
    expected = plain.signature("serving_default").run({"examples": np.array(examples, dtype=object)})
    # Requests of 2 rows: merged into batches of 2..16 rows; each row's score is bit-identical.
    off, on = _concurrent_scores(plain, examples, 2), _concurrent_scores(batched, examples, 2)
    np.testing.assert_array_equal(off, on)
    np.testing.assert_array_equal(on[0], expected["probabilities"])
    assert max(formed) > 2, "concurrent calls were never merged"
    # Requests of 1 row: TensorFlow's kernels take another path for a batch of exactly one row (the
    # model alone, without batching, scores a row alone and in a batch a float rounding apart), so a
    # row scored alone (off) and merged (on) may differ by that rounding, not more.
    off, on = _concurrent_scores(plain, examples, 1), _concurrent_scores(batched, examples, 1)
    np.testing.assert_allclose(off, on, rtol=1e-6, atol=0)
    # A call larger than max_batch_size bypasses the queue and is still scored in full.
    large = batched.signature("serving_default").run({"examples": np.array(examples, dtype=object)})
    np.testing.assert_array_equal(large["probabilities"], expected["probabilities"])


def test_a_bad_request_in_a_batch_fails_alone(toy_exports):
    batched = Servable.load("toy", 1, str(toy_exports[1]), batching=BatchingOptions(
        max_batch_size=8, batch_timeout_micros=20000, num_batch_threads=1))
    signature = batched.signature("serving_default")
    good = np.array([make_example(testing.toy_rows(1)[0]).SerializeToString()], dtype=object)
    bad = np.array([b"\xff not an example"], dtype=object)
    outcomes = {}

    def call(name, examples):
        try:
            outcomes[name] = signature.run({"examples": examples})["probabilities"].shape
        except Exception as error:  # noqa: BLE001 - the outcome is what is asserted
            outcomes[name] = type(error).__name__

    threads = [threading.Thread(target=call, args=(f"good{i}", good)) for i in range(3)]
    threads.append(threading.Thread(target=call, args=("bad", bad)))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert outcomes.pop("bad") == "ServingError"
    assert set(outcomes.values()) == {(1, 1)}


def test_queues_of_two_models_are_separate(toy_exports):
    """The decorator `tf.nondifferentiable_batch_function` would name both queues "batch/" and share them."""
    options = BatchingOptions(max_batch_size=8, batch_timeout_micros=1000)
    first = Servable.load("a", 1, str(toy_exports[1]), batching=options)
    second = Servable.load("b", 1, str(toy_exports[2]), batching=options)
    example = np.array([make_example(testing.toy_rows(1)[0]).SerializeToString()], dtype=object)
    scores = [s.signature("serving_default").run({"examples": example})["probabilities"] for s in (first, second)]
    unbatched = Servable.load("b", 1, str(toy_exports[2])).signature("serving_default").run({"examples": example})
    np.testing.assert_array_equal(scores[1], unbatched["probabilities"])
    assert not np.array_equal(scores[0], scores[1])
    assert isinstance(tf.constant(scores[0]), tf.Tensor)
