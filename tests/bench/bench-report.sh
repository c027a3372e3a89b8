#!/bin/bash
# Benchmark: `ubcctl report` over N guests (default 100) with D days (default 7) of history at
# the production step (60 s), made by rrd-fixture in a temporary folder. Reports the median of
# RUNS runs of text, json and html (html draws 2 + 3N PNGs), in wall and CPU seconds.
# Prints numbers, never pass/fail. Needs no root and touches no cgroups.
#
#   bench-report.sh [-n GUESTS] [-d DAYS] [-r RUNS] [--fixture PATH] [--ubcctl PATH]
set -u
export LC_ALL=C

N=100
DAYS=7
RUNS=3
FIXTURE=${UBC_BUILD_ROOT:-build}/tests/helpers/rrd-fixture
UBCCTL=${UBCCTL:-${UBC_BUILD_ROOT:-build}/agent/ubcctl}

while [ $# -gt 0 ]; do
        case $1 in
        -n) N=$2; shift 2 ;;
        -d) DAYS=$2; shift 2 ;;
        -r) RUNS=$2; shift 2 ;;
        --fixture) FIXTURE=$2; shift 2 ;;
        --ubcctl) UBCCTL=$2; shift 2 ;;
        -h | --help) sed -n '2,7p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "bench-report: unknown argument '$1'" >&2; exit 2 ;;
        esac
done

DIR=$(mktemp -d /tmp/ubc-bench-report.XXXXXX) || exit 1
trap 'rm -rf "$DIR"' EXIT
mkdir -p "$DIR/etc/policies.d" "$DIR/etc/guests.d" "$DIR/state/rrd" "$DIR/out"
printf '[agent]\nstate_dir = %s/state\nrun_dir = %s/run\n' "$DIR" "$DIR" > "$DIR/etc/ubcd.conf"
cat > "$DIR/etc/policies.d/bench.policy" <<POLICY
[class small]
cpu.limit = 0.5
memory = 256M:512M
[class large]
cpu.units = 4096
cpu.limit = 2
memory = 1G:2G
POLICY
FIRST=1000
LAST=$((FIRST + N - 1))
for id in $(seq $FIRST $LAST); do
        if [ $((id % 2)) -eq 0 ]; then class=small; else class=large; fi
        printf '[guest]\nclass = %s\nname = g%s\n' "$class" "$id" > "$DIR/etc/guests.d/$id.conf"
done

t0=$(date +%s.%N)
"$FIXTURE" "$DIR/state/rrd" --guests "$FIRST..$LAST" --days "$DAYS" --step 60 --cpu 0.4 --mem 200000000 || exit 1
t1=$(date +%s.%N)
echo "# fixture: $N guests x $DAYS days at 60 s ($((DAYS * 1440)) updates each) in $(echo "$t1 - $t0" | bc) s;" \
        "$(du -sh "$DIR/state/rrd" | cut -f1) of RRD files"

# wall and CPU (user + system) seconds of one run, from bash's time
measure() {
        local TIMEFORMAT='%R %U %S'
        { time "$UBCCTL" -c "$DIR/etc" report --since "${DAYS}d" "$@" > /dev/null 2>"$DIR/err"; } 2>&1 | tail -1
}

median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

for format in text json html; do
        walls=() ; cpus=()
        for _ in $(seq "$RUNS"); do
                if [ "$format" = html ]; then
                        set -- --format html --out "$DIR/out"
                else
                        set -- --format "$format"
                fi
                read -r wall user sys < <(measure "$@")
                if [ -s "$DIR/err" ]; then
                        echo "bench-report: $format failed:" >&2
                        cat "$DIR/err" >&2
                        exit 1
                fi
                walls+=("$wall")
                cpus+=("$(echo "$user + $sys" | bc)")
        done
        w=$(printf '%s\n' "${walls[@]}" | median)
        c=$(printf '%s\n' "${cpus[@]}" | median)
        echo "RESULT report format=$format guests=$N days=$DAYS wall_s=$w cpu_s=$c"
done
echo "# html wrote $(ls "$DIR/out"/*.png | wc -l) PNGs, $(du -sh "$DIR/out" | cut -f1)"
