/* libFuzzer target: class files. Whatever the bytes, the parser reports or accepts; what it
 * accepts formats back to text that parses to the same value. */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz-common.h"
#include "ubc/policy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_roundtrip(const struct ubc_limits *l) {
        for (int k = 0; k < _UBC_KEY_MAX; k++) {
                struct ubc_limits back;
                char text[4096], again[4096];

                if (!limits_has(l, k))
                        continue;
                if (policy_format_value(l, k, text, sizeof(text)) < 0)
                        __builtin_trap();
                /* io.limit formats every device on one line for display; it is set per device. */
                if (k == UBC_KEY_IO_LIMIT)
                        continue;

                limits_init_default(&back);
                if (policy_parse_setting(&back, ubc_key_name(k), text, NULL) < 0)
                        __builtin_trap();
                if (policy_format_value(&back, k, again, sizeof(again)) < 0 || strcmp(text, again) != 0)
                        __builtin_trap();
                limits_done(&back);
        }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        struct ubc_diag_sink sink = fuzz_sink();
        struct policy_file f;
        int r;

        r = policy_parse_classes("fuzz.policy", (const char *) data, size, &f, &sink);
        if (r < 0) {
                /* Refused: with a reason. */
                if (r == -EINVAL && sink.n_errors == 0)
                        __builtin_trap();
                return 0;
        }
        if (sink.n_errors != 0)
                __builtin_trap();

        for (size_t i = 0; i < f.n_classes; i++)
                check_roundtrip(&f.classes[i].limits);
        policy_file_done(&f);
        return 0;
}
