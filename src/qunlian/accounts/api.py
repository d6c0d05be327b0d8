"""JSON API: bearer tokens and the caller's own account."""

from __future__ import annotations

from fastapi import APIRouter, Depends, HTTPException, Request
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from qunlian.accounts.web import attempt_login
from qunlian.platform.permissions import Principal
from qunlian.platform.web.deps import API_AUTH_RESPONSES, api_user, get_db

router = APIRouter(prefix="/api", tags=["api"])


class TokenRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    username: str = Field(max_length=80)
    password: str = Field(max_length=200)


class TokenResponse(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_in: int = Field(description="seconds")


class Me(BaseModel):
    username: str
    role: str
    town_id: int | None
    chain_node_id: int | None
    enterprise_id: int | None


@router.post("/token", response_model=TokenResponse, summary="取得访问令牌 / get an access token",
             responses={400: {"description": "a body that is not UTF-8 JSON"},
                        401: {"description": "wrong username or password"},
                        403: {"description": "account locked, or a password change is required"},
                        429: {"description": "too many failed logins; retry after Retry-After seconds"}})
def token(body: TokenRequest, request: Request, db: Session = Depends(get_db)) -> TokenResponse:
    user, wait, locked = attempt_login(request, db, body.username, body.password, via="api")
    if wait:
        raise HTTPException(429, detail=f"too many failed logins; retry in {wait} s / 登录失败次数过多，请稍后再试",
                            headers={"Retry-After": str(wait)})
    if locked:
        raise HTTPException(403, detail="account locked after repeated failed logins; an administrator unlocks it "
                                        "/ 账号已锁定（登录失败次数过多），请联系管理员解锁")
    if user is None:
        raise HTTPException(401, detail="wrong username or password / 用户名或密码错误")
    if user.must_change_password:
        raise HTTPException(403, detail="password change required: sign in on the web and change it "
                                        "/ 管理员设置的密码须先在网页上修改")
    tokens = request.app.state.tokens
    return TokenResponse(access_token=tokens.issue(user.id, user.session_version or 0), expires_in=tokens.ttl_s)


@router.get("/me", response_model=Me, summary="当前用户与范围 / the caller and its scope",
            responses=API_AUTH_RESPONSES)
def me(user: Principal = Depends(api_user)) -> Me:
    return Me(username=user.username, role=user.role, town_id=user.town_id, chain_node_id=user.chain_node_id,
              enterprise_id=user.enterprise_id)
