#!/usr/bin/env bash
# Warm start, side by side: `make dev` (nothing changed since the last run)
# against `serverless offline` serving the same kind of API (a public route
# and a JWT-protected one), each timed from the command to its first 200 on
# GET /public, interleaved over ROUNDS rounds. The peer is installed once in
# .local/peer from the npm registry (serverless 3.40.0, serverless-offline
# 13.10.1; it starts only with --ignoreJWTSignature). Run `make startup`.
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${ROUNDS:-5}
root=$PWD
now() { date +%s.%N; }
. scripts/peer.sh
peer_service http://127.0.0.1:4000/
export -f peer_offline
export peer

# first200 CMD... runs a command in the background and prints the seconds
# until GET $url answers 200, then stops it.
first200() {
  local url=$1; shift
  local start end pid
  start=$(now)
  setsid bash -c '"$@"' _ "$@" >"$root/.local/startup-run.log" 2>&1 &
  pid=$!
  for _ in $(seq 1 3000); do
    curl -sf "$url" >/dev/null 2>&1 && break
    kill -0 $pid 2>/dev/null || { cat "$root/.local/startup-run.log" >&2; exit 1; }
    sleep 0.01
  done
  end=$(now)
  kill -INT -- -$pid 2>/dev/null; wait $pid 2>/dev/null || true
  echo "$end - $start" | bc
}

echo "==> warming up: one make dev (builds jwtapi, synthesizes if the app changed)"
a=$(port)
first200 "http://127.0.0.1:$a/public" make -s dev ADDR=127.0.0.1:$a >/dev/null
ours=() theirs=()
for i in $(seq 1 "$ROUNDS"); do
  a=$(port); b=$(port); c=$(port)
  ours+=("$(first200 "http://127.0.0.1:$a/public" make -s dev ADDR=127.0.0.1:$a)")
  theirs+=("$(first200 "http://127.0.0.1:$b/public" peer_offline $b $c)")
  echo "round $i: make dev ${ours[-1]} s, serverless offline ${theirs[-1]} s"
done
range() { printf '%s\n' "$@" | sort -n | sed -n '1p;$p' | paste -sd- ; }
echo "make dev (warm):      $(range "${ours[@]}") s to the first 200"
echo "serverless offline:   $(range "${theirs[@]}") s to the first 200"
