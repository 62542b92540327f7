#!/usr/bin/env bash
# Porter's main job: the everyday container flow on a fresh machine. It sets the machine up,
# builds the busybox demo image, starts a porter-registry holding it and a porterd, then runs
# containers from the registry with the `porter` CLI (the image is pulled because porterd does
# not have it yet), shows `porter ps -a`, `porter logs` and `porter exec`, and removes
# everything it started, on failure too.
#   bash scripts/demo.sh        (as root on Debian 12; everything lands in ./demo,
#                                or in $DEMO_DIR when that is set)
#
# porterd and the registry run inside a network and mount namespace the script makes, so the
# demo never meets a system porterd, its bridge or its rules: porterd has its own data root,
# exec root and socket under the demo folder, the registry listens on the namespace's
# 127.0.0.1:5000, and the containers get addresses on porterd's default bridge network there.
# The `porter` CLI runs on the host and reaches porterd through its socket.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf '\n==> %s\n' "$*"; }
show() {  # show COMMAND...: print it as a person would type it, then run it
    local line="\$" word
    for word in "$@"; do
        case "$word" in
            *[[:space:]\$\"\(]*) line+=" '$word'" ;;
            *) line+=" $word" ;;
        esac
    done
    printf '%s\n' "$line"
    "$@"
}

if [ "$(id -u)" != 0 ]; then
    echo "$0: porterd runs containers and namespaces: run this as root" >&2
    exit 1
fi

say "setting up (apt packages, .venv)"
bash scripts/setup.sh
bin="$PWD/.venv/bin"
export PATH="$bin:$PATH"
demo="${DEMO_DIR:-demo}"
mkdir -p "$demo"
demo="$(cd "$demo" && pwd)"
rm -rf "${demo:?}"/*

port=5000
image="127.0.0.1:$port/busybox"
export PORTER_HOST="unix://$demo/porterd.sock"
export PORTER_CONFIG="$demo/porter-config"  # the demo's own CLI settings, not the user's
holder=""
registry_pid=""
porterd_pid=""

in_namespace() { nsenter --target="$holder" --net --mount -- "$@"; }

cleanup() {
    status=$?
    trap - EXIT INT TERM
    set +e
    say "cleaning up"
    if [ -n "$porterd_pid" ] && kill -0 "$porterd_pid" 2>/dev/null; then
        ids="$(porter ps -aq 2>/dev/null)"
        # shellcheck disable=SC2086  # one word per container id
        [ -n "$ids" ] && porter rm -f $ids >/dev/null && echo "containers removed"
        kill "$porterd_pid" && wait "$porterd_pid" 2>/dev/null
        echo "porterd stopped"
    fi
    # conmon (and so a container) outlives porterd by design; whatever porterd could not
    # remove is killed from its pid files.
    for pidfile in "$demo"/exec/containers/*/*.pid; do
        [ -f "$pidfile" ] && kill -9 "$(cat "$pidfile")" 2>/dev/null
    done
    if [ -n "$registry_pid" ]; then
        kill "$registry_pid" 2>/dev/null && wait "$registry_pid" 2>/dev/null
        echo "porter-registry stopped"
    fi
    if [ -n "$holder" ]; then
        # Every process left in the namespace, then its holder: the namespace goes, and with
        # it the bridge, the rules and the overlay mounts porterd made there.
        netns="$(readlink "/proc/$holder/ns/net")"
        for proc in /proc/[0-9]*; do
            pid="${proc#/proc/}"
            if [ "$pid" != "$holder" ] && [ "$(readlink "$proc/ns/net" 2>/dev/null)" = "$netns" ]; then
                kill -9 "$pid" 2>/dev/null
            fi
        done
        kill "$holder" 2>/dev/null && wait "$holder" 2>/dev/null
        echo "network and mount namespace removed"
    fi
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

say "building the demo image $demo/layout:busybox from Debian's busybox-static"
SOURCE_DATE_EPOCH=0 bash scripts/make-busybox-image.sh "$demo/layout:busybox" >/dev/null
show porter-image validate "$demo/layout:busybox"

say "a network and mount namespace for porterd and the registry"
unshare --net --mount --propagation private sleep infinity </dev/null &
holder=$!
for _ in $(seq 50); do
    [ "$(readlink "/proc/$holder/ns/net")" != "$(readlink /proc/self/ns/net)" ] && break
    sleep 0.1
done
in_namespace ip link set lo up
echo "held by pid $holder"

wait_until() {  # wait_until WHAT PID COMMAND...: until COMMAND succeeds, while PID lives
    local what="$1" pid="$2"
    shift 2
    for _ in $(seq 600); do
        "$@" >/dev/null 2>&1 && return 0
        if ! kill -0 "$pid" 2>/dev/null; then
            echo "$what exited; its log:" >&2
            cat "$demo/$what.log" >&2
            return 1
        fi
        sleep 0.1
    done
    echo "$what did not become ready" >&2
    return 1
}

say "porter-registry on 127.0.0.1:$port, holding the demo image as $image"
in_namespace porter-registry serve --listen "127.0.0.1:$port" --data "$demo/registry" \
    >"$demo/porter-registry.log" 2>&1 &
registry_pid=$!
wait_until porter-registry "$registry_pid" \
    in_namespace busybox wget -q -O /dev/null "http://127.0.0.1:$port/v2/"
show in_namespace porter-image copy "oci:$demo/layout:busybox" "docker://$image:latest"

say "porterd (data root $demo/data, exec root $demo/exec, socket $demo/porterd.sock)"
echo '{}' >"$demo/daemon.json"
in_namespace porterd --data-root "$demo/data" --exec-root "$demo/exec" \
    -H "$PORTER_HOST" --pidfile "$demo/porterd.pid" --config-file "$demo/daemon.json" \
    >"$demo/porterd.log" 2>&1 &
porterd_pid=$!
wait_until porterd "$porterd_pid" porter version

say "porter run: porterd has no image yet, so it pulls $image first"
show porter run --name porter-demo-hello --hostname porter-demo "$image" \
    sh -c 'set -- $(ip -4 -o addr show eth0); echo "hello from busybox, pid $$, host $(hostname), address $4"'

say "porter run -d: a container that keeps running"
show porter run -d --name porter-demo-sleeper "$image" sleep 3600

say "porter ps -a: one container exited, one running"
show porter ps -a

say "porter logs: what the first container wrote, kept after it exited"
show porter logs porter-demo-hello

say "porter exec: a second process in the running container"
show porter exec porter-demo-sleeper ps

say "porter images"
show porter images

say "done; interactively, with porterd and a registry of your own:"
echo "    porter run -it localhost:5000/busybox sh"
