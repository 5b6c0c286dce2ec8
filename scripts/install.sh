#!/usr/bin/env bash
# Install edge-agent on Raspberry Pi OS / Debian, or remove it.
#
#   sudo scripts/install.sh                  install or upgrade (idempotent)
#   sudo scripts/install.sh --uninstall      remove the program and the unit; keep config and state
#   sudo scripts/install.sh --uninstall --purge   remove config, state and the edge-agent user too
#
# Options: --root DIR     install into DIR instead of / (a throwaway root for tests or image builds;
#                         systemctl is not called then)
#          --source DIR   the edge-agent checkout to install (default: the one this script is in)
#          --pip-arg ARG  extra argument for pip (repeatable), e.g. --pip-arg --no-index --pip-arg --find-links=DIR
#          --extra NAME   install an optional part too (repeatable): opencv (USB/V4L2 cameras, video files),
#                         litert (LiteRT beside tflite-runtime on Python 3.11)
#
# Layout: program in /opt/edge-agent/venv (made with --system-site-packages, so Raspberry Pi OS's
# python3-picamera2 is visible), the command linked as /usr/local/bin/edge-agent, config in /etc/edge-agent (config/edge-agent.toml: real premises, remediation
# in dry-run, device_id from the machine; never config/demo.toml; a changed config is never overwritten),
# state in /var/lib/edge-agent, unit in /etc/systemd/system, polkit rule in /etc/polkit-1/rules.d.
set -euo pipefail

root=/
source_dir=$(cd "$(dirname "$0")/.." && pwd)
action=install
purge=0
pip_args=()
extras=()
while [ $# -gt 0 ]; do
    case "$1" in
        --root) root=$2; shift 2 ;;
        --source) source_dir=$2; shift 2 ;;
        --pip-arg) pip_args+=("$2"); shift 2 ;;
        --extra) extras+=("$2"); shift 2 ;;
        --uninstall) action=uninstall; shift ;;
        --purge) purge=1; shift ;;
        -h|--help) sed -n '2,20p' "$0"; exit 0 ;;
        *) echo "install.sh: unknown option $1 (see --help)" >&2; exit 64 ;;
    esac
done
[ "$purge" = 1 ] && [ "$action" != uninstall ] && { echo "install.sh: --purge goes with --uninstall" >&2; exit 64; }

root=${root%/}
opt="$root/opt/edge-agent"
etc="$root/etc/edge-agent"
state="$root/var/lib/edge-agent"
unit="$root/etc/systemd/system/edge-agent.service"
polkit="$root/etc/polkit-1/rules.d/50-edge-agent.rules"
command_link="$root/usr/local/bin/edge-agent"
program=/opt/edge-agent/venv/bin/edge-agent   # as the installed system sees it (the link's target)
on_this_system() { [ -z "$root" ]; }   # --root / or none: the running system, where systemctl applies
say() { echo "edge-agent install: $*"; }

systemctl_if_live() {
    if on_this_system && [ -d /run/systemd/system ]; then systemctl "$@"; fi
}

ensure_account() {
    local prefix=()
    on_this_system || prefix=(--prefix "$root")
    if ! grep -q '^edge-agent:' "$root/etc/group"; then
        groupadd "${prefix[@]}" --system edge-agent
        say "created group edge-agent (add technicians to it for the CLI)"
    fi
    if ! grep -q '^edge-agent:' "$root/etc/passwd"; then
        useradd "${prefix[@]}" --system --gid edge-agent --no-create-home --home-dir /var/lib/edge-agent \
            --shell /usr/sbin/nologin --comment "edge-agent" edge-agent
        say "created user edge-agent"
    fi
}

owner_ids() {  # uid:gid of edge-agent inside the (possibly throwaway) root
    local uid gid
    uid=$(awk -F: '$1 == "edge-agent" {print $3}' "$root/etc/passwd")
    gid=$(awk -F: '$1 == "edge-agent" {print $3}' "$root/etc/group")
    echo "$uid:$gid"
}

