#!/usr/bin/env bash
# The BudScaler proof (README, "BudScaler against HPA, KPA and the oracle") in one
# command: every proof scenario, then the forecasting ablation.
#
#   scenarios/proof.sh [OUT_DIR] [--quick]
#
# Writes OUT_DIR/<scenario>/ (simulate's usual folder) and prints each scenario's
# table; then OUT_DIR/ablation/<scenario>-<variant>/ for BudScaler with forecasting
# off, and with each predictor alone (last-value, holt, seasonal) and combined, and
# prints one line per run. Scenarios whose trace is not in ../shared/data are skipped
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

# Ablation: the shared manifest with one predictor, or with forecasting off.
ablation="$out/ablation"
mkdir -p "$ablation"
variants=(off last-value holt seasonal combined)
for v in "${variants[@]}"; do
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
  scenario="$ablation/$s.yaml"
  trace="$(needs_data "$s")"
  # The copy lives elsewhere: make its trace path absolute and list the variants.
  awk -v trace="$trace" -v root="$PWD/scenarios" '
    /^scalers:/ { exit }
    trace != "" && $1 == "path:" { sub(/path: *[^ #]+/, "path: " root "/" trace) }
    { print }
  ' "scenarios/$s.yaml" > "$scenario"
  echo "scalers:" >> "$scenario"
  for v in "${variants[@]}"; do
    echo "  - file: $PWD/$ablation/budscaler-$v.yaml" >> "$scenario"
  done
  echo "== ablation: $s"
  "$bin" simulate "$scenario" --out "$ablation/$s" | cat
done
