"""Training and inference speed of ssr-keras' SSR ranking stack against a per-view-loop reference.

At the official configurations on Frappe-shaped input (10 categorical fields x 16-d embeddings):

* SSR-D: 2 layers x 8 views x 128, gated, T = 5;
* SSR-S: 2 layers x 16 views x 160 on the 160-wide input, 2 hidden layers per view;

it builds our `RankingModel` and `benchmarks/reference_blocks.ReferenceRankingModel` (one `Embedding`
per field, the official per-view Python loop, `Dense(1)`) with the SAME weights (copied; the script
checks the logits agree) and times, in one process, alternating ours and the reference (ABAB...):

* training: a compiled train step (`tf.function`: logits, binary cross-entropy, gradients, Adam 1e-3)
  at batch 1024, examples/s;
* inference: the model's scores at batch 256 in a `tf.function`, examples/s.

A third contender, `GemmFloor`, runs only the matrix products of ours (same shapes, copied kernels, no
element-wise ops, lookups or transposes): its rate over the reference's, `max_ratio`, bounds what any
float32 rewrite of the same FLOPs could reach on this stack, so a target above it needs fewer FLOPs (or
lower precision), not better code.

Each repetition times `--steps` training steps (4x as many inference steps) of one model after the
other; the report is the median over `--repeats` repetitions and the ratio ours / reference, both per
wall-clock second and per CPU second of this process (all threads): on a shared machine other processes
stretch wall time, not our CPU time, so the CPU ratio is the steadier one. Beside it: the FLOP ceiling, FLOPs per
example (`ssr_keras.analysis.flops_per_example`, forward; training counted as 3x forward) against this machine's
float32 GFLOP/s (per wall and per CPU second) from a 2048^3 matmul measured in the same run. The load
average is recorded before and after; the alternation keeps the ratio fair.

`--profile` instead traces a few steps of each model with `tf.profiler` and prints the time per op type
and the heaviest ops (host CPU plane of the trace).

Usage:
    nice -n 5 python benchmarks/speed.py [--repeats 7] [--steps 10] [--out benchmarks/results/speed.json]
    nice -n 5 python benchmarks/speed.py --profile [--variants ssr-d] [--mode train]
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import pathlib
import platform
import statistics
import sys
import tempfile
import time
from typing import Callable, Dict, List

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))  # `benchmarks.` when run as a script

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
import tf_keras as keras  # noqa: E402
from tensorflow.tsl.profiler.protobuf import xplane_pb2  # noqa: E402

from benchmarks.reference_blocks import ReferenceBackbone, ReferenceRankingModel  # noqa: E402
from ssr_keras.analysis import flops_per_example  # noqa: E402
from ssr_keras.data import FieldSpec  # noqa: E402
from ssr_keras.models import RankingModel  # noqa: E402

# Frappe's ten categorical fields with their vocabulary sizes (+1 OOV row) in frappe-ctr.
FRAPPE_VOCAB = {"user": 958, "item": 4083, "daytime": 8, "weekday": 8, "isweekend": 3, "homework": 4,
                "cost": 3, "weather": 10, "country": 81, "city": 234}
EMBEDDING_DIM = 16
CONFIGS = {
    "ssr-d": {"num_layers": 2, "num_views": 8, "view_dim": 128, "iterations": 5, "use_gate": True},
    "ssr-s": {"num_layers": 2, "num_views": 16, "view_dim": 160, "num_hidden_layers": 2},
}
TRAIN_BATCH, INFER_BATCH, NUM_BATCHES = 1024, 256, 4
# An inference step (batch 256) is ~10x shorter than a training step (batch 1024): 4x the steps, so one
# timed block is not a fraction of a second that a neighbour's burst can halve.
INFER_STEPS_FACTOR = 4
WHO = ("ours", "reference", "floor")  # timed in this order, reversed every other repetition


def _batches(batch: int, seed: int) -> List[tuple]:
    rng = np.random.default_rng(seed)
    return [({name: tf.constant(rng.integers(0, size, batch), tf.int64) for name, size in FRAPPE_VOCAB.items()},
             tf.constant(rng.integers(0, 2, (batch, 1)).astype("float32")))
            for _ in range(NUM_BATCHES)]


def build_pair(variant: str):
    """Our `RankingModel` and the reference stack with the same weights, and the largest logit gap."""
    fields = [FieldSpec(name, size) for name, size in FRAPPE_VOCAB.items()]
    ours = RankingModel(fields, backbone=variant, embedding_dim=EMBEDDING_DIM, backbone_config=CONFIGS[variant])
    features, _ = _batches(64, 99)[0]
    ours.logits(features)
    reference = ReferenceRankingModel(FRAPPE_VOCAB, EMBEDDING_DIM, ReferenceBackbone.like(ours.backbone))
    reference(features)
    reference.load_from(ours)
    gap = float(np.abs(ours.logits(features).numpy() - reference(features).numpy()).max())
    return ours, reference, gap


def train_step(logits_fn: Callable, model: keras.Model) -> Callable:
    optimizer = keras.optimizers.Adam(1e-3)
    loss_fn = keras.losses.BinaryCrossentropy(from_logits=True)

    @tf.function
    def step(features, labels):
        with tf.GradientTape() as tape:
            loss = loss_fn(labels, logits_fn(features))
        variables = model.trainable_variables
        optimizer.apply_gradients(zip(tape.gradient(loss, variables), variables))
        return loss

    return step


def infer_step(logits_fn: Callable) -> Callable:
    return tf.function(lambda features, labels: tf.sigmoid(logits_fn(features)))


class GemmFloor:
    """Only the matrix products of our backbone and head, same shapes, nothing else.

    Each SSR-D block is `x W` and `x U` (added: the one element-wise op kept, so both feed on) and the
    per-view fusion `[V, B, d] x [V, d, d]`; each SSR-S block is its per-view hidden layers on views
    formed by a tile (first block, whose views all read the whole input) or a reshape (no gathers or
    transposes). The input is the concatenated embeddings as a tensor (no lookups). No ICS, GELU,
    LayerNorm, bias or residual: this is a floor under the time of any float32 implementation of the
    same FLOPs on this stack, so `floor rate / reference rate` bounds the speed-up a rewrite can reach.
    The kernels are copies of ours, so timing its training step leaves our model's weights alone.
    """

    def __init__(self, ours: RankingModel) -> None:
        backbone = ours.backbone
        self.num_views, self.view_dim = backbone.num_views, backbone.view_dim
        copy = lambda w: tf.Variable(w.numpy(), name=w.name.split(":")[0])  # noqa: E731
        self.blocks = []  # per block: ([D, V * d] kernels, [V, d, d] per-view kernels)
        for block in backbone.blocks:
            if backbone.variant == "ssr-d":
                flat = [block.projection.kernel] + ([block.gate.kernel] if block.gate is not None else [])
                self.blocks.append(([copy(k) for k in flat], [copy(block.fusion.kernel)]))
            else:
                self.blocks.append(([], [copy(hidden.kernel) for hidden in block.hidden]))
        self.head_kernel = copy(ours.head.kernel)
        self.trainable_variables = [k for flat, per_view in self.blocks for k in flat + per_view] + [
            self.head_kernel]

    def __call__(self, inputs: tf.Tensor) -> tf.Tensor:
        x, width = inputs, self.num_views * self.view_dim
        for flat, per_view in self.blocks:
            if flat:
                x = tf.add_n([tf.matmul(x, kernel) for kernel in flat])
            views = (tf.reshape(x, [self.num_views, -1, self.view_dim]) if x.shape[-1] == width
                     else tf.tile(x[tf.newaxis, :, :self.view_dim], [self.num_views, 1, 1]))
            for kernel in per_view:
                views = tf.matmul(views, kernel)
            x = tf.reshape(views, [-1, width])
        pooled = tf.reduce_mean(tf.reshape(x, [-1, self.num_views, self.view_dim]), axis=1)
        return tf.matmul(pooled, self.head_kernel)


def steps_for(variant: str):
    """name -> (step, batches) for ours, the reference and the GEMM floor, training and inference."""
    ours, reference, gap = build_pair(variant)
    ours_train = lambda f: ours.logits(f, training=True)  # noqa: E731
    # Inference as `RankingModel.call` (predict, serving) runs it: no ICS sparsity metric.
    ours_infer = lambda f: ours.logits(f, training=False, report_sparsity=False)  # noqa: E731
    train_batches, infer_batches = _batches(TRAIN_BATCH, 0), _batches(INFER_BATCH, 1)
    steps = {
        ("train", "ours"): (train_step(ours_train, ours), train_batches),
        ("train", "reference"): (train_step(reference, reference), train_batches),
        ("infer", "ours"): (infer_step(ours_infer), infer_batches),
        ("infer", "reference"): (infer_step(reference), infer_batches),
    }
    floor = GemmFloor(ours)
    embedded = lambda batches: [(ours.feature_embedding(f), y) for f, y in batches]  # noqa: E731
    steps[("train", "floor")] = (train_step(floor, floor), embedded(train_batches))
    steps[("infer", "floor")] = (infer_step(floor), embedded(infer_batches))
    return ours, steps, gap


def _run(step: Callable, batches: List[tuple], n: int) -> tuple:
    """Examples per wall-clock second and per CPU second of this process over `n` steps.

    The last result is fetched, so every step has finished. CPU time (all threads of the process) is
    the steadier measure on a shared machine: other processes' load stretches wall time, not our CPU time.
    """
    wall, cpu = time.perf_counter(), time.process_time()
    out = None
    for i in range(n):
        out = step(*batches[i % len(batches)])
    out.numpy()
    examples = n * int(batches[0][1].shape[0])
    return examples / (time.perf_counter() - wall), examples / (time.process_time() - cpu)


_matmul = tf.function(lambda a, b: tf.reduce_sum(tf.matmul(a, b)))


def matmul_gflops(n: int = 2048, repeats: int = 5) -> tuple:
    """float32 GFLOP/s of an n^3 matmul on this machine, per wall second and per CPU second (best of `repeats`)."""
    a = tf.random.normal([n, n])
    b = tf.random.normal([n, n])
    _matmul(a, b).numpy()
    walls, cpus = [], []
    for _ in range(repeats):
        wall, cpu = time.perf_counter(), time.process_time()
        _matmul(a, b).numpy()
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    return 2 * n ** 3 / min(walls) / 1e9, 2 * n ** 3 / min(cpus) / 1e9


def _timed(fn: Callable) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def measure(variant: str, repeats: int, n_steps: int, log: Callable[[str], None] = print) -> Dict:
    ours, steps, gap = steps_for(variant)
    for step, batches in steps.values():  # trace and warm up
        _run(step, batches, 3)
    samples = collections.defaultdict(list)  # (mode, who, "wall" | "cpu") -> examples/s per repetition
    gflops = []
    for r in range(repeats):
        for mode in ("train", "infer"):
            for who in WHO if r % 2 == 0 else WHO[::-1]:
                step, batches = steps[(mode, who)]
                wall, cpu = _run(step, batches, n_steps * INFER_STEPS_FACTOR if mode == "infer" else n_steps)
                samples[(mode, who, "wall")].append(wall)
                samples[(mode, who, "cpu")].append(cpu)
        gflops.append(matmul_gflops(repeats=2))
        log(f"  {variant} rep {r + 1}/{repeats} (examples/s wall | per CPU-s): " + ", ".join(
            f"{m} {w} {samples[(m, w, 'wall')][-1]:,.0f} | {samples[(m, w, 'cpu')][-1]:,.0f}"
            for m in ("train", "infer") for w in WHO)
            + f"; matmul {gflops[-1][0]:.0f} GFLOP/s, {gflops[-1][1]:.0f} GFLOP/CPU-s")
    forward = flops_per_example(ours)
    machine, machine_cpu = max(g[0] for g in gflops), max(g[1] for g in gflops)
    record = {"variant": variant, "config": CONFIGS[variant], "embedding_dim": EMBEDDING_DIM,
              "fields": len(FRAPPE_VOCAB), "params_non_embedding": int(ours.backbone.count_params()
                                                                        + ours.head.count_params()),
              "flops_per_example_forward": forward, "max_logit_gap_ours_vs_reference": gap,
              "machine_gflops_best": machine, "machine_gflops_median": statistics.median(g[0] for g in gflops),
              "machine_gflops_per_cpu_second_best": machine_cpu}
    for mode, batch, flops in (("train", TRAIN_BATCH, 3 * forward), ("infer", INFER_BATCH, forward)):
        entry = {"batch": batch, "flops_per_example": flops, "flop_ceiling_examples_per_sec": machine * 1e9 / flops,
                 "flop_ceiling_examples_per_cpu_second": machine_cpu * 1e9 / flops}
        for clock in ("wall", "cpu"):
            ours_s, ref_s = samples[(mode, "ours", clock)], samples[(mode, "reference", clock)]
            suffix = "" if clock == "wall" else "_per_cpu_second"
            entry.update({
                f"ours_examples_per_sec{suffix}": statistics.median(ours_s),
                f"reference_examples_per_sec{suffix}": statistics.median(ref_s),
                f"ratio{'' if clock == 'wall' else '_cpu'}": statistics.median(ours_s) / statistics.median(ref_s),
                f"ratio{'' if clock == 'wall' else '_cpu'}_median_of_pairs": statistics.median(
                    [a / b for a, b in zip(ours_s, ref_s)]),
                f"ours_samples{suffix}": ours_s, f"reference_samples{suffix}": ref_s,
            })
            floor_s = samples[(mode, "floor", clock)]
            # The most any float32 rewrite of ours could reach against the reference: GEMMs alone.
            entry.update({f"gemm_floor_examples_per_sec{suffix}": statistics.median(floor_s),
                          f"gemm_floor_samples{suffix}": floor_s,
                          f"max_ratio{'' if clock == 'wall' else '_cpu'}": statistics.median(
                              [a / b for a, b in zip(floor_s, ref_s)])})
        entry["ours_fraction_of_ceiling"] = entry["ours_examples_per_sec"] / entry["flop_ceiling_examples_per_sec"]
        entry["ours_fraction_of_ceiling_cpu"] = (entry["ours_examples_per_sec_per_cpu_second"]
                                                 / entry["flop_ceiling_examples_per_cpu_second"])
        entry["reference_fraction_of_ceiling_cpu"] = (entry["reference_examples_per_sec_per_cpu_second"]
                                                      / entry["flop_ceiling_examples_per_cpu_second"])
        record[mode] = entry
    return record


def table(records: List[Dict]) -> str:
    lines = ["| variant | mode | batch | ours ex/s | ref ex/s | ratio | ours ex/CPU-s | ref ex/CPU-s | ratio (CPU) | "
             "GEMMs-only ex/CPU-s | max ratio (CPU) | ceiling ex/CPU-s | ours / ceiling | ref / ceiling |",
             "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in records:
        for mode in ("train", "infer"):
            m = r[mode]
            lines.append(f"| {r['variant']} | {mode} | {m['batch']} | {m['ours_examples_per_sec']:,.0f} | "
                         f"{m['reference_examples_per_sec']:,.0f} | {m['ratio']:.2f} | "
                         f"{m['ours_examples_per_sec_per_cpu_second']:,.0f} | "
                         f"{m['reference_examples_per_sec_per_cpu_second']:,.0f} | {m['ratio_cpu']:.2f} | "
                         f"{m['gemm_floor_examples_per_sec_per_cpu_second']:,.0f} | {m['max_ratio_cpu']:.2f} | "
                         f"{m['flop_ceiling_examples_per_cpu_second']:,.0f} | "
                         f"{m['ours_fraction_of_ceiling_cpu']:.0%} | {m['reference_fraction_of_ceiling_cpu']:.0%} |")
    return "\n".join(lines)


def _xplane_op_times(logdir: str) -> Dict[str, Dict[str, float]]:
    """op name -> {"type", "us"} summed over the host CPU plane of the trace under `logdir`."""
    totals: Dict[str, Dict] = {}
    for path in pathlib.Path(logdir).rglob("*.xplane.pb"):
        space = xplane_pb2.XSpace()
        space.ParseFromString(path.read_bytes())
        for plane in space.planes:
            if not plane.name.startswith("/host:CPU"):
                continue
            names = {k: m.name for k, m in plane.event_metadata.items()}
            for line in plane.lines:
                for event in line.events:
                    name = names.get(event.metadata_id, "")
                    if ":" not in name:
                        continue
                    op_name, kind = name.rsplit(":", 1)
                    if not kind or kind.startswith("__inference") or op_name == "Run":
                        continue  # the enclosing function call, not an op
                    entry = totals.setdefault(op_name, {"type": kind, "us": 0.0})
                    entry["us"] += event.duration_ps / 1e6
    return totals


def profile(variant: str, mode: str, n_steps: int, log: Callable[[str], None] = print) -> None:
    _, steps, _ = steps_for(variant)
    for who in ("ours", "reference"):
        step, batches = steps[(mode, who)]
        _run(step, batches, 3)
        logdir = tempfile.mkdtemp(prefix=f"speed-{variant}-{mode}-{who}-")
        tf.profiler.experimental.start(logdir)
        seconds = _timed(lambda step=step, batches=batches: _run(step, batches, n_steps))
        tf.profiler.experimental.stop()
        ops = _xplane_op_times(logdir)
        by_type = collections.Counter()
        for entry in ops.values():
            by_type[entry["type"]] += entry["us"]
        total = sum(by_type.values())
        log(f"\n{variant} {mode} {who}: {seconds / n_steps * 1e3:.1f} ms/step (traced), op time "
            f"{total / n_steps / 1e3:.1f} ms/step (summed over threads); trace in {logdir}")
        for kind, us in by_type.most_common(15):
            log(f"  {kind:<28} {us / n_steps / 1e3:7.2f} ms/step {us / total:6.1%}")
        log("  heaviest ops:")
        for name, entry in sorted(ops.items(), key=lambda kv: -kv[1]["us"])[:15]:
            log(f"  {entry['us'] / n_steps / 1e3:7.2f} ms  {entry['type']:<22} {name}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--variants", nargs="+", default=list(CONFIGS), choices=list(CONFIGS))
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--steps", type=int, default=10,
                        help=f"training steps per timed block (inference: {INFER_STEPS_FACTOR}x)")
    parser.add_argument("--profile", action="store_true", help="trace and print op times instead")
    parser.add_argument("--modes", nargs="+", default=["train"], choices=["train", "infer"],
                        help="what --profile traces")
    parser.add_argument("--out", default=str(pathlib.Path(__file__).parent / "results" / "speed.json"))
    args = parser.parse_args()
    if args.profile:
        for variant in args.variants:
            for mode in args.modes:
                profile(variant, mode, args.steps)
        return
    load_before = os.getloadavg()
    records = [measure(variant, args.repeats, args.steps) for variant in args.variants]
    load_after = os.getloadavg()
    print(table(records))
    meta = {"tensorflow": tf.__version__, "machine": platform.machine(), "cpus": os.cpu_count(),
            "load_average_1_5_15_before": load_before, "load_average_1_5_15_after": load_after,
            "onednn": os.environ.get("TF_ENABLE_ONEDNN_OPTS", "default (on)"),
            "repeats": args.repeats, "steps_per_block": args.steps,
            "infer_steps_per_block": args.steps * INFER_STEPS_FACTOR,
            "note": "ours and the reference alternate in one process (ABAB); medians over repeats. Wall-clock "
                    "rates swing with the other processes on a shared machine; rates per CPU second of this "
                    "process (all its threads) are the steadier comparison. The FLOP ceiling is the best "
                    "2048^3 matmul GFLOP/s (per wall / per CPU second) / FLOPs per example (training = 3 x "
                    "forward). The GEMMs-only model (GemmFloor) runs just the matrix products of ours, same shapes; "
                    "max_ratio = its rate / the reference's (median of pairs): no float32 rewrite of the same "
                    "FLOPs gets past it"}
    out = pathlib.Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"meta": meta, "records": records}, indent=2))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
