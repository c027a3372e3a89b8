#!/bin/sh
# Beancounters as an OpenVZ operator reads them: RUN/user_beancounters in OpenVZ's layout,
# `ubcctl beancounters` (table, --json, --failcnt) and `ubcctl metrics`, fed by what the kernel
# counted for real load in the guests; maxheld and failcnt survive a kill -9 of ubcd and a
# guest's cgroup made anew. On v1 and v2 (the VM runs this script too).
. "${UBC_SOURCE_ROOT:-.}/tests/lib.sh"
need_root
[ -x "$UBCD" ] && [ -x "$UBCCTL" ] || skip_all "ubcd or ubcctl not built"
HELPERS=${UBC_BUILD_ROOT:-${UBCD%/agent/ubcd}}/tests/helpers
[ -x "$HELPERS/memhog" ] && [ -x "$HELPERS/forker" ] || skip_all "helpers not built in $HELPERS"
make_test_dir
fast_interval

RESOURCES="kmemsize lockedpages privvmpages shmpages numproc physpages oomguarpages numfile swappages"
UNLIMITED=9223372036854775807
BC=$RUN/user_beancounters

# The 48M limit must be hard: on a v1 host with swap, memsw (limit + swap) is the limit itself.
swap=
if ! is_v2 && [ -f "$CG_MOUNT/memory/memory.memsw.limit_in_bytes" ] &&
        [ "$(awk '$1 == "SwapTotal:" { print $2 }' /proc/meminfo)" != 0 ]; then
        swap="swap = 0"
fi
write_guest 201 "memory = 32M:48M" ${swap:+"$swap"}
write_guest 202 "tasks = 20"
write_guest 203 "name = holder"
check "ubcd starts" start_ubcd -v || exit 1

# --- reading the outputs ---

# A table in OpenVZ's layout on stdin -> "ID RESOURCE HELD MAXHELD BARRIER LIMIT FAILCNT" lines.
table_rows() {
        awk '$1 == "Version:" || $1 == "uid" { next }
        $1 ~ /^[0-9]+:$/ && NF == 7 { id = $1; sub(/:$/, "", id); print id, $2, $3, $4, $5, $6, $7; next }
        NF == 6 && id != "" { print id, $1, $2, $3, $4, $5, $6 }'
}
# `beancounters --json` on stdin -> the same lines.
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
# pick ID RESOURCE FIELD: from rows on stdin
pick() { awk -v g="$1" -v r="$2" -v c="$(column "$3")" '$1 == g && $2 == r { print $c; exit }'; }
# jval ID RESOURCE FIELD: what `ubcctl beancounters --json` says now
jval() { ctl beancounters --json 2>/dev/null | json_rows | pick "$@"; }
# fval ID RESOURCE FIELD: what RUN/user_beancounters says now
fval() { table_rows <"$BC" 2>/dev/null | pick "$@"; }
# near A B PCT: A within PCT percent of B (B > 0)
near() {
        awk -v a="$1" -v b="$2" -v p="$3" 'BEGIN {
                if (a !~ /^[0-9]+$/ || b <= 0) exit 1
                d = a - b; if (d < 0) d = -d
                exit !(d <= b * p / 100) }'
}
# ge A B: both numbers, A >= B
ge() { [ "$1" -ge "$2" ] 2>/dev/null; }

# Each sweep writes the file anew (rename): a new inode is a new sweep.
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

# What the kernel counted, in the files each hierarchy has.
memdir() { echo "$(cg_root_dir memory)/$1"; }
keyed() { awk -v k="$2" '$1 == k { print $2 }' "$1" 2>/dev/null; }
kernel_oom_kills() {
        if is_v2; then keyed "$(memdir "$1")/memory.events" oom_kill; else keyed "$(memdir "$1")/memory.oom_control" oom_kill; fi
}
kernel_mem_fails() {
        if is_v2; then keyed "$(memdir "$1")/memory.events" max; else cat "$(memdir "$1")/memory.failcnt" 2>/dev/null; fi
}
if is_v2; then limit_file=memory.max; else limit_file=memory.limit_in_bytes; fi
kernel_pid_fails() { keyed "$(cg_root_dir pids)/$1/pids.events" max; }

