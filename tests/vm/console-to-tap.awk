# Turns the VM's serial console (framed by tests/vm/init with @@UBC-VM lines) into one TAP
# stream: every inner TAP line renumbered and prefixed with its test's name, one line per test
# that printed none, and failures for what went wrong around the tests (no boot, no end).
#
# Variables: qemu_rc (exit status of timeout+qemu), timeout (seconds), accel, log (path),
# selected (UBC_VM_TESTS as given, may be empty).

function emit(line) {
        out[++nout] = line
}

function result(is_ok, desc) {
        n++
        emit((is_ok ? "ok " : "not ok ") n " - " desc)
        if (!is_ok)
                nfail++
}

function begin_test(name) {
        cur = name
        t_lines = 0
        t_fails = 0
        t_plan = -1
        t_skip = ""
        ntests++
}

function end_test(rc) {
        if (t_lines == 0 && (rc == 77 || t_skip != "" || (rc == 0 && t_plan == 0))) {
                n++
                emit("ok " n " - " cur " # SKIP " (t_skip != "" ? t_skip : rc == 77 ? "exit status 77" : "no tests"))
        } else if (rc != 0 && rc != 77 && t_fails == 0) {
                result(0, cur ": exited with status " rc)
        } else if (rc == 0 && t_lines == 0) {
                result(1, cur)
        }
        if (rc != 77 && t_plan >= 0 && t_plan != t_lines)
                result(0, cur ": planned " t_plan " tests but ran " t_lines)
        cur = ""
}

BEGIN {
        n = 0
        nfail = 0
        nout = 0
        ntests = 0
        booted = 0
        done = 0
        cur = ""
}

{
        gsub(/\r/, "")
        # Firmware and console escapes may precede a marker on its line.
        gsub(/\033(\[[0-9;?]*[A-Za-z]|c)/, "")
        if ((i = index($0, "@@UBC-VM ")) > 1)
                $0 = substr($0, i)
        if (NF > 0 && $0 !~ /^qemu-system/)
                printed++
}

/Kernel panic - not syncing/ {
        panic = $0
        sub(/^.*Kernel panic - not syncing: */, "", panic)
}

/^@@UBC-VM BOOT / {
        booted = 1
        bootinfo = substr($0, 15)
        next
}

/^@@UBC-VM TEST / {
        if (cur != "")
                result(0, cur ": no exit status")
        begin_test($3)
        next
}

/^@@UBC-VM EXIT / {
        if (cur == "")
                begin_test($3)
        if ($5 != "")
                emit("# " cur ": exit status " $4 " after " $5 " s")
        end_test($4 + 0)
        next
}

/^@@UBC-VM LEAK / {
        result(0, $3 ": left cgroup " $4 " behind")
        next
}

/^@@UBC-VM MISSING / {
        result(0, $3 ": no such test in the image")
        next
}

/^@@UBC-VM DONE/ {
        done = 1
        doneinfo = substr($0, 15)
        next
}

cur != "" && /^(not )?ok([ \t]|$)/ {
        is_ok = ($0 !~ /^not /)
        desc = $0
        sub(/^(not )?ok[ \t]*[0-9]*[ \t]*(-[ \t]*)?/, "", desc)
        # cmocka prints a skipped test as "not ok N # SKIP": a skip all the same (as prove
        # reads it), where meson would count a failure.
        if (desc ~ /#[ \t]*[Ss][Kk][Ii][Pp]/)
                is_ok = 1
        t_lines++
        n++
        if (!is_ok) {
                t_fails++
                # A failing TODO is expected and does not fail the suite.
                if (desc !~ /#[ \t]*[Tt][Oo][Dd][Oo]/)
                        nfail++
        }
        if (desc == "" || desc ~ /^#/)
                emit((is_ok ? "ok " : "not ok ") n " - " cur (desc == "" ? "" : " " desc))
        else
                emit((is_ok ? "ok " : "not ok ") n " - " cur ": " desc)
        next
}

cur != "" && /^1\.\.[0-9]+/ {
        t_plan = substr($0, 4) + 0
        if (match($0, /#[ \t]*[Ss][Kk][Ii][Pp][^ \t]*[ \t]*/))
                t_skip = substr($0, RSTART + RLENGTH)
        next
}

cur != "" && /^Bail out!/ {
        result(0, cur ": " $0)
        next
}

cur != "" && /^#/ {
        emit($0)
        next
}

cur != "" && NF > 0 {
        emit("# " cur ": " $0)
        next
}

END {
        if (cur != "")
                result(0, cur ": did not finish (the VM stopped under it)")
        if (qemu_rc == 124 || qemu_rc == 137)
                why = "timed out after " timeout " s"
        else if (panic != "")
                why = "kernel panic: " panic
        else
                why = "qemu exit status " qemu_rc
        if (!printed)
                why = "the console stayed empty; " why
        if (!booted)
                result(0, "vm: the VM never reached /init's tests (" why ", accel " accel ")")
        else if (!done)
                result(0, "vm: the VM did not finish its tests (" why ")")
        else if (ntests == 0 && nfail == 0)
                result(0, "vm: no test ran")
        else if (panic != "")
                result(0, "vm: " why)
        else if (qemu_rc != 0)
                result(0, "vm: qemu exit status " qemu_rc " after a complete run")

        print "1.." n
        if (booted)
                print "# vm: " bootinfo " accel=" accel
        for (i = 1; i <= nout; i++)
                print out[i]
        if (done)
                print "# vm: " doneinfo
        exit(nfail > 0 || !done ? 1 : 0)
}
