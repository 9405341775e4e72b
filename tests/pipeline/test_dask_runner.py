"""Beam on a dask.distributed cluster (`pipeline.beam_runner`, `ssr-pipeline cluster`).

One 2-process cluster serves the module. What runs: Create/Map/GroupByKey/CombinePerKey, with results
equal to the DirectRunner's. What does not, pinned transform by transform so that a Beam upgrade that
fixes it shows here (BUILD.md, "Beam on a Dask cluster"): reading a file source, DoFn.setup (our
ExampleGen's reader), start_bundle (every file sink, e.g. ExampleGen's WriteToTFRecord), side inputs and a
Flatten of one PCollection (where the real Transform component fails).
"""

import os
import subprocess
import sys

import apache_beam as beam
import pytest
from apache_beam.options.pipeline_options import PipelineOptions
from dask.distributed import Client, LocalCluster

from pipeline import beam_runner, cli
from pipeline.example_gen import _ReadLayoutCsv
from pipeline.trainer import check_trainer_strategy

pytestmark = pytest.mark.timeout(300)  # TF imports in the worker processes: ~10 s idle, minutes on a loaded machine

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.fixture(scope="module")
def dask_address():
    cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None)
    try:
        yield cluster.scheduler_address
    finally:
        cluster.close()


def _run(address, build):
    """Runs `build(pipeline)` on the Dask cluster at `address`, or in process (DirectRunner) for None."""
    options = PipelineOptions(beam_runner.beam_args("dask", address) if address else [])
    with beam.Pipeline(options=options) as p:
        build(p)


def _write_each(folder):
    """Writes each (key, value) to `folder/key`: the workers are other processes."""
    return beam.Map(lambda kv: (folder / str(kv[0])).write_text(repr(sorted(kv[1]) if isinstance(kv[1], list)
                                                                     else kv[1])))


def test_beam_args_select_the_runner():
    assert beam_runner.beam_args("direct") == []
    assert beam_runner.beam_args("dask", "tcp://h:1") == [
        "--runner=pipeline.beam_runner.DaskRunner", "--dask_client_address=tcp://h:1"]
    with pytest.raises(ValueError, match="needs --dask-address"):
        beam_runner.beam_args("dask")
    with pytest.raises(ValueError, match="must be one of"):
        beam_runner.beam_args("flink")


def test_grouping_and_combining_equal_direct_runner(dask_address, tmp_path):
    results = {}
    for runner, address in (("dask", dask_address), ("direct", None)):
        folders = {name: tmp_path / runner / name for name in ("group", "sum")}
        for folder in folders.values():
            folder.mkdir(parents=True)

        def build(p, folders=folders):
            pairs = p | beam.Create([("a", 1), ("b", 2), ("a", 3), ("c", 5), ("b", 7)])
            _ = pairs | "Group" >> beam.GroupByKey() | "WriteGroups" >> _write_each(folders["group"])
            _ = pairs | "Sum" >> beam.CombinePerKey(sum) | "WriteSums" >> _write_each(folders["sum"])

        _run(address, build)
        results[runner] = {name: sorted((f.name, f.read_text()) for f in folder.iterdir())
                           for name, folder in folders.items()}
    assert results["dask"] == results["direct"]
    assert results["dask"]["sum"] == [("a", "4"), ("b", "9"), ("c", "5")]
    assert results["dask"]["group"] == [("a", "[1, 3]"), ("b", "[2, 7]"), ("c", "[5]")]


def _fails_on_dask(address, build, match):
    with pytest.raises(Exception) as raised:
        with beam.Pipeline(options=PipelineOptions(beam_runner.beam_args("dask", address))) as p:
            build(p)
    assert match in f"{type(raised.value).__name__}: {raised.value}"


def test_file_sources_are_not_translated(dask_address, tmp_path):
    # beam.io.Read has no Dask translation: what follows it gets no input (ReadFromText, ReadFromTFRecord,
    # tfx_bsl's TFXIO sources of StatisticsGen, Transform and Evaluator).
    (tmp_path / "in.txt").write_text("x\n")
    _fails_on_dask(dask_address, lambda p: p | beam.io.ReadFromText(str(tmp_path / "in.txt")) | beam.Map(len),
                   "AttributeError: 'NoneType' object has no attribute 'map'")


def test_dofn_setup_is_not_called(dask_address, tmp_path):
    # The pipeline's ExampleGen reads each CSV file in a DoFn that prepares its layout in setup().
    read = beam.ParDo(_ReadLayoutCsv("frappe", "label"))
    _fails_on_dask(dask_address, lambda p: p | beam.Create([os.devnull]) | read, "object has no attribute '_layout'")


def test_file_sinks_fail_without_start_bundle(dask_address, tmp_path):
    # Every file sink (ExampleGen's WriteToTFRecord, TFT's and TFMA's writers) opens its writer in start_bundle.
    _fails_on_dask(dask_address, lambda p: p | beam.Create([b"x"]) | beam.io.WriteToTFRecord(str(tmp_path / "out")),
                   "object has no attribute 'writer'")


def test_flatten_of_one_collection_fails_before_running(dask_address):
    # The real Transform component fails here on Dask (benchmarks/scale_out.py): its graph flattens a
    # single PCollection, and the Dask Flatten override iterates over its input.
    _fails_on_dask(dask_address, lambda p: (p | beam.Create([1]),) | beam.Flatten(),
                   "TypeError: 'PCollection' object is not iterable")


def test_side_inputs_arrive_as_placeholders(dask_address):
    # TFT's analyzers hand their results to the transform step as side inputs.
    def build(p):
        side = p | "Side" >> beam.Create([10])
        _ = p | beam.Create([1]) | beam.Map(lambda x, k: x + k, k=beam.pvalue.AsSingleton(side))
    _fails_on_dask(dask_address, build, "ArgumentPlaceholder")


def test_cli_refuses_dask_with_the_reason(tmp_path, capsys):
    code = cli.main(["run", "--data", str(tmp_path), "--layout", "frappe", "--model", "dnn", "--output",
                     str(tmp_path / "out"), "--beam-runner", "dask", "--dask-address", "127.0.0.1:1"])
    error = capsys.readouterr().err
    assert code == 2 and "cannot run" in error and "LayoutCsvExampleGen" in error and "Transform" in error


def test_cluster_command_prints_a_working_scheduler():
    process = subprocess.Popen([sys.executable, "-m", "pipeline.cli", "cluster", "--workers", "1"], cwd=REPO,
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        line = process.stdout.readline()
        address = line.split()[2]
        assert address.startswith("tcp://127.0.0.1:"), line
        with Client(address, timeout=30) as client:
            client.wait_for_workers(1, timeout=60)
            assert client.submit(sum, [1, 2]).result(timeout=30) == 3
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def test_trainer_strategy_is_checked_before_the_run():
    # Not Dask, but the same flags' family: the Trainer runs in one process under LocalDagRunner.
    with pytest.raises(ValueError, match="multi-worker needs every worker to run the Trainer"):
        check_trainer_strategy("multi-worker", 10, 10)
    with pytest.raises(ValueError, match="parameter-server strategy needs train_steps and eval_steps"):
        check_trainer_strategy("parameter-server", None, 10)
    check_trainer_strategy("parameter-server", 10, 10)
    check_trainer_strategy("mirrored", None, None)
