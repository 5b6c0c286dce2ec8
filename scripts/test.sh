#!/usr/bin/env bash
# The whole test suite. As root it first installs the Debian packages the integration tests use
# (mosquitto, dnsmasq, hostapd, iproute2, iptables, openssl, postgresql, chromium) when they are missing; elsewhere
# those tests skip and say why.
set -euo pipefail
cd "$(dirname "$0")/.."
needed=(mosquitto dnsmasq-base hostapd wpasupplicant iproute2 iptables openssl postgresql chromium)
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
# The official AsyncAPI 3.0 JSON Schema, to validate docs/asyncapi.yaml; without npm that one test skips.
spec_dir=.cache/asyncapi-specs
if [ ! -f "$spec_dir/package/schemas/3.0.0-without-\$id.json" ] && command -v npm >/dev/null; then
    mkdir -p "$spec_dir"
    (cd "$spec_dir" && npm pack --silent @asyncapi/specs@6.11.1 >/dev/null && tar xzf asyncapi-specs-6.11.1.tgz) \
        || echo "could not fetch @asyncapi/specs; the AsyncAPI validation test will skip"
fi
# Four workers on two cores, each test file on one of them (a file's namespace bed or broker is set up once):
# most integration tests wait on real daemons, brokers and namespaces, not on the CPU. `-n 0` in the
# arguments runs everything in this process instead.
exec .venv/bin/python -m pytest -n 4 --dist loadfile "$@"
