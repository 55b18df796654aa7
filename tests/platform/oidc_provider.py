"""A small OpenID Connect provider of the tests' own: a real HTTP server on 127.0.0.1.

It serves discovery, its JWKS, an authorization endpoint that signs in at once as `user` (no
page: it redirects straight back with a code) and a token endpoint that checks the client
secret, the redirect URI and the PKCE verifier, then returns an RS256 ID token signed with a
key made here (`cryptography`). Knobs make it misbehave the ways a test needs: another
audience, an expired token, a token signed by a stranger's key, a nonce of its own.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

CLIENT_ID = "labelloop-test"
CLIENT_SECRET = "s3cret-of-the-test-client"


def _new_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@dataclass
class Provider:
    """What the provider does; tests change these fields between sign-ins."""

    issuer: str = ""
    user: dict[str, Any] = field(default_factory=lambda: {
        "sub": "kc-0001", "email": "alice@example.org", "email_verified": True, "name": "Alice",
    })
    audience: str = CLIENT_ID
    lifetime_s: int = 300  # negative: the token is already expired
    signer: rsa.RSAPrivateKey | None = None  # another key than the published one: a forgery
    nonce: str | None = None  # sent instead of the one asked for (a replayed token)
    key: rsa.RSAPrivateKey = field(default_factory=_new_key)
    kid: str = "test-key-1"
    codes: dict[str, dict[str, Any]] = field(default_factory=dict)
    token_requests: list[dict[str, Any]] = field(default_factory=list)
    issued: list[str] = field(default_factory=list)  # every ID token sent, in order

    def jwks(self) -> dict[str, Any]:
        jwk = json.loads(RSAAlgorithm.to_jwk(self.key.public_key()))
        return {"keys": [{**jwk, "kid": self.kid, "use": "sig", "alg": "RS256"}]}

    def discovery(self) -> dict[str, Any]:
        return {
            "issuer": self.issuer,
            "authorization_endpoint": f"{self.issuer}/authorize",
            "token_endpoint": f"{self.issuer}/token",
            "jwks_uri": f"{self.issuer}/jwks",
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
            "code_challenge_methods_supported": ["S256"],
        }

    def id_token(self, nonce: str) -> str:
        now = int(time.time())
        claims = {**self.user, "iss": self.issuer, "aud": self.audience, "iat": now,
                  "exp": now + self.lifetime_s, "nonce": self.nonce if self.nonce is not None else nonce}
        token = jwt.encode(claims, self.signer or self.key, algorithm="RS256", headers={"kid": self.kid})
        self.issued.append(token)
        return token


def _handler(provider: Provider) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

        def _json(self, status: int, body: dict[str, Any]) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            url = urlsplit(self.path)
            if url.path == "/.well-known/openid-configuration":
                self._json(200, provider.discovery())
            elif url.path == "/jwks":
                self._json(200, provider.jwks())
            elif url.path == "/authorize":
                q = {k: v[0] for k, v in parse_qs(url.query).items()}
                code = secrets.token_urlsafe(16)
                provider.codes[code] = q
                back = urlencode({"code": code, "state": q["state"]})
                self.send_response(302)
                self.send_header("Location", f"{q['redirect_uri']}?{back}")
                self.send_header("Content-Length", "0")
                self.end_headers()
            else:
                self._json(404, {"error": "not_found"})

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
            provider.token_requests.append(form)
            basic = self.headers.get("Authorization", "")
            secret = form.get("client_secret")
            if basic.startswith("Basic "):
                client, _, secret = base64.b64decode(basic[6:]).decode().partition(":")
                form.setdefault("client_id", client)
            asked = provider.codes.pop(form.get("code", ""), None)
            if secret != CLIENT_SECRET or form.get("client_id") != CLIENT_ID:
                self._json(401, {"error": "invalid_client"})
                return
            if asked is None or asked["redirect_uri"] != form.get("redirect_uri"):
                self._json(400, {"error": "invalid_grant", "error_description": "unknown code"})
                return
            digest = hashlib.sha256(form.get("code_verifier", "").encode()).digest()
            if base64.urlsafe_b64encode(digest).rstrip(b"=").decode() != asked["code_challenge"]:
                self._json(400, {"error": "invalid_grant", "error_description": "PKCE verifier mismatch"})
                return
            self._json(200, {"access_token": "opaque", "token_type": "Bearer", "expires_in": 300,
                             "id_token": provider.id_token(asked["nonce"])})

    return Handler


@contextmanager
def running_provider() -> Iterator[tuple[Provider, ThreadingHTTPServer]]:
    """A provider serving on a free loopback port until the block ends (or `server.shutdown()`)."""
    provider = Provider()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(provider))
    provider.issuer = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield provider, server
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def stop(server: ThreadingHTTPServer) -> None:
    """Take the provider down: connections to its port are refused from now on."""
    server.shutdown()
    server.server_close()
