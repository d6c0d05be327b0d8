#!/usr/bin/env bash
# Set up a working copy: Python virtual environment, the package, and the web assets.
#   scripts/setup.sh          runtime only
#   scripts/setup.sh --dev    plus test tools and the browser used by the UI tests
set -euo pipefail
cd "$(dirname "$0")/.."

dev=0
[[ "${1:-}" == "--dev" ]] && dev=1

PYTHON=${PYTHON:-python3}
if ! "$PYTHON" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' 2>/dev/null; then
  echo "需要 Python ≥ 3.11 / qunlian needs Python 3.11 or newer (found: $("$PYTHON" --version 2>&1))" >&2
  exit 1
fi

if [[ ! -x .venv/bin/python ]]; then
  echo "==> 创建虚拟环境 / creating .venv"
  "$PYTHON" -m venv .venv
fi
echo "==> 安装依赖 / installing qunlian and its dependencies"
.venv/bin/python -m pip install --quiet --upgrade pip
if [[ $dev == 1 ]]; then
  .venv/bin/python -m pip install --quiet -e '.[dev,spark]'
else
  .venv/bin/python -m pip install --quiet -e .
fi

# Web assets come from the npm registry, pinned in package-lock.json, and are served by the app
# itself (government intranets are offline: no CDN).
if [[ -f scripts/web-assets.sh ]]; then
  if command -v npm >/dev/null 2>&1; then
    echo "==> 安装网页资源 / installing web assets (npm ci)"
    bash scripts/web-assets.sh
  else
    echo "警告：未找到 npm，图表与交互脚本将不可用 / warning: npm not found, charts and HTMX will be missing" >&2
  fi
fi

if [[ $dev == 1 && ! -x /usr/bin/chromium ]]; then
  # UI tests drive Debian's Chromium through Playwright; never a downloaded browser.
  if [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null 2>&1; then
    echo "==> 安装 Chromium / installing Debian's chromium for the browser tests"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  else
    echo "提示：未安装 /usr/bin/chromium，浏览器测试将跳过 / note: no /usr/bin/chromium, browser tests will be skipped" >&2
  fi
fi
if [[ $dev == 1 ]] && ! fc-list 2>/dev/null | grep -qi "CJK"; then
  # Screenshots and PDF checks of Chinese pages need a CJK font in the test browser (users' own
  # browsers bring theirs; the app serves no web fonts).
  if [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null 2>&1; then
    echo "==> 安装中文字体 / installing fonts-noto-cjk for browser screenshots"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fonts-noto-cjk >/dev/null
  else
    echo "提示：未安装中文字体，浏览器截图中的汉字将显示为方框 / note: no CJK font, screenshots will show boxes" >&2
  fi
fi
if [[ $dev == 1 ]] && ! command -v java >/dev/null 2>&1; then
  # The Spark parity tests need Java 17 (pyspark itself comes from PyPI with the spark extra).
  if [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null 2>&1; then
    echo "==> 安装 Java 17 / installing openjdk-17-jre-headless for the Spark tests"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openjdk-17-jre-headless >/dev/null
  else
    echo "提示：未找到 java，Spark 对比测试将跳过 / note: no java, Spark parity tests will be skipped" >&2
  fi
fi
if [[ $dev == 1 ]] && ! command -v pg_dump >/dev/null 2>&1; then
  # qunlian backup / restore on PostgreSQL and their round-trip tests use pg_dump and pg_restore.
  if [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null 2>&1; then
    echo "==> 安装 PostgreSQL 客户端 / installing postgresql-client for backup and restore"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql-client >/dev/null
  else
    echo "提示：未找到 pg_dump，PostgreSQL 备份测试将失败 / note: no pg_dump, the PostgreSQL backup tests will fail" >&2
  fi
fi
echo "==> 完成 / setup done"
