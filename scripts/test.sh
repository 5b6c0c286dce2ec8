#!/usr/bin/env bash
# The whole test suite. As root it first installs the Debian packages the integration tests use
# (mosquitto, dnsmasq, hostapd, iproute2) when they are missing; elsewhere those tests skip and say why.
set -euo pipefail
cd "$(dirname "$0")/.."
needed=(mosquitto dnsmasq-base hostapd iproute2)
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    missing=()
    for pkg in "${needed[@]}"; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
    done
    if [ ${#missing[@]} -gt 0 ]; then
        echo "installing ${missing[*]}"
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    fi
fi
scripts/setup-venv.sh dev
exec .venv/bin/python -m pytest "$@"
