#!/usr/bin/env bash
# Load-test the local gateway: GET /private with a valid token through the
# full path (JWT authorizer, Runtime API, the real handler), 32 connections,
# with wrk. Run it through `make load`, which builds jwtapi; the local
# stage is synthesized only if the app changed since the last `make dev`.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v wrk >/dev/null || { echo "error: wrk is not installed: apt-get install wrk (Debian/Ubuntu) or brew install wrk" >&2; exit 2; }
DURATION=${DURATION:-10s}
CONNECTIONS=${CONNECTIONS:-32}
THREADS=$(( CONNECTIONS < 2 ? 1 : 2 ))
ISSUER_ADDR=${ISSUER_ADDR:-127.0.0.1:4000}
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
addr=127.0.0.1:$(port)
log=$(mktemp)
trap 'kill -INT $pid 2>/dev/null; wait $pid 2>/dev/null; rm -f "$log"' EXIT
echo "==> starting jwtapi on $addr (issuer $ISSUER_ADDR)"
.local/bin/jwtapi dev --stage local -c "issuer=http://$ISSUER_ADDR/" -c "machinesIssuer=http://$ISSUER_ADDR/local_machines" --addr "$addr" --issuer-addr "$ISSUER_ADDR" --watch=false >"$log" 2>&1 &
pid=$!
for _ in $(seq 1 3000); do
  grep -q '^Ready in' "$log" 2>/dev/null && break
  kill -0 $pid 2>/dev/null || { cat "$log"; exit 1; }
  sleep 0.1
done
token=$(.local/bin/jwtapi token --issuer-addr "$ISSUER_ADDR" --scope read:user)
echo "==> warm-up, then wrk -t$THREADS -c$CONNECTIONS -d$DURATION on GET /private"
wrk -t"$THREADS" -c"$CONNECTIONS" -d2s -H "authorization: Bearer $token" "http://$addr/private" >/dev/null
wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency -H "authorization: Bearer $token" "http://$addr/private"