# Every line that breaks OpenVZ's layout, then "ids ID..." with the guests in file order. The
# layout is OpenVZ's printf: "%10s  %-12s %20lu %20lu %20lu %20lu %20lu", the first column "ID:"
# on a block's first row and blank on the others, under a header printed the same way.
layout_report() {
        awk -v want="$RESOURCES" '
        BEGIN { n = split(want, res, " "); fmt = "%10s  %-12s %20s %20s %20s %20s %20s" }
        function bad(m) { print "line " NR ": " m }
        function endblock() { if (id != "" && row != n) bad("guest " id " has " row " rows, not " n) }
        NR == 1 { if ($0 != "Version: 2.5") bad("not \"Version: 2.5\": " $0); next }
        NR == 2 {
                if ($0 != sprintf(fmt, "uid", "resource", "held", "maxheld", "barrier", "limit", "failcnt"))
                        bad("not the header: " $0)
                next
        }
        {
                pre = substr($0, 1, 10)
                if (pre ~ /^ *[0-9]+:$/) {
                        endblock()
                        id = pre; gsub(/[ :]/, "", id)
                        ids = ids " " id
                        row = 0
                        first = id ":"
                } else if (pre == "          ") first = ""
                else { bad("neither \"ID:\" nor blanks in columns 1-10: " $0); next }
                if (id == "") { bad("a row before any ID: " $0); next }
                row++
                k = split(substr($0, 11), f, " ")
                if (k != 6) { bad(k " fields, not 6: " $0); next }
                if (row <= n && f[1] != res[row]) bad("row " row " of " id " is " f[1] ", not " res[row])
                for (i = 2; i <= 6; i++) if (f[i] !~ /^[0-9]+$/) bad("not a number: " f[i])
                if ($0 != sprintf(fmt, first, f[1], f[2], f[3], f[4], f[5], f[6])) bad("not in the columns: " $0)
        }
        END { endblock(); if (NR < 3) bad("no guest at all"); print "ids" ids }' "$1"
}
# fail_lines TEXT: a failed check's details as TAP comments
fail_lines() { echo "$1" | head -n 20 | sed 's/^/#   /'; }
# has TEXT PATTERN / lacks TEXT PATTERN
has() { echo "$1" | grep -q "$2"; }
lacks() { ! echo "$1" | grep -q "$2"; }

# --- 1. the file, field by field ---

three_blocks() { [ "$(table_rows <"$BC" 2>/dev/null | awk '{ print $1 }' | sort -u | tr '\n' ' ')" = "201 202 203 " ]; }
check "RUN/user_beancounters lists 201, 202 and 203" wait_for 20 three_blocks
report=$(layout_report "$BC")
errors=$(echo "$report" | grep -v '^ids')
if [ -z "$errors" ]; then ok "the file has OpenVZ's layout"; else not_ok "the file has OpenVZ's layout"; fail_lines "$errors"; fi
check_eq "one block per guest" "201 202 203" "$(echo "$report" | sed -n 's/^ids //p' | tr ' ' '\n' | sort -n | tr '\n' ' ' | sed 's/ $//')"
check_eq "201 physpages barrier: 32M in pages" 8192 "$(fval 201 physpages barrier)"
check_eq "201 physpages limit: 48M in pages" 12288 "$(fval 201 physpages limit)"
check_eq "202 numproc limit is its tasks" 20 "$(fval 202 numproc limit)"
check_eq "203 physpages limit is unlimited" "$UNLIMITED" "$(fval 203 physpages limit)"
check_eq "201 kmemsize barrier is unlimited" "$UNLIMITED" "$(fval 201 kmemsize barrier)"
check_eq "201 kmemsize limit is unlimited" "$UNLIMITED" "$(fval 201 kmemsize limit)"

# The table and JSON of ubcctl carry the same rows.
table=$(ctl beancounters 201)
check_eq "beancounters 201 exits 0" 0 "$?"
want=
for r in $RESOURCES; do want="$want${want:+ }201:$r"; done
check_eq "beancounters 201: its 9 rows in OpenVZ's order" "$want" \
        "$(echo "$table" | table_rows | awk '{ printf "%s%s:%s", (NR > 1 ? " " : ""), $1, $2 }')"
check "beancounters 201 has the column header" has "$table" 'resource  *held  *maxheld  *barrier  *limit  *failcnt' 
check_eq "the table says the 201 physpages limit is 12288" 12288 "$(echo "$table" | table_rows | pick 201 physpages limit)"
json=$(ctl beancounters --json)
check_eq "beancounters --json exits 0" 0 "$?"
check_eq "--json has a row per guest and resource" 27 "$(echo "$json" | json_rows | awk '$1 ~ /^20[123]$/' | wc -l | tr -d ' ')"
check_eq "--json: 202 numproc limit 20" 20 "$(echo "$json" | json_rows | pick 202 numproc limit)"
check_eq "--json: 203 physpages limit unlimited" "$UNLIMITED" "$(echo "$json" | json_rows | pick 203 physpages limit)"

