/* libFuzzer target: the persisted beancounter state. What parses is sorted, bounded, formats
 * back to text that parses to the same states, and folding a sample in never moves maxheld or
 * failcnt backwards. */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ubc/beancounter.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A sample from the input's first bytes, so the fold sees counters rise, fall and reset. */
static void sample_from(const uint8_t *data, size_t size, struct bc_sample *s) {
        *s = (struct bc_sample){};
        for (unsigned r = 0; r < _BC_MAX; r++) {
                uint64_t v = size > r ? data[r] : 0;

                s->held[r] = v * 4096;
                s->peak[r] = v * 8192;
                s->events[r] = v % 7;
                s->barrier[r] = v & 1 ? BC_UNLIMITED : v;
                s->limit[r] = v & 2 ? UINT64_MAX : v;
        }
        s->present = size > 10 ? data[9] | (uint32_t) data[10] << 8 : 0;
        s->peak_present = size > 11 ? data[11] : 0;
        s->events_present = size > 12 ? data[12] : 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        struct bc_state *st = NULL, *st2 = NULL;
        size_t n = 0, n2 = 0, textsize = 0;
        unsigned line = 0;
        char *s, *text = NULL;
        struct bc_sample sample;
        FILE *f;

        if (size > 65536)
                return 0;
        s = malloc(size + 1);
        if (!s)
                return 0;
        memcpy(s, data, size);
        s[size] = '\0';

        if (bc_state_parse(s, &st, &n, &line) < 0) {
                if (line == 0 || st || n != 0)
                        __builtin_trap();
                free(s);
                return 0;
        }
        if (n > 100000 || (n > 0 && !st))
                __builtin_trap();
        for (size_t i = 1; i < n; i++)
                if (st[i - 1].id >= st[i].id)
                        __builtin_trap();

        f = open_memstream(&text, &textsize);
        if (!f)
                __builtin_trap();
        if (bc_state_format(f, st, n) < 0)
                __builtin_trap();
        fclose(f);
        if (bc_state_parse(text, &st2, &n2, &line) < 0 || n2 != n ||
            (n > 0 && memcmp(st, st2, n * sizeof(st[0])) != 0))
                __builtin_trap();

        sample_from(data, size, &sample);
        for (size_t i = 0; i < n; i++) {
                struct bc_state before = st[i];
                struct bc_row rows[_BC_MAX];
                uint32_t failed;

                bc_update(&st[i], &sample, rows, &failed);
                for (unsigned r = 0; r < _BC_MAX; r++) {
                        if (st[i].maxheld[r] < before.maxheld[r] || st[i].failcnt[r] < before.failcnt[r])
                                __builtin_trap();
                        /* The bit says failcnt rose, unless it was already at its ceiling. */
                        if (st[i].failcnt[r] > before.failcnt[r] && !((failed >> r) & 1))
                                __builtin_trap();
                        if ((failed >> r) & 1 && st[i].failcnt[r] == before.failcnt[r] &&
                            before.failcnt[r] != UINT64_MAX)
                                __builtin_trap();
                        if (rows[r].barrier > BC_UNLIMITED || rows[r].limit > BC_UNLIMITED ||
                            rows[r].maxheld < rows[r].held)
                                __builtin_trap();
                }
        }

        free(text);
        free(st2);
        free(st);
        free(s);
        return 0;
}
