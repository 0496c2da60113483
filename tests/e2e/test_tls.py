"""Envoy terminates TLS with a configured certificate (here a self-signed one made by openssl)."""

import pathlib
import ssl
import subprocess

import aiohttp
import grpc
import pytest
from computepool import NO_RETRIES, AsyncClient
from computepool import errors as sdk_errors
from computepool.v1 import receipt_service_pb2 as receipt_pb
from computepool.v1 import receipt_service_pb2_grpc

from tests.support.envoy import Envoy
from tests.support.server import API_KEY


@pytest.fixture(scope="module")
def certificate(tmp_path_factory) -> tuple[pathlib.Path, pathlib.Path]:
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                    "-nodes", "-days", "1", "-subj", "/CN=localhost", "-addext",
                    "subjectAltName=DNS:localhost,IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True)
    return cert, key


@pytest.fixture(scope="module")
def tls_envoy(pool, certificate, tmp_path_factory) -> Envoy:
    envoy = Envoy(tmp_path_factory.mktemp("tls-envoy"), [pool.grpc_port], pool.metrics_port,
                  tls=(str(certificate[0]), str(certificate[1])))
    yield envoy
    envoy.stop()


async def test_rest_over_https(tls_envoy, certificate):
    trusted = ssl.create_default_context(cafile=str(certificate[0]))
    url = f"https://127.0.0.1:{tls_envoy.port}/api/v1/workers"
    async with aiohttp.ClientSession(headers={"X-Api-Key": API_KEY}) as http:
        async with http.get(url, ssl=trusted) as response:
            assert response.status == 200 and isinstance(await response.json(), list)
        with pytest.raises(aiohttp.ClientError):  # plain HTTP is not spoken on the TLS port
            async with http.get(url.replace("https", "http")) as response:
                await response.read()
        with pytest.raises(aiohttp.ClientConnectorCertificateError):  # nor is an untrusted certificate accepted
            async with http.get(url) as response:
                await response.read()


async def test_grpc_over_tls(tls_envoy, certificate):
    credentials = grpc.ssl_channel_credentials(root_certificates=certificate[0].read_bytes())
    async with grpc.aio.secure_channel(f"127.0.0.1:{tls_envoy.port}", credentials) as channel:
        answer = await receipt_service_pb2_grpc.ReceiptServiceStub(channel).GetCoordinatorKey(
            receipt_pb.GetCoordinatorKeyRequest())
    assert answer.public_key


async def test_the_sdk_over_tls(tls_envoy, certificate):
    """tls=ChannelCredentials (here trusting the self-signed certificate) through Envoy; tls=True
    (the system's roots) refuses the certificate, and plaintext is not spoken on the port."""
    target = f"127.0.0.1:{tls_envoy.port}"
    trusted = grpc.ssl_channel_credentials(root_certificates=certificate[0].read_bytes())
    async with AsyncClient.connect(target, api_key=API_KEY, tls=trusted) as client:
        job = await client.jobs.submit("echo")
        assert (await client.jobs.cancel(job.id)).status == "cancelled"
    for tls in (True, False):
        async with AsyncClient.connect(target, api_key=API_KEY, tls=tls, retry=NO_RETRIES, timeout=5) as client:
            with pytest.raises(sdk_errors.Unavailable):
                await client.receipts.public_key()
