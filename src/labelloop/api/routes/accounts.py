"""Log in, who am I, users (admins) and API tokens."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request, Response, status
from sqlalchemy import Connection

from labelloop.api.deps import Ctx, CtxDep, get_runtime
from labelloop.api.errors import documented
from labelloop.api.json_body import JSONRoute
from labelloop.api.models import (
    LoginIn,
    LoginOut,
    NewTokenOut,
    PasswordChangeIn,
    TokenIn,
    TokenOut,
    UserIn,
    UserOut,
    UserPatch,
)
from labelloop.api.params import Id
from labelloop.services.accounts import sign_in, tokens, users
from labelloop.services.accounts.users import UserInfo
from labelloop.services.policy import Actor
from labelloop.services.runtime import Runtime

router = APIRouter(prefix="/api", tags=["accounts"], route_class=JSONRoute)
LOGIN_TOKEN_DAYS = 30


def client_address(request: Request) -> str | None:
    # The peer's address: X-Forwarded-For is anyone's to write, so it is not trusted.
    return request.client.host if request.client else None


@router.post("/auth/login", response_model=LoginOut, responses=documented(401, 422, 429))
def login(body: LoginIn, request: Request, runtime: Runtime = Depends(get_runtime)) -> LoginOut:
    """Exchange a username and password for a new API token (valid 30 days).

    Too many failed attempts for the username or from the address: 429 with Retry-After.
    """

    def issue(conn: Connection, user: UserInfo) -> LoginOut:
        actor = Actor(user.id, user.username, user.is_admin)
        new = tokens.create_token(conn, actor, user.id, "login", expires_in_days=LOGIN_TOKEN_DAYS)
        return LoginOut(token=new.secret, user=UserOut.model_validate(user))

    limits = sign_in.SignInLimits.from_settings(runtime.settings)
    return sign_in.sign_in(runtime.db, limits, body.username, body.password, client_address(request), issue)


@router.get("/me", response_model=UserOut, responses=documented(401))
def me(ctx: Ctx = CtxDep) -> UserOut:
    return UserOut.model_validate(
        ctx.read(lambda conn, actor: users.get_user(conn, actor.user_id))
    )


@router.post("/me/password", status_code=status.HTTP_204_NO_CONTENT, responses=documented(401, 403, 422, 429))
def change_password(body: PasswordChangeIn, request: Request, ctx: Ctx = CtxDep) -> Response:
    """Change your own password: needs the current one (422 if wrong; 429 after too many tries).

    Your other browser sessions end; with `revoke_tokens`, your other API tokens too. The session
    or token making this request stays valid.
    """
    actor = ctx.read(lambda conn, actor: actor)
    limits = sign_in.SignInLimits.from_settings(ctx.runtime.settings)
    sign_in.change_own_password(
        ctx.runtime.db, limits, actor, client_address(request), body.current_password, body.new_password,
        current_token=ctx.token, revoke_tokens=body.revoke_tokens,
    )
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/users", response_model=list[UserOut], responses=documented(401, 403))
def list_users(ctx: Ctx = CtxDep) -> list[UserOut]:
    return [UserOut.model_validate(u) for u in ctx.read(users.list_users)]


@router.post("/users", response_model=UserOut, status_code=status.HTTP_201_CREATED,
             responses=documented(401, 403, 409, 422))
def create_user(body: UserIn, ctx: Ctx = CtxDep) -> UserOut:
    return UserOut.model_validate(
        ctx.write(users.create_user, body.username, password=body.password,
                  display_name=body.display_name, is_admin=body.is_admin)
    )


@router.patch("/users/{user_id:id}", response_model=UserOut, responses=documented(401, 403, 404, 422))
def update_user(user_id: Id, body: UserPatch, ctx: Ctx = CtxDep) -> UserOut:
    changes = body.model_dump(exclude_unset=True)
    return UserOut.model_validate(ctx.write(users.update_user, user_id, **changes))


@router.get("/tokens", response_model=list[TokenOut], responses=documented(401))
def list_tokens(ctx: Ctx = CtxDep) -> list[TokenOut]:
    found = ctx.read(lambda conn, actor: tokens.list_tokens(conn, actor, actor.user_id))
    return [TokenOut.model_validate(t) for t in found]


@router.post("/tokens", response_model=NewTokenOut, status_code=status.HTTP_201_CREATED,
             responses=documented(401, 403, 404, 422))
def create_token(body: TokenIn, ctx: Ctx = CtxDep) -> NewTokenOut:
    new = ctx.write(
        lambda conn, actor: tokens.create_token(
            conn, actor, body.user_id if body.user_id is not None else actor.user_id, body.name,
            expires_in_days=body.expires_in_days, scopes=frozenset(body.scopes),
        )
    )
    return NewTokenOut(token=new.secret, info=TokenOut.model_validate(new.info))


@router.delete("/tokens/{token_id:id}", status_code=status.HTTP_204_NO_CONTENT,
               responses=documented(401, 403, 404, 422))
def revoke_token(token_id: Id, ctx: Ctx = CtxDep) -> Response:
    ctx.write(tokens.revoke_token, token_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
