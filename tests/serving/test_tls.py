"""TLS from a TF Serving `--ssl_config_file` on gRPC and REST, with a self-signed certificate made here."""

import datetime
import ipaddress

import grpc
import numpy as np
import pytest
import requests
import tensorflow as tf
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from tensorflow_serving.apis import predict_pb2

from serving import testing
from serving.model_manager import ModelConfig
from serving.tls import read_ssl_config
from ssr_keras.export import make_example

from .servers import serve_models

pytestmark = pytest.mark.timeout(180)


def _self_signed() -> tuple:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(hours=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost"),
                                                        x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()).decode()
    return key_pem, cert.public_bytes(serialization.Encoding.PEM).decode()


def _quoted(pem: str) -> str:
    return '"' + pem.replace("\n", "\\n") + '"'


def test_tls_round_trip_on_grpc_and_rest(two_versions, tmp_path):
    key, cert = _self_signed()
    config_path = tmp_path / "ssl.config"
    config_path.write_text(f"server_key: {_quoted(key)}\nserver_cert: {_quoted(cert)}\n")
    ssl_config = read_ssl_config(str(config_path))
    credentials = grpc.ssl_channel_credentials(root_certificates=cert.encode())
    with serve_models([ModelConfig("toy", str(two_versions))], ssl_config=ssl_config,
                      channel_credentials=credentials) as running:
        request = predict_pb2.PredictRequest()
        request.model_spec.name = "toy"
        rows = testing.toy_rows(4)
        request.inputs["examples"].CopyFrom(tf.make_tensor_proto([make_example(r).SerializeToString() for r in rows]))
        scores = tf.make_ndarray(running.prediction.Predict(request, 30).outputs["probabilities"])
        assert scores.shape == (4, 1)

        cert_file = tmp_path / "cert.pem"
        cert_file.write_text(cert)
        status = requests.get(f"https://localhost:{running.rest_port}/v1/models/toy", verify=str(cert_file), timeout=30)
        assert status.json()["model_version_status"][0]["state"] == "AVAILABLE"
        # Plain HTTP and an untrusted client both fail.
        with pytest.raises(requests.exceptions.ConnectionError):
            requests.get(f"http://localhost:{running.rest_port}/v1/models/toy", timeout=30)
        with pytest.raises(requests.exceptions.SSLError):
            requests.get(f"https://localhost:{running.rest_port}/v1/models/toy", timeout=30)
        plain = grpc.insecure_channel(f"localhost:{running.port}")
        with pytest.raises(grpc.RpcError):
            predict = plain.unary_unary("/tensorflow.serving.PredictionService/Predict",
                                        request_serializer=predict_pb2.PredictRequest.SerializeToString,
                                        response_deserializer=predict_pb2.PredictResponse.FromString)
            predict(request, timeout=10)
        plain.close()
        assert np.all((scores > 0) & (scores < 1))


@pytest.mark.parametrize("text, message", [
    ('server_key: "/etc/key.pem" server_cert: "/etc/cert.pem"', "must hold a PEM block"),
    ("server_key: 1", "not a text-format SSLConfig"),
])
def test_bad_ssl_config_is_named(tmp_path, text, message):
    path = tmp_path / "ssl.config"
    path.write_text(text)
    with pytest.raises(ValueError, match=message) as raised:
        read_ssl_config(str(path))
    assert "--ssl_config_file" in str(raised.value)
