"""FLOPs per example of a model's dense part, counted from its traced TensorFlow graph.

Method: trace the model's logits for a batch of one example into a concrete function (all shapes
static), then sum `2 * multiply-accumulates` over every `MatMul`, `BatchMatMul*` and `Einsum` op,
recursing into called functions. Embedding lookups (gathers), SSR-S index gathers and element-wise ops
(activations, normalisation, ICS's ReLU/mean iterations, DCN's Hadamard product) are not counted: they
are O(width) against the O(width^2) of the matmuls, the convention of the SSR and DCN papers.
"""

from __future__ import annotations

from typing import Mapping

import numpy as np
import tensorflow as tf

from ssr_keras.data.field_spec import FieldSpec

_MATMUL_OPS = ("MatMul", "BatchMatMul", "BatchMatMulV2", "BatchMatMulV3")


def _matmul_flops(op: tf.Operation) -> int:
    a, b = (x.shape.as_list() for x in op.inputs[:2])
    transpose_a = op.get_attr("transpose_a" if op.type == "MatMul" else "adj_x")
    rows, inner = (a[-1], a[-2]) if transpose_a else (a[-2], a[-1])
    cols = op.outputs[0].shape.as_list()[-1]
    batch = int(np.prod(op.outputs[0].shape.as_list()[:-2] or [1]))
    del b
    return 2 * batch * rows * inner * cols


def _einsum_flops(op: tf.Operation) -> int:
    equation = op.get_attr("equation").decode().replace(" ", "")
    inputs_spec, output_spec = equation.split("->")
    sizes = {}
    for spec, tensor in zip(inputs_spec.split(","), op.inputs):
        shape = tensor.shape.as_list()
        if "..." in spec:
            head, tail = spec.split("...")
            named = list(zip(head, shape[:len(head)])) + list(zip(tail, shape[len(shape) - len(tail):]))
        else:
            named = list(zip(spec, shape))
        sizes.update(dict(named))
    macs = int(np.prod(list(sizes.values()) or [1]))
    if "..." in output_spec:
        head, tail = output_spec.split("...")
        out_shape = op.outputs[0].shape.as_list()
        macs *= int(np.prod(out_shape[len(head):len(out_shape) - len(tail)] or [1]))
    return 2 * macs


def _graph_flops(graph: tf.Graph, visited: set) -> int:
    total = 0
    for op in graph.get_operations():
        if op.type in _MATMUL_OPS:
            total += _matmul_flops(op)
        elif op.type == "Einsum":
            total += _einsum_flops(op)
        for attr in ("f", "body", "then_branch"):
            try:
                name = op.get_attr(attr).name
            except (ValueError, AttributeError):
                continue
            if name in visited:
                continue
            visited.add(name)
            function = graph._get_function(name)  # noqa: SLF001 - the only way to reach nested graphs
            if function is not None and hasattr(function, "graph"):
                total += _graph_flops(function.graph, visited)
    return total


def flops_per_example(model, fields: Mapping[str, FieldSpec] | None = None) -> int:
    """Counts the FLOPs (2 x multiply-accumulates of matmuls/einsums) of one example's forward pass.

    Args:
        model: a `RankingModel` (anything with `.field_specs` and `.logits(features)`).
        fields: optional field specs to trace with; defaults to `model.field_specs`.

    Returns:
        FLOPs per example of the non-embedding (dense) part, as an int.

    Example:

    >>> from ssr_keras.data import FieldSpec
    >>> from ssr_keras.models import RankingModel
    >>> model = RankingModel([FieldSpec("user", 10), FieldSpec("item", 20)], backbone="dnn", embedding_dim=4,
    ...                      backbone_config={"hidden_units": [8]})
    >>> flops_per_example(model)  # 2 x (8 x 8 + 8 x 1)
    144
    """
    specs = list(fields.values()) if fields else list(model.field_specs)
    signature = {
        f.name: tf.TensorSpec([1] if f.max_len == 1 else [1, f.max_len], tf.int64, name=f.name)
        for f in specs
    }
    concrete = tf.function(lambda features: model.logits(features, training=False)
                           ).get_concrete_function(signature)
    return _graph_flops(concrete.graph, set())
