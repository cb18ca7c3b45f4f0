# Sourced by the side-by-side scripts (startup.sh, load.sh): installs the
# peer, serverless 3.40.0 with serverless-offline 13.10.1, once into
# .local/peer from the npm registry, and writes a service with the same
# kind of API as the example's: GET /public and GET /private behind a JWT
# authorizer wanting scope read:user. serverless-offline starts only with
# --ignoreJWTSignature: it checks iss, aud, exp and scopes, not signatures.
# peer_service ISSUER_URL writes the service; port prints a free port.
peer=$PWD/.local/peer
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
peer_service() {
  local issuer=$1
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
  cat >"$peer/serverless.yml" <<YAML
service: peer
frameworkVersion: '3'
provider:
  name: aws
  runtime: nodejs20.x
  httpApi:
    authorizers:
      auth0: {identitySource: \$request.header.Authorization, issuerUrl: '$issuer', audience: [https://api.jwtapi.local]}
functions:
  public:
    handler: handler.hello
    events: [{httpApi: {path: /public, method: get}}]
  private:
    handler: handler.priv
    events: [{httpApi: {path: /private, method: get, authorizer: {name: auth0, scopes: [read:user]}}}]
plugins: [serverless-offline]
YAML
}
# peer_offline HTTP_PORT LAMBDA_PORT runs serverless offline in the foreground.
peer_offline() {
  (cd "$peer" && SLS_TELEMETRY_DISABLED=1 exec ./node_modules/.bin/serverless offline --httpPort "$1" --lambdaPort "$2" --ignoreJWTSignature)
}
