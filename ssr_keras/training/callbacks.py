"""Keras callbacks of the training runs."""

from __future__ import annotations

import time

import tf_keras as keras


class TrainingThroughput(keras.callbacks.Callback):
    """Measures training examples/s, leaving out each epoch's first step (tracing, iterator start).

    Args:
        batch_size: examples per training step.

    Example:

    >>> throughput = TrainingThroughput(batch_size=1024)
    >>> # model.fit(..., callbacks=[throughput]); throughput.examples_per_sec
    """

    def __init__(self, batch_size: int) -> None:
        super().__init__()
        # It reads no logs, so Keras may run it under a ParameterServerStrategy (which refuses batch-level
        # callbacks that would read remote logs); there the batch ends are when steps are *scheduled*.
        self._supports_tf_logs = True
        self.batch_size = batch_size
        self.seconds = 0.0
        self.steps = 0
        self._last: float | None = None

    def on_epoch_begin(self, epoch, logs=None) -> None:
        self._last = None

    def on_train_batch_end(self, batch, logs=None) -> None:
        now = time.perf_counter()
        if self._last is not None:
            self.seconds += now - self._last
            self.steps += 1
        self._last = now

    @property
    def examples_per_sec(self) -> float:
        return self.steps * self.batch_size / self.seconds if self.seconds else float("nan")
