"""The catalogue: every msgid that pybabel extracts has an English translation, the committed .mo is the
compiled .po, templates choose no text by language, and messages render per language."""

from __future__ import annotations

import io
import pickle
import re
from pathlib import Path

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import read_mo, write_mo
from babel.messages.pofile import read_po

from qunlian.core.errors import Problem, ValidationFailed
from qunlian.platform import i18n
from qunlian.platform.i18n import Joined, Message

ROOT = Path(__file__).parents[2]
SRC = ROOT / "src" / "qunlian"
PO = i18n.LOCALE_DIR / "en" / "LC_MESSAGES" / "messages.po"
MO = PO.with_suffix(".mo")


def extracted(root: Path = ROOT) -> dict[str, list[tuple[str, int]]]:
    """msgid → where it was found, as `pybabel extract -F babel.cfg` with the project's keywords finds them."""
    with open(ROOT / "babel.cfg", encoding="utf-8") as f:
        method_map, options_map = parse_mapping_cfg(f, str(ROOT / "babel.cfg"))
    found: dict[str, list[tuple[str, int]]] = {}
    for filename, lineno, message, _comments, _context in extract_from_dir(
            str(root), method_map, options_map, keywords={**DEFAULT_KEYWORDS, **i18n.KEYWORDS}):
        for msgid in (message if isinstance(message, tuple) else (message,)):
            if msgid:
                found.setdefault(msgid, []).append((filename, lineno))
    return found


def catalogue():
    with open(PO, "rb") as f:
        return read_po(f, locale="en")


@pytest.fixture(scope="module")
def messages() -> dict[str, list[tuple[str, int]]]:
    return extracted()


def test_every_extracted_message_has_an_english_translation(messages):
    assert len(messages) > 400  # the extraction ran over the package (python and templates)
    translated = {m.id: m.string for m in catalogue() if m.id}
    missing = sorted(f"{where[0][0]}:{where[0][1]}: {msgid}" for msgid, where in messages.items()
                     if not (translated.get(msgid) or "").strip())
    assert missing == [], "msgids without English (run scripts/i18n.sh, then translate):\n" + "\n".join(missing)


def test_the_check_fails_on_an_untranslated_message(tmp_path):
    """The test above can fail: a message nobody translated is found."""
    pkg = tmp_path / "src" / "qunlian"
    (pkg / "x" / "templates" / "x").mkdir(parents=True)
    (pkg / "x" / "mod.py").write_text('from qunlian.platform.i18n import N_\nLABEL = N_("从未翻译的消息")\n',
                                      encoding="utf-8")
    (pkg / "x" / "templates" / "x" / "p.html").write_text('<p>{{ _("模板里从未翻译的消息") }}</p>', encoding="utf-8")
    (tmp_path / "babel.cfg").write_text((ROOT / "babel.cfg").read_text(encoding="utf-8"), encoding="utf-8")
    found = extracted(tmp_path)
    translated = {m.id for m in catalogue() if m.id and m.string}
    assert {"从未翻译的消息", "模板里从未翻译的消息"} <= set(found) - translated


def test_no_msgid_is_translated_twice_and_placeholders_match():
    text = PO.read_text(encoding="utf-8")
    ids = re.findall(r'^msgid "(.*)"$', text, re.MULTILINE)
    dupes = sorted({i for i in ids if ids.count(i) > 1} - {""})
    assert dupes == []
    problems = [(m.id, [str(e) for e in errors]) for m, errors in catalogue().check()]
    assert problems == []  # python-format placeholders of each msgstr exist in its msgid


def test_the_committed_mo_is_the_compiled_po():
    """A fresh clone needs no compile step: the .mo in the tree must be the .po compiled (scripts/i18n.sh)."""
    buf = io.BytesIO()
    write_mo(buf, catalogue())
    buf.seek(0)
    fresh = {(m.id, m.string) for m in read_mo(buf) if m.id}
    with open(MO, "rb") as f:
        committed = {(m.id, m.string) for m in read_mo(f) if m.id}
    assert committed == fresh, "messages.mo is stale: run scripts/i18n.sh (or pybabel compile)"


def test_templates_choose_no_text_by_language():
    offenders = []
    for path in SRC.glob("**/templates/**/*.html"):
        text = path.read_text(encoding="utf-8")
        for pattern in (r"lang\s*==\s*['\"]", r"lang\s*!=\s*['\"]", r"\.\w+_en\b", r"\[['\"]\w+_en['\"]\]"):
            offenders += [f"{path.relative_to(SRC)}: {m.group(0)}" for m in re.finditer(pattern, text)]
    assert offenders == []


