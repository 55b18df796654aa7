"""Log in, who am I, users (admins) and API tokens."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Response, status
from sqlalchemy import Connection

from labelloop.api.deps import Ctx, CtxDep, get_runtime
from labelloop.api.models import (
    LoginIn,
    LoginOut,
    NewTokenOut,
    TokenIn,
    TokenOut,
    UserIn,
    UserOut,
    UserPatch,
)
from labelloop.services import tokens, users
from labelloop.services.policy import Actor
from labelloop.services.runtime import Runtime

router = APIRouter(prefix="/api", tags=["accounts"])
LOGIN_TOKEN_DAYS = 30


@router.post("/auth/login", response_model=LoginOut)
def login(body: LoginIn, runtime: Runtime = Depends(get_runtime)) -> LoginOut:
    """Exchange a username and password for a new API token (valid 30 days)."""

    def go(conn: Connection) -> LoginOut:
        user = users.authenticate(conn, body.username, body.password)
        actor = Actor(user.id, user.username, user.is_admin)
        new = tokens.create_token(conn, actor, user.id, "login", expires_in_days=LOGIN_TOKEN_DAYS)
        return LoginOut(token=new.secret, user=UserOut.model_validate(user))

    return runtime.db.run(go)


@router.get("/me", response_model=UserOut)
def me(ctx: Ctx = CtxDep) -> UserOut:
    return UserOut.model_validate(
        ctx.read(lambda conn, actor: users.get_user(conn, actor.user_id))
    )


@router.get("/users", response_model=list[UserOut])
def list_users(ctx: Ctx = CtxDep) -> list[UserOut]:
    return [UserOut.model_validate(u) for u in ctx.read(users.list_users)]


@router.post("/users", response_model=UserOut, status_code=status.HTTP_201_CREATED)
def create_user(body: UserIn, ctx: Ctx = CtxDep) -> UserOut:
    return UserOut.model_validate(
        ctx.write(users.create_user, body.username, password=body.password,
                  display_name=body.display_name, is_admin=body.is_admin)
    )


@router.patch("/users/{user_id}", response_model=UserOut)
def update_user(user_id: int, body: UserPatch, ctx: Ctx = CtxDep) -> UserOut:
    changes = body.model_dump(exclude_unset=True)
    return UserOut.model_validate(ctx.write(users.update_user, user_id, **changes))


@router.get("/tokens", response_model=list[TokenOut])
def list_tokens(ctx: Ctx = CtxDep) -> list[TokenOut]:
    found = ctx.read(lambda conn, actor: tokens.list_tokens(conn, actor, actor.user_id))
    return [TokenOut.model_validate(t) for t in found]


@router.post("/tokens", response_model=NewTokenOut, status_code=status.HTTP_201_CREATED)
def create_token(body: TokenIn, ctx: Ctx = CtxDep) -> NewTokenOut:
    new = ctx.write(
        lambda conn, actor: tokens.create_token(
            conn, actor, body.user_id if body.user_id is not None else actor.user_id, body.name,
            expires_in_days=body.expires_in_days,
        )
    )
    return NewTokenOut(token=new.secret, info=TokenOut.model_validate(new.info))


@router.delete("/tokens/{token_id}", status_code=status.HTTP_204_NO_CONTENT)
def revoke_token(token_id: int, ctx: Ctx = CtxDep) -> Response:
    ctx.write(tokens.revoke_token, token_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
