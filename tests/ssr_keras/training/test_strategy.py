"""`ssr_keras.training.strategy`: names, TF_CONFIG checks, task roles, what `fit` is given (no cluster)."""

import json

import pytest
import tensorflow as tf
import tf_keras as keras

from ssr_keras.training.local_cluster import LocalTfCluster, free_ports
from ssr_keras.training.strategy import (
    STRATEGIES,
    build_strategy,
    is_chief,
    is_server_task,
    read_tf_config,
    task_name,
    training_input,
)

PS_CLUSTER = {"chief": ["127.0.0.1:1"], "worker": ["127.0.0.1:2", "127.0.0.1:3"], "ps": ["127.0.0.1:4"]}


def _env(cluster, task_type, index):
    return {"TF_CONFIG": json.dumps({"cluster": cluster, "task": {"type": task_type, "index": index}})}


def test_unknown_name_lists_the_choices():
    with pytest.raises(ValueError, match=r"strategy must be one of .*'parameter-server'.*Received: 'ps'"):
        build_strategy("ps")


@pytest.mark.parametrize("name", ["multi-worker", "parameter-server"])
def test_cluster_strategy_without_tf_config_names_it(name):
    with pytest.raises(ValueError, match=rf"strategy '{name}' needs TF_CONFIG with cluster task type"):
        build_strategy(name, environ={})


def test_malformed_tf_config_is_named():
    with pytest.raises(ValueError, match="TF_CONFIG must be JSON"):
        read_tf_config({"TF_CONFIG": "{cluster"})
    with pytest.raises(ValueError, match="task must name a task of its cluster"):
        is_chief("multi-worker", _env({"worker": ["127.0.0.1:1"]}, "worker", 3))


def test_roles_under_parameter_servers():
    assert is_chief("parameter-server", _env(PS_CLUSTER, "chief", 0))
    assert not is_server_task("parameter-server", _env(PS_CLUSTER, "chief", 0))
    for task_type, index in (("worker", 1), ("ps", 0)):
        env = _env(PS_CLUSTER, task_type, index)
        assert is_server_task("parameter-server", env) and not is_chief("parameter-server", env)
    assert task_name("parameter-server", _env(PS_CLUSTER, "worker", 1)) == "worker-1"


def test_roles_under_multi_worker():
    cluster = {"worker": ["127.0.0.1:1", "127.0.0.1:2"]}
    assert is_chief("multi-worker", _env(cluster, "worker", 0))
    assert not is_chief("multi-worker", _env(cluster, "worker", 1))
    assert not is_server_task("multi-worker", _env(cluster, "worker", 1))
    assert all(is_chief(name) and task_name(name) == "local" for name in ("default", "mirrored"))


def test_single_process_strategies_train_the_plain_dataset():
    dataset = tf.data.Dataset.range(4).batch(2)
    for name in ("default", "mirrored"):
        strategy = build_strategy(name)
        assert strategy.num_replicas_in_sync == 1
        given = training_input(strategy, lambda _: dataset)
        assert isinstance(given, tf.data.Dataset)  # the dataset itself, only its sharding option set
        assert [b.tolist() for b in given.as_numpy_iterator()] == [[0, 1], [2, 3]]
    assert set(STRATEGIES) == {"default", "mirrored", "multi-worker", "parameter-server"}


def test_parameter_servers_get_a_dataset_creator():
    class FakeParameterServers(tf.distribute.ParameterServerStrategy):
        def __init__(self):  # no cluster: only the type matters here
            pass

    creator = training_input(FakeParameterServers(), lambda _: tf.data.Dataset.range(4))
    assert isinstance(creator, keras.utils.experimental.DatasetCreator)


def test_local_cluster_tf_configs_use_distinct_free_ports():
    cluster = LocalTfCluster({"chief": 1, "worker": 2, "ps": 1}, ["true"])
    addresses = [a for task in cluster.cluster.values() for a in task]
    assert len(set(addresses)) == 4 and all(a.startswith("127.0.0.1:") for a in addresses)
    assert cluster.tf_config("ps", 0)["task"] == {"type": "ps", "index": 0}
    assert len(set(free_ports(3))) == 3
    with pytest.raises(ValueError, match="task types to counts"):
        LocalTfCluster({"worker": 0}, ["true"])
