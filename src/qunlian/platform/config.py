"""Where qunlian keeps its data and which database it talks to.

QUNLIAN_DATA_DIR      data directory (default: ``var/`` of the checkout when qunlian runs from a clone, as
                      ``scripts/start.sh`` does, so the CLI finds the store start.sh made; otherwise
                      the platform's user data dir, e.g. ~/.local/share/qunlian)
QUNLIAN_DATABASE_URL  SQLAlchemy URL (default: sqlite file qunlian.sqlite in the data directory)
QUNLIAN_EVIDENCE_MAX_MB  largest evidence file (佐证材料) a task accepts, in MB (default 20)
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from platformdirs import user_data_dir

DEFAULT_EVIDENCE_MAX_MB = 20.0


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    database_url: str
    # evidence files live in the database (whole or not at all), so each one is kept modest
    evidence_max_bytes: int = int(DEFAULT_EVIDENCE_MAX_MB * 1024 * 1024)

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


#: the clone this code runs from (src/qunlian/platform/config.py → the repository), if it is one
_CHECKOUT = Path(__file__).resolve().parents[3]


def default_data_dir() -> Path:
    """``var/`` of the clone for an installation from a clone (``scripts/start.sh`` keeps its store
    there), else the user's data directory."""
    if (_CHECKOUT / "pyproject.toml").is_file() and (_CHECKOUT / "scripts" / "start.sh").is_file():
        return _CHECKOUT / "var"
    return Path(user_data_dir("qunlian", appauthor=False))


def load_settings() -> Settings:
    data_dir = Path(os.environ.get("QUNLIAN_DATA_DIR") or default_data_dir())
    url = os.environ.get("QUNLIAN_DATABASE_URL") or f"sqlite:///{data_dir / 'qunlian.sqlite'}"
    return Settings(data_dir=data_dir, database_url=url, evidence_max_bytes=_megabytes(
        "QUNLIAN_EVIDENCE_MAX_MB", DEFAULT_EVIDENCE_MAX_MB))


def _megabytes(variable: str, default_mb: float) -> int:
    """A size limit from an environment variable in MB; unset, unreadable or not positive: the default."""
    raw = os.environ.get(variable, "").strip()
    try:
        mb = float(raw) if raw else default_mb
    except ValueError:
        mb = default_mb
    return int((mb if mb > 0 else default_mb) * 1024 * 1024)
