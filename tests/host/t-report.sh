#!/bin/sh
# `ubcctl report` and `graph` over history with a known load (rrd-fixture, time-shifted, the
# production 60 s step): percentiles and peaks, failcnt events, overcommit against the host,
# hints, headroom; HTML that parses and PNGs that decode; the report without any history.
# Files only: needs neither root nor ubcd.
. "${UBC_SOURCE_ROOT:-.}/tests/lib.sh"

FIXTURE=${UBC_BUILD_ROOT:-build}/tests/helpers/rrd-fixture
for tool in jq xmllint pngcheck bc; do
        command -v $tool >/dev/null || skip_all "needs $tool"
done

make_test_dir
printf '[agent]\nstate_dir = %s\nrun_dir = %s\n' "$STATE" "$RUN" > "$CFG/ubcd.conf"
cat > "$CFG/policies.d/t.policy" <<'POLICY'
[class gold]
cpu.units = 4096
cpu.limit = 2
memory = 1G:2G
[class bronze]
cpu.limit = 0.5
memory = 256M:512M
POLICY
printf '[guest]\nclass = gold\nname = web\n' > "$CFG/guests.d/101.conf"
printf '[guest]\nclass = bronze\nname = batch\n' > "$CFG/guests.d/102.conf"

report() { "$UBCCTL" -c "$CFG" report "$@"; }

# Within PCT percent of the expected value.
near() { echo "v = $2; e = $3; d = v - e; if (d < 0) d = -d; d <= e * $1 / 100" | bc -l | grep -qx 1; }

# --- before any history: commitments only
out=$(report 2>&1)
check "without history the report says so" sh -c 'echo "$1" | grep -q "No history yet"' _ "$out"
mem_total=$(awk '/^MemTotal:/ { printf "%.0f", $2 * 1024 }' /proc/meminfo)
json=$(report --json)
check_eq "memory limits are summed from the policy" $((2 * 1024 * 1024 * 1024 + 512 * 1024 * 1024)) \
        "$(echo "$json" | jq .commitments.memory_limits)"
ratio=$(echo "$json" | jq .commitments.memory_overcommit)
check "overcommit is the sum of limits over RAM" near 0.1 "$ratio" \
        "$(echo "(2 * 1024^3 + 512 * 1024^2) / $mem_total" | bc -l)"
cpus=$(echo "$json" | jq .commitments.cpus)
check "entitlement follows the weights (1024 of 4096 + 1024, at most the 0.5 cap)" near 1 \
        "$(echo "$json" | jq '.guests[] | select(.id == 102) | .entitled_cpus')" \
        "$(echo "e = $cpus * 1024 / 5120; if (e > 0.5) e = 0.5; e" | bc -l)"

# --- a week of history: 101 uses 0.5 CPUs, 102 1.0 (each +-10% daily), both 200M
mkdir -p "$STATE/rrd"
"$FIXTURE" "$STATE/rrd" --guests 101..102 --days 7 --step 60 --cpu 2 --mem 209715200 \
        --failcnt numproc=4 >&2 || not_ok "rrd-fixture ran"
json=$(report --since 7d --json)
g101() { echo "$json" | jq ".guests[] | select(.id == 101) | $1"; }
g102() { echo "$json" | jq ".guests[] | select(.id == 102) | $1"; }
check "memory p95 is the 200M held" near 1 "$(g101 .memory.p95)" 209715200
check "memory peak is the 200M held" near 1 "$(g101 .memory_peak)" 209715200
check "cpu p50 of 101 is its 0.5 CPUs" near 10 "$(g101 .cpu.p50)" 0.5
check "cpu p95 of 101 is near the top of its swing" near 10 "$(g101 .cpu.p95)" 0.55
check "cpu peak of 102 is the top of its swing" near 10 "$(g102 .cpu_peak)" 1.1
check_eq "failcnt events in the window are counted" 4 "$(g101 .failcnt.numproc)"
check "a guest short of tasks is told so" sh -c 'echo "$1" | grep -q "needs more tasks: 4 forks refused"' _ \
        "$(g101 '.hints[]')"
check "a guest far under its memory limit may shrink" sh -c 'echo "$1" | grep -q "could shrink memory to 304M"' _ \
        "$(g101 '.hints[]')"
check "102 over its cpu.limit needs no shrink hint" sh -c '! echo "$1" | grep -q "shrink cpu"' _ \
        "$(g102 '.hints[]')"
# gold (2 CPUs, 2G) fits in what the limits leave: memory, or CPUs, whichever runs out first.
check_eq "headroom of gold at its limits is what is left over its limits" \
        "$(echo "m = ($mem_total - 2 * 1024^3 - 512 * 1024^2) / (2 * 1024^3); c = ($cpus - 2.5) / 2;
                 if (c < 0) c = 0; if (m < c) c = m; c" | bc)" \
        "$(echo "$json" | jq '.classes[] | select(.name == "gold") | .fit_at_limits.guests')"
check_eq "the window was read from the 30 min archive" 1800 "$(echo "$json" | jq .step)"

# --- one guest only, the text a person reads
out=$(report --guest 102)
check "--guest shows only that guest" sh -c 'echo "$1" | grep -q "^Guest 102" && ! echo "$1" | grep -q "^Guest 101"' _ "$out"
check "a guest that is not defined is an error naming its file" \
        sh -c '"$1" -c "$2" report --guest 999 2>&1 | grep -q "no .*/guests.d/999.conf"' _ "$UBCCTL" "$CFG"
check "a bad window is a usage error" sh -c '"$1" -c "$2" report --since 7x; [ $? -eq 2 ]' _ "$UBCCTL" "$CFG"

# --- HTML with its graphs
check "html report is written" report --format html --out "$TEST_DIR/out"
check "html parses" xmllint --html --noout "$TEST_DIR/out/report.html"
n=0
for png in host-cpu host-memory 101-cpu 101-memory 101-io 102-cpu 102-memory 102-io; do
        pngcheck -q "$TEST_DIR/out/$png.png" >&2 && n=$((n + 1))
        grep -q "src=\"$png.png\"" "$TEST_DIR/out/report.html" || n=$((n - 100))
done
check_eq "every graph the page shows decodes" 8 "$n"
check "graph draws one guest" "$UBCCTL" -c "$CFG" graph 101 --since 2d --what memory --out "$TEST_DIR/g.png"
check "its PNG decodes" pngcheck -q "$TEST_DIR/g.png"
check "graph of an unknown kind is a usage error" \
        sh -c '"$1" -c "$2" graph 101 --what disk --out "$3/x.png"; [ $? -eq 2 ]' _ "$UBCCTL" "$CFG" "$TEST_DIR"
rm -f "$STATE/rrd/101.rrd"
check "graph of a guest without history says so" \
        sh -c '"$1" -c "$2" graph 101 --out "$3/x.png" 2>&1 | grep -q "no history"' _ "$UBCCTL" "$CFG" "$TEST_DIR"

tap_done
