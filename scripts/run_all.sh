#!/usr/bin/env bash
# Start the action server, the Rasa server (REST + socket.io) and the demo web page.
# Ctrl-C (or any of them dying) stops all three.
set -u
ACTION_PORT=${ACTION_PORT:-5055}
RASA_PORT=${RASA_PORT:-5005}
WEB_PORT=${WEB_PORT:-8080}
MODEL=${MODEL:-models/headache-faq.tar.gz}
VENV=${VENV:-.venv}
# Connector secrets and other settings from .env, if there is one (see .env.example).
if [ -f .env ]; then set -a; . ./.env; set +a; fi
# The demo page may open the chat (the widget channel's origin allow-list, channels/socketio.py).
export WEBCHAT_ALLOWED_ORIGINS=${WEBCHAT_ALLOWED_ORIGINS:-http://localhost:$WEB_PORT,http://127.0.0.1:$WEB_PORT}
mkdir -p var/log

pids=()
stop_all() {
  trap - INT TERM EXIT
  echo; echo "stopping..."
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null; done
  wait 2>/dev/null
  echo "stopped."
}
trap stop_all INT TERM EXIT

"$VENV/bin/rasa" run actions --actions actions --port "$ACTION_PORT" > var/log/actions.log 2>&1 &
pids+=($!)
"$VENV/bin/rasa" run --model "$MODEL" --port "$RASA_PORT" --endpoints endpoints.yml \
  --credentials credentials.yml --cors "http://localhost:$WEB_PORT" "http://127.0.0.1:$WEB_PORT" \
  > var/log/rasa.log 2>&1 &
pids+=($!)
"$VENV/bin/python" scripts/serve_web.py --port "$WEB_PORT" --rasa-url "http://localhost:$RASA_PORT" \
  > var/log/web.log 2>&1 &
pids+=($!)

echo "starting (the Rasa server needs about 20-40 s to load the model)..."
for _ in $(seq 1 180); do
  if curl -fs "http://127.0.0.1:$RASA_PORT/" >/dev/null 2>&1 && curl -fs "http://127.0.0.1:$ACTION_PORT/health" >/dev/null 2>&1; then
    break
  fi
  for pid in "${pids[@]}"; do
    if ! kill -0 "$pid" 2>/dev/null; then echo "a server exited; see var/log/*.log"; tail -20 var/log/*.log; exit 1; fi
  done
  sleep 1
done
cat <<MSG

  Action server   http://localhost:$ACTION_PORT  (log: var/log/actions.log)
  Rasa server     http://localhost:$RASA_PORT    REST: POST /webhooks/rest/webhook, socket.io: /socket.io (log: var/log/rasa.log)
  Demo web page   http://localhost:$WEB_PORT     (chat widget; log: var/log/web.log)
  Messaging apps  Telegram, Slack, Messenger, Twilio: off unless their secrets are set (.env.example, docs/channels.md)
  Clinic staff    make shell (greets; shows the [staff] answer inspector)

  Try: curl -s -XPOST localhost:$RASA_PORT/webhooks/rest/webhook -d '{"sender":"me","message":"what is dry needling?"}'
  Press Ctrl-C to stop all three.
MSG
wait -n "${pids[@]}"
echo "a server exited; see var/log/*.log"
