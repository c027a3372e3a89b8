/* The control socket's interface: sd-bus peer-to-peer, no bus daemon. Shared by ubcd and
 * ubcctl; `busctl --address=unix:path=/run/ubc/ubcd.sock` speaks it too. */
#pragma once

#define UBC_BUS_PATH      "/org/ubc/ubcd"
#define UBC_BUS_INTERFACE "org.ubc.Manager1"
#define UBC_SOCKET_NAME   "ubcd.sock"

/* One row of ListGuests' reply (see below). */
#define UBC_BUS_LIST_ROW "(usssssuutdtt)"

/* Errors beyond the standard org.freedesktop.DBus.Error.* ones. */
#define UBC_BUS_ERROR_NO_SUCH_GUEST "org.ubc.Error.NoSuchGuest"
#define UBC_BUS_ERROR_INVALID       "org.ubc.Error.Invalid"       /* bad key or value; message says which */
#define UBC_BUS_ERROR_KERNEL        "org.ubc.Error.KernelRefused" /* a cgroup write failed, rolled back */
#define UBC_BUS_ERROR_STATE         "org.ubc.Error.State" /* start of a running guest, stop of a stopped one */
#define UBC_BUS_ERROR_LAUNCH        "org.ubc.Error.Launch" /* the container or VM could not be started */

/*
 * Methods. Mutating ones need uid 0 or the configured group (SO_PEERCRED); others answer
 * anyone who can open the socket (mode 0660). Guest states: "active" (cgroup has processes),
 * "idle" (cgroup ready, empty), "error" (last apply failed; see Show), "orphan" (cgroup kept
 * after its file was removed because it still has processes).
 *
 * Replies with several values list them in order (no enclosing struct).
 *
 *   Status()                 -> sssuu     mode, driver, root, guests, errors of the last load
 *   Reload()                 -> uu        guests, errors of this load                [mutating]
 *   Errors()                 -> as        diagnostics of the last load, "file:line: key: message"
 *   ListGuests()             -> a(usssssuutdtt) id, name, type, class, state, cgroup path (memory
 *                                         or unified hierarchy), nprocs, then for a launched
 *                                         guest its PID and start (CLOCK_REALTIME µs; 0 when not
 *                                         running), CPUs used (NaN unknown), memory held and
 *                                         limit in bytes (UINT64_MAX: none). States of a
 *                                         container or VM: "running", "stopping", "stopped"
 *   Start(u id)              -> u         PID of the started container init or qemu  [mutating]
 *   Stop(u id, b kill)       -> u         the stop sequence began (ACPI powerdown or halt, then
 *                                         quit, then SIGKILL; kill: at once); seconds it may
 *                                         take                                       [mutating]
 *   Show(u id)               -> a(ssssss) per key: key, desired (policy syntax), origin
 *                                         ("file:line", "default" or "runtime"), cgroup file
 *                                         (absolute path), actual (the kernel's value), note
 *   Explain(u id)            -> a(ss)dd   per key: key, explanation line; then the guest's
 *                                         entitled CPUs under full contention (-1 if unknown),
 *                                         host CPUs
 *   Set(u id, a(ss) kv, b save) -> ()     live change of limit keys; save also rewrites
 *                                         guests.d/ID.conf atomically                [mutating]
 *   Attach(u id, u pid)      -> ()        moves pid into the guest's cgroup          [mutating]
 *   Beancounters(u id, b failed_only)
 *                            -> a(usttttt) guest, resource, held, maxheld, barrier, limit, failcnt
 *                                         of the last sweep; id 0 = all; failed_only: rows
 *                                         whose failcnt rose since the last such look, which it
 *                                         marks seen                       [mutating if failed_only]
 *   Stat(u id)               -> a(usd)    guest, metric ("cpu.usage_usec", "io.MAJ:MIN.rbytes",
 *                                         "psi.memory.some.avg10", ...), value; id 0 = all
 *   Metrics()                -> s         OpenMetrics text of every guest's beancounters
 *   WriteHistory(au ids)     -> u         writes the history rows ubcd holds back (rrd_batch) of
 *                                         those guests (none given: all) to their RRD files, and
 *                                         has rrdcached write what it holds of them; files
 *                                         written. For readers of the files (ubcctl report)
 */
