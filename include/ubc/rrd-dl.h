/* librrd, loaded when history is first touched rather than at exec. It brings some 45
 * libraries for its graphs (cairo, pango, glib); linked in, every ubcctl command paid for
 * loading them and every process ubcd forks (a container's start) carried their mappings.
 * Callers go through the sym_ pointers below, set once rrd_dl_open() returned 0. */
#pragma once

#include <rrd.h>
#include <rrd_client.h>
#include <stddef.h>

/* The ABI the headers describe: rrdtool 1.7 and 1.8 both ship it. */
#define RRD_SONAME "librrd.so.8"

extern typeof(rrd_get_error) *sym_rrd_get_error;
extern typeof(rrd_clear_error) *sym_rrd_clear_error;
extern typeof(rrd_test_error) *sym_rrd_test_error;
extern typeof(rrd_create_r2) *sym_rrd_create_r2;
extern typeof(rrd_update_r) *sym_rrd_update_r;
extern typeof(rrd_lastupdate_r) *sym_rrd_lastupdate_r;
extern typeof(rrd_tune) *sym_rrd_tune;
extern typeof(rrd_fetch_r) *sym_rrd_fetch_r;
extern typeof(rrd_info_r) *sym_rrd_info_r;
extern typeof(rrd_info_free) *sym_rrd_info_free;
extern typeof(rrd_graph_v) *sym_rrd_graph_v;
extern typeof(rrdc_connect) *sym_rrdc_connect;
extern typeof(rrdc_disconnect) *sym_rrdc_disconnect;
extern typeof(rrdc_is_connected) *sym_rrdc_is_connected;
extern typeof(rrdc_flush) *sym_rrdc_flush;
extern typeof(rrdc_update) *sym_rrdc_update;

/* Loads librrd and resolves every symbol, once per process (not thread-safe: ubcd and ubcctl
 * are single-threaded). 0, or -ENOENT/-ENOSYS with the reason and the package in err. */
int rrd_dl_open(char *err, size_t err_size);

/* librrd's last error into err (or "unknown librrd error"), cleared; returns -EIO. */
int rrd_dl_error(char *err, size_t err_size);