install_program() {
    mkdir -p "$opt"
    if [ ! -x "$opt/venv/bin/python" ]; then
        python3 -m venv --system-site-packages "$opt/venv"
    fi
    local spec="$source_dir"
    if [ ${#extras[@]} -gt 0 ]; then spec="$source_dir[$(IFS=,; echo "${extras[*]}")]"; fi
    "$opt/venv/bin/python" -m pip install --quiet --upgrade "${pip_args[@]}" "$spec" 2>&1 \
        | grep -v '^WARNING: Location' || true
    "$opt/venv/bin/edge-agent" --version >/dev/null
    cp "$source_dir/README.md" "$opt/README.md"
    cp "$source_dir/systemd/README.md" "$opt/systemd-README.md"   # the unit's Documentation= names both
    rm -rf "$opt/models" && cp -r "$source_dir/models" "$opt/models"  # the on-device models and their metadata
    say "installed $("$opt/venv/bin/edge-agent" --version)${extras:+ with ${extras[*]}} in $opt/venv"
    link_command
}

link_command() {
    # `edge-agent` on PATH, sudo's included (its secure_path has /usr/local/bin); never over someone else's file.
    mkdir -p "$(dirname "$command_link")"
    if [ ! -e "$command_link" ] && [ ! -L "$command_link" ]; then
        ln -s "$program" "$command_link"
    elif [ "$(readlink "$command_link")" != "$program" ]; then
        say "left $command_link alone (not ours); the command is $program"
    fi
}

install_config() {
    mkdir -p "$etc"
    local shipped="$source_dir/config/edge-agent.toml"   # the production file; config/demo.toml is the demo's
    local previous="$opt/edge-agent.toml.shipped"         # the default the last install wrote
    if [ ! -e "$etc/edge-agent.toml" ]; then
        install -m 0640 "$shipped" "$etc/edge-agent.toml"
        say "wrote $etc/edge-agent.toml"
    elif cmp -s "$shipped" "$etc/edge-agent.toml"; then
        :
    elif [ -f "$previous" ] && cmp -s "$previous" "$etc/edge-agent.toml"; then
        # The last default, never edited: an upgrade brings the new one rather than a .dist nobody asked for.
        install -m 0640 "$shipped" "$etc/edge-agent.toml"
        say "updated $etc/edge-agent.toml to the new default (it was the old default, unchanged)"
    else
        # Never overwrite what an operator changed: leave the new default beside it.
        install -m 0640 "$shipped" "$etc/edge-agent.toml.dist"
        say "kept your $etc/edge-agent.toml; the new default is edge-agent.toml.dist"
    fi
    install -m 0644 "$shipped" "$previous"
    chown "root:$(owner_ids | cut -d: -f2)" "$etc" "$etc/edge-agent.toml"
    chmod 0750 "$etc"
    mkdir -p "$state"
    chown "$(owner_ids)" "$state"
    chmod 0750 "$state"
}

refuse_an_upgrade_that_breaks_the_config() {
    # An upgrade whose agent would refuse the kept config would stop a working gateway at the restart. Check the
    # file with the new code before anything changes; refuse only where the installed agent still accepts it
    # (a config that is already wrong is said below, as before).
    [ -x "$opt/venv/bin/edge-agent" ] && [ -f "$etc/edge-agent.toml" ] || return 0
    local status=0
    PYTHONPATH="$source_dir" EDGE_AGENT_MODELS_DIR="$source_dir/models" "$opt/venv/bin/python" -m edge_agent \
        config check "$etc/edge-agent.toml" >/dev/null || status=$?
    [ "$status" = 78 ] || return 0   # valid, or the new code cannot run in the old venv: pip decides below
    if EDGE_AGENT_MODELS_DIR="$opt/models" "$opt/venv/bin/edge-agent" config check "$etc/edge-agent.toml" \
            >/dev/null 2>&1; then
        echo "install.sh: the new edge-agent would refuse $etc/edge-agent.toml (the problems above), which the" \
             "installed one runs with: nothing was changed and the running agent keeps going. Fix the file," \
             "then run install.sh again." >&2
        exit 78
    fi
}

check_config() {
    # An upgrade may bound what an older agent accepted: say so now rather than at the restart.
    if EDGE_AGENT_MODELS_DIR="$opt/models" "$opt/venv/bin/edge-agent" config check "$etc/edge-agent.toml" \
            >/dev/null; then
        say "$etc/edge-agent.toml is valid"
    else
        say "warning: $etc/edge-agent.toml has the problems above; fix them before the agent starts"
    fi
}

install_unit() {
    mkdir -p "$(dirname "$unit")" "$(dirname "$polkit")"
    install -m 0644 "$source_dir/systemd/edge-agent.service" "$unit"
    install -m 0644 "$source_dir/systemd/50-edge-agent.rules" "$polkit"
    systemctl_if_live daemon-reload
    systemctl_if_live enable --now edge-agent.service
    systemctl_if_live restart edge-agent.service   # an upgrade runs the new code
    if on_this_system && [ ! -d /run/systemd/system ]; then
        say "systemd is not running here (a container or chroot): the unit is installed but not started"
    fi
}

uninstall() {
    systemctl_if_live disable --now edge-agent.service || true
    rm -f "$unit" "$polkit"
    if [ "$(readlink "$command_link" 2>/dev/null)" = "$program" ]; then rm -f "$command_link"; fi
    systemctl_if_live daemon-reload
    rm -rf "$opt"
    say "removed the program and the unit"
    if [ "$purge" = 1 ]; then
        rm -rf "$etc" "$state"
        local prefix=()
        on_this_system || prefix=(--prefix "$root")
        if grep -q '^edge-agent:' "$root/etc/passwd"; then userdel "${prefix[@]}" edge-agent; fi
        if grep -q '^edge-agent:' "$root/etc/group"; then groupdel "${prefix[@]}" edge-agent; fi
        say "purged config, state and the edge-agent user"
    else
        say "kept $etc and $state (--purge removes them)"
    fi
}

if [ "$(id -u)" != 0 ]; then
    echo "install.sh: run as root (sudo)" >&2
    exit 77
fi
if [ "$action" = uninstall ]; then
    uninstall
    exit 0
fi
# Before anything is created: a Python too old or without venv would fail later in pip's or venv's words.
if ! python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
    echo "install.sh: edge-agent needs Python 3.11 or later; python3: $(python3 -V 2>/dev/null || echo not found)" >&2
    exit 69
fi
if [ ! -x "$opt/venv/bin/python" ] && ! python3 -c 'import ensurepip' 2>/dev/null; then
    echo "install.sh: python3 cannot create a venv: sudo apt-get install python3-venv" >&2
    exit 69
fi
refuse_an_upgrade_that_breaks_the_config
ensure_account
install_program
install_config
check_config
install_unit
cat <<EOF
edge-agent install: done. Check it with
    systemctl status edge-agent          # running, and its STATUS line (open issues)
    journalctl -u edge-agent -f          # its log
    sudo edge-agent status               # or as a member of group edge-agent, without sudo
Edit /etc/edge-agent/edge-agent.toml (device_id, [mqtt]), then
    sudo edge-agent config check /etc/edge-agent/edge-agent.toml && sudo systemctl reload edge-agent
EOF