def test_message_is_its_chinese_text_and_renders_per_language():
    m = Message("%(head)s，%(reference)s", head=Message("%(period)s 实际 %(value)s%(unit)s", period="2023",
                                                        value="12.5", unit="%"), reference="—")
    assert m == "2023 实际 12.5%，—" and isinstance(m, str)
    assert i18n.translate(m, "zh") == "2023 实际 12.5%，—"
    assert i18n.translate(m, "en") == "2023 actual 12.5 %; —"
    j = Joined("；", [Message("提高"), "x"])
    assert j == "提高；x" and i18n.translate(j, "en") == "a rise of; x"
    # pickled by the figure caches: the message survives with its parameters
    for x in (m, j):
        y = pickle.loads(pickle.dumps(x))
        assert y == x and type(y) is type(x) and i18n.translate(y, "en") == i18n.translate(x, "en")


def test_problems_render_through_the_catalogue():
    p = Problem("输入数据未通过校验，未写入任何数据", "写明为什么撤销销号", file="a.xlsx", sheet="企业", row=3,
                column="tax_wan", value="x")
    assert str(p) == ("文件 a.xlsx，工作表 企业，第 3 行，列 tax_wan：输入数据未通过校验，未写入任何数据（值：'x'）"
                      "。修改方法：写明为什么撤销销号")
    en = i18n.explain(ValidationFailed([p]), "en")
    assert en.startswith("The input did not pass validation; nothing was stored (1 problem(s)):")
    assert "file a.xlsx, sheet 企业, row 3, column tax_wan: The input did not pass validation" in en
    assert "(value: 'x')" in en
    assert i18n.explain(ValidationFailed([p]), "zh") == str(ValidationFailed([p]))


def test_numbers_and_dates_with_babel():
    for lang in i18n.LANGUAGES:  # the same digits and grouping as f"{x:,.2f}" in both UI locales
        for x in (0, 2.675, -1234.5, 1234567.125, 1e9 + 0.005, -0.001):
            assert i18n.format_decimal(x, lang) == f"{x:,.2f}"
        assert i18n.format_number(1234567, lang) == "1,234,567"
        assert i18n.format_percent(0.125, lang) == "12.5%"
    assert i18n.format_date("2024-03-05", "zh") == "2024年3月5日"
    assert i18n.format_date("2024-03-05", "en") == "Mar 5, 2024"


def test_fast_number_formatting_is_babels_own(monkeypatch):
    """format_decimal / format_number skip Babel for locales that group by threes; the result must be
    exactly what Babel gives (the same code with the fast path switched off)."""
    import random

    rnd = random.Random(20261204)
    values = [0.0, -0.0, -0.004, 0.005, 2.675, -2.675, 999.995, 1e15, -1234.5]
    values += [rnd.uniform(-1e9, 1e9) * 10 ** rnd.randint(-8, 0) for _ in range(3000)]
    whole = [0, -5, 999, 1000, -987654321, *(rnd.randint(-10**12, 10**12) for _ in range(1000))]
    cases = [(lang, d, v) for lang in i18n.LANGUAGES for d in (0, 1, 2, 4) for v in values]
    wholes = [(lang, v) for lang in i18n.LANGUAGES for v in whole]
    fast = [i18n.format_decimal(v, lang, d) for lang, d, v in cases]
    fast_whole = [i18n.format_number(v, lang) for lang, v in wholes]
    assert all(i18n._threes(lang) is not None for lang in i18n.LANGUAGES)  # the fast path is the one tested
    monkeypatch.setattr(i18n, "_threes", lambda lang: None)
    assert [i18n.format_decimal(v, lang, d) for lang, d, v in cases] == fast
    assert [i18n.format_number(v, lang) for lang, v in wholes] == fast_whole


def test_pages_render_in_both_languages_with_the_babel_filters():
    from jinja2 import DictLoader

    from qunlian.platform.web import deps

    env = deps.templates.env.overlay(loader=DictLoader({"t.html": (
        '{{ _("导航") }}|{{ _("共 {n} 家企业").format(n=3) }}|{{ _("完成 %(ratio)s", ratio="<b>") }}|'
        '{{ x|num }}|{{ 0.125|percent }}|{{ _(label) }}|{{ _(reason) }}|{% trans %}导航{% endtrans %}')}))
    reason = Message("%(light)s：%(body)s", light=Message("绿灯"),
                     body=Joined("；", [Message("完成 %(ratio)s", ratio="5%")]))
    out = {lang: env.get_template("t.html").render(lang=lang, x=1234.5, label="增速（%）", reason=reason,
                                                  **deps.template_gettext(lang)) for lang in i18n.LANGUAGES}
    assert out["zh"] == "导航|共 3 家企业|完成 &lt;b&gt;|1,234.50|12.5%|增速（%）|绿灯：完成 5%|导航"
    assert out["en"] == ("Navigation|3 firms|completion &lt;b&gt;|1,234.50|12.5%|增速（%）|"
                         "green: completion 5%|Navigation")
