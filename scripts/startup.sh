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
peer=$root/.local/peer
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
now() { date +%s.%N; }

if [ ! -x "$peer/node_modules/.bin/serverless" ]; then
  echo "==> installing serverless 3.40.0 and serverless-offline 13.10.1 into .local/peer (once, about a minute)"
  mkdir -p "$peer"
  cat >"$peer/package.json" <<'JSON'
{"name":"peer","private":true,"devDependencies":{"serverless":"3.40.0","serverless-offline":"13.10.1"}}
JSON
  (cd "$peer" && npm install --no-audit --no-fund --loglevel=error >/dev/null)
fi
cat >"$peer/handler.js" <<'JS'
exports.hello = async () => ({ statusCode: 200, body: JSON.stringify({ message: "Hello stranger!" }) });
exports.priv = async (e) => ({ statusCode: 200, body: JSON.stringify({ message: "Hello " + e.requestContext.authorizer.jwt.claims.sub + "!" }) });
JS
cat >"$peer/serverless.yml" <<'YAML'
service: peer
frameworkVersion: '3'
provider:
  name: aws
  runtime: nodejs20.x
  httpApi:
    authorizers:
      auth0: {identitySource: $request.header.Authorization, issuerUrl: 'http://127.0.0.1:4000/', audience: [https://api.jwtapi.local]}
functions:
  public:
    handler: handler.hello
    events: [{httpApi: {path: /public, method: get}}]
  private:
    handler: handler.priv
    events: [{httpApi: {path: /private, method: get, authorizer: {name: auth0, scopes: [read:user]}}}]
plugins: [serverless-offline]
YAML

# first200 CMD... runs a command in the background and prints the seconds
# until GET $url answers 200, then stops it.
first200() {
  local url=$1; shift
  local start end pid
  start=$(now)
  setsid "$@" >"$root/.local/startup-run.log" 2>&1 &
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
  theirs+=("$(cd "$peer" && SLS_TELEMETRY_DISABLED=1 first200 "http://127.0.0.1:$b/public" ./node_modules/.bin/serverless offline --httpPort $b --lambdaPort $c --ignoreJWTSignature)")
  echo "round $i: make dev ${ours[-1]} s, serverless offline ${theirs[-1]} s"
done
range() { printf '%s\n' "$@" | sort -n | sed -n '1p;$p' | paste -sd- ; }
echo "make dev (warm):      $(range "${ours[@]}") s to the first 200"
echo "serverless offline:   $(range "${theirs[@]}") s to the first 200"
