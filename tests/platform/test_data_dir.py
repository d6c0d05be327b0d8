"""One data directory (issue #13 item 9): run from a clone, the CLI finds the store start.sh made
(``var/`` of the clone), and a command on a store that does not exist yet leaves nothing behind."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from qunlian.cli import app
from qunlian.platform import config
from qunlian.platform.db import is_initialised, make_engine


def test_a_clone_keeps_its_store_in_var(monkeypatch):
    monkeypatch.delenv("QUNLIAN_DATA_DIR", raising=False)
    monkeypatch.delenv("QUNLIAN_DATABASE_URL", raising=False)
    root = config._CHECKOUT
    assert (root / "scripts" / "start.sh").is_file()  # these tests run from the clone
    start = (root / "scripts" / "start.sh").read_text(encoding="utf-8")
    assert 'QUNLIAN_DATA_DIR=${QUNLIAN_DATA_DIR:-$PWD/var}' in start  # start.sh's default …
    assert config.load_settings().data_dir == root / "var"  # … is the CLI's


def test_an_installed_package_uses_the_user_data_dir(monkeypatch, tmp_path):
    monkeypatch.delenv("QUNLIAN_DATA_DIR", raising=False)
    monkeypatch.setattr(config, "_CHECKOUT", tmp_path)  # not a clone: no pyproject.toml, no start.sh
    assert config.default_data_dir().name == "qunlian" and "var" not in config.default_data_dir().parts[-1:]


@pytest.mark.own_sqlite
def test_a_missing_store_is_not_created_by_a_command(tmp_path, monkeypatch):
    data = tmp_path / "nowhere"
    monkeypatch.setenv("QUNLIAN_DATA_DIR", str(data))
    monkeypatch.delenv("QUNLIAN_DATABASE_URL", raising=False)
    assert not is_initialised(make_engine())
    result = CliRunner().invoke(app, ["users", "list"])
    assert result.exit_code != 0 and "qunlian init" in result.output
    assert not data.exists()  # no empty database file, no folder
