/* libFuzzer target: guest files, then resolve-like overlay, validation and mapping on v1 and
 * v2, so that whatever a guest file can say reaches the planner without harm. */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz-common.h"
#include "ubc/plan.h"
#include "ubc/policy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        struct ubc_diag_sink sink = fuzz_sink();
        struct policy_resolved g = {.guest_file = "101.conf"};
        struct policy_file f;
        struct cg_current cur;
        static struct cg_plan plan;
        int r;

        r = policy_parse_guest("101.conf", 101, (const char *) data, size, &f, &sink);
        if (r < 0) {
                if (r == -EINVAL && sink.n_errors == 0)
                        __builtin_trap();
                return 0;
        }
        if (sink.n_errors != 0 || f.guest.id != 101)
                __builtin_trap();
        for (size_t i = 0; i < f.guest.n_settings; i++)
                if (!f.guest.settings[i].value || f.guest.settings[i].line == 0)
                        __builtin_trap();

        g.guest = &f.guest;
        limits_init_default(&g.limits);
        if (limits_overlay(&g.limits, &f.guest.limits, UBC_SOURCE_GUEST) < 0)
                goto out;

        cg_current_init(&cur);
        cur.n_io_devs = 1;
        cur.io_devs[0].major = 8;
        cur.io_devs[0].minor = 0;

        for (int v = CG_VERSION_V1; v <= CG_VERSION_V2; v++) {
                struct ubc_host h;

                fuzz_host(&h, v);
                if (policy_validate_host(&g, &h, &sink) < 0)
                        continue;
                r = policy_map(&g.limits, &h, &cur, &plan);
                if (r < 0)
                        __builtin_trap();
                for (unsigned i = 0; i < plan.n; i++)
                        if (plan.w[i].file[0] == '\0')
                                __builtin_trap();
        }

out:
        limits_done(&g.limits);
        policy_file_done(&f);
        return 0;
}
