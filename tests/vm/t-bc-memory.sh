#!/bin/sh
# Beancounters from what only cgroup v2 has: barrier and limit are memory.high and memory.max
# (a guest above its barrier is throttled, which is no failure), swappages' limit is
# memory.swap.max, and maxheld takes the kernel's own peaks (memory.peak, pids.peak), so a
# spike shorter than a sweep still counts.
. "${UBC_SOURCE_ROOT:-.}/tests/lib.sh"
need_root
is_v2 || skip_all "needs a cgroup v2 host (tests/vm/run.sh boots one)"
[ -x "$UBCD" ] && [ -x "$UBCCTL" ] || skip_all "ubcd or ubcctl not built"
HELPERS=${UBC_BUILD_ROOT:-build}/tests/helpers
make_test_dir
fast_interval

write_guest 211 "memory = 32M:48M" "swap = 16M"
write_guest 212 "tasks = 20"
write_guest 213 "name = spikes"
check "ubcd starts" start_ubcd -v || exit 1

# `beancounters --json` on stdin -> "ID RESOURCE HELD MAXHELD BARRIER LIMIT FAILCNT" lines.
json_rows() {
        tr -d ' \t\r\n' | tr '}' '\n' | awk '
        function v(k,   m) {
                if (!match($0, "\"" k "\":\"?[^,\"]*")) return "?"
                m = substr($0, RSTART, RLENGTH)
                sub(/^"[^"]*":"?/, "", m)
                return m
        }
        /"resource":/ { print v("guest"), v("resource"), v("held"), v("maxheld"), v("barrier"), v("limit"), v("failcnt") }'
}
column() {
        case $1 in
        held) echo 3 ;; maxheld) echo 4 ;; barrier) echo 5 ;; limit) echo 6 ;; failcnt) echo 7 ;;
        esac
}
jval() { ctl beancounters --json 2>/dev/null | json_rows | awk -v g="$1" -v r="$2" -v c="$(column "$3")" '$1 == g && $2 == r { print $c; exit }'; }
ge() { [ "$1" -ge "$2" ] 2>/dev/null; }
BC=$RUN/user_beancounters
bc_ino() { ls -i "$BC" 2>/dev/null | awk '{ print $1 }'; }
ino_moved() { [ "$(bc_ino)" != "$ino0" ]; }
wait_sweeps() {
        n=$1
        while [ "$n" -gt 0 ]; do
                ino0=$(bc_ino)
                wait_for 10 ino_moved || diag "no new user_beancounters within 10 s"
                n=$((n - 1))
        done
}
cg() { cat "$(cg_root_dir memory)/$1/$2" 2>/dev/null; }
event() { awk -v k="$3" '$1 == k { print $2 }' "$(cg_root_dir memory)/$1/$2" 2>/dev/null; }
pages() { [ -n "$1" ] && echo $(($1 / 4096)); }

listed() { ge "$(jval 213 physpages held)" 0; }
check "beancounters --json lists the guests" wait_for 20 listed

check_eq "211 physpages barrier is memory.high in pages" "$(pages "$(cg 211 memory.high)")" "$(jval 211 physpages barrier)"
check_eq "211 physpages limit is memory.max in pages" "$(pages "$(cg 211 memory.max)")" "$(jval 211 physpages limit)"
check_eq "... that is 12288" 12288 "$(jval 211 physpages limit)"
if [ -f "$(cg_root_dir memory)/211/memory.swap.max" ]; then
        check_eq "211 swappages limit is memory.swap.max in pages (16M)" 4096 "$(jval 211 swappages limit)"
else
        ok "# SKIP this kernel has no memory.swap.max"
fi

# Between barrier and limit: throttled by memory.high, never refused by memory.max.
ctl run 211 -- "$HELPERS/memhog" 40 >"$TEST_DIR/memhog.out" 2>&1 &
STARTED_PIDS="$STARTED_PIDS $!"
check "memhog comes to hold 40 MiB in 211" wait_for 120 grep -q holding "$TEST_DIR/memhog.out"
above() { ge "$(jval 211 physpages held)" 8193; }
check "211 physpages held is above its 8192-page barrier" wait_for 15 above
wait_sweeps 2
held=$(jval 211 physpages held)
diag "211: physpages held $held, memory.events high $(event 211 memory.events high) max $(event 211 memory.events max)"
check "... and within its limit" ge 12288 "${held:-99999}"
check "memory.events high rose: the barrier throttled it" ge "$(event 211 memory.events high)" 1
check_eq "the kernel refused nothing (memory.events max)" 0 "$(event 211 memory.events max)"
check_eq "so 211 physpages failcnt stays 0" 0 "$(jval 211 physpages failcnt)"
check_eq "and 211 oomguarpages failcnt stays 0" 0 "$(jval 211 oomguarpages failcnt)"

# A task spike between two sweeps: forker's children exit at once but stay counted until
# it reaps them at the end, which takes far less than a sweep here.
ctl run 212 -- "$HELPERS/forker" 50 0 >"$TEST_DIR/forker.out" 2>&1
check_eq "forker ran to its end in 212" 0 "$?"
diag "$(cat "$TEST_DIR/forker.out"); pids.peak $(cg_read 212 pids pids.peak), pids.events $(cg_read 212 pids pids.events)"
refused() { ge "$(jval 212 numproc failcnt)" 1; }
check "212 numproc failcnt rose" wait_for 15 refused
wait_sweeps 2
check_eq "212 numproc failcnt is pids.events max" \
        "$(awk '$1 == "max" { print $2 }' "$(cg_root_dir pids)/212/pids.events")" "$(jval 212 numproc failcnt)"
check_eq "212 numproc held is 0 again" 0 "$(jval 212 numproc held)"
if [ -f "$(cg_root_dir pids)/212/pids.peak" ]; then
        check_eq "212 numproc maxheld is pids.peak" "$(cg_read 212 pids pids.peak)" "$(jval 212 numproc maxheld)"
        check_eq "... the 20 tasks it reached" 20 "$(jval 212 numproc maxheld)"
else
        ok "# SKIP this kernel has no pids.peak"
        ok "# SKIP this kernel has no pids.peak"
fi

# A memory spike: 24 MiB touched and freed at once.
ctl run 213 -- "$HELPERS/memhog" 24 0 >"$TEST_DIR/spike.out" 2>&1
check_eq "memhog 24 0 ran to its end in 213" 0 "$?"
wait_sweeps 2
if [ -f "$(cg_root_dir memory)/213/memory.peak" ]; then
        check_eq "213 physpages maxheld is memory.peak in pages" "$(pages "$(cg 213 memory.peak)")" "$(jval 213 physpages maxheld)"
else
        ok "# SKIP this kernel has no memory.peak"
fi
check "213 physpages maxheld covers the 24 MiB (6144 pages)" ge "$(jval 213 physpages maxheld)" 6144
check "213 physpages maxheld >= held" ge "$(jval 213 physpages maxheld)" "$(jval 213 physpages held)"

check "ubcd is still running" kill -0 "$UBCD_PID"
if [ "$tap_failed" != 0 ]; then
        diag "ubcd's log:"
        tail -n 60 "$TEST_DIR/ubcd.log" | sed 's/^/#   /'
fi
tap_done
