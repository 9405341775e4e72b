"""Request batching (`--enable_batching`) on TensorFlow's in-graph batch op.

TF Serving's batching merges concurrent requests into one model call. Here each signature of a
loaded version is wrapped in `tf.raw_ops.BatchFunction`, the op behind
`tf.nondifferentiable_batch_function`: every concurrent call of the wrapped function enqueues its
inputs, the op's scheduler concatenates them along dimension 0 into a batch (up to
`max_batch_size`, waiting at most `batch_timeout_micros`, padded up to the next of
`allowed_batch_sizes`), runs the signature once on `num_batch_threads` threads and hands each caller
its own rows. gRPC handler threads simply block in the call, as TF Serving's do.

`tf.raw_ops.BatchFunction` is used directly, not the decorator: the decorator names every batch
queue "batch/", so two models would share one queue (the first one's function would run both).
Each wrapped signature gets its own queue name here.

Calls that cannot be merged bypass the queue and run the signature directly (same result, no
waiting): an empty request, inputs without a common batch dimension, or more rows than
`max_batch_size` (TF Serving answers those with an error unless large-batch splitting is on; a
large request gains nothing from waiting for others anyway).

Example:

>>> params = parse_text_file(path, BatchingParameters, "--batching_parameters_file")  # doctest: +SKIP
>>> options = BatchingOptions.from_proto(params)  # doctest: +SKIP
>>> batched = BatchedFunction(servable_function, options, observe_batch=print)  # doctest: +SKIP
>>> batched(examples=tf.constant([b"..."]))  # doctest: +SKIP
{'probabilities': <tf.Tensor: shape=(1, 1), ...>}
"""

from __future__ import annotations

import dataclasses
import logging
import os
import uuid
from typing import Callable, Dict, Tuple

import tensorflow as tf

from serving.config_protos import BatchingParameters

logger = logging.getLogger(__name__)

# TF Serving's defaults for a field the batching parameters file leaves out.
DEFAULT_MAX_BATCH_SIZE = 1000
DEFAULT_BATCH_TIMEOUT_MICROS = 0
DEFAULT_MAX_ENQUEUED_BATCHES = 10
# Extra output of the batched function: the size of the batch the op formed (one entry per row).
_BATCH_SIZE_OUTPUT = "__formed_batch_size"


@dataclasses.dataclass(frozen=True)
class BatchingOptions:
    """The batch op's knobs, with TF Serving's meaning and defaults.

    Args:
        max_batch_size: most rows in one formed batch.
        batch_timeout_micros: how long the oldest queued request may wait for others.
        num_batch_threads: batches computed in parallel.
        max_enqueued_batches: queue length in batches; beyond it a call fails (UNAVAILABLE).
        allowed_batch_sizes: formed batches are padded up to the next of these (increasing; the last
            equals `max_batch_size`); empty: no padding.
    """

    max_batch_size: int = DEFAULT_MAX_BATCH_SIZE
    batch_timeout_micros: int = DEFAULT_BATCH_TIMEOUT_MICROS
    num_batch_threads: int = os.cpu_count() or 1
    max_enqueued_batches: int = DEFAULT_MAX_ENQUEUED_BATCHES
    allowed_batch_sizes: Tuple[int, ...] = ()

    def __post_init__(self):
        for name in ("max_batch_size", "num_batch_threads", "max_enqueued_batches"):
            if getattr(self, name) < 1:
                raise ValueError(f"batching parameter {name} must be >= 1; got {getattr(self, name)}.")
        if self.batch_timeout_micros < 0:
            raise ValueError(f"batching parameter batch_timeout_micros must be >= 0; got "
                             f"{self.batch_timeout_micros}.")
        sizes = list(self.allowed_batch_sizes)
        if sizes and (sizes != sorted(set(sizes)) or sizes[0] < 1 or sizes[-1] != self.max_batch_size):
            raise ValueError(f"batching parameter allowed_batch_sizes must increase and end with max_batch_size "
                             f"({self.max_batch_size}); got {sizes}.")

    @classmethod
    def from_proto(cls, params: BatchingParameters) -> BatchingOptions:
        """Options from a parsed `BatchingParameters`; fields it leaves out keep TF Serving's defaults.

        `thread_pool_name`, `pad_variable_length_inputs` (the batch op cannot pad ragged inputs; our
        signatures take one serialized example per row, so there is nothing to pad) and the large
        batch splitting fields (larger calls bypass the queue, see the module docstring) are accepted
        and ignored with a log line.
        """
        ignored = [name for name in ("thread_pool_name", "max_execution_batch_size") if params.HasField(name)]
        ignored += [name for name in ("pad_variable_length_inputs", "enable_large_batch_splitting")
                    if getattr(params, name)]
        if ignored:
            logger.info("Batching parameters %s are accepted and ignored (see serving/batching.py).", ignored)
        defaults = cls()
        values = {name: getattr(params, name).value if params.HasField(name) else getattr(defaults, name)
                  for name in ("max_batch_size", "batch_timeout_micros", "num_batch_threads",
                               "max_enqueued_batches")}
        return cls(allowed_batch_sizes=tuple(params.allowed_batch_sizes), **values)


