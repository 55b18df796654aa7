"""Signing in with OpenID Connect: the authorization code flow with PKCE, state and nonce.

`start` makes three secrets for one sign-in and keeps them in `oidc_logins`: the *state* (sent
to the provider and back, and also held in a cookie of the browser that started, so a callback
carried to another browser is refused: login CSRF), the *nonce* (the provider writes it into the
ID token, so a token minted for another sign-in is refused: replay), and the PKCE *code
verifier* (RFC 7636, S256: only who started can redeem the code). `finish` uses the row once
(deleted as it is read), redeems the code at the token endpoint with the client secret read from
the environment variable the settings name, and verifies the ID token (OpenID Connect Core
§3.1.3.7): the signature against the provider's published keys, with an asymmetric algorithm the
provider announces (never `none` nor an HMAC keyed by a public key), `iss`, `aud` (and `azp`
when there are several audiences), `exp` and `iat` with a minute of clock skew, and the nonce.
The identity is then linked to a user (identities.py) and a browser session opened exactly as
for a password sign-in (sessions.py).

Library: PyJWT with `cryptography` verifies the signature and the registered claims; it is
small, typed and does only JWTs, where Authlib would bring a whole OAuth framework whose client
is tied to web frameworks; discovery, the code exchange and key fetching are a few httpx calls.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

import httpx
import jwt
from sqlalchemy import Connection, delete, insert

from labelloop.config import OidcProvider, Settings
from labelloop.errors import DomainError, NotFound, Unauthenticated
from labelloop.services import audit
from labelloop.services.accounts import identities, sessions
from labelloop.services.accounts.oidc_discovery import (
    TIMEOUT,
    ProviderUnavailable,
    metadata,
    signing_key,
)
from labelloop.store.db import Database
from labelloop.store.models import oidc_logins, utcnow

LOGIN_SECONDS = 600  # time to sign in at the provider
CLOCK_SKEW_SECONDS = 60
# Asymmetric algorithms only: an HS256 token "signed" with the provider's public key must fail.
ALGORITHMS = frozenset({"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512"})


@dataclass(frozen=True)
class Started:
    authorization_url: str  # where the browser goes next
    state: str  # also set in the browser's cookie


def providers(settings: Settings) -> list[OidcProvider]:
    return list(settings.oidc_providers)


def provider(settings: Settings, name: str) -> OidcProvider:
    for p in settings.oidc_providers:
        if p.name == name:
            return p
    raise NotFound(f"no OpenID Connect provider {name!r} is configured")


def _hash(state: str) -> str:
    return hashlib.sha256(state.encode()).hexdigest()


def _challenge(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def start(db: Database, p: OidcProvider) -> Started:
    """Begin a sign-in: the provider's authorization URL, and the state for the browser's cookie."""
    with httpx.Client(timeout=TIMEOUT) as http:
        meta = metadata(http, p)
    state, nonce, verifier = (secrets.token_urlsafe(32) for _ in range(3))
    now = utcnow()

    def keep(conn: Connection) -> None:
        conn.execute(delete(oidc_logins).where(oidc_logins.c.expires_at <= now))
        conn.execute(insert(oidc_logins).values(
            state_hash=_hash(state), provider=p.name, nonce=nonce, code_verifier=verifier,
            created_at=now, expires_at=now + timedelta(seconds=LOGIN_SECONDS),
        ))

    db.run(keep)
    query = urlencode({
        "response_type": "code", "client_id": p.client_id, "redirect_uri": p.redirect_url,
        "scope": " ".join(p.scopes), "state": state, "nonce": nonce,
        "code_challenge": _challenge(verifier), "code_challenge_method": "S256",
    })
    sep = "&" if "?" in meta.authorization_endpoint else "?"
    return Started(meta.authorization_endpoint + sep + query, state)


def finish(
    db: Database, p: OidcProvider, *, code: str, state: str, browser_state: str | None,
) -> sessions.Session:
    """Complete a sign-in from the provider's redirect: a browser session, or Unauthenticated.
    A refusal is recorded in the audit log (in a transaction of its own: nothing else was written)."""
    try:
        return _finish(db, p, code=code, state=state, browser_state=browser_state)
    except DomainError as e:
        reason = {"method": "oidc", "provider": p.name, "reason": e.message}
        db.run(lambda conn: audit.record(conn, None, "sign_in.failed", object_type="user", details=reason))
        raise


def _finish(
    db: Database, p: OidcProvider, *, code: str, state: str, browser_state: str | None,
) -> sessions.Session:
    if browser_state is None or not hmac.compare_digest(browser_state.encode(), state.encode()):
        raise Unauthenticated("this sign-in was not started in this browser (the state does not match); "
                              "start again")

    def take(conn: Connection) -> Any:
        # Deleted as it is read: a replayed callback, or a second worker racing, finds nothing.
        return conn.execute(
            delete(oidc_logins)
            .where(oidc_logins.c.state_hash == _hash(state), oidc_logins.c.provider == p.name)
            .returning(oidc_logins.c.nonce, oidc_logins.c.code_verifier, oidc_logins.c.expires_at)
        ).first()

    login = db.run(take)
    if login is None or login.expires_at <= utcnow():
        raise Unauthenticated("unknown, used or expired sign-in (state); start again")
    with httpx.Client(timeout=TIMEOUT) as http:
        meta = metadata(http, p)
        id_token = _redeem(http, p, meta.token_endpoint, meta.token_auth_methods, code, login.code_verifier)
        claims = verify_id_token(http, p, id_token, nonce=login.nonce)

    def open_(conn: Connection) -> sessions.Session:
        user = identities.user_for(conn, p, claims)
        audit.record(conn, None, "sign_in", object_type="user", object_id=user.id, actor_id=user.id,
                     actor_name=user.username, details={"method": "oidc", "provider": p.name})
        return sessions.open_session(conn, user)

    return db.run(open_)


def _redeem(http: httpx.Client, p: OidcProvider, url: str, methods: tuple[str, ...], code: str,
            verifier: str) -> str:
    """Exchange the code (and the PKCE verifier) for the ID token at the token endpoint."""
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": p.redirect_url,
            "client_id": p.client_id, "code_verifier": verifier}
    auth: tuple[str | bytes, str | bytes] | None = None
    if p.client_secret_env:
        secret = os.environ.get(p.client_secret_env)
        if not secret:
            raise ProviderUnavailable(
                f"the client secret of {p.name!r} is not set: the environment variable "
                f"{p.client_secret_env} is empty or missing"
            )
        if "client_secret_basic" in methods or "client_secret_post" not in methods:
            auth = (p.client_id, secret)
        else:
            form["client_secret"] = secret
    try:
        response = http.post(url, data=form, auth=auth) if auth else http.post(url, data=form)
    except httpx.HTTPError as e:
        raise ProviderUnavailable(
            f"the identity provider {p.name!r} cannot be reached at {url}: {e or type(e).__name__}"
        ) from None
    try:
        body = response.json()
    except ValueError:
        body = {}
    if response.status_code != 200:
        reason = body.get("error_description") or body.get("error") if isinstance(body, dict) else None
        raise Unauthenticated(f"{p.name!r} refused the sign-in code ({response.status_code}"
                              f"{': ' + str(reason) if reason else ''})")
    if not isinstance(body, dict) or not isinstance(body.get("id_token"), str):
        raise ProviderUnavailable(f"{p.name!r} sent no ID token from {url}")
    token: str = body["id_token"]
    return token


def verify_id_token(http: httpx.Client, p: OidcProvider, token: str, *, nonce: str) -> dict[str, Any]:
    """The claims of an ID token that passes every check of Core §3.1.3.7, or Unauthenticated."""
    meta = metadata(http, p)
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError:
        raise Unauthenticated(f"{p.name!r} sent an ID token that is not a JWT") from None
    alg = header.get("alg")
    if alg not in ALGORITHMS or alg not in meta.signing_algs:
        raise Unauthenticated(f"the ID token is signed with {alg!r}, which is not accepted")
    key = signing_key(http, p, meta, header.get("kid"))
    try:
        claims: dict[str, Any] = jwt.decode(
            token, key.key, algorithms=[alg], audience=p.client_id, issuer=meta.issuer,
            leeway=CLOCK_SKEW_SECONDS, options={"require": ["iss", "aud", "exp", "iat", "sub"]},
        )
    except jwt.ExpiredSignatureError:
        raise Unauthenticated("the ID token has expired") from None
    except jwt.InvalidAudienceError:
        raise Unauthenticated(f"the ID token is not meant for this client ({p.client_id!r}: aud)") from None
    except jwt.InvalidIssuerError:
        raise Unauthenticated(f"the ID token was not issued by {meta.issuer} (iss)") from None
    except jwt.InvalidSignatureError:
        raise Unauthenticated(f"the ID token's signature does not verify with {p.name!r}'s keys") from None
    except jwt.PyJWTError as e:
        raise Unauthenticated(f"the ID token is invalid: {e}") from None
    audiences = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
    if len(audiences) > 1 and claims.get("azp") != p.client_id:
        raise Unauthenticated("the ID token has several audiences and another authorized party (azp)")
    sent = claims.get("nonce")
    if not isinstance(sent, str) or not hmac.compare_digest(sent.encode(), nonce.encode()):
        raise Unauthenticated("the ID token was made for another sign-in (nonce); start again")
    return claims