# --- 2. a guest past its memory limit ---

check_eq "201 has its 48M limit in the kernel" 50331648 "$(cat "$(memdir 201)/$limit_file" 2>/dev/null)"
ctl run 201 -- "$HELPERS/memhog" 100 >"$TEST_DIR/memhog.out" 2>&1 &
hog=$!
STARTED_PIDS="$STARTED_PIDS $hog"
killed() { ge "$(kernel_oom_kills 201)" 1; }
if wait_for 120 killed; then
        ok "the kernel OOM-killed memhog in 201"
        wait "$hog"
else
        not_ok "the kernel OOM-killed memhog in 201"
        kill -9 "$hog" 2>/dev/null
        wait "$hog"
fi
oom_counted() { ge "$(jval 201 oomguarpages failcnt)" 1; }
check "201 oomguarpages failcnt rose" wait_for 15 oom_counted
wait_sweeps 2
rows=$(ctl beancounters --json | json_rows)
diag "201: $(echo "$rows" | awk '$1 == 201 && ($2 == "physpages" || $2 == "oomguarpages")' | tr '\n' ';')" \
        "kernel: failures $(kernel_mem_fails 201), oom kills $(kernel_oom_kills 201)"
check "201 physpages failcnt rose" ge "$(echo "$rows" | pick 201 physpages failcnt)" 1
# With memsw set the kernel refuses on memsw, whose failcnt not every kernel keeps: exact only
# where memory.events max or memory.failcnt is the counter that refused.
if is_v2 || [ -z "$swap" ]; then
        check_eq "201 physpages failcnt is what the kernel counted" "$(kernel_mem_fails 201)" "$(echo "$rows" | pick 201 physpages failcnt)"
fi
check_eq "201 oomguarpages failcnt is the kernel's OOM kills" "$(kernel_oom_kills 201)" "$(echo "$rows" | pick 201 oomguarpages failcnt)"
check "201 physpages maxheld is within 10% of the 12288-page limit" near "$(echo "$rows" | pick 201 physpages maxheld)" 12288 10
check_eq "202 and 203 have no failcnt" "" "$(echo "$rows" | awk '($1 == 202 || $1 == 203) && $7 != 0')"
below=$(echo "$rows" | awk '$4 !~ /^[0-9]+$/ || $3 !~ /^[0-9]+$/ || $4 + 0 < $3 + 0')
if [ -z "$below" ]; then ok "maxheld >= held on every row"; else not_ok "maxheld >= held on every row"; fail_lines "$below"; fi

# Each rise once in the log, naming guest and resource; later sweeps add nothing.
logged() { grep -c "201.*$1\|$1.*201" "$TEST_DIR/ubcd.log"; }
phys_logs=$(logged physpages)
oom_logs=$(logged oomguarpages)
check "the log names 201 and physpages" ge "$phys_logs" 1
check "the log names 201 and oomguarpages" ge "$oom_logs" 1
check "no more log lines than failures" ge "$(echo "$rows" | pick 201 oomguarpages failcnt)" "$oom_logs"
wait_sweeps 2
check_eq "later sweeps log no physpages rise again" "$phys_logs" "$(logged physpages)"
check_eq "later sweeps log no oomguarpages rise again" "$oom_logs" "$(logged oomguarpages)"

# --- stat: the CPU memhog used is counted (v2 cpu.stat, v1 cpuacct.usage) ---
cpu_used() {
        v=$("$UBCCTL" -s "$SOCK" --json stat 201 | tr ',{}' '\n\n\n' | sed -n 's/.*"cpu.usage_usec": *//p')
        [ -n "$v" ] && awk -v v="$v" 'BEGIN { exit !(v > 0) }'
}
check "stat 201 shows the CPU time memhog used" wait_for 15 cpu_used

# --- 6. --failcnt: rows that rose since the previous look ---

look=$(ctl beancounters --failcnt)
check_eq "beancounters --failcnt exits 0" 0 "$?"
look_rows=$(echo "$look" | table_rows | awk '{ print $1 ":" $2 }' | tr '\n' ' ')
diag "first look: $look_rows"
check "the first look shows 201 physpages" has "$look_rows" '201:physpages '
check "the first look shows 201 oomguarpages" has "$look_rows" '201:oomguarpages '
check "the first look shows nothing of 202 and 203" lacks "$look_rows" '20[23]:' 
look=$(ctl beancounters --failcnt)
check_eq "the second look exits 0" 0 "$?"
check_eq "the second look shows no row" "" "$(echo "$look" | table_rows)"

