"""`labelloop user ...` and `labelloop token ...`."""

from __future__ import annotations

import sys

import typer

from labelloop.cli.common import OPERATOR, console, runtime, table, user_id
from labelloop.services.accounts import identities, tokens, users
from labelloop.services.policy import Scope

user_app = typer.Typer(help="Create and manage user accounts.", no_args_is_help=True)
token_app = typer.Typer(help="Create, list and revoke API tokens.", no_args_is_help=True)


def _password(ask: bool, stdin: bool) -> str | None:
    if stdin:
        return sys.stdin.readline().rstrip("\n")
    if ask:
        return str(typer.prompt("Password", hide_input=True, confirmation_prompt=True))
    return None


@user_app.command("create")
def user_create(
    username: str,
    admin: bool = typer.Option(False, "--admin", help="Give the user every permission."),
    password: bool = typer.Option(True, "--password/--no-password",
                                  help="Ask for a password (--no-password: token-only account)."),
    password_stdin: bool = typer.Option(False, help="Read the password from standard input."),
    display_name: str | None = typer.Option(None, help="Name shown in the interface."),
) -> None:
    """Create a user."""
    secret = _password(password and not password_stdin, password_stdin)
    with runtime() as rt:
        u = rt.db.run(lambda c: users.create_user(c, OPERATOR, username, password=secret,
                                                   display_name=display_name, is_admin=admin))
    console.print(f"created user [bold]{u.username}[/bold] (id {u.id})")


@user_app.command("list")
def user_list() -> None:
    """List every user."""
    with runtime() as rt, rt.db.read() as c:
        rows = users.list_users(c, OPERATOR)
    table("Users", ["id", "username", "admin", "active", "created"],
          [[u.id, u.username, u.is_admin, u.is_active, f"{u.created_at:%Y-%m-%d}"] for u in rows])


@user_app.command("set-password")
def user_set_password(
    user: str = typer.Argument(..., help="Username or id."),
    password_stdin: bool = typer.Option(False, help="Read the password from standard input."),
    keep_tokens: bool = typer.Option(False, "--keep-tokens",
                                     help="Keep the user's API tokens (their browser sessions end anyway)."),
) -> None:
    """Set a user's password (no need for the old one); ends their sessions and API tokens."""
    secret = _password(not password_stdin, password_stdin)
    with runtime() as rt:
        rt.db.run(lambda c: users.update_user(c, OPERATOR, user_id(c, user), password=secret,
                                               revoke_tokens=not keep_tokens))
    console.print("password changed; " + ("browser sessions ended" if keep_tokens
                                          else "browser sessions and API tokens revoked"))


@user_app.command("identities")
def user_identities(user: str = typer.Argument(..., help="Username or id.")) -> None:
    """The OpenID Connect identities that sign in as a user."""
    with runtime() as rt, rt.db.read() as c:
        rows = identities.list_identities(c, OPERATOR, user_id(c, user))
    table("Identities", ["provider", "subject", "e-mail", "linked", "last sign-in"],
          [[i.provider, i.subject, i.email, f"{i.created_at:%Y-%m-%d}",
            i.last_sign_in_at and f"{i.last_sign_in_at:%Y-%m-%d %H:%M}"] for i in rows])


@user_app.command("unlink")
def user_unlink(
    user: str = typer.Argument(..., help="Username or id."),
    provider: str = typer.Argument(..., help="The provider's name in LABELLOOP_OIDC_PROVIDERS."),
) -> None:
    """Forget a user's identity at a provider: the next sign-in there links by verified e-mail again."""
    with runtime() as rt:
        n = rt.db.run(lambda c: identities.unlink(c, OPERATOR, user_id(c, user), provider))
    console.print(f"unlinked {n} identit{'y' if n == 1 else 'ies'} at {provider}")


@user_app.command("deactivate")
def user_deactivate(user: str = typer.Argument(..., help="Username or id.")) -> None:
    """Stop a user from signing in or using their tokens."""
    with runtime() as rt:
        rt.db.run(lambda c: users.update_user(c, OPERATOR, user_id(c, user), is_active=False))
    console.print("deactivated")


@user_app.command("activate")
def user_activate(user: str = typer.Argument(..., help="Username or id.")) -> None:
    """Let a deactivated user back in."""
    with runtime() as rt:
        rt.db.run(lambda c: users.update_user(c, OPERATOR, user_id(c, user), is_active=True))
    console.print("activated")


@token_app.command("create")
def token_create(
    user: str = typer.Argument(..., help="Username or id the token acts as."),
    name: str = typer.Option("cli", help="What the token is for."),
    expires_in_days: int | None = typer.Option(
        None, help="Expire after this many days (1 to 3650); leave out for no expiry."),
    scopes: str = typer.Option(
        "read,annotate,manage,admin",
        help="What the token may do, comma-separated: read, annotate, manage, admin (docs/security.md)."),
) -> None:
    """Create an API token and print it once (only its hash is stored)."""
    try:
        wanted = Scope.parse_list(scopes)
    except ValueError as e:
        raise typer.BadParameter(str(e), param_hint="--scopes") from None
    with runtime() as rt:
        new = rt.db.run(lambda c: tokens.create_token(c, OPERATOR, user_id(c, user), name,
                                                       expires_in_days=expires_in_days, scopes=wanted))
    console.print(f"token {new.info.id} for {user} with scopes {' '.join(new.info.scopes)}; "
                  "keep it now, it is not shown again:")
    print(new.secret)


@token_app.command("list")
def token_list(user: str = typer.Argument(..., help="Username or id.")) -> None:
    """List a user's tokens (prefixes only)."""
    with runtime() as rt, rt.db.read() as c:
        rows = tokens.list_tokens(c, OPERATOR, user_id(c, user))
    table("Tokens", ["id", "name", "prefix", "scopes", "created", "expires", "revoked"],
          [[t.id, t.name, t.prefix + "…", " ".join(t.scopes), f"{t.created_at:%Y-%m-%d}",
            t.expires_at and f"{t.expires_at:%Y-%m-%d}", t.revoked] for t in rows])


@token_app.command("revoke")
def token_revoke(token_id: int) -> None:
    """Revoke a token; it stops working at once."""
    with runtime() as rt:
        rt.db.run(lambda c: tokens.revoke_token(c, OPERATOR, token_id))
    console.print(f"revoked token {token_id}")
