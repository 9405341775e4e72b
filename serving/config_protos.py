"""TF Serving's text-format config messages that `tensorflow-serving-api` does not ship.

`tensorflow-serving-api` 2.16 ships `ModelServerConfig` (`tensorflow_serving.config.
model_server_config_pb2`) but not `BatchingParameters` (`servables/tensorflow/
session_bundle_config.proto`), `SSLConfig` (`config/ssl_config.proto`) or `MonitoringConfig`
(`config/monitoring_config.proto`). They are rebuilt here from TF Serving's .proto definitions
(same package, message and field names, numbers and types), so the files `tensorflow_model_server`
reads (`--batching_parameters_file`, `--ssl_config_file`, `--monitoring_config_file`) parse
unchanged with `google.protobuf.text_format`. No TensorFlow import: the CLI can read them at once.

Example:

>>> from serving.config_protos import BatchingParameters, parse_text_file
>>> params = BatchingParameters()
>>> _ = text_format.Parse("max_batch_size { value: 64 } allowed_batch_sizes: 64", params)
>>> params.max_batch_size.value, list(params.allowed_batch_sizes)
(64, [64])
"""

from __future__ import annotations

from typing import Type, TypeVar

from google.protobuf import descriptor_pb2, descriptor_pool, message, message_factory, text_format, wrappers_pb2

Message = TypeVar("Message", bound=message.Message)

_FILE = "ssr_serving/tf_serving_configs.proto"  # a private file name: no clash with a real TF Serving build
_PACKAGE = "tensorflow.serving"
_Field = descriptor_pb2.FieldDescriptorProto
_OPTIONAL, _REPEATED = _Field.LABEL_OPTIONAL, _Field.LABEL_REPEATED

# message -> [(field, number, type, label, message type)], as in TF Serving's .proto files. The two
# BatchingParameters fields after `pad_variable_length_inputs` are the newer large-batch-splitting
# options TF Serving added later (accepted so that newer files parse).
_MESSAGES = {
    "BatchingParameters": [
        ("max_batch_size", 1, _Field.TYPE_MESSAGE, _OPTIONAL, ".google.protobuf.Int64Value"),
        ("batch_timeout_micros", 2, _Field.TYPE_MESSAGE, _OPTIONAL, ".google.protobuf.Int64Value"),
        ("max_enqueued_batches", 3, _Field.TYPE_MESSAGE, _OPTIONAL, ".google.protobuf.Int64Value"),
        ("num_batch_threads", 4, _Field.TYPE_MESSAGE, _OPTIONAL, ".google.protobuf.Int64Value"),
        ("thread_pool_name", 5, _Field.TYPE_MESSAGE, _OPTIONAL, ".google.protobuf.StringValue"),
        ("allowed_batch_sizes", 6, _Field.TYPE_INT64, _REPEATED, None),
        ("pad_variable_length_inputs", 7, _Field.TYPE_BOOL, _OPTIONAL, None),
        ("enable_large_batch_splitting", 8, _Field.TYPE_BOOL, _OPTIONAL, None),
        ("max_execution_batch_size", 9, _Field.TYPE_MESSAGE, _OPTIONAL, ".google.protobuf.Int64Value"),
    ],
    "SSLConfig": [
        ("server_key", 1, _Field.TYPE_STRING, _OPTIONAL, None),
        ("server_cert", 2, _Field.TYPE_STRING, _OPTIONAL, None),
        ("custom_ca", 3, _Field.TYPE_STRING, _OPTIONAL, None),
        ("client_verify", 4, _Field.TYPE_BOOL, _OPTIONAL, None),
    ],
    "PrometheusConfig": [
        ("enable", 1, _Field.TYPE_BOOL, _OPTIONAL, None),
        ("path", 2, _Field.TYPE_STRING, _OPTIONAL, None),
    ],
    "MonitoringConfig": [
        ("prometheus_config", 1, _Field.TYPE_MESSAGE, _OPTIONAL, ".tensorflow.serving.PrometheusConfig"),
    ],
}


def _build_classes() -> dict:
    pool = descriptor_pool.DescriptorPool()
    pool.AddSerializedFile(wrappers_pb2.DESCRIPTOR.serialized_pb)
    file = descriptor_pb2.FileDescriptorProto(name=_FILE, package=_PACKAGE, syntax="proto3",
                                              dependency=[wrappers_pb2.DESCRIPTOR.name])
    for name, fields in _MESSAGES.items():
        definition = file.message_type.add(name=name)
        for field_name, number, kind, label, type_name in fields:
            field = definition.field.add(name=field_name, number=number, type=kind, label=label)
            if type_name:
                field.type_name = type_name
    pool.Add(file)
    factory = message_factory.MessageFactory(pool)
    return {name: factory.GetPrototype(pool.FindMessageTypeByName(f"{_PACKAGE}.{name}")) for name in _MESSAGES}


_CLASSES = _build_classes()
BatchingParameters = _CLASSES["BatchingParameters"]
SSLConfig = _CLASSES["SSLConfig"]
MonitoringConfig = _CLASSES["MonitoringConfig"]


def parse_text_file(path: str, message_class: Type[Message], flag: str) -> Message:
    """Reads a text-format `message_class` from `path`.

    Raises:
        ValueError: naming `flag`, the file and what is wrong (unreadable, or the parser's message
            with its line and column).
    """
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except OSError as error:
        raise ValueError(f"{flag} {path}: cannot read it ({error.strerror}).") from None
    result = message_class()
    try:
        text_format.Parse(text, result)
    except text_format.ParseError as error:
        raise ValueError(f"{flag} {path}: not a text-format {result.DESCRIPTOR.name}: {error}") from None
    return result
