/* CPU entitlement under full contention: what each guest gets when every guest wants all the
 * CPU it can have. Weights share the host; a cap (cpu.limit, cpu.set size) ends a guest's
 * share and what it leaves is shared again among the rest (water-filling). */
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>

#include "ubc/macro.h"
#include "ubc/plan.h"

int share_entitled(const struct share_input *in, size_t n, double ncpus, double *ret_cpus) {
        _cleanup_free_ bool *fixed = NULL;
        _cleanup_free_ double *out = NULL;
        double remaining = ncpus;

        if (n == 0)
                return 0;
        if (!in || !ret_cpus || !isfinite(ncpus) || ncpus < 0)
                return -EINVAL;
        for (size_t i = 0; i < n; i++)
                if (!isfinite(in[i].cap_cpus) || in[i].cap_cpus < 0)
                        return -EINVAL;

        fixed = calloc(n, sizeof(*fixed));
        out = calloc(n, sizeof(*out));
        if (!fixed || !out)
                return -ENOMEM;

        /* A guest without weight gets nothing and takes no part. */
        for (size_t i = 0; i < n; i++)
                if (in[i].units == 0)
                        fixed[i] = true;

        /* Each round fixes at least one guest at its cap or ends: at most n rounds. */
        for (size_t round = 0; round <= n; round++) {
                double sum = 0;
                bool capped = false;

                for (size_t i = 0; i < n; i++)
                        if (!fixed[i])
                                sum += in[i].units;
                if (sum <= 0)
                        break;

                for (size_t i = 0; i < n; i++) {
                        double cap, share;

                        if (fixed[i])
                                continue;
                        /* No guest can use more than the whole host. */
                        cap = in[i].cap_cpus > 0 && in[i].cap_cpus < ncpus ? in[i].cap_cpus : ncpus;
                        share = remaining * in[i].units / sum;
                        if (share >= cap) {
                                out[i] = cap;
                                fixed[i] = true;
                                capped = true;
                        }
                }

                if (capped) {
                        /* Share out again what the capped guests left. */
                        remaining = ncpus;
                        for (size_t i = 0; i < n; i++)
                                if (fixed[i])
                                        remaining -= out[i];
                        if (remaining < 0)
                                remaining = 0;
                        continue;
                }

                for (size_t i = 0; i < n; i++)
                        if (!fixed[i])
                                out[i] = remaining * in[i].units / sum;
                break;
        }

        for (size_t i = 0; i < n; i++)
                ret_cpus[i] = out[i];
        return 0;
}
