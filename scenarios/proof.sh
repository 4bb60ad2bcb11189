#!/usr/bin/env bash
# The BudScaler proof (README, "BudScaler against HPA, KPA and the oracle") in one
# command: every proof scenario, then the forecasting ablation.
#
#   scenarios/proof.sh [OUT_DIR] [--quick]
#
# Writes OUT_DIR/<scenario>/ (simulate's usual folder) and prints each scenario's
# table; OUT_DIR/variants/<scenario>/ with more HPA and KPA manifests
# (scenarios/scalers/variants/); then OUT_DIR/ablation/<scenario>/ for BudScaler with
# forecasting off, and with each predictor alone (last-value, holt, seasonal) and
# combined; then OUT_DIR/matched/ (each of those over a grid of utilization targets,
# the cheapest at >= 99 %: needs jq). Scenarios whose trace is not in ../shared/data are skipped
# with a message. --quick leaves out the 7-day week (12M requests, about 1-2 minutes
# per run on 2 cores).
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-out/proof}"
quick=false
for arg in "$@"; do [[ "$arg" == --quick ]] && quick=true; done
[[ "$out" == --quick ]] && out=out/proof

cargo build --release --quiet
bin=target/release/budscaler

scenarios=(default azure-conv-1h azure-code-1h mooncake mmpp-1h)
$quick || scenarios+=(diurnal-week)

# The scenario's trace path (relative to scenarios/), or nothing for a generated one.
needs_data() {
  { grep -Eo 'path: *[^ #]+' "scenarios/$1.yaml" || true; } | head -1 | sed 's/path: *//'
}

runnable() {
  local trace
  trace="$(needs_data "$1")"
  if [[ -n "$trace" && ! -e "scenarios/$trace" ]]; then
    echo "skip $1: its trace scenarios/$trace is missing (see README, \"Data\")" >&2
    return 1
  fi
}

for s in "${scenarios[@]}"; do
  runnable "$s" || continue
  echo "== $s"
  "$bin" simulate "scenarios/$s.yaml" --out "$out/$s" | cat
done

# Runs a copy of scenario $1 (its trace and fleet) with the manifests $3... as its
# scalers, into $2, and prints the table.
run_with() {
  local s="$1" dir="$2"
  shift 2
  local scenario="$dir.yaml" trace
  trace="$(needs_data "$s")"
  # The copy lives elsewhere: make its trace path absolute and list the manifests.
  awk -v trace="$trace" -v root="$PWD/scenarios" '
    /^scalers:/ { exit }
    trace != "" && $1 == "path:" { sub(/path: *[^ #]+/, "path: " root "/" trace) }
    { print }
  ' "scenarios/$s.yaml" > "$scenario"
  echo "scalers:" >> "$scenario"
  for manifest in "$@"; do
    [[ "$manifest" == /* ]] || manifest="$PWD/$manifest"
    echo "  - file: $manifest" >> "$scenario"
  done
  "$bin" simulate "$scenario" --out "$dir" | cat
}

# HPA and KPA variants beyond the two in every scenario (chosen before any run).
variants="$out/variants"
mkdir -p "$variants"
for s in "${scenarios[@]}"; do
  runnable "$s" || continue
  echo "== variants: $s"
  run_with "$s" "$variants/$s" scenarios/scalers/variants/{hpa-running,hpa-kv,kpa-c32}.yaml
done

# Ablation: the shared manifest with one predictor, or with forecasting off.
ablation="$out/ablation"
mkdir -p "$ablation"
predictors=(off last-value holt seasonal combined)
for v in "${predictors[@]}"; do
  manifest="$ablation/budscaler-$v.yaml"
  if [[ "$v" == off ]]; then
    sed -e 's/^  name: budscaler$/  name: budscaler-off/' \
        -e '/^  predictionConfig:/,/^  [a-z]/{s/enabled: true/enabled: false/}' \
        scenarios/scalers/budscaler.yaml > "$manifest"
  else
    sed -e "s/^  name: budscaler\$/  name: budscaler-$v/" \
        -e "s/predictor: combined/predictor: $v/" \
        scenarios/scalers/budscaler.yaml > "$manifest"
  fi
done
for s in default azure-conv-1h diurnal-week; do
  [[ "$s" == diurnal-week ]] && $quick && continue
  runnable "$s" || continue
  echo "== ablation: $s"
  manifests=()
  for v in "${predictors[@]}"; do manifests+=("$ablation/budscaler-$v.yaml"); done
  run_with "$s" "$ablation/$s" "${manifests[@]}"
done

# Matched ablation: each predictor (and forecasting off) over a grid of
# kpaConfig.targetUtilizationPercentage, so variants are compared at the same SLO
# attainment instead of at the same knob: per variant, the cheapest grid point that
# reaches 99 %. The week runs a coarser grid (each point is a 12M-request run).
matched="$out/matched"
mkdir -p "$matched"
fine=(40 45 50 55 60 65 70 75 80 85 90 95 100)
coarse=(60 70 80 90 100)
for s in "${scenarios[@]}"; do
  runnable "$s" || continue
  grid=("${fine[@]}")
  [[ "$s" == diurnal-week ]] && grid=("${coarse[@]}")
  # The seasonal predictor alone needs calendar time (`trace.start` or an Azure trace).
  variants_here=("${predictors[@]}")
  grep -Eq '^ *start:|format: azure' "scenarios/$s.yaml" || variants_here=(off last-value holt combined)
  manifests=()
  for v in "${variants_here[@]}"; do
    for u in "${grid[@]}"; do
      manifest="$matched/budscaler-$v-u$u.yaml"
      sed -e "s/^  name: budscaler-$v\$/  name: budscaler-$v-u$u/" \
          -e "s/^  kpaConfig:\$/  kpaConfig:\n    targetUtilizationPercentage: $u/" \
          "$ablation/budscaler-$v.yaml" > "$manifest"
      manifests+=("$manifest")
    done
  done
  echo "== matched ablation: $s"
  mkdir -p "$matched/$s"
  # One run per variant, keeping only summary.json (a week's 25 request tables would
  # need tens of GB).
  for v in "${variants_here[@]}"; do
    run_with "$s" "$matched/$s/$v" $(printf '%s\n' "${manifests[@]}" | grep -- "-$v-u") > /dev/null
    rm -f "$matched/$s/$v"/{requests,timeseries,slo_timeseries,latency_cdf}.parquet "$matched/$s/$v/decisions.jsonl"
  done
  # Per variant: the cheapest point at >= 99 % (or the best attainment if none).
  jq -rs '
    [.[].runs[] | {v: (.scaler | sub("^budscaler-"; "") | sub("-u[0-9]+$"; "")),
                u: (.scaler | capture("-u(?<u>[0-9]+)$").u | tonumber),
                a: .slo_attainment, g: .gpu_hours}]
    | group_by(.v)[]
    | (map(select(.a >= 0.99)) | sort_by(.g) | first) as $best
    | if $best then "\(.[0].v)\tu=\($best.u)%\t\($best.a * 10000 | round / 100)%\t\($best.g * 100 | round / 100) GPU-h"
      else (sort_by(-.a) | first) as $top
        | "\(.[0].v)\tnone reaches 99% (best \($top.a * 10000 | round / 100)% at u=\($top.u)%, \($top.g * 100 | round / 100) GPU-h)"
      end' "$matched/$s"/*/summary.json | tee "$matched/$s.txt"
done