# --- 3. a guest past its task limit ---

ctl run 202 -- "$HELPERS/forker" 50 30 >"$TEST_DIR/forker.out" 2>&1 &
STARTED_PIDS="$STARTED_PIDS $!"
wait_for 60 grep -q '^forker:' "$TEST_DIR/forker.out"
diag "$(grep '^forker:' "$TEST_DIR/forker.out"); pids.events max $(kernel_pid_fails 202)"
check "forks past 20 tasks failed" grep -q 'eagain=[1-9]' "$TEST_DIR/forker.out"
proc_counted() { ge "$(jval 202 numproc failcnt)" 1; }
check "202 numproc failcnt rose" wait_for 15 proc_counted
wait_sweeps 2
rows=$(ctl beancounters --json | json_rows)
check_eq "202 numproc failcnt is pids.events max" "$(kernel_pid_fails 202)" "$(echo "$rows" | pick 202 numproc failcnt)"
check_eq "202 numproc held is pids.current" "$(cg_read 202 pids pids.current)" "$(echo "$rows" | pick 202 numproc held)"
check_eq "202 numproc maxheld is the 20 tasks it reached" 20 "$(echo "$rows" | pick 202 numproc maxheld)"

look=$(ctl beancounters --failcnt)
look_rows=$(echo "$look" | table_rows | awk '{ print $1 ":" $2 }' | tr '\n' ' ')
diag "third look: $look_rows"
check "the next look shows 202 numproc" has "$look_rows" '202:numproc '
check "the next look no longer shows 201" lacks "$look_rows" '201:' 

# --- 5. per-task rows: locked memory and open files ---

if [ -x "$HELPERS/holder" ]; then
        # Root may lock past RLIMIT_MEMLOCK with CAP_IPC_LOCK; raise it where that is allowed.
        (
                ulimit -l unlimited 2>/dev/null
                exec "$UBCCTL" -s "$SOCK" run 203 -- "$HELPERS/holder" 16 40
        ) >"$TEST_DIR/holder.out" 2>&1 &
        holder=$!
        STARTED_PIDS="$STARTED_PIDS $holder"
        check "holder is ready in 203" wait_for 30 grep -qx ready "$TEST_DIR/holder.out"
        lck_kb=$(awk '$1 == "VmLck:" { print $2 }' "/proc/$holder/status" 2>/dev/null)
        nfd=$(ls "/proc/$holder/fd" 2>/dev/null | wc -l | tr -d ' ')
        check "holder has 16 MiB locked (VmLck $lck_kb kB)" ge "${lck_kb:-0}" 16384
        want_locked=$((${lck_kb:-0} / 4))
        locked_near() { near "$(jval 203 lockedpages held)" "$want_locked" 5; }
        files_near() { near "$(jval 203 numfile held)" "$nfd" 5; }
        check "203 lockedpages within 5% of VmLck / 4 KiB ($want_locked)" wait_for 15 locked_near
        check "203 numfile within 5% of holder's $nfd descriptors" wait_for 15 files_near
        diag "203: lockedpages $(jval 203 lockedpages held), numfile $(jval 203 numfile held)"
else
        ok "# SKIP no holder helper in $HELPERS"
        ok "# SKIP no holder helper in $HELPERS"
        ok "# SKIP no holder helper in $HELPERS"
        ok "# SKIP no holder helper in $HELPERS"
fi

# --- 7. OpenMetrics ---

metrics=$(ctl metrics)
check_eq "metrics exits 0" 0 "$?"
check_eq "metrics ends with # EOF" "# EOF" "$(echo "$metrics" | tail -n 1)"
missing=
for g in 201 202 203; do
        for r in $RESOURCES; do
                echo "$metrics" | grep -q "^ubc_beancounter_held{guest=\"$g\",resource=\"$r\"} [0-9][0-9]*\$" ||
                        missing="$missing $g/$r"
        done
done
check_eq "a held line for every guest and resource" "" "$missing"
# A counter: OpenMetrics names its samples ..._total.
check_eq "the 201 oomguarpages failcnt metric is what --json says" "$(jval 201 oomguarpages failcnt)" \
        "$(echo "$metrics" | sed -n 's/^ubc_beancounter_failcnt\(_total\)\{0,1\}{guest="201",resource="oomguarpages"} //p')"
