"""Where qunlian keeps its data and which database it talks to.

QUNLIAN_DATA_DIR      data directory (default: the platform's user data dir, e.g. ~/.local/share/qunlian)
QUNLIAN_DATABASE_URL  SQLAlchemy URL (default: sqlite file qunlian.sqlite in the data directory)
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from platformdirs import user_data_dir


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    database_url: str

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


def load_settings() -> Settings:
    data_dir = Path(os.environ.get("QUNLIAN_DATA_DIR") or user_data_dir("qunlian", appauthor=False))
    url = os.environ.get("QUNLIAN_DATABASE_URL") or f"sqlite:///{data_dir / 'qunlian.sqlite'}"
    return Settings(data_dir=data_dir, database_url=url)
