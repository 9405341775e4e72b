"""In-process servers for the serving tests: a `ModelManager` behind gRPC and REST on 127.0.0.1."""

import contextlib
import dataclasses
import functools
from typing import Iterator, Sequence

import grpc
from tensorflow_serving.apis import model_service_pb2_grpc, prediction_service_pb2_grpc

from serving import inference, metrics
from serving.batching import BatchingOptions
from serving.model_manager import ModelConfig, ModelManager
from serving.registry import ModelRegistry
from serving.rest import RestServer
from serving.servable import Servable
from serving.server import build_server
from serving.tls import ssl_context


@dataclasses.dataclass
class Running:
    manager: ModelManager
    port: int
    rest_port: int
    channel: grpc.Channel

    @property
    def prediction(self):
        return prediction_service_pb2_grpc.PredictionServiceStub(self.channel)

    @property
    def model(self):
        return model_service_pb2_grpc.ModelServiceStub(self.channel)


def make_manager(batching: BatchingOptions | None, limits: inference.Limits) -> ModelManager:
    load = functools.partial(Servable.load, batching=batching, observe_batch=metrics.observe_formed_batch)
    return ModelManager(lambda config: ModelRegistry(
        config.name, config.base_path, version_labels=config.version_labels, version_policy=config.version_policy,
        load=load, warm_up=lambda servable: inference.warm_up(servable, limits)))


@contextlib.contextmanager
def serve_models(configs: Sequence[ModelConfig], *, batching: BatchingOptions | None = None, ssl_config=None,
                 channel_credentials: grpc.ChannelCredentials | None = None) -> Iterator[Running]:
    limits = inference.Limits()
    manager = make_manager(batching, limits)
    manager.apply(configs)
    server, port = build_server(manager, port=0, host="127.0.0.1", num_threads=8, limits=limits,
                                ssl_config=ssl_config)
    server.start()
    rest = RestServer(manager, limits, port=0, host="127.0.0.1", num_threads=4,
                      ssl_options=ssl_context(ssl_config) if ssl_config is not None else None)
    rest.start()
    address = f"localhost:{port}"
    channel = (grpc.secure_channel(address, channel_credentials) if channel_credentials is not None
               else grpc.insecure_channel(address))
    try:
        yield Running(manager, port, rest.port, channel)
    finally:
        channel.close()
        rest.stop()
        server.stop(None)
        manager.stop_watching()
