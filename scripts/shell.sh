#!/usr/bin/env bash
# Clinic staff: talk to the bot in the terminal (`make shell`).
#
# - Starts a private action server with the staff answer inspector on
#   (STAFF_INSPECTOR=on: after each answer a "[staff] topic=... | confidence=...
#   | runner-up=... | source=... | reviewed=..." line). Set STAFF_INSPECTOR=off
#   to see exactly what visitors see.
# - Runs `rasa shell` (through channels/shell.py, which makes it greet first).
# - Uses free ports of its own, so it also works while `make run` is running.
set -u
MODEL=${MODEL:-models/headache-faq.tar.gz}
VENV=${VENV:-.venv}
ENDPOINTS=${ENDPOINTS:-endpoints.yml}
export STAFF_INSPECTOR=${STAFF_INSPECTOR:-on}
export RASA_TELEMETRY_ENABLED=${RASA_TELEMETRY_ENABLED:-false}
export TF_CPP_MIN_LOG_LEVEL=${TF_CPP_MIN_LOG_LEVEL:-3}
LOG_DIR=${LOG_DIR:-var/log}
mkdir -p "$LOG_DIR"

# Free ports and the endpoints file come from the harness the tests and benchmarks use.
free_port() { "$VENV/bin/python" -m scripts.servers free-port; }
SHELL_ACTION_PORT=${SHELL_ACTION_PORT:-$(free_port)}
SHELL_RASA_PORT=${SHELL_RASA_PORT:-$(free_port)}

workdir=$(mktemp -d)
action_pid=""
cleanup() {
  [ -n "$action_pid" ] && kill "$action_pid" 2>/dev/null && wait "$action_pid" 2>/dev/null
  rm -rf "$workdir"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# The project's endpoints (tracker store, ...) with this shell's action server.
"$VENV/bin/python" -m scripts.servers write-endpoints "$ENDPOINTS" "$workdir/endpoints.yml" "$SHELL_ACTION_PORT"

echo "starting the staff shell (answer inspector: $STAFF_INSPECTOR; the model takes 20-40 s to load)..."
"$VENV/bin/rasa" run actions --actions actions --port "$SHELL_ACTION_PORT" > "$LOG_DIR/actions-shell.log" 2>&1 &
action_pid=$!
healthy() { curl -fs "http://127.0.0.1:$SHELL_ACTION_PORT/health" >/dev/null 2>&1; }
for _ in $(seq 1 360); do
  healthy && break
  kill -0 "$action_pid" 2>/dev/null || break
  sleep 0.5
done
if ! healthy; then
  echo "the action server did not start; see $LOG_DIR/actions-shell.log"; tail -20 "$LOG_DIR/actions-shell.log"; exit 1
fi

"$VENV/bin/python" -m channels.shell --model "$MODEL" --endpoints "$workdir/endpoints.yml" \
  --port "$SHELL_RASA_PORT" --conversation-id "staff-$(date +%Y%m%d-%H%M%S)" \
  2>"$LOG_DIR/shell-rasa.log"
status=$?
[ "$status" -ne 0 ] && { echo "rasa shell exited with $status; see $LOG_DIR/shell-rasa.log"; tail -20 "$LOG_DIR/shell-rasa.log"; }
exit 0
