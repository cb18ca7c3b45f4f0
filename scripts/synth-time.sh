#!/usr/bin/env bash
# The app's own share of a warm `cdk synth -c stage=dev`, side by side with
# another checkout (default: the commit before the one-core redesign):
# total synth time minus the CLI's replay of the same assembly
# (`cdk synth --app <assembly>`), the runs interleaved over ROUNDS rounds,
# after one warm-up synth each. This checkout is measured twice: as it runs
# (an unchanged synth is skipped) and with JWTAPI_SYNTH_CACHE=off (a full
# synth, what any change costs). Run `make synth-time` (BASE=<commit>).
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${ROUNDS:-5}
BASE=${BASE:-f5ae2ef}
root=$PWD
base=$root/.local/synth-time/base
now() { date +%s.%N; }
if [ ! -d "$base" ]; then
  echo "==> git worktree add .local/synth-time/base $BASE (once)"
  git worktree add -f -q "$base" "$BASE"
fi
[ -e "$base/node_modules" ] || ln -s "$root/node_modules" "$base/node_modules"

synth() { # dir out [env...] -> total seconds, replay seconds
  local dir=$1 out=$2 t0 t1 t2
  shift 2
  t0=$(now)
  (cd "$dir" && env "$@" "$root/node_modules/.bin/cdk" --no-notices synth -c stage=dev --quiet -o "$out" >/dev/null 2>&1)
  t1=$(now)
  (cd "$dir" && "$root/node_modules/.bin/cdk" --no-notices synth --app "$out" --quiet -o "$out.replay" >/dev/null 2>&1)
  t2=$(now)
  python3 -c "print(f'{$t1-$t0:.2f} {$t2-$t1:.2f}')"
}
echo "==> warm-up: one synth of each (builds the app and its handlers once)"
synth "$base" "$root/.local/synth-time/base.out" >/dev/null
synth "$root" "$root/.local/synth-time/head.out" >/dev/null
synth "$root" "$root/.local/synth-time/full.out" JWTAPI_SYNTH_CACHE=off >/dev/null
echo "round  base total/replay/app    head total/replay/app    head, full synth         (seconds; load $(cut -d' ' -f1 /proc/loadavg))"
for i in $(seq "$ROUNDS"); do
  read -r bt br <<<"$(synth "$base" "$root/.local/synth-time/base.out")"
  read -r ht hr <<<"$(synth "$root" "$root/.local/synth-time/head.out")"
  read -r ft fr <<<"$(synth "$root" "$root/.local/synth-time/full.out" JWTAPI_SYNTH_CACHE=off)"
  python3 -c "print(f'{$i:5d}  {$bt:5.2f} {$br:5.2f} {$bt-$br:5.2f}       {$ht:5.2f} {$hr:5.2f} {$ht-$hr:5.2f}       {$ft:5.2f} {$fr:5.2f} {$ft-$fr:5.2f}')"
done
echo "(load after: $(cut -d' ' -f1 /proc/loadavg))"