prom=$STATE/ubc.prom
check "STATE/ubc.prom exists" test -f "$prom"
check_eq "ubc.prom ends with # EOF" "# EOF" "$(tail -n 1 "$prom" 2>/dev/null)"
series() { grep -v '^#' | sed 's/ [^ ]*$//' | sort; }
only=$( (echo "$metrics" | series | sed 's/^/metrics: /'; series <"$prom" 2>/dev/null | sed 's/^/ubc.prom: /') |
        sort -k2 | uniq -u -f1)
if [ -z "$only" ] && [ -n "$(series <"$prom" 2>/dev/null)" ]; then
        ok "ubc.prom has the same series as metrics"
else
        not_ok "ubc.prom has the same series as metrics"
        fail_lines "$only"
fi

# --- 4. kill -9 and a new ubcd: maxheld and failcnt stay ---

kept() { ctl beancounters --json 2>/dev/null | json_rows | awk '{ print $1, $2, $4, $7 }' | sort; }
wait_sweeps 2
kept >"$TEST_DIR/kept.before"
kill -9 "$UBCD_PID"
wait "$UBCD_PID" 2>/dev/null
UBCD_PID=
check "ubcd comes back after kill -9" start_ubcd -v
wait_sweeps 2
kept >"$TEST_DIR/kept.after"
# "ID RESOURCE MAXHELD FAILCNT" lines that differ, before and after
moved=$(awk 'NR == FNR { b[$1 " " $2] = $0; next }
        { k = $1 " " $2; if (b[k] != $0) print "before: " b[k] "; after: " $0; delete b[k] }
        END { for (k in b) print "gone: " b[k] }' "$TEST_DIR/kept.before" "$TEST_DIR/kept.after")
before=$(cat "$TEST_DIR/kept.before")
check "there were rows to compare" test "$(echo "$before" | wc -l)" -ge 27
if [ -z "$moved" ]; then ok "every maxheld and failcnt is unchanged"; else not_ok "every maxheld and failcnt is unchanged"; fail_lines "$moved"; fi

# --- a guest's cgroup made anew: counting goes on from the totals ---

pf=$(jval 201 physpages failcnt)
of=$(jval 201 oomguarpages failcnt)
pm=$(jval 201 physpages maxheld)
for c in cpu cpuset memory io pids cpuacct; do
        d=$(cg_root_dir $c)/201
        [ -d "$d" ] && rmdir "$d"
done
check "201's cgroup is gone" sh -c "! test -d '$(memdir 201)'"
ctl reload >/dev/null 2>&1
has_limit() { [ "$(cat "$(memdir 201)/$limit_file" 2>/dev/null)" = 50331648 ]; }
check "ubcd makes 201's cgroup again, with its limit" wait_for 30 has_limit
check_eq "the kernel counts 201's OOM kills from 0 again" 0 "$(kernel_oom_kills 201)"
wait_sweeps 2
check_eq "201 physpages failcnt is kept" "$pf" "$(jval 201 physpages failcnt)"
check_eq "201 oomguarpages failcnt is kept" "$of" "$(jval 201 oomguarpages failcnt)"
check_eq "201 physpages maxheld is kept" "$pm" "$(jval 201 physpages maxheld)"

ctl run 201 -- "$HELPERS/memhog" 100 >"$TEST_DIR/memhog2.out" 2>&1 &
hog=$!
STARTED_PIDS="$STARTED_PIDS $hog"
if wait_for 120 killed; then
        wait "$hog"
else
        kill -9 "$hog" 2>/dev/null
        wait "$hog"
fi
more_ooms() { ge "$(jval 201 oomguarpages failcnt)" $((${of:-0} + 1)); }
check "a new OOM kill adds to 201's oomguarpages failcnt" wait_for 15 more_ooms
wait_sweeps 2
check_eq "201 oomguarpages failcnt: the old total plus the new cgroup's kills" \
        "$((${of:-0} + $(kernel_oom_kills 201)))" "$(jval 201 oomguarpages failcnt)"
if is_v2 || [ -z "$swap" ]; then
        check_eq "201 physpages failcnt: the old total plus the new cgroup's failures" \
                "$((${pf:-0} + $(kernel_mem_fails 201)))" "$(jval 201 physpages failcnt)"
else
        check "201 physpages failcnt went on from $pf" ge "$(jval 201 physpages failcnt)" $((${pf:-0} + 1))
fi

check "ubcd is still running" kill -0 "$UBCD_PID"
if [ "$tap_failed" != 0 ]; then
        diag "ubcd's log:"
        tail -n 60 "$TEST_DIR/ubcd.log" | sed 's/^/#   /'
fi
tap_done
