#!/usr/bin/env bash
# `npm test`: every check and test of the project, installing what it needs.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/ensure-tools.sh
ensure_python_tools
ensure_node_modules

echo "==> cargo fmt --check"
cargo fmt --all -- --check
echo "==> cargo clippy"
cargo clippy --workspace --all-targets --locked -- -D warnings
echo "==> cargo test (unit, property, handler, emulator end to end)"
cargo test --workspace --locked

echo "==> the page in Chromium (Playwright, against the emulator)"
ensure_chromium
npm run --silent test:browser

echo "==> CDK: typecheck, assertions, cdk-nag, real bundle, synth + cfn-lint"
npm run --silent test:cdk
