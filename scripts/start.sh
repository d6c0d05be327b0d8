#!/usr/bin/env bash
# One command from a fresh clone to the platform with the demo county in a browser.
#   HOST / PORT           where to listen (default 127.0.0.1:8000)
#   QUNLIAN_DATA_DIR      where the SQLite store lives (default: ./var in this checkout)
#   QUNLIAN_DATABASE_URL  use PostgreSQL instead, e.g. postgresql+psycopg://user@host/db
#   REGENERATE_DEMO=1     rebuild the demo county even if the store already has firms
#   DEMO_CITY=1           the 嘉兴-level demo instead: 平湖 and the invented 秀水县（演示）, root 嘉兴
set -euo pipefail
cd "$(dirname "$0")/.."
export QUNLIAN_DATA_DIR=${QUNLIAN_DATA_DIR:-$PWD/var}

bash scripts/setup.sh
Q=.venv/bin/qunlian

$Q init
DEMO_ARGS=()
[[ "${DEMO_CITY:-0}" == 1 ]] && DEMO_ARGS+=(--city)
if [[ "${REGENERATE_DEMO:-0}" == 1 ]]; then
  $Q demo "${DEMO_ARGS[@]}"
else
  $Q demo --if-empty "${DEMO_ARGS[@]}"   # keeps a store that already holds firms (yours or an earlier demo)
fi
echo
echo "==> 打开 / open  http://${HOST:-127.0.0.1}:${PORT:-8000}/"
exec $Q serve --host "${HOST:-127.0.0.1}" --port "${PORT:-8000}"
