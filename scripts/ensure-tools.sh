#!/usr/bin/env bash
# Installs, once and idempotently, what `npm start` and `npm test` need beyond
# Rust, Node.js and Python 3. Source it, then call what you need:
#   ensure_python_tools  cargo-lambda and zig (build), cfn-lint and checkov
#                        (template checks), botocore (the tests' SigV4
#                        verifier) from PyPI into ./.venv, .venv/bin first on PATH
#   ensure_node_modules  the npm packages in package-lock.json (npm ci)

tools_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# Pinned; change them here and every machine refreshes its .venv on next use.
# botocore at the version checkov's boto3 pins, so pip resolves one set.
python_tools="cargo-lambda==1.9.2 ziglang==0.17.1 cfn-lint==1.58.0 checkov==3.3.30 botocore==1.35.99"

ensure_python_tools() {
  local venv="$tools_root/.venv"
  if [[ ! -x "$venv/bin/cargo-lambda" || "$(cat "$venv/.tools" 2>/dev/null)" != "$python_tools" ]]; then
    echo "==> installing $python_tools into .venv (one time)" >&2
    python3 -m venv "$venv"
    # shellcheck disable=SC2086 # the list is meant to split into arguments
    "$venv/bin/pip" install --quiet --disable-pip-version-check $python_tools
    echo "$python_tools" >"$venv/.tools"
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
