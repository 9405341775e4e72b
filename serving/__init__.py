"""Serving ssr-keras models over the TensorFlow Serving APIs (gRPC and REST): the server and the client.

Models are exported by the library (`ssr_keras.export`); this package serves and queries them:

* `serving.server_cli` (`ssr-serve`) parses the command line without TensorFlow, then runs
  `serving.server`: gRPC `PredictionService` + `ModelService` (`servicer`), TF Serving's REST API
  (`rest`), TLS (`tls`) and Prometheus metrics (`metrics`) over a `model_manager` (several models,
  `--model_config_file`, reloads), built from `registry` (versions of one model, `version_policy`,
  atomic swap, `memory` given back), `servable` (one loaded version, optionally merged into batches by
  `batching`), `inference` (request -> response on one version) and `tensors` (payload validation);
  `config_protos` parses TF Serving's config files that `tensorflow-serving-api` does not ship;
* `serving.client` (`PredictionClient`) and `serving.client_cli` (`ssr-client`) query a server;
* `serving.testing` exports a small model and starts `ssr-serve` processes for tests and demos.
"""
