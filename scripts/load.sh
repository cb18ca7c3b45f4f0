#!/usr/bin/env bash
# Load test, side by side: the local gateway (`jwtapi dev`) against
# `serverless offline` (see scripts/peer.sh) on GET /private with a valid
# RS256 token through the full path (JWT authorizer, the handler process),
# with wrk at each of CONNECTIONS (default "1 4 32 100"), ROUNDS rounds of
# DURATION each, the two tools interleaved (the order alternates per round)
# after a warm-up of both. Prints each run, then per concurrency the ranges
# of req/s, p50 and p99 for each tool and of the ratio ours/theirs.
# PEER=0 measures only the local gateway. Run it through `make load`, which
# builds jwtapi; the local stage is synthesized only if the app changed.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v wrk >/dev/null || { echo "error: wrk is not installed: apt-get install wrk (Debian/Ubuntu) or brew install wrk" >&2; exit 2; }
DURATION=${DURATION:-10s}
CONNECTIONS=${CONNECTIONS:-1 4 32 100}
ROUNDS=${ROUNDS:-3}
PEER=${PEER:-1}
ISSUER_ADDR=${ISSUER_ADDR:-127.0.0.1:4000}
. scripts/peer.sh
tmp=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill -INT -- -"$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$tmp"; }
trap cleanup EXIT
load=$(cut -d' ' -f1 /proc/loadavg 2>/dev/null || echo '?')
echo "==> $(nproc) cores, 1-minute load $load before the run (quote figures from a quiet machine: load under 1)"

# start NAME READY_PATTERN CMD...: runs CMD in its own process group, waits for READY_PATTERN in its output.
start() {
  local name=$1 ready=$2; shift 2
  setsid bash -c '"$@"' _ "$@" >"$tmp/$name.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 1 3000); do
    grep -qE "$ready" "$tmp/$name.log" 2>/dev/null && return 0
    kill -0 "${pids[-1]}" 2>/dev/null || { cat "$tmp/$name.log" >&2; echo "error: $name exited before it was ready" >&2; exit 1; }
    sleep 0.1
  done
  cat "$tmp/$name.log" >&2; echo "error: $name was not ready after 300 s" >&2; exit 1
}

ours=127.0.0.1:$(port)
echo "==> starting jwtapi dev on $ours (issuer $ISSUER_ADDR)"
start ours '^Ready in' .local/bin/jwtapi dev --stage local -c "issuer=http://$ISSUER_ADDR/" -c "machinesIssuer=http://$ISSUER_ADDR/local_machines" --addr "$ours" --issuer-addr "$ISSUER_ADDR" --watch=false --console=off
token=$(.local/bin/jwtapi token --issuer-addr "$ISSUER_ADDR" --scope read:user)
urls=("http://$ours/private")
names=(jwtapi)
if [ "$PEER" != 0 ]; then
  theirs=127.0.0.1:$(port)
  peer_service "http://$ISSUER_ADDR/"
  export -f peer_offline; export peer
  echo "==> starting serverless offline on $theirs (--ignoreJWTSignature: it does not verify signatures)"
  start theirs 'Server ready' peer_offline "${theirs#*:}" "$(port)"
  urls+=("http://$theirs/private")
  names+=(serverless-offline)
fi
for u in "${urls[@]}"; do
  code=$(curl -s -o "$tmp/body" -w '%{http_code}' -H "authorization: Bearer $token" "$u")
  [ "$code" = 200 ] || { echo "error: GET $u answered $code: $(cat "$tmp/body")" >&2; exit 1; }
done

# measure URL CONNS: one wrk run; prints "req/s p50-ms p99-ms".
measure() {
  local c=$2 t=$(( $2 < 2 ? 1 : 2 ))
  wrk -t"$t" -c"$c" -d"$DURATION" --latency -H "authorization: Bearer $token" "$1" | awk '
    function ms(v) { if (v ~ /us$/) return v/1000; if (v ~ /ms$/) return v+0; if (v ~ /s$/) return v*1000; return v }
    /Requests\/sec/ { rps = $2 }
    $1 == "50.000%" || $1 == "50%" { p50 = ms($2) }
    $1 == "99.000%" || $1 == "99%" { p99 = ms($2) }
    /Non-2xx/ { bad = $NF }
    END { if (bad) { print "error: " bad " answers were not 2xx" > "/dev/stderr"; exit 1 } printf "%.0f %.2f %.2f\n", rps, p50, p99 }'
}

echo "==> warm-up: 2 s of wrk at 32 connections on each"
for u in "${urls[@]}"; do wrk -t2 -c32 -d2s -H "authorization: Bearer $token" "$u" >/dev/null; done
echo "==> GET /private, wrk for $DURATION per run, $ROUNDS rounds per concurrency, interleaved"
for c in $CONNECTIONS; do
  for r in $(seq 1 "$ROUNDS"); do
    order=(0 1); [ $(( r % 2 )) = 0 ] && order=(1 0)
    for i in "${order[@]}"; do
      [ "$i" -lt "${#urls[@]}" ] || continue
      m=$(measure "${urls[$i]}" "$c")
      echo "$c $r ${names[$i]} $m" >>"$tmp/results"
      printf '  %3s conns round %s  %-18s %7s req/s  p50 %6s ms  p99 %6s ms\n' "$c" "$r" "${names[$i]}" $m
    done
  done
done
echo
python3 - "$tmp/results" <<'PY'
import sys, collections
runs = collections.defaultdict(dict)
for line in open(sys.argv[1]):
    c, r, name, rps, p50, p99 = line.split()
    runs[(int(c), r)][name] = (float(rps), float(p50), float(p99))
conns = sorted({c for c, _ in runs})
def rng(xs, fmt):
    return fmt.format(min(xs)) if min(xs) == max(xs) else (fmt + "–" + fmt).format(min(xs), max(xs))
print("conns | jwtapi req/s (p50, p99 ms) | serverless-offline req/s (p50, p99 ms) | ratio")
for c in conns:
    rs = [v for (cc, _), v in runs.items() if cc == c]
    cols = []
    for name in ("jwtapi", "serverless-offline"):
        xs = [v[name] for v in rs if name in v]
        cols.append(f"{rng([x[0] for x in xs], '{:,.0f}')} (p50 {rng([x[1] for x in xs], '{:.2f}')}, p99 {rng([x[2] for x in xs], '{:.2f}')})" if xs else "-")
    ratios = [v["jwtapi"][0] / v["serverless-offline"][0] for v in rs if len(v) == 2]
    print(f"{c:5} | {cols[0]} | {cols[1]} | {rng(ratios, '{:.1f}x') if ratios else '-'}")
PY
