"""One validator for every typed number (issue #12 item 2): ``qunlian.platform.numbers``.

The unit tests pin what it accepts and refuses; the structural tests walk the CLI and the API and
fail when a numeric option or parameter is declared without it, so a capability still to come
inherits the check. (The web forms' numeric fields are tested with their pages: the 亩均 adjustment
and simulator in tests/per_mu/test_muni_pages.py, the actual value in tests/targets/test_targets_pages.py.)
"""

from __future__ import annotations

import math
import typing

import pytest
import typer.main
from bad_numbers import BAD_NUMBERS
from typer.testing import CliRunner

from qunlian.platform.numbers import (
    MAX_ID,
    IdType,
    NumberField,
    NumberInvalid,
    NumberType,
    parse_id,
    parse_number,
    plausible,
)

PLAIN = NumberField("数值")
MONEY = NumberField("税收", unit="万元", minimum=0)


@pytest.mark.parametrize(("raw", "want"), [
    ("12", 12.0), ("-3.5", -3.5), ("+7", 7.0), (" 1,234.5 ", 1234.5), ("１２３", 123.0), ("−4", -4.0),
    ("2e3", 2000.0), (".5", 0.5), (5, 5.0), (2.25, 2.25), ("-0", 0.0),
])
def test_accepts_plain_decimals_as_people_type_them(raw, want):
    got = parse_number(raw, PLAIN)
    assert got == want and math.copysign(1, got) == math.copysign(1, want or 1.0)


@pytest.mark.parametrize("raw", [*BAD_NUMBERS, "NaN", "+inf", "Infinity", "1,2,3", "12元", "1e", "", "  ",
                                 float("nan"), float("inf"), -float("inf"), 10**400, True])
def test_refuses_what_is_not_a_finite_plausible_number(raw):
    with pytest.raises(NumberInvalid) as e:
        parse_number(raw, PLAIN)
    text = e.value.render()
    assert "数值" in text and "；" in text  # names the field, says what is wrong and what to type


def test_messages_say_what_is_wrong():
    def msg(raw, field=PLAIN):
        with pytest.raises(NumberInvalid) as e:
            parse_number(raw, field)
        return e.value.render()

    assert "必须是有限的数字" in msg("nan") and "必须是有限的数字" in msg("-inf")
    assert "不是数字：“abc”" in msg("abc")
    assert "不能为空" in msg("")
    assert "逻辑值" in msg(False)
    # the unit's plausible range (the dated preset), narrowed by the field's own bounds
    bounds = plausible().bounds("万元")
    assert f"0 至 {bounds.max:,.0f} 万元" in msg("-5", MONEY) and "按 万元 填写" in msg("-5", MONEY)
    assert "超出可能的范围" in msg("1e308")
    assert "应为整数" in msg("2.5", NumberField("年度", integer=True))


def test_blank_may_mean_no_value():
    assert parse_number("", PLAIN, blank=True) is None
    assert parse_number(None, PLAIN, blank=True) is None


def test_english_rendering():
    from qunlian.platform.i18n import translations

    with pytest.raises(NumberInvalid) as e:
        parse_number("nan", NumberField("加减分", unit="分"))
    text = e.value.render(translations("en").gettext)
    assert "finite" in text and "加减分" not in text


def test_ids():
    assert parse_id("12") == 12 and parse_id(MAX_ID) == MAX_ID and parse_id("＋3") == 3
    for raw in (0, -1, MAX_ID + 1, "99999999999999999999", "1.5", "²", "+-1", "", "abc", True):
        assert parse_id(raw) is None, raw


def test_api_number_refuses_in_a_model():
    from pydantic import BaseModel, ValidationError

    from qunlian.platform.numbers import api_number

    class Body(BaseModel):
        points: api_number(NumberField("加减分", unit="分"))  # type: ignore[valid-type]

    assert Body(points=5).points == 5.0
    for bad in (*BAD_NUMBERS, 5000):
        with pytest.raises(ValidationError):
            Body.model_validate_json(f'{{"points": "{bad}"}}' if isinstance(bad, str) else f'{{"points": {bad}}}')


# --------------------------------------------------------------------------- the CLI


def _commands(command, path=()):
    if hasattr(command, "commands"):
        for name, sub in command.commands.items():
            yield from _commands(sub, (*path, name))
    else:
        yield path, command


def _numeric(annotation) -> bool:
    args = typing.get_args(annotation) or (annotation,)
    return any(a in (int, float) for a in args) and bool not in args


def _numeric_params():
    from qunlian.cli import app

    for path, command in _commands(typer.main.get_command(app)):
        for param in command.params:
            descriptor = getattr(param, "type_descriptor", None)
            if descriptor is not None and _numeric(descriptor.annotation):
                yield " ".join(path), param, descriptor.parameter_info.parser


def test_every_numeric_cli_option_uses_the_one_validator():
    params = list(_numeric_params())
    assert len(params) >= 20  # --points, --margin, --value, --scale, --year, --run, --id, --limit …
    unchecked = [f"qunlian {path} {param.opts[0] if param.opts else param.name}" for path, param, parser in params
                 if not isinstance(parser, NumberType | IdType)]
    assert not unchecked, f"use platform.numbers.number_option / year_option / id_option for {unchecked}"


