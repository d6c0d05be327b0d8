#!/usr/bin/env bash
# The English catalogue (Chinese is the source: msgids are the Chinese text). Run after changing UI
# text: extract every msgid from the code and templates (babel.cfg), merge them into the .po, compile
# the .mo. Both .po and .mo are committed, so a fresh clone needs no compile step.
#   1. scripts/i18n.sh        new msgids arrive in messages.po with an empty msgstr
#   2. translate them in src/qunlian/platform/locale/en/LC_MESSAGES/messages.po
#   3. scripts/i18n.sh        again, to compile (tests/platform/test_i18n.py fails on an untranslated
#                             msgid or a .mo older than its .po)
# A msgid that is no longer found becomes obsolete ("#~", not compiled): mark every msgid where it is
# declared, N_("…") for labels and Message("…") for texts with parameters.
set -euo pipefail
cd "$(dirname "$0")/.."
PYBABEL=${PYBABEL:-.venv/bin/pybabel}
LOCALE=src/qunlian/platform/locale
PO=$LOCALE/en/LC_MESSAGES/messages.po
POT=$(mktemp --suffix=.pot)
trap 'rm -f "$POT"' EXIT

# keywords beyond Babel's defaults: the same as qunlian.platform.i18n.KEYWORDS
$PYBABEL -q extract -F babel.cfg -k Message -k lazy -k Joined -k NavEntry:2 -k Column:2 --add-location=file --sort-output \
  --project=qunlian --copyright-holder=qunlian -o "$POT" .
$PYBABEL -q update -i "$POT" -d "$LOCALE" -D messages -l en --no-fuzzy-matching --width=100
$PYBABEL compile -d "$LOCALE" -D messages -l en --statistics

untranslated=$(.venv/bin/python - "$PO" <<'PYEOF'
import sys
from babel.messages.pofile import read_po
with open(sys.argv[1], "rb") as f:
    print("\n".join(m.id for m in read_po(f) if m.id and not m.string))
PYEOF
)
if [ -n "$untranslated" ]; then
  echo "尚未翻译 / untranslated msgids in $PO:" >&2
  echo "$untranslated" >&2
  exit 1
fi
