/* Shared inside policies/ only: the limit key table, value parsers with messages a user can
 * act on, and small string helpers. Not part of the interface between modules. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ubc/limits.h"
#include "ubc/policy.h"

/* Room for a parser's message; the caller adds file:line and key. */
#define POLICY_MSG_MAX 256
/* [container] and [vm] settings per guest file. */
#define POLICY_SETTINGS_MAX 256

struct limit_key;

/* Parses 'value' into the field at key->offset of 'l'. On failure writes a message saying
 * what is valid into msg and returns a negative errno; 'l' is unchanged then. Setting the
 * key's bit, line and source is the caller's job. */
typedef int (*limit_parser_t)(const struct limit_key *key, const char *value, struct ubc_limits *l,
                              char *msg, size_t msg_size);

struct limit_key {
        enum ubc_key key;
        limit_parser_t parse;
        size_t offset;
        uint64_t min, max;
};

const struct limit_key *limit_key_lookup(const char *name);

/* io.limit: appends one device's limits to l->io_limits (-E2BIG past UBC_IO_LIMITS_MAX).
 * Whether the same device appearing twice is an error is the caller's choice, see
 * io_limit_find_dev(). */
int limit_parse_value(const struct limit_key *key, const char *value, struct ubc_limits *l, char *msg,
                      size_t msg_size);

/* Index of an earlier entry (below 'before') naming the same device as written, -1 if none.
 * "/dev/vda" and "vda" are the same; "254:0" is matched only once validation knows it. */
int io_limit_find_dev(const struct ubc_limits *l, uint32_t before, const char *dev);
bool io_limit_same_dev(const char *a, const char *b);

/* Optimal string alignment distance, capped: inputs longer than 64 bytes count as far. */
unsigned policy_edit_distance(const char *a, const char *b);
/* The distance from a misspelt 'name' to a known 'candidate' if that is a likely typo (at
 * most 3 edits, and fewer than the candidate has characters), else UINT_MAX. */
unsigned policy_typo_distance(const char *name, const char *candidate);

/* [A-Za-z0-9_.-]{1,63} */
bool policy_name_is_valid(const char *name);

/* Appends s to buf (NUL-terminated, cut at size) and returns the length the whole text would
 * have, as snprintf does: a result >= size means it was cut. */
size_t policy_append(char *buf, size_t size, size_t used, const char *s);
