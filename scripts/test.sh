#!/usr/bin/env bash
# One command that sets up and runs every test: first on SQLite, then on PostgreSQL.
#   QUNLIAN_TEST_POSTGRES_URL  PostgreSQL to test against
#                              (default postgresql+psycopg://postgres@127.0.0.1:5432/test)
#   CI=true                    PostgreSQL is required: an unreachable server fails the run
#   QUNLIAN_TEST_WORKERS       parallel pytest workers (default: one per core; 0 = no parallelism)
# Extra arguments go to pytest, e.g. scripts/test.sh tests/core -x
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh --dev
PY=.venv/bin/python
PG_URL=${QUNLIAN_TEST_POSTGRES_URL:-postgresql+psycopg://postgres@127.0.0.1:5432/test}
# The tests make their own stores; never touch a user's data directory.
export QUNLIAN_DATA_DIR=$(mktemp -d)
trap 'rm -rf "$QUNLIAN_DATA_DIR"' EXIT

# Tests are independent (each gets its own store); a file's tests stay on one worker so that its
# module fixtures (demo stores) are built once.
WORKERS=${QUNLIAN_TEST_WORKERS:-auto}
PARALLEL=()
[[ "$WORKERS" != 0 ]] && PARALLEL=(-n "$WORKERS" --dist loadfile)

echo "==> 测试（SQLite）/ tests on SQLite"
QUNLIAN_TEST_DATABASE_URL= $PY -m pytest "${PARALLEL[@]}" "$@"

if $PY - "$PG_URL" <<'PYEOF'
import sys
from sqlalchemy import create_engine, text
try:
    with create_engine(sys.argv[1]).connect() as c:
        c.execute(text("select 1"))
except Exception as exc:
    print(f"PostgreSQL unreachable: {exc.__class__.__name__}", file=sys.stderr)
    sys.exit(1)
PYEOF
then
  echo "==> 测试（PostgreSQL）/ tests on PostgreSQL"
  # Only the tests that open a store (marker "store", set in tests/conftest.py): the pure ones and
  # Spark parity (which reads no store) ran in the SQLite round already.
  QUNLIAN_TEST_DATABASE_URL=$PG_URL $PY -m pytest "${PARALLEL[@]}" -m "store and not spark" "$@"
elif [[ "${CI:-}" == "true" ]]; then
  echo "CI 需要 PostgreSQL：$PG_URL 无法连接 / CI needs PostgreSQL at $PG_URL" >&2
  exit 1
else
  echo "提示：PostgreSQL 不可用，已跳过 / note: PostgreSQL not reachable, its run was skipped" >&2
fi
