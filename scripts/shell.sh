#!/usr/bin/env bash
# Clinic staff: talk to the bot in the terminal with the action server running.
# Rasa's shell does not greet by itself, so the conversation starts with /greet.
set -u
ACTION_PORT=${ACTION_PORT:-5055}
MODEL=${MODEL:-models/headache-faq.tar.gz}
VENV=${VENV:-.venv}
mkdir -p var/log
"$VENV/bin/rasa" run actions --actions actions --port "$ACTION_PORT" > var/log/actions-shell.log 2>&1 &
action_pid=$!
trap 'kill $action_pid 2>/dev/null' EXIT INT TERM
for _ in $(seq 1 60); do curl -fs "http://127.0.0.1:$ACTION_PORT/health" >/dev/null 2>&1 && break; sleep 1; done
"$VENV/bin/rasa" shell --model "$MODEL" --endpoints endpoints.yml --conversation-id "staff-$(date +%s)" \
  --skip-update-check 2>/dev/null || true
