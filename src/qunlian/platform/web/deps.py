"""Request dependencies: database session, the signed-in principal, rendering with the catalogue."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from fastapi.templating import Jinja2Templates
from jinja2 import ChoiceLoader, FileSystemLoader, pass_context, pass_eval_context
from markupsafe import Markup
from sqlalchemy.orm import Session

from qunlian.platform.permissions import ROLE_NAMES, Principal, can
from qunlian.platform import i18n
from qunlian.platform.i18n import N_
from qunlian.platform.registry import NavEntry
from qunlian.platform.web.security import csrf_token

HERE = Path(__file__).parent
templates = Jinja2Templates(directory=str(HERE / "templates"))
templates.env.add_extension("jinja2.ext.i18n")
# gettext for templates rendered outside a request; render() puts the request language's in the context
templates.env.install_null_translations(newstyle=True)
_NAV: list[NavEntry] = []


def install(template_dirs: list[Path], nav: list[NavEntry]) -> None:
    """Called by the app factory: the installed capabilities' template folders (each holds
    ``<capability>/*.html``, after the platform's own base templates) and the nav entries."""
    templates.env.loader = ChoiceLoader([FileSystemLoader(str(HERE / "templates")),
                                         *(FileSystemLoader(str(d)) for d in template_dirs)])
    _NAV[:] = nav


class NotAuthenticated(Exception):
    """Raised by page dependencies; the app answers with a redirect to the login page."""


class PasswordChangeRequired(NotAuthenticated):
    """The signed-in user's password was set by an administrator: the app sends it to change it first."""


def get_db(request: Request) -> Iterator[Session]:
    with request.app.state.sessions() as session:
        yield session


def _principal_for(request: Request, db: Session, user_id: Any, version: Any) -> Principal | None:
    """The active user with this id as a Principal, when ``version`` (carried by the cookie or token)
    is the user's session version still: a logout, password change, disable or role change since has
    moved it on. The accounts capability supplies the loader (``app.state.load_principal``, one
    primary-key read of the users table), so the web kit needs no knowledge of that table."""
    if not isinstance(user_id, int) or not isinstance(version, int):
        return None
    return request.app.state.load_principal(db, user_id, version)


def optional_user(request: Request, db: Session = Depends(get_db)) -> Principal | None:
    """The user of the session cookie, re-read from the store on every request (a disabled user, or a
    session ended by logout, password change or role change, is out)."""
    user_id = request.session.get("uid")
    principal = _principal_for(request, db, user_id, request.session.get("sv"))
    if principal is None and user_id is not None:
        request.session.pop("uid", None)
        request.session.pop("sv", None)
    request.state.user = principal
    return principal


def require_user(principal: Principal | None = Depends(optional_user)) -> Principal:
    if principal is None:
        raise NotAuthenticated()
    if principal.must_change_password:
        raise PasswordChangeRequired()
    return principal


def require(action: str):
    """A dependency: the signed-in user, who must hold the named action (else 403)."""

    def dependency(principal: Principal = Depends(require_user)) -> Principal:
        if not can(principal, action):
            raise HTTPException(403, detail="forbidden")
        return principal

    return dependency


# for the `responses` of every route that depends on api_user: the OpenAPI document says what it answers
API_AUTH_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: {"description": "no, an expired or an invalid bearer token / 未认证：令牌缺失、过期或无效"},
}

_bearer = HTTPBearer(auto_error=False, description="POST /api/token 取得的令牌 / token from POST /api/token")


def api_user(
    request: Request,
    credentials: HTTPAuthorizationCredentials | None = Depends(_bearer),
    db: Session = Depends(get_db),
) -> Principal:
    """The caller of an API route, from its bearer token (signed, expiring, user still active, session
    version still current)."""
    claims = request.app.state.tokens.verify(credentials.credentials) if credentials else None
    principal = _principal_for(request, db, *claims) if claims else None
    if principal is None:
        raise HTTPException(401, detail="not authenticated: POST /api/token, then send Authorization: Bearer <token>",
                            headers={"WWW-Authenticate": "Bearer"})
    if principal.must_change_password:
        raise HTTPException(403, detail="password change required: sign in on the web and change it / 请先在网页上修改密码")
    return principal


# --------------------------------------------------------------------------- rendering


def lang_of(request: Request) -> str:
    lang = request.cookies.get(i18n.COOKIE)
    return lang if lang in i18n.LANGUAGES else i18n.DEFAULT



def render(request: Request, template: str, context: dict[str, Any] | None = None, status_code: int = 200):
    lang = lang_of(request)
    user: Principal | None = getattr(request.state, "user", None)
    path = request.url.path
    nav = [
        {"href": e.href, "label": e.label, "active": path == e.href or (e.href != "/" and path.startswith(e.href))}
        for e in _NAV
        if user is not None and (e.action is None or can(user, e.action))
    ]
    ctx = {
        "request": request,
        "user": user,
        "lang": lang,
        "html_lang": i18n.HTML_LANG[lang],
        "other_languages": [(code, i18n.NAMES[code]) for code in i18n.LANGUAGES if code != lang],
        **template_gettext(lang),
        "csrf": csrf_token(request),
        "nav": nav,
        "vendor_ok": request.app.state.vendor_ok,
        "here": str(request.url.path) + (f"?{request.url.query}" if request.url.query else ""),
        **(context or {}),
    }
    return templates.TemplateResponse(request, template, ctx, status_code=status_code)


def render_fragment(template: str, lang: str, context: dict[str, Any]) -> Markup:
    """A part of a page rendered outside the request, with the same language functions and filters as
    ``render``: for a page that keeps its costly parts between views (``{{ part }}`` in its template).
    The part must not depend on the request (no CSRF token, no user menu)."""
    ctx = {"lang": lang, "html_lang": i18n.HTML_LANG[lang], **template_gettext(lang), **context}
    return Markup(templates.env.get_template(template).render(ctx))


def template_gettext(lang: str) -> dict[str, Any]:
    """``_``, ``gettext`` and ``ngettext`` for one language, as ``jinja2.ext.i18n`` calls them (newstyle):
    ``{{ _("…") }}``, ``{{ _("… %(n)s", n=3) }}``, ``{% trans %}``. A Message (domain code's msgid with
    parameters) is rendered with its parameters. The text is plain text, escaped like any value (so a
    translated ``_(value)`` of user input is as safe as ``value``); ``%`` formatting happens only when
    parameters are given, so ``_(label)`` of a label that holds a ``%`` works."""

    def _format(eval_ctx: Any, text: str, params: dict[str, Any]) -> str:
        rv = Markup.escape(text) if eval_ctx.autoescape else text
        if params:
            return rv % params
        return rv.replace("%%", "%") if "%%" in rv else rv

    @pass_eval_context
    def gettext(eval_ctx: Any, message: str, /, **params: Any) -> str:
        params = {k: i18n.translate(v, lang) if isinstance(v, i18n.Message) else v for k, v in params.items()}
        return _format(eval_ctx, i18n.translate(message, lang), params)

    @pass_eval_context
    def ngettext(eval_ctx: Any, singular: str, plural: str, num: int, /, **params: Any) -> str:
        text = i18n.translations(lang).ngettext(singular, plural, num)
        return _format(eval_ctx, text, {"num": num, **params})

    return {"_": gettext, "gettext": gettext, "ngettext": ngettext}


def query_string(params: dict[str, Any], **changes: Any) -> str:
    merged = {**params, **changes}
    return urlencode({k: 1 if v is True else v for k, v in merged.items() if v not in (None, "", False)})


def _lang(context: Any) -> str:
    lang = context.get("lang") if context is not None else None
    return lang if lang in i18n.LANGUAGES else i18n.DEFAULT


@pass_context
def _num(context: Any, value: Any, digits: int = 2) -> str:
    """A figure for reading: the request locale's grouping (Babel), ``digits`` decimals, — when empty."""
    lang = _lang(context)
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return i18n.translate(N_("是") if value else N_("否"), lang)
    if isinstance(value, int):
        return i18n.format_number(value, lang)
    try:
        return i18n.format_decimal(float(value), lang, digits)
    except (TypeError, ValueError):
        return str(value)


#: units that count things: a whole number of them reads "34 家", not "34.00 家"
COUNT_UNITS = frozenset({"家", "个", "项", "人", "件", "次", "座", "户", "名", "条", "家次", "个次", "张", "台", "套"})


@pass_context
def _figure(context: Any, value: Any, unit: str | None = "", digits: int = 2) -> str:
    """A figure in its unit: a whole count without decimals (34 家), anything else with ``digits``."""
    if unit in COUNT_UNITS and isinstance(value, int | float) and not isinstance(value, bool) and float(value).is_integer():
        return _num(context, int(value))
    return _num(context, value, digits)


@pass_context
def _localized(context: Any, item: Any, field: str = "text", lang: str | None = None) -> Any:
    """A data item's text in the reader's language: ``item[field + "_" + lang]``, else the Chinese
    ``item[field + "_zh"]`` (for texts that are data, such as plan data notes, not catalogue msgids).
    ``lang``: for macros imported without the page's context."""
    get = item.get if isinstance(item, dict) else (lambda k, d=None: getattr(item, k, d))
    return get(f"{field}_{lang or _lang(context)}") or get(f"{field}_zh")


@pass_context
def _percent(context: Any, value: Any, digits: int = 1) -> str:
    """A fraction as a percentage in the request locale (0.125 → 12.5%), — when empty."""
    if value is None or value == "":
        return "—"
    return i18n.format_percent(value, _lang(context), digits)


@pass_context
def _date(context: Any, value: Any, format: str = "medium") -> str:
    """A date in the request locale's words (2024年3月5日 / Mar 5, 2024), — when empty."""
    if value is None or value == "":
        return "—"
    return i18n.format_date(value, _lang(context), format)


@pass_context
def _money(context: Any, value: Any, currency: str = "CNY") -> str:
    if value is None or value == "":
        return "—"
    return i18n.format_money(value, _lang(context), currency)


def _plain(value: Any) -> str:
    """A number for a form field: no thousands separator, no exponent, up to 6 decimals (so that
    submitting a form unchanged gives back the stored figure, not a rounded one)."""
    if value is None or value == "":
        return ""
    try:
        text = f"{float(value):.6f}"
    except (TypeError, ValueError):
        return str(value)
    return text.rstrip("0").rstrip(".") if "." in text else text


templates.env.filters["num"] = _num
templates.env.filters["figure"] = _figure
templates.env.filters["localized"] = _localized
templates.env.filters["plain"] = _plain
templates.env.filters["percent"] = _percent
templates.env.filters["date"] = _date
templates.env.filters["money"] = _money
templates.env.globals["N_"] = N_  # marks a literal msgid in a template for pybabel
templates.env.globals["qs"] = query_string
templates.env.globals["role_names"] = ROLE_NAMES
templates.env.globals["can"] = can
# chain taxonomy levels and node kinds as stored (ChainNode.level / .kind) → Chinese labels (msgids)
templates.env.globals["level_names"] = {
    "system": N_("体系"), "cluster": N_("集群"), "chain": N_("产业链"), "segment": N_("环节"), "node": N_("节点"),
}
# enterprise ownership codes as stored (Enterprise.ownership) → Chinese labels (msgids)
templates.env.globals["ownership_names"] = {
    "state": N_("国有"), "collective": N_("集体"), "private": N_("民营"), "joint": N_("联营"),
    "foreign": N_("外商投资"), "hmt": N_("港澳台投资"),
}
templates.env.globals["kind_names"] = {
    "key": N_("重点"), "incubating": N_("孵化"), "leading": N_("先导"), "pillar": N_("主导"), "advantage": N_("优势"),
    "future": N_("未来"),
}
