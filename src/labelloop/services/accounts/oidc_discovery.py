"""What an OpenID Connect provider publishes: its metadata and its signing keys, fetched and cached.

Discovery reads `<issuer>/.well-known/openid-configuration` (OpenID Connect Discovery 1.0, §4),
whose `issuer` must be the configured one exactly (§4.3: otherwise a document could speak for
another issuer). The keys come from its `jwks_uri` (RFC 7517) and are fetched again once when a
token names a key id not yet seen, which is how providers rotate keys. Both are cached for an
hour per process; a failure is never cached, so a provider that comes back is used at once.

Every request has a short timeout, and a provider that cannot be reached, answers an error or
sends something that is not the expected JSON is a `ProviderUnavailable` saying which URL and why.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx
from jwt import PyJWK, PyJWKSet
from jwt.exceptions import PyJWKError, PyJWKSetError

from labelloop.config import OidcProvider
from labelloop.errors import DomainError

TIMEOUT = httpx.Timeout(10.0)
CACHE_SECONDS = 3600.0
_lock = threading.Lock()
_metadata: dict[str, tuple[float, ProviderMetadata]] = {}
_keys: dict[str, tuple[float, PyJWKSet]] = {}


class ProviderUnavailable(DomainError):
    """The identity provider could not be reached or answered something unusable."""


@dataclass(frozen=True)
class ProviderMetadata:
    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str
    token_auth_methods: tuple[str, ...]
    signing_algs: tuple[str, ...]


def check_url(url: str, what: str) -> str:
    """An https URL, or http on loopback only (a developer's or a test's own provider)."""
    parts = urlsplit(url)
    loopback = parts.hostname in ("127.0.0.1", "localhost", "::1")
    if parts.scheme == "https" or (parts.scheme == "http" and loopback):
        return url
    raise ProviderUnavailable(f"{what} {url!r} must be an https:// URL (http:// only on loopback)")


def get_json(client: httpx.Client, url: str, provider: str) -> dict[str, Any]:
    """GET a JSON object, or ProviderUnavailable naming the provider, the URL and the reason."""
    try:
        response = client.get(url)
    except httpx.HTTPError as e:
        raise ProviderUnavailable(
            f"the identity provider {provider!r} cannot be reached at {url}: {e or type(e).__name__}"
        ) from None
    if response.status_code != 200:
        raise ProviderUnavailable(
            f"the identity provider {provider!r} answered {response.status_code} at {url}"
        )
    try:
        body = response.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        raise ProviderUnavailable(f"the identity provider {provider!r} sent no JSON object at {url}")
    return body


def metadata(client: httpx.Client, provider: OidcProvider) -> ProviderMetadata:
    """The provider's discovery document (cached)."""
    issuer = check_url(provider.issuer, "the issuer")
    with _lock:
        cached = _metadata.get(issuer)
    if cached is not None and time.monotonic() - cached[0] < CACHE_SECONDS:
        return cached[1]
    url = issuer.rstrip("/") + "/.well-known/openid-configuration"
    doc = get_json(client, url, provider.name)
    if doc.get("issuer") != issuer:
        raise ProviderUnavailable(
            f"the discovery document at {url} names issuer {doc.get('issuer')!r}, not {issuer!r}"
        )
    missing = [k for k in ("authorization_endpoint", "token_endpoint", "jwks_uri")
               if not isinstance(doc.get(k), str)]
    if missing:
        raise ProviderUnavailable(f"the discovery document at {url} lacks {', '.join(missing)}")
    found = ProviderMetadata(
        issuer=issuer,
        authorization_endpoint=check_url(doc["authorization_endpoint"], "the authorization endpoint"),
        token_endpoint=check_url(doc["token_endpoint"], "the token endpoint"),
        jwks_uri=check_url(doc["jwks_uri"], "the JWKS URL"),
        # Discovery §3: when absent, client_secret_basic and RS256 are the defaults.
        token_auth_methods=tuple(doc.get("token_endpoint_auth_methods_supported") or ["client_secret_basic"]),
        signing_algs=tuple(doc.get("id_token_signing_alg_values_supported") or ["RS256"]),
    )
    with _lock:
        _metadata[issuer] = (time.monotonic(), found)
    return found


def signing_key(client: httpx.Client, provider: OidcProvider, meta: ProviderMetadata,
                kid: str | None) -> PyJWK:
    """The provider's key that signed a token (`kid` from its header), fetching the set again once."""
    for fresh in (False, True):
        keys = _key_set(client, provider, meta, fresh=fresh)
        if kid is None and len(keys.keys) == 1:
            return keys.keys[0]
        for key in keys.keys:
            if kid is not None and key.key_id == kid:
                return key
    raise ProviderUnavailable(
        f"the identity provider {provider.name!r} publishes no key {kid!r} at {meta.jwks_uri}"
    )


def _key_set(client: httpx.Client, provider: OidcProvider, meta: ProviderMetadata, *,
             fresh: bool) -> PyJWKSet:
    with _lock:
        cached = _keys.get(meta.jwks_uri)
    if not fresh and cached is not None and time.monotonic() - cached[0] < CACHE_SECONDS:
        return cached[1]
    doc = get_json(client, meta.jwks_uri, provider.name)
    try:
        keys = PyJWKSet.from_dict(doc)
    except (PyJWKError, PyJWKSetError) as e:
        raise ProviderUnavailable(f"the keys at {meta.jwks_uri} cannot be read: {e}") from None
    with _lock:
        _keys[meta.jwks_uri] = (time.monotonic(), keys)
    return keys


def forget() -> None:
    """Drop every cached document and key set (for tests, and after a provider changes)."""
    with _lock:
        _metadata.clear()
        _keys.clear()
