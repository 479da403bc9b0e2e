#!/usr/bin/env bash
# Takes a headless-Chromium screenshot of TensorBoard's HParams dashboard for a sweep folder, for
# the README (not run in CI). Starts the venv's TensorBoard on a free loopback port, waits until
# it lists the sweep's runs, screenshots http://127.0.0.1:PORT/#hparams, and stops the server by
# its pid (also on failure).
#
#   scripts/tb-screenshot.sh [SWEEP_DIR] [OUT_PNG] [VIEW]
#     SWEEP_DIR  default experiments/quick (its tb/ folder is served)
#     OUT_PNG    default docs/src/tensorboard-hparams.png
#     VIEW       a dashboard anchor, default hparams (also: scalars, images, histograms, text)
#   WINDOW=1600,900 sets the window size.
#
# Needs Chromium (as root on Debian: apt-get install -y chromium) and scripts/setup.sh's venv.
set -euo pipefail
cd "$(dirname "$0")/.."
sweep=${1:-experiments/quick}
out=${2:-docs/src/tensorboard-hparams.png}
view=${3:-hparams}
logdir="$sweep/tb"
[ -d "$logdir" ] || { echo "error: $logdir does not exist: run a sweep first" >&2; exit 1; }
[ -x .venv/bin/tensorboard ] || { echo "error: .venv/bin/tensorboard is missing: run scripts/setup.sh" >&2; exit 1; }
chrome=$(command -v chromium || command -v chromium-browser || command -v google-chrome || true)
[ -n "$chrome" ] || { echo "error: no Chromium found (apt-get install -y chromium)" >&2; exit 1; }

port=$(.venv/bin/python -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
log=$(mktemp)
profile=$(mktemp -d)
.venv/bin/tensorboard --logdir "$logdir" --host 127.0.0.1 --port "$port" >"$log" 2>&1 &
tb_pid=$!
cleanup() {
    kill "$tb_pid" 2>/dev/null || true
    wait "$tb_pid" 2>/dev/null || true
    rm -rf "$profile" "$log"
}
trap cleanup EXIT

# Ready when the hparams plugin answers with at least one session group.
for _ in $(seq 1 120); do
    if curl -sf -X POST -H 'Content-Type: application/json' -H 'X-XSRF-Protected: 1' \
        -d '{"experimentName":"","allowedStatuses":["STATUS_SUCCESS"],"colParams":[],"startIndex":0,"sliceSize":1}' \
        "http://127.0.0.1:$port/data/plugin/hparams/session_groups" | grep -q '"sessions"'; then
        break
    fi
    kill -0 "$tb_pid" 2>/dev/null || { cat "$log" >&2; exit 1; }
    sleep 1
done

mkdir -p "$(dirname "$out")"
"$chrome" --headless --no-sandbox --disable-gpu --disable-dev-shm-usage \
    --disable-background-networking --disable-component-update --disable-sync --no-first-run \
    --user-data-dir="$profile" --hide-scrollbars --window-size="${WINDOW:-1600,900}" \
    --virtual-time-budget=15000 --screenshot="$out" \
    "http://127.0.0.1:$port/#$view" 2>/dev/null
echo "wrote $out"