def test_every_numeric_cli_option_refuses_the_bad_values():
    for path, param, parser in _numeric_params():
        for bad in BAD_NUMBERS:
            with pytest.raises(ValueError):  # typer's parser error: a usage error, exit status 2
                parser(bad)
        if isinstance(parser, IdType):
            with pytest.raises(ValueError):
                parser(str(MAX_ID + 1))
        else:
            assert param.default in (None, ...) or parser(param.default) == param.default, (path, param.name)


@pytest.mark.parametrize("args", [
    ["muni", "adjust", "--run", "1", "--uscc", "X", "--reason", "r", "--by", "b", "--points", "nan"],
    ["muni", "warnings", "--run", "1", "--margin", "-inf"],
    ["muni", "simulate", "--run", "99999999999", "--uscc", "X"],
    ["targets", "actual", "add", "--plan", "p", "--indicator", "i", "--period", "2024", "--value", "1e308",
     "--by", "b", "--source", "s"],
    ["demo", "--scale", "inf"],
    ["audit", "list", "--limit", "abc"],
    ["users", "revoke", "0"],
])
def test_cli_refuses_with_a_usage_error_before_touching_the_store(args, tmp_path, monkeypatch):
    from qunlian.cli import app

    monkeypatch.setenv("QUNLIAN_DATABASE_URL", f"sqlite:///{tmp_path / 'never.sqlite'}")
    r = CliRunner().invoke(app, args)
    assert r.exit_code == 2, r.output
    assert "Invalid value for" in r.output and not (tmp_path / "never.sqlite").exists()


def test_simulated_figures_are_checked(tmp_path, monkeypatch):
    from qunlian.cli import app

    monkeypatch.setenv("QUNLIAN_DATABASE_URL", f"sqlite:///{tmp_path / 'never.sqlite'}")
    for bad in (*BAD_NUMBERS, "-5"):
        r = CliRunner().invoke(app, ["muni", "simulate", "--run", "1", "--uscc", "X", "--set", f"tax_wan={bad}"])
        assert r.exit_code == 2 and "税收" in r.output, (bad, r.output)


# --------------------------------------------------------------------------- the API


def test_every_numeric_api_parameter_is_bounded_and_refuses_the_bad_values(client):
    """Every number an API operation takes (path, query) is declared with bounds, and each bad value
    is a 404 (a path id that cannot exist) or a 422 (a query value) — never a 200 or a 500."""
    from web_helpers import PASSWORD

    schema = client.get("/api/openapi.json").json()
    token = client.post("/api/token", json={"username": "admin1", "password": PASSWORD}).json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    checked = 0
    for path, ops in schema["paths"].items():
        for method, op in ops.items():
            if method != "get":
                continue
            for p in op.get("parameters", []):
                s = p.get("schema", {})
                kinds = {s.get("type")} | {a.get("type") for a in s.get("anyOf", [])}
                if not kinds & {"integer", "number"}:
                    continue
                if p["in"] == "query":
                    assert "maximum" in s or any("maximum" in a for a in s.get("anyOf", [])), (path, p["name"])
                for bad in BAD_NUMBERS:
                    url = path
                    params = {}
                    for q in op.get("parameters", []):
                        if q["in"] == "path":
                            url = url.replace("{" + q["name"] + "}", bad if q is p else "1")
                    if p["in"] == "query":
                        params[p["name"]] = bad
                    r = client.get(url, params=params, headers=headers)
                    assert r.status_code in (404, 422), (path, p["name"], bad, r.status_code)
                checked += 1
    assert checked >= 3


# --------------------------------------------------------------------------- no second parser


def test_no_route_or_command_parses_a_typed_number_itself():
    """A route or command that calls ``float()`` / ``int()`` on a form field, a query text or an
    option bypasses the check (that is how ``points=nan`` got stored): it calls ``parse_number``."""
    import ast
    from pathlib import Path

    import qunlian

    root = Path(qunlian.__file__).parent
    typed_defaults = {"Form", "Query", "Option", "Argument", "Body"}
    found = []
    for path in sorted(root.rglob("*.py")):
        if not (path.name.startswith(("web", "api", "cli")) or path.name.endswith(("_web.py", "_api.py"))):
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for fn in ast.walk(tree):
            if not isinstance(fn, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            args = [*fn.args.args, *fn.args.kwonlyargs]
            defaults = [*([None] * (len(fn.args.args) - len(fn.args.defaults))), *fn.args.defaults, *fn.args.kw_defaults]
            typed = {"form"}
            for arg, default in zip(args, defaults, strict=True):
                if isinstance(default, ast.Call):
                    name = default.func.attr if isinstance(default.func, ast.Attribute) else getattr(default.func, "id", "")
                    if name in typed_defaults:
                        typed.add(arg.arg)
            for call in ast.walk(fn):
                if (isinstance(call, ast.Call) and isinstance(call.func, ast.Name) and call.func.id in ("float", "int")
                        and any(isinstance(n, ast.Name) and n.id in typed for a in call.args for n in ast.walk(a))):
                    found.append(f"{path.relative_to(root)}:{call.lineno} {ast.unparse(call)}")
    assert not found, f"parse typed numbers with qunlian.platform.numbers: {found}"
