/* libFuzzer target: the value parsers. Each accepted value formats back to text that parses
 * to the same value, and a live setting never changes limits it refuses. */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz-common.h"
#include "ubc/policy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        struct ubc_limits l, before;
        struct ubc_cpuset set, set2;
        char *s, buf[8192];
        uint64_t v, v2;
        int key;

        if (size > 8192)
                return 0;
        s = malloc(size + 1);
        if (!s)
                return 0;
        memcpy(s, data, size);
        s[size] = '\0';

        if (unit_parse_size(s, &v) == 0) {
                if (unit_format_size(v, buf, sizeof(buf)) < 0 || unit_parse_size(buf, &v2) < 0 || v != v2)
                        __builtin_trap();
        }
        if (unit_parse_uint(s, 8, 500000, &v) == 0 && (v < 8 || v > 500000))
                __builtin_trap();
        if (unit_parse_cpu_limit(s, &v) == 0) {
                if (v > UBC_CPUS_MAX * UBC_CPU_PERIOD_US || v % 1000 != 0)
                        __builtin_trap();
                if (unit_format_cpu_limit(v, buf, sizeof(buf)) < 0 || unit_parse_cpu_limit(buf, &v2) < 0 ||
                    v != v2)
                        __builtin_trap();
        }
        if (cpuset_parse(s, &set) == 0) {
                if (cpuset_format(&set, buf, sizeof(buf)) < 0 || cpuset_parse(buf, &set2) < 0 ||
                    memcmp(&set, &set2, sizeof(set)) != 0)
                        __builtin_trap();
        }

        /* The first byte picks a key; the rest is its value. */
        if (size > 0) {
                struct ubc_diag_sink sink = fuzz_sink();

                key = data[0] % _UBC_KEY_MAX;
                limits_init_default(&l);
                memcpy(&before, &l, sizeof(l));
                if (policy_parse_setting(&l, ubc_key_name(key), s + 1, &sink) < 0) {
                        if (memcmp(&l, &before, sizeof(l)) != 0 || sink.n_errors == 0)
                                __builtin_trap();
                } else if (!limits_has(&l, key))
                        __builtin_trap();
                limits_done(&l);
        }

        free(s);
        return 0;
}
