#!/usr/bin/env bash
# Installs, once and idempotently, what `npm start` and `npm test` need beyond
# Rust, Node.js and Python 3. Source it, then call what you need:
#   ensure_python_tools  cargo-lambda and zig (build), cfn-lint and checkov
#                        (template checks), botocore (the tests' SigV4
#                        verifier) from PyPI into ./.venv, .venv/bin first on PATH
#   ensure_node_modules  the npm packages in package-lock.json (npm ci)
#   ensure_chromium      Debian's Chromium at /usr/bin/chromium (apt-get, as
#                        root or through sudo), for the page's browser tests;
#                        SSE_CHROMIUM set to another Chromium's path skips it

tools_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# Pinned; change them here and every machine refreshes its .venv on next use.
# botocore at the version checkov's boto3 pins, so pip resolves one set.
python_tools="cargo-lambda==1.9.2 ziglang==0.17.1 cfn-lint==1.58.0 checkov==3.3.30 botocore==1.35.99"

ensure_python_tools() {
  local venv="$tools_root/.venv"
  # The stamp names the folder too: a venv's scripts start with its absolute
  # path, so one moved or restored elsewhere (a build cache) must be remade.
  local stamp="$python_tools $venv"
  if [[ ! -x "$venv/bin/cargo-lambda" || "$(cat "$venv/.tools" 2>/dev/null)" != "$stamp" ]]; then
    echo "==> installing $python_tools into .venv (one time)" >&2
    python3 -m venv --clear "$venv"
    # shellcheck disable=SC2086 # the list is meant to split into arguments
    "$venv/bin/pip" install --quiet --disable-pip-version-check $python_tools
    echo "$stamp" >"$venv/.tools"
  fi
  # cargo-lambda finds zig through `python3 -m ziglang`, so the venv's python
  # must come first on PATH.
  export PATH="$venv/bin:$PATH"
  export VIRTUAL_ENV="$venv"
}

ensure_node_modules() {
  [[ -f "$tools_root/package-lock.json" ]] || return 0
  if [[ ! -f "$tools_root/node_modules/.package-lock.json" ||
        "$tools_root/package-lock.json" -nt "$tools_root/node_modules/.package-lock.json" ]]; then
    echo "==> installing npm packages (npm ci)" >&2
    (cd "$tools_root" && npm ci --no-audit --no-fund --loglevel=error)
  fi
}

ensure_chromium() {
  # SSE_CHROMIUM names another Chromium (a build image without Debian's).
  if [[ -n "${SSE_CHROMIUM:-}" ]]; then
    [[ -x "$SSE_CHROMIUM" ]] || { echo "SSE_CHROMIUM=$SSE_CHROMIUM is not an executable" >&2; return 1; }
    return 0
  fi
  [[ -x /usr/bin/chromium ]] && return 0
  echo "==> installing Debian's chromium (one time; the page's browser tests drive it)" >&2
  local sudo=()
  [[ "$(id -u)" == 0 ]] || sudo=(sudo)
  "${sudo[@]}" apt-get install -y --no-install-recommends chromium >/dev/null ||
    { "${sudo[@]}" apt-get update >/dev/null && "${sudo[@]}" apt-get install -y --no-install-recommends chromium >/dev/null; } ||
    { echo "could not install chromium: install Debian's chromium package (/usr/bin/chromium), then run again" >&2; return 1; }
}
