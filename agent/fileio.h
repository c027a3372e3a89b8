/* Replacing a file as one step: readers see the old content or the new, never a mix. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* Writes 'content' to a hidden temporary beside 'path' (".NAME.tmp", which the policy loader
 * skips), then renames it over 'path'. With 'durable', fsyncs the file before and the folder
 * after the rename: for state that must survive a crash, not for files in /run. Keeps the
 * mode of an existing file, else 'mode'. */
int write_file_atomic(const char *path, const char *content, size_t len, unsigned mode, bool durable);
/* The same, the content written by 'fill' straight into the temporary through stdio, for
 * outputs of several MiB that need not be held in memory first. 'fill' returns < 0 to give up
 * (the temporary is removed, 'path' stays as it was). */
int write_file_atomic_stream(const char *path, unsigned mode, bool durable,
                             int (*fill)(FILE *f, void *userdata), void *userdata);
