"""Serving ssr-keras models over the TensorFlow Serving gRPC API: the server and the client.

Models are exported by the library (`ssr_keras.export`); this package serves and queries them:

* `serving.server` (`ssr-serve`) is a gRPC `PredictionService` + `ModelService` with version hot swap,
  built from `registry` (which versions are served, atomic swap), `servable` (one loaded version),
  `inference` (request -> response on one version), `tensors` (payload validation) and `servicer`
  (gRPC handlers, errors -> statuses);
* `serving.client` (`PredictionClient`) and `serving.client_cli` (`ssr-client`) query a server;
* `serving.testing` exports a small model for tests and demos.
"""
