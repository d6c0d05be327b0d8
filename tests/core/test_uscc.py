import string

import pytest
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

from qunlian.cli import app
from qunlian.core.uscc import ALPHABET, check_uscc, make_uscc

# Codes published by their holders (checked by hand against GB 32100-2015).
REAL_VALID = ["91350100M000100Y43", "91110000600037341L"]

bodies = st.text(alphabet=ALPHABET, min_size=8, max_size=8)
divisions = st.text(alphabet=string.digits, min_size=6, max_size=6)


def test_real_codes_pass():
    for code in REAL_VALID:
        assert check_uscc(code).valid, code


@given(divisions, bodies)
def test_made_codes_are_valid(division, body):
    code = make_uscc(division, body)
    assert len(code) == 18 and code[2:8] == division
    assert check_uscc(code).valid


@given(divisions, bodies, st.integers(0, 17), st.sampled_from(ALPHABET))
def test_any_single_substitution_is_caught(division, body, pos, char):
    code = make_uscc(division, body)
    if code[pos] == char:
        return
    bad = code[:pos] + char + code[pos + 1 :]
    assert not check_uscc(bad).valid


def test_reasons_name_the_fault():
    assert "长度" in check_uscc("9133048").reason
    assert "I" in check_uscc("91330482MA2B1C3DIN").reason  # I is not in the alphabet
    r = check_uscc("91330482MA2B1C3D4X")
    assert not r.valid and "校验码" in r.reason and "N" in r.reason  # names the expected digit
    assert "为空" in check_uscc("").reason


def test_normalises_spaces_case_and_full_width():
    code = make_uscc("330482", "MA2B1C3D")
    spaced = " " + code[:9].lower() + " " + code[9:] + " "
    assert check_uscc(spaced).valid
    full_width = "".join(chr(ord(c) + 0xFEE0) for c in code)
    assert check_uscc(full_width).code == code


def test_audited_exception_is_accepted_with_a_note():
    bad = make_uscc("330482", "MA2B1C3D")[:-1] + "0"
    assert not check_uscc(bad).valid
    r = check_uscc(bad, exceptions={bad})
    assert r.valid and r.exception and "例外" in r.reason


@pytest.mark.own_sqlite  # a SQLite file of its own on purpose, not the store under test
def test_cli_exit_status_and_output(tmp_path, monkeypatch):
    monkeypatch.setenv("QUNLIAN_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("QUNLIAN_DATABASE_URL", f"sqlite:///{tmp_path / 'none.sqlite'}")
    good = make_uscc("330482", "MA2B1C3D")
    runner = CliRunner()
    ok = runner.invoke(app, ["check-uscc", good])
    assert ok.exit_code == 0 and f"{good}\tvalid" in ok.output
    mixed = runner.invoke(app, ["check-uscc", good, good[:-1] + "0"])
    assert mixed.exit_code == 1
    assert "invalid" in mixed.output and "校验码错误" in mixed.output
