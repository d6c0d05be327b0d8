"""Web settings: secret key, cookie security, lifetimes, login throttling.

QUNLIAN_SECRET_KEY       signs session cookies and API tokens. Default: a random key kept in
                         <data dir>/web-secret.key (created on first start, mode 600), so that
                         sessions survive a restart. Several workers or hosts must share one key.
QUNLIAN_SECURE_COOKIES   "1": cookies always carry Secure; "0": never; unset: Secure when the request
                         came over https (behind a TLS proxy: name it in QUNLIAN_TRUSTED_PROXIES).
QUNLIAN_TRUSTED_PROXIES  the reverse proxies whose X-Forwarded-For / X-Forwarded-Proto are believed:
                         addresses or networks, comma-separated ("127.0.0.1", "10.1.2.0/24"). Default:
                         none, so the client address is the peer's and logins are throttled by it.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from qunlian.platform.config import load_settings


@dataclass(frozen=True)
class WebSettings:
    secret_key: str
    secure_cookies: bool | None = None  # None: decide per request from the scheme
    session_max_age_s: int = 8 * 3600
    token_ttl_s: int = 3600
    login_max_failures: int = 5
    login_window_s: int = 15 * 60
    trusted_proxies: tuple[str, ...] = ()

    @classmethod
    def from_env(cls, **overrides: object) -> WebSettings:
        secure = os.environ.get("QUNLIAN_SECURE_COOKIES", "").strip().lower()
        values: dict[str, object] = {
            "secret_key": os.environ.get("QUNLIAN_SECRET_KEY") or _stored_secret(load_settings().data_dir),
            "secure_cookies": True if secure in ("1", "true", "yes") else False if secure in ("0", "false", "no") else None,
            "trusted_proxies": trusted_proxies(os.environ.get("QUNLIAN_TRUSTED_PROXIES", "")),
        }
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)  # type: ignore[arg-type]


def trusted_proxies(value: str) -> tuple[str, ...]:
    """QUNLIAN_TRUSTED_PROXIES as a tuple: comma- or space-separated addresses and networks."""
    return tuple(x for x in value.replace(",", " ").split() if x)


def _stored_secret(data_dir: Path) -> str:
    path = data_dir / "web-secret.key"
    if path.exists():
        return path.read_text(encoding="utf-8").strip()
    data_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(key)
    return key
