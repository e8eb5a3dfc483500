#!/usr/bin/env bash
# Install what the project needs on Debian/Ubuntu, once: PostgreSQL + PostGIS + pgRouting from
# Debian packages and a Python virtual environment (.venv) with the project in editable mode.
# With --browser also Chromium and CJK fonts for the browser tests.
# Safe to run again: it only installs what is missing or changed.
set -euo pipefail
cd "$(dirname "$0")/.."

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

apt_install() {
    echo "[bootstrap] apt-get install $*"
    if [ -z "${APT_UPDATED:-}" ]; then as_root apt-get update -qq; APT_UPDATED=1; fi
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

pg_version() { ls /usr/lib/postgresql 2>/dev/null | sort -n | tail -1; }

ensure_postgis() {
    if [ -z "$(pg_version)" ]; then apt_install postgresql; fi
    local version; version="$(pg_version)"
    local ext=/usr/share/postgresql/$version/extension
    local missing=()
    [ -f "$ext/postgis.control" ] || missing+=("postgresql-$version-postgis-3")
    [ -f "$ext/pgrouting.control" ] || missing+=("postgresql-$version-pgrouting")
    if [ ${#missing[@]} -gt 0 ]; then apt_install "${missing[@]}"; fi
}

ensure_browser() {
    # headless Chromium from Debian for the browser tests, and CJK fonts for Chinese labels
    local missing=()
    command -v chromium >/dev/null || missing+=(chromium)
    fc-list 2>/dev/null | grep -qi "wenquanyi\|noto sans cjk" || missing+=(fonts-wqy-microhei)
    if [ ${#missing[@]} -gt 0 ]; then apt_install "${missing[@]}"; fi
}

ensure_python() {
    local python=${PYTHON:-python3}
    if ! "$python" -c 'import sys, venv, ensurepip; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
        apt_install python3 python3-venv python3-dev
    fi
    [ -x .venv/bin/python ] || "$python" -m venv .venv
    local stamp; stamp=".venv/.installed-$(sha1sum pyproject.toml | cut -c1-12)"
    if [ ! -f "$stamp" ]; then
        echo "[bootstrap] installing Python packages into .venv"
        .venv/bin/python -m pip install -q --upgrade pip
        .venv/bin/python -m pip install -q -e '.[dev]'
        rm -f .venv/.installed-* && touch "$stamp"
    fi
}

ensure_postgis
if [ "${1:-}" = "--browser" ]; then ensure_browser; fi
ensure_python
echo "[bootstrap] ready: PostgreSQL $(pg_version) with PostGIS and pgRouting, .venv"
