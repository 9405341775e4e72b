"""TLS from TF Serving's `--ssl_config_file` (an `SSLConfig` in text format), for gRPC and REST.

As in TF Serving, the file holds the PEM *contents*, not paths:

    server_key: "-----BEGIN PRIVATE KEY-----\\n..."
    server_cert: "-----BEGIN CERTIFICATE-----\\n..."
    custom_ca: "-----BEGIN CERTIFICATE-----\\n..."   # optional: CA that client certificates must chain to
    client_verify: true                              # optional: require a client certificate

Example:

>>> config = read_ssl_config("ssl.config")  # doctest: +SKIP
>>> server.add_secure_port("127.0.0.1:8500", grpc_credentials(config))  # doctest: +SKIP
>>> tornado_server = HTTPServer(app, ssl_options=ssl_context(config))  # doctest: +SKIP
"""

from __future__ import annotations

import os
import ssl
import tempfile

import grpc

from serving.config_protos import SSLConfig, parse_text_file

FLAG = "--ssl_config_file"


def read_ssl_config(path: str) -> SSLConfig:
    """Parses and checks an `SSLConfig` file; ValueError naming the flag, the file and the problem."""
    config = parse_text_file(path, SSLConfig, FLAG)
    for field in ("server_key", "server_cert"):
        if "-----BEGIN" not in getattr(config, field):
            raise ValueError(f"{FLAG} {path}: {field} must hold a PEM block (the key or certificate text, "
                             "as TF Serving reads it), not a path or nothing.")
    if config.client_verify and not config.custom_ca:
        raise ValueError(f"{FLAG} {path}: client_verify needs custom_ca, the CA client certificates chain to.")
    try:
        ssl_context(config)
    except ssl.SSLError as error:
        raise ValueError(f"{FLAG} {path}: the key, certificate or CA does not load: {error}") from None
    return config


def grpc_credentials(config: SSLConfig) -> grpc.ServerCredentials:
    """Server credentials for `grpc.Server.add_secure_port`."""
    return grpc.ssl_server_credentials(
        [(config.server_key.encode(), config.server_cert.encode())],
        root_certificates=config.custom_ca.encode() if config.custom_ca else None,
        require_client_auth=config.client_verify)


def ssl_context(config: SSLConfig) -> ssl.SSLContext:
    """A server-side `SSLContext` (for tornado's `ssl_options`) with the same key, certificate and CA."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    # `load_cert_chain` reads files only: write the PEM text to a private temporary file, then remove it.
    with tempfile.TemporaryDirectory(prefix="ssr-serve-tls-") as directory:
        os.chmod(directory, 0o700)
        key, cert = os.path.join(directory, "key.pem"), os.path.join(directory, "cert.pem")
        for path, text in ((key, config.server_key), (cert, config.server_cert)):
            with open(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w", encoding="ascii") as f:
                f.write(text)
        context.load_cert_chain(cert, key)
    if config.custom_ca:
        context.load_verify_locations(cadata=config.custom_ca)
    # As gRPC's `require_client_auth`: a CA alone asks clients for a certificate without requiring one.
    context.verify_mode = (ssl.CERT_REQUIRED if config.client_verify
                           else ssl.CERT_OPTIONAL if config.custom_ca else ssl.CERT_NONE)
    return context
