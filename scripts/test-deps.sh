#!/usr/bin/env bash
# Installs the real services the Rust suites start themselves: redis-server (the Redis
# stores' tests run one on a Unix socket in a temporary directory, never on a TCP port).
# Installs through apt-get only when running as root; otherwise says what is missing.
set -euo pipefail

if ! command -v redis-server > /dev/null; then
    if [[ $(id -u) -eq 0 ]] && command -v apt-get > /dev/null; then
        echo "test-deps.sh: installing redis-server" >&2
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >&2
        # The distribution's service is not needed: the tests start their own.
        if command -v systemctl > /dev/null; then systemctl disable --now redis-server > /dev/null 2>&1 || true; fi
    fi
    command -v redis-server > /dev/null || {
        echo "test-deps.sh: redis-server is missing; install it (Debian/Ubuntu: apt-get install redis-server)" >&2
        exit 1
    }
fi
