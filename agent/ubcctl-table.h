/* Aligned text tables for ubcctl (list, show): columns as wide as their widest cell, numbers
 * right-aligned, and cells cleaned of control characters before they reach a terminal. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#define TABLE_COLUMNS_MAX 12

struct table {
        size_t n_columns;
        const char *header[TABLE_COLUMNS_MAX];
        bool right[TABLE_COLUMNS_MAX];
        char **cells; /* row-major, owned */
        size_t n_cells, n_allocated;
};

/* 'headers' is NULL-terminated; a header starting with '>' is right-aligned (the '>' is not shown). */
int table_init(struct table *t, const char *const *headers);
/* Adds one row of n_columns cells; NULL or "" shows as "-". */
int table_add_row(struct table *t, const char *const *cells);
void table_print(const struct table *t, FILE *f);
void table_done(struct table *t);

/* Copies s into buf for a terminal: newlines become "; ", other control bytes '?', and a
 * trailing newline is dropped. */
void table_clean(const char *s, char *buf, size_t size);
