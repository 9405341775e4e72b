"""`TracedStepsModel`: the `tfrs.Model` every ssr-keras model builds on.

AutoGraph's conversion of the TFRS/Keras train and test steps made the first step take 14-24 s on this
stack; the steps have no data-dependent Python control flow, so plain tracing is equivalent.
"""

from __future__ import annotations

from typing import Dict

import tensorflow as tf
import tensorflow_recommenders as tfrs


class TracedStepsModel(tfrs.Model):
    """A `tfrs.Model` whose `train_step` and `test_step` are traced without AutoGraph conversion.

    Subclasses implement `compute_loss` as for any `tfrs.Model`.
    """

    @tf.autograph.experimental.do_not_convert
    def train_step(self, inputs) -> Dict[str, tf.Tensor]:
        return super().train_step(inputs)

    @tf.autograph.experimental.do_not_convert
    def test_step(self, inputs) -> Dict[str, tf.Tensor]:
        return super().test_step(inputs)
