"""A local Web Push service over TLS, and a browser's side of a push subscription.

The service checks what a real one checks (RFC 8030/8291/8292): a VAPID `Authorization`
header whose JWT is signed by the key it names, for this service's origin, not expired;
`Content-Encoding: aes128gcm`; a `TTL`. Holding the browser's private key, the test can
decrypt what arrived, as the browser would.
"""

from __future__ import annotations

import base64
import datetime as dt
import ipaddress
import json
import socket
import ssl
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import http_ece
from aiohttp import web
from aiohttp.abc import AbstractResolver, ResolveResult
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from multidict import CIMultiDict
from py_vapid import Vapid

HOST = "push.example.test"  # resolved to loopback by LoopbackResolver


def b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def vapid_pem() -> str:
    """A new VAPID private key, as PEM: what an operator puts in BEAT_VAPID_PRIVATE_KEY."""
    key = ec.generate_private_key(ec.SECP256R1())
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


@dataclass
class Browser:
    """The browser end of a subscription: its key pair and auth secret."""

    private_key: ec.EllipticCurvePrivateKey = field(
        default_factory=lambda: ec.generate_private_key(ec.SECP256R1())
    )
    auth: bytes = field(default_factory=lambda: bytes(range(16)))

    def subscription(self, endpoint: str) -> dict[str, Any]:
        public = self.private_key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
        return {"endpoint": endpoint, "keys": {"p256dh": b64url(public), "auth": b64url(self.auth)}}

    def decrypt(self, body: bytes) -> dict[str, Any]:
        plain = http_ece.decrypt(
            body, private_key=self.private_key, auth_secret=self.auth, version="aes128gcm"
        )
        decoded: dict[str, Any] = json.loads(plain)
        return decoded


@dataclass
class Received:
    token: str
    headers: CIMultiDict[str]
    body: bytes
    claims: dict[str, Any]
    vapid_key: str


class FakePushService:
    """Accepts pushes at POST /push/{token}; answers `status_for[token]` (201 by default)."""

    def __init__(self) -> None:
        self.received: list[Received] = []
        self.refused: list[str] = []
        self.status_for: dict[str, int] = {}
        self.origin = ""  # set once the server is listening
        self.app = web.Application()
        self.app.router.add_post("/push/{token}", self.push)

    async def push(self, request: web.Request) -> web.Response:
        token = request.match_info["token"]
        body = await request.read()
        problem = self._problem(request, body)
        if problem is not None:
            self.refused.append(problem)
            return web.Response(status=400, text=problem)
        _, _, params = request.headers["Authorization"].partition(" ")
        parts = dict(p.split("=", 1) for p in params.split(","))
        payload = parts["t"].split(".")[1]
        self.received.append(
            Received(
                token=token,
                headers=CIMultiDict(request.headers),
                body=body,
                claims=json.loads(unb64url(payload)),
                vapid_key=parts["k"],
            )
        )
        status = self.status_for.get(token, 201)
        return web.Response(status=status, text="" if status < 300 else "gone")

    def _problem(self, request: web.Request, body: bytes) -> str | None:
        auth = request.headers.get("Authorization", "")
        if not auth.startswith("vapid t=") or ",k=" not in auth:
            return "no VAPID authorization"
        if not Vapid.verify(auth):
            return "the VAPID signature does not verify"
        token = dict(p.split("=", 1) for p in auth.split(" ", 1)[1].split(","))["t"]
        claims = json.loads(unb64url(token.split(".")[1]))
        if claims.get("aud") != self.origin:
            return f"the VAPID audience is {claims.get('aud')!r}, not {self.origin!r}"
        if not str(claims.get("sub", "")).startswith(("mailto:", "https://")):
            return "the VAPID subject is not a contact"
        if int(claims.get("exp", 0)) <= time.time():
            return "the VAPID token has expired"
        if request.headers.get("Content-Encoding") != "aes128gcm":
            return "the payload is not aes128gcm"
        if "TTL" not in request.headers:
            return "no TTL"
        if not body:
            return "no payload"
        return None


class LoopbackResolver(AbstractResolver):
    """Resolves HOST to 127.0.0.1, as if it were a push service on the internet."""

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        if host != HOST:
            raise OSError(f"{host} is not resolvable in tests")
        return [
            ResolveResult(
                hostname=host,
                host="127.0.0.1",
                port=port,
                family=socket.AF_INET,
                proto=0,
                flags=socket.AI_NUMERICHOST,
            )
        ]

    async def close(self) -> None:
        return None


@dataclass(frozen=True)
class Tls:
    server: ssl.SSLContext
    client: ssl.SSLContext


def tls_for(host: str, folder: Path) -> Tls:
    """A self-signed certificate for `host`; a server context with it, a client trusting it."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host)])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName(host), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = folder / "push-cert.pem", folder / "push-key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server.load_cert_chain(cert_file, key_file)
    client = ssl.create_default_context(cafile=str(cert_file))
    return Tls(server, client)
