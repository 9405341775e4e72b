"""Pruning schedules (k per epoch per strategy) and the TopKPruning callback (masking, rewinding, fresh optimiser)."""

import numpy as np
import pytest
import tf_keras as keras

from ssr_keras.embeddings.topk_sparse import TopKSparseEmbedding, top_k_mask
from ssr_keras.training.pruning import PruningSchedule, TopKPruning


def test_exponential_schedule_halves_k_every_stage_as_the_paper():
    ks = PruningSchedule("exponential", factors=4096, target=16, epochs_per_stage=10).ks()
    assert len(ks) == 70 + 10
    assert ks[:3] == [4096, 1910, 1782]
    assert ks[10] == 1024 and ks[20] == 512 and ks[60] == 32
    assert ks[69] == 17 and ks[70:] == [16] * 10
    assert all(a >= b for a, b in zip(ks, ks[1:]))


def test_linear_schedule_falls_in_equal_steps():
    ks = PruningSchedule("linear", factors=64, target=8, epochs_per_stage=2, num_stages=2, final_epochs=2).ks()
    assert ks == [64, 50, 36, 22, 8, 8]


def test_step_schedule_holds_each_value_for_a_stage():
    ks = PruningSchedule("step", factors=64, target=4, epochs_per_stage=2, final_epochs=3).ks()
    assert ks == [0, 0, 16, 16, 8, 8, 4, 4, 4]
    custom = PruningSchedule("step", factors=64, target=4, epochs_per_stage=1, final_epochs=1, values=[32, 10]).ks()
    assert custom == [32, 10, 4]


def test_constant_schedule_uses_the_target_from_the_start():
    schedule = PruningSchedule("constant", factors=64, target=8, epochs_per_stage=2, num_stages=3, final_epochs=1)
    assert schedule.ks() == [8] * 7
    assert schedule.k_at(100) == 8 and schedule.num_epochs == 7


@pytest.mark.parametrize("kwargs, match", [
    (dict(strategy="cosine"), "strategy"),
    (dict(target=0), "target=0"),
    (dict(target=65), "target=65"),
    (dict(epochs_per_stage=0), "epochs_per_stage=0"),
    (dict(final_epochs=-1), "final_epochs=-1"),
    (dict(values=[8]), "values"),
])
def test_schedule_bad_arguments(kwargs, match):
    arguments = dict(strategy="exponential", factors=64, target=8) | kwargs
    with pytest.raises(ValueError, match=match):
        PruningSchedule(**arguments)


def _model(width=16, seed=0):
    keras.utils.set_random_seed(seed)
    layer = TopKSparseEmbedding(vocab_size=12, embedding_dim=width)
    model = keras.Sequential([layer, keras.layers.Dense(1)])
    model.compile(optimizer=keras.optimizers.Nadam(0.05), loss="mse")
    return layer, model


def _data():
    rng = np.random.RandomState(0)
    return np.arange(12), rng.normal(size=(12, 1)).astype(np.float32)


@pytest.mark.parametrize("strategy", ["exponential", "linear", "step", "constant"])
def test_fit_follows_the_schedule(strategy):
    layer, model = _model()
    schedule = PruningSchedule(strategy, factors=16, target=2, epochs_per_stage=1, num_stages=2, final_epochs=1)
    callback = TopKPruning(layer, schedule)
    x, y = _data()
    history = model.fit(x, y, epochs=schedule.num_epochs, batch_size=4, verbose=0, callbacks=[callback])
    expected = [0 if k >= 16 else k for k in schedule.ks()]
    assert callback.history == expected
    assert history.history["k"] == expected
    assert np.all(np.isfinite(history.history["loss"]))
    assert np.all(np.count_nonzero(layer.embeddings.numpy(), axis=1) == 2)


@pytest.mark.parametrize("restart", [True, False])
def test_pruning_step_masks_and_rewinds_with_a_fresh_optimizer(restart):
    layer, model = _model()
    x, y = _data()
    callback = TopKPruning(layer, PruningSchedule("constant", factors=16, target=4), restart=restart)
    callback.set_model(model)
    callback.on_train_begin()
    initial = layer.embeddings.numpy().copy()
    model.fit(x, y, epochs=3, batch_size=4, verbose=0)
    trained = layer.embeddings.numpy().copy()
    assert not np.allclose(trained, initial)
    old_optimizer = model.optimizer
    assert int(old_optimizer.iterations.numpy()) > 0

    callback.prune(6)
    mask = top_k_mask(trained, 6).numpy() != 0
    expected = (initial if restart else trained) * mask
    np.testing.assert_array_equal(layer.embeddings.numpy(), expected)
    assert layer.current_k == 6
    assert model.optimizer is not old_optimizer and int(model.optimizer.iterations.numpy()) == 0

    # A second step keeps a subset of the first support (pruned entries never come back).
    model.fit(x, y, epochs=1, batch_size=4, verbose=0)
    callback.prune(3)
    support = layer.embeddings.numpy() != 0
    assert np.all(support <= mask) and np.all(support.sum(axis=1) == 3)
    if restart:
        np.testing.assert_array_equal(layer.embeddings.numpy()[support], initial[support])


def test_callback_bad_arguments():
    layer, _ = _model(width=16)
    with pytest.raises(ValueError, match="layer"):
        TopKPruning(keras.layers.Dense(2), PruningSchedule("constant", factors=16, target=2))
    with pytest.raises(ValueError, match="schedule.factors"):
        TopKPruning(layer, PruningSchedule("constant", factors=32, target=2))


class _TopKEveryStep(TopKPruning):
    """The callback without the fixed-support fast path (a top-k at every training step)."""

    def prune(self, k):
        super().prune(k)
        self.layer.fixed_support = False
        if getattr(self.model, "train_function", None) is not None:
            self.model.make_train_function(force=True)


def test_fixed_support_fast_path_trains_as_a_top_k_at_every_step():
    schedule = PruningSchedule("exponential", factors=16, target=2, epochs_per_stage=1, num_stages=2,
                               final_epochs=1)
    x, y = _data()
    tables = []
    for callback_class in (TopKPruning, _TopKEveryStep):
        layer, model = _model()
        model.compile(optimizer=keras.optimizers.Nadam(0.05), loss="mse", run_eagerly=True)  # no retracing: fast
        callback = callback_class(layer, schedule, restart=True)
        model.fit(x, y, epochs=schedule.num_epochs, batch_size=4, verbose=0, callbacks=[callback], shuffle=False)
        assert layer.fixed_support is (callback_class is TopKPruning)
        tables.append(layer.embeddings.numpy())
    np.testing.assert_array_equal(tables[0] != 0, tables[1] != 0)
    np.testing.assert_allclose(tables[0], tables[1], rtol=1e-3, atol=1e-4)  # float noise through Nadam
    assert np.all(np.count_nonzero(tables[0], axis=1) == 2)