class BatchedFunction:
    """A loaded signature function whose concurrent calls are merged by the in-graph batch op.

    Args:
        function: the signature's concrete function (keyword tensors in, dict of tensors out; every
            input and output batched along dimension 0).
        options: batching knobs.
        observe_batch: called with the size of each batch a call was part of (for metrics).
    """

    def __init__(self, function: tf.types.experimental.ConcreteFunction, options: BatchingOptions,
                 observe_batch: Callable[[int], object] | None = None):
        self.function = function
        self.options = options
        self.observe_batch = observe_batch
        specs = function.structured_input_signature[1]
        self.aliases = sorted(specs)
        self.output_keys = sorted(function.structured_outputs)
        signature = [specs[alias] for alias in self.aliases]

        @tf.function(input_signature=signature, autograph=False)
        def computation(*tensors):
            outputs = function(**dict(zip(self.aliases, tensors)))
            rows = tf.shape(tensors[0], out_type=tf.int64)[0]
            return [outputs[key] for key in self.output_keys] + [tf.fill([rows], rows)]

        computation = computation.get_concrete_function()
        queue_name = f"ssr_serving_batch_{uuid.uuid4().hex}"

        @tf.function(input_signature=signature, autograph=False)
        def batched(*tensors):
            outputs = tf.raw_ops.BatchFunction(
                in_tensors=list(tensors), captured_tensors=computation.captured_inputs, f=computation,
                num_batch_threads=options.num_batch_threads, max_batch_size=options.max_batch_size,
                batch_timeout_micros=options.batch_timeout_micros,
                max_enqueued_batches=options.max_enqueued_batches,
                allowed_batch_sizes=list(options.allowed_batch_sizes), shared_name=queue_name,
                Tout=[output.dtype for output in computation.outputs])
            return dict(zip(self.output_keys + [_BATCH_SIZE_OUTPUT], outputs))

        # Traced once, here: concurrent first calls of a tf.function would each trace (and each
        # trace would get a queue of its own).
        self._batched = batched.get_concrete_function()

    def __call__(self, **inputs: tf.Tensor) -> Dict[str, tf.Tensor]:
        rows = {int(tensor.shape[0]) if tensor.shape.rank else -1 for tensor in inputs.values()}
        if (sorted(inputs) != self.aliases or len(rows) != 1
                or not 0 < next(iter(rows)) <= self.options.max_batch_size):
            return self.function(**inputs)
        try:
            outputs = self._batched(*[inputs[alias] for alias in self.aliases])
        except (tf.errors.OpError, UnicodeDecodeError):  # (a TF error whose message is not UTF-8)
            # One bad request fails the whole formed batch; rerun this one alone so that only a bad
            # request gets an error, and gets its own.
            return self.function(**inputs)
        formed = outputs.pop(_BATCH_SIZE_OUTPUT)
        if self.observe_batch is not None:
            self.observe_batch(int(formed[0]))
        return outputs
