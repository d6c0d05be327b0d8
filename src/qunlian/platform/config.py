"""Where qunlian keeps its data and which database it talks to.

QUNLIAN_DATA_DIR      data directory (default: the platform's user data dir, e.g. ~/.local/share/qunlian)
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


def load_settings() -> Settings:
    data_dir = Path(os.environ.get("QUNLIAN_DATA_DIR") or user_data_dir("qunlian", appauthor=False))
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
