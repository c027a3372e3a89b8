/* Aligned text tables for ubcctl's list and show, in the manner of vzlist. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ubc/macro.h"
#include "ubcctl-table.h"

/* A cell longer than this is cut: a table is for reading, --json has the whole value. */
#define TABLE_CELL_MAX 1024

int table_init(struct table *t, const char *const *headers) {
        *t = (struct table){};
        for (; *headers; headers++) {
                if (t->n_columns >= TABLE_COLUMNS_MAX)
                        return -E2BIG;
                t->right[t->n_columns] = (*headers)[0] == '>';
                t->header[t->n_columns] = *headers + t->right[t->n_columns];
                t->n_columns++;
        }
        return 0;
}

void table_clean(const char *s, char *buf, size_t size) {
        size_t n = 0, len = strlen(s);

        if (size == 0)
                return;
        while (len > 0 && s[len - 1] == '\n')
                len--;
        for (size_t i = 0; i < len && n + 1 < size; i++) {
                unsigned char c = (unsigned char) s[i];

                if (c == '\n') {
                        if (n + 2 >= size)
                                break;
                        buf[n++] = ';';
                        buf[n++] = ' ';
                } else
                        buf[n++] = c < ' ' || c == 0x7f ? '?' : (char) c;
        }
        buf[n] = '\0';
}

int table_add_row(struct table *t, const char *const *cells) {
        if (t->n_cells + t->n_columns > t->n_allocated) {
                size_t n = t->n_allocated ? t->n_allocated * 2 : t->n_columns * 16;
                char **p = reallocarray(t->cells, n, sizeof(char *));

                if (!p)
                        return -ENOMEM;
                t->cells = p;
                t->n_allocated = n;
        }

        for (size_t i = 0; i < t->n_columns; i++) {
                char buf[TABLE_CELL_MAX];

                table_clean(cells[i] && cells[i][0] ? cells[i] : "-", buf, sizeof(buf));
                t->cells[t->n_cells + i] = strdup(buf);
                if (!t->cells[t->n_cells + i]) {
                        for (size_t j = 0; j < i; j++)
                                free(t->cells[t->n_cells + j]);
                        return -ENOMEM;
                }
        }
        t->n_cells += t->n_columns;
        return 0;
}

/* Columns on a terminal: UTF-8 continuation bytes take none. */
static size_t display_width(const char *s) {
        size_t w = 0;

        for (; *s; s++)
                if (((unsigned char) *s & 0xC0) != 0x80)
                        w++;
        return w;
}

static void print_cell(FILE *f, const char *s, size_t width, bool right, bool last) {
        size_t pad = width - display_width(s);

        if (right)
                fprintf(f, "%*s%s", (int) pad, "", s);
        else if (last)
                fputs(s, f); /* no trailing blanks */
        else
                fprintf(f, "%s%*s", s, (int) pad, "");
}

void table_print(const struct table *t, FILE *f) {
        size_t width[TABLE_COLUMNS_MAX];

        for (size_t c = 0; c < t->n_columns; c++) {
                width[c] = display_width(t->header[c]);
                for (size_t i = c; i < t->n_cells; i += t->n_columns) {
                        size_t w = display_width(t->cells[i]);
                        if (w > width[c])
                                width[c] = w;
                }
        }

        for (size_t c = 0; c < t->n_columns; c++) {
                print_cell(f, t->header[c], width[c], t->right[c], c + 1 == t->n_columns);
                fputs(c + 1 == t->n_columns ? "\n" : "  ", f);
        }
        for (size_t i = 0; i < t->n_cells; i++) {
                size_t c = i % t->n_columns;

                print_cell(f, t->cells[i], width[c], t->right[c], c + 1 == t->n_columns);
                fputs(c + 1 == t->n_columns ? "\n" : "  ", f);
        }
}

void table_done(struct table *t) {
        for (size_t i = 0; i < t->n_cells; i++)
                free(t->cells[i]);
        free(t->cells);
        *t = (struct table){};
}
