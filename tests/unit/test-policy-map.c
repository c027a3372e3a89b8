/* Unit tests for mapping limits to cgroup writes on v1 and v2: every key, defaults that
 * reset, the memsw order both ways, device lines and resets, and the notes for values the
 * kernel cannot take exactly. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ubc/plan.h"
#include "ubc/policy.h"
#include "ubc/units.h"

static void host_v2(struct ubc_host *h) {
        *h = (struct ubc_host){
                .mode = CG_MODE_UNIFIED,
                .ctrl = {CG_VERSION_V2, CG_VERSION_V2, CG_VERSION_V2, CG_VERSION_V2, CG_VERSION_V2},
                .swap_accounting = true,
                .io_weight = UBC_IO_WEIGHT_V2,
                .ncpus = 4,
                .n_blockdevs = 2,
                .blockdevs = {{"vda", 254, 0}, {"sda", 8, 0}},
        };
        assert_int_equal(cpuset_parse("0-3", &h->cpus), 0);
}

static void host_v1(struct ubc_host *h) {
        host_v2(h);
        h->mode = CG_MODE_LEGACY;
        for (int c = 0; c < _UBC_CTRL_MAX; c++)
                h->ctrl[c] = CG_VERSION_V1;
        h->io_weight = UBC_IO_WEIGHT_V1;
        snprintf(h->root_cpus, sizeof(h->root_cpus), "0-3");
        snprintf(h->root_mems, sizeof(h->root_mems), "0");
}

/* The plan as "file=value" lines, with " # note" where there is one. */
static const char *render(const struct cg_plan *p) {
        static char buf[32768];
        size_t used = 0;

        buf[0] = '\0';
        for (unsigned i = 0; i < p->n; i++)
                used += (size_t) snprintf(buf + used, sizeof(buf) - used, "%s%s=%s%s%s", i ? "\n" : "",
                                          p->w[i].file, p->w[i].value, p->w[i].note[0] ? " # " : "",
                                          p->w[i].note);
        return buf;
}

static void assert_plan(const struct cg_plan *p, const char *want) {
        const char *got = render(p);

        if (strcmp(got, want) != 0)
                fail_msg("got:\n%s\nwant:\n%s", got, want);
}

/* Limits from policy text, as a guest file would give them, validated against h. */
static void limits_from(const char *text, const struct ubc_host *h, struct ubc_limits *ret) {
        struct policy_file f;
        struct policy_resolved g = {.guest_file = "101.conf"};
        char buf[2048];

        snprintf(buf, sizeof(buf), "[guest]\n%s", text);
        assert_int_equal(policy_parse_guest("101.conf", 101, buf, strlen(buf), &f, NULL), 0);
        limits_init_default(&g.limits);
        assert_int_equal(limits_overlay(&g.limits, &f.guest.limits, UBC_SOURCE_GUEST), 0);
        policy_file_done(&f);
        assert_int_equal(policy_validate_host(&g, h, NULL), 0);
        *ret = g.limits;
}

static void test_map_functions(void **state) {
        assert_int_equal(map_cpu_units_to_weight(1024), 100);
        assert_int_equal(map_cpu_units_to_weight(8), 1);
        assert_int_equal(map_cpu_units_to_weight(1000), 98);
        assert_int_equal(map_cpu_units_to_weight(2048), 200);
        assert_int_equal(map_cpu_units_to_weight(102400), 10000);
        assert_int_equal(map_cpu_units_to_weight(500000), 10000);
        assert_int_equal(map_cpu_units_to_weight(0), 1);

        assert_int_equal(map_cpu_units_to_shares(1024), 1024);
        assert_int_equal(map_cpu_units_to_shares(8), 8);
        assert_int_equal(map_cpu_units_to_shares(1), 2);
        assert_int_equal(map_cpu_units_to_shares(262144), 262144);
        assert_int_equal(map_cpu_units_to_shares(500000), 262144);

        assert_int_equal(map_io_weight_v2(500), 100);
        assert_int_equal(map_io_weight_v2(10), 2);
        assert_int_equal(map_io_weight_v2(1000), 200);
        assert_int_equal(map_io_weight_v2(12), 2);
        assert_int_equal(map_io_weight_v2(13), 3);
        assert_int_equal(map_io_weight_v2(1), 1);
}

static void test_current_init(void **state) {
        struct cg_current c;

        memset(&c, 0x11, sizeof(c));
        cg_current_init(&c);
        assert_true(c.v1_mem_limit == UBC_UNLIMITED);
        assert_true(c.v1_memsw_limit == UBC_UNLIMITED);
        assert_int_equal(c.n_io_devs, 0);
}

static void test_v2_defaults(void **state) {
        struct ubc_host h;
        struct ubc_limits l;
        struct cg_plan p;

        host_v2(&h);
        limits_init_default(&l);
        assert_int_equal(policy_map(&l, &h, NULL, &p), 0);
        /* Every key, so that a key removed from the policy is reset. */
        assert_plan(&p, "cpu.weight=100\n"
                        "cpu.max=max 100000\n"
                        "cpuset.cpus=\n"
                        "memory.high=max\n"
                        "memory.max=max\n"
                        "memory.swap.max=max\n"
                        "io.weight=default 100\n"
                        "pids.max=max");
        static const int keys[] = {UBC_KEY_CPU_UNITS, UBC_KEY_CPU_LIMIT, UBC_KEY_CPU_SET,   UBC_KEY_MEMORY,
                                   UBC_KEY_MEMORY,    UBC_KEY_SWAP,      UBC_KEY_IO_WEIGHT, UBC_KEY_TASKS};
        static const enum ubc_ctrl ctrls[] = {UBC_CTRL_CPU,    UBC_CTRL_CPU,    UBC_CTRL_CPUSET,
                                              UBC_CTRL_MEMORY, UBC_CTRL_MEMORY, UBC_CTRL_MEMORY,
                                              UBC_CTRL_IO,     UBC_CTRL_PIDS};
        for (unsigned i = 0; i < p.n; i++) {
                assert_int_equal(p.w[i].key, keys[i]);
                assert_int_equal(p.w[i].ctrl, ctrls[i]);
                assert_int_equal(p.w[i].dev_major, -1);
                assert_int_equal(p.w[i].dev_minor, -1);
        }
}

static void test_v2_all_keys(void **state) {
        struct ubc_host h;
        struct ubc_limits l;
        struct cg_plan p, again;

        host_v2(&h);
        limits_from("cpu.units = 2048\n"
                    "cpu.limit = 1.5\n"
                    "cpu.set = 3,0-1\n"
                    "memory = 512M:1G\n"
                    "swap = 256M\n"
                    "io.weight = 100\n"
                    "io.limit = vda rbps=50M wiops=500\n"
                    "io.limit = /dev/sda wbps=1G riops=7\n"
                    "tasks = 100\n",
                    &h, &l);
        assert_int_equal(policy_map(&l, &h, NULL, &p), 0);
        assert_plan(&p, "cpu.weight=200\n"
                        "cpu.max=150000 100000\n"
                        "cpuset.cpus=0-1,3\n"
                        "memory.high=536870912\n"
                        "memory.max=1073741824\n"
                        "memory.swap.max=268435456\n"
                        "io.weight=default 20\n"
                        "io.max=254:0 rbps=52428800 wbps=max riops=max wiops=500\n"
                        "io.max=8:0 rbps=max wbps=1073741824 riops=7 wiops=max\n"
                        "pids.max=100");
        assert_int_equal(p.w[7].key, UBC_KEY_IO_LIMIT);
        assert_int_equal(p.w[7].dev_major, 254);
        assert_int_equal(p.w[7].dev_minor, 0);
        assert_int_equal(p.w[8].dev_major, 8);

        /* Pure: the same input, the same plan. */
        assert_int_equal(policy_map(&l, &h, NULL, &again), 0);
        assert_memory_equal(&p, &again, sizeof(p));
        limits_done(&l);
}

static void test_v2_host_lacks(void **state) {
        struct ubc_host h;
        struct ubc_limits l;
        struct cg_plan p;

        host_v2(&h);
        h.swap_accounting = false;
        h.io_weight = UBC_IO_WEIGHT_NONE;
        h.ctrl[UBC_CTRL_CPUSET] = CG_VERSION_NONE;
        h.ctrl[UBC_CTRL_PIDS] = CG_VERSION_NONE;
        limits_init_default(&l);
        assert_int_equal(policy_map(&l, &h, NULL, &p), 0);
        assert_plan(&p, "cpu.weight=100\n"
                        "cpu.max=max 100000\n"
                        "memory.high=max\n"
                        "memory.max=max");

        /* Only BFQ's weight: the policy's own scale. */
        host_v2(&h);
        h.io_weight = UBC_IO_WEIGHT_V2_BFQ;
        l.io_weight = 800;
        assert_int_equal(policy_map(&l, &h, NULL, &p), 0);
        assert_string_equal(p.w[6].file, "io.bfq.weight");
        assert_string_equal(p.w[6].value, "800");
        assert_int_equal(p.w[6].key, UBC_KEY_IO_WEIGHT);
        assert_string_equal(p.w[6].note, "");
}

static void test_v2_io_reset(void **state) {
        struct ubc_host h;
        struct ubc_limits l;
        struct cg_current cur;
        struct cg_plan p;

        host_v2(&h);
        h.io_weight = UBC_IO_WEIGHT_NONE;
        h.swap_accounting = false;
        limits_from("io.limit = vda riops=10\n", &h, &l);
        cg_current_init(&cur);
        cur.n_io_devs = 3;
        cur.io_devs[0].major = 254;
        cur.io_devs[0].minor = 0;
        cur.io_devs[1].major = 8;
        cur.io_devs[1].minor = 16;
        cur.io_devs[2].major = 8;
        cur.io_devs[2].minor = 16;
        assert_int_equal(policy_map(&l, &h, &cur, &p), 0);
        /* 254:0 is still limited; 8:16 no longer is, and is reset once. */
        assert_plan(&p, "cpu.weight=100\n"
                        "cpu.max=max 100000\n"
                        "cpuset.cpus=\n"
                        "memory.high=max\n"
                        "memory.max=max\n"
                        "io.max=254:0 rbps=max wbps=max riops=10 wiops=max\n"
                        "io.max=8:16 rbps=max wbps=max riops=max wiops=max\n"
                        "pids.max=max");
        assert_int_equal(p.w[6].dev_major, 8);
        assert_int_equal(p.w[6].dev_minor, 16);
        assert_int_equal(p.w[6].key, UBC_KEY_IO_LIMIT);

        /* Removing the last io.limit resets every device. */
        limits_done(&l);
        limits_init_default(&l);
        assert_int_equal(policy_map(&l, &h, &cur, &p), 0);
        assert_string_equal(p.w[5].value, "254:0 rbps=max wbps=max riops=max wiops=max");
        assert_string_equal(p.w[6].value, "8:16 rbps=max wbps=max riops=max wiops=max");
        assert_int_equal(p.n, 8);
}

static const char *v2_note(uint32_t units, uint32_t io_weight, unsigned index) {
        static struct cg_plan p;
        struct ubc_host h;
        struct ubc_limits l;

        host_v2(&h);
        limits_init_default(&l);
        l.cpu_units = units;
        l.io_weight = io_weight;
        assert_int_equal(policy_map(&l, &h, NULL, &p), 0);
        return p.w[index].note;
}

static void test_v2_notes(void **state) {
        assert_string_equal(v2_note(8, 500, 0), "cpu.units 8 -> cpu.weight 1 (exact 0.78)");
        assert_string_equal(v2_note(100, 500, 0), "cpu.units 100 -> cpu.weight 10 (exact 9.77)");
        /* Within 1%: no note for the common values. */
        assert_string_equal(v2_note(1000, 500, 0), "");
        assert_string_equal(v2_note(1024, 500, 0), "");
        assert_string_equal(v2_note(5000, 500, 0), "");
        assert_string_equal(v2_note(102400, 500, 0), "");
        assert_string_equal(v2_note(102401, 500, 0),
                            "cpu.units 102401 -> cpu.weight 10000 (the kernel's maximum, exact 10000.10)");
        assert_string_equal(v2_note(500000, 500, 0),
                            "cpu.units 500000 -> cpu.weight 10000 (the kernel's maximum, exact 48828.13)");
        assert_string_equal(v2_note(1024, 12, 6), "io.weight 12 -> io.weight 2 (exact 2.40)");
        assert_string_equal(v2_note(1024, 10, 6), "");
        assert_string_equal(v2_note(1024, 333, 6), "");
}

static void test_v1_defaults(void **state) {
        struct ubc_host h;
        struct ubc_limits l;
        struct cg_plan p;

        host_v1(&h);
        limits_init_default(&l);
        assert_int_equal(policy_map(&l, &h, NULL, &p), 0);
        assert_plan(&p, "cpu.shares=1024\n"
                        "cpu.cfs_period_us=100000\n"
                        "cpu.cfs_quota_us=-1\n"
                        "cpuset.mems=0\n"
                        "cpuset.cpus=0-3\n"
                        "memory.soft_limit_in_bytes=-1\n"
                        "memory.limit_in_bytes=-1\n"
                        "memory.memsw.limit_in_bytes=-1\n"
                        "blkio.weight=500\n"
                        "pids.max=max");
        assert_int_equal(p.w[1].key, UBC_KEY_CPU_LIMIT);
        /* cpuset.mems is plumbing, not a key. */
        assert_int_equal(p.w[3].key, -1);
        assert_int_equal(p.w[3].ctrl, UBC_CTRL_CPUSET);
        assert_int_equal(p.w[7].key, UBC_KEY_SWAP);
        assert_int_equal(p.w[8].ctrl, UBC_CTRL_IO);
}

static void test_v1_all_keys(void **state) {
        struct ubc_host h;
        struct ubc_limits l;
        struct cg_current cur;
        struct cg_plan p;

        host_v1(&h);
        limits_from("cpu.units = 2048\n"
                    "cpu.limit = 0.5\n"
                    "cpu.set = 2\n"
                    "memory = 512M:1G\n"
                    "swap = 256M\n"
                    "io.weight = 100\n"
                    "io.limit = vda rbps=50M wiops=500\n"
                    "tasks = 100\n",
                    &h, &l);
        cg_current_init(&cur);
        cur.n_io_devs = 1;
        cur.io_devs[0].major = 8;
        cur.io_devs[0].minor = 0;
        assert_int_equal(policy_map(&l, &h, &cur, &p), 0);
        assert_plan(&p, "cpu.shares=2048\n"
                        "cpu.cfs_period_us=100000\n"
                        "cpu.cfs_quota_us=50000\n"
                        "cpuset.mems=0\n"
                        "cpuset.cpus=2\n"
                        "memory.soft_limit_in_bytes=536870912\n"
                        "memory.limit_in_bytes=1073741824\n"
                        "memory.memsw.limit_in_bytes=1342177280\n"
                        "blkio.weight=100\n"
                        "blkio.throttle.read_bps_device=254:0 52428800\n"
                        "blkio.throttle.write_bps_device=254:0 0\n"
                        "blkio.throttle.read_iops_device=254:0 0\n"
                        "blkio.throttle.write_iops_device=254:0 500\n"
                        "blkio.throttle.read_bps_device=8:0 0\n"
                        "blkio.throttle.write_bps_device=8:0 0\n"
                        "blkio.throttle.read_iops_device=8:0 0\n"
                        "blkio.throttle.write_iops_device=8:0 0\n"
                        "pids.max=100");
        for (unsigned i = 9; i < 13; i++) {
                assert_int_equal(p.w[i].dev_major, 254);
                assert_int_equal(p.w[i].dev_minor, 0);
                assert_int_equal(p.w[i].key, UBC_KEY_IO_LIMIT);
        }
        assert_int_equal(p.w[13].dev_major, 8);
        limits_done(&l);
}

/* memory.limit_in_bytes and memory.memsw.limit_in_bytes in the plan, in order. */
static void memsw_order(const char *policy, uint64_t cur_limit, uint64_t cur_memsw, const char *want) {
        struct ubc_host h;
        struct ubc_limits l;
        struct cg_current cur;
        struct cg_plan p;
        char got[256] = "";
        size_t used = 0;

        host_v1(&h);
        limits_from(policy, &h, &l);
        cg_current_init(&cur);
        cur.v1_mem_limit = cur_limit;
        cur.v1_memsw_limit = cur_memsw;
        assert_int_equal(policy_map(&l, &h, &cur, &p), 0);
        for (unsigned i = 0; i < p.n; i++)
                if (strcmp(p.w[i].file, "memory.limit_in_bytes") == 0 ||
                    strcmp(p.w[i].file, "memory.memsw.limit_in_bytes") == 0)
                        used += (size_t) snprintf(got + used, sizeof(got) - used, "%s%s=%s", used ? " " : "",
                                                  p.w[i].file + 7, p.w[i].value);
        if (strcmp(got, want) != 0)
                fail_msg("policy %s cur %llu/%llu: got %s, want %s", policy, (unsigned long long) cur_limit,
                         (unsigned long long) cur_memsw, got, want);
        limits_done(&l);
}

static void test_v1_memsw_order(void **state) {
        /* Lowering: limit first, memsw stays above it all along. */
        memsw_order("memory = 1G\nswap = 256M\n", 4ULL << 30, 6ULL << 30,
                    "limit_in_bytes=1073741824 memsw.limit_in_bytes=1342177280");
        /* Raising past the current memsw: memsw first. */
        memsw_order("memory = 4G\nswap = 1G\n", 1ULL << 30, 2ULL << 30,
                    "memsw.limit_in_bytes=5368709120 limit_in_bytes=4294967296");
        /* Exactly the current memsw: limit first is allowed (limit <= memsw). */
        memsw_order("memory = 2G\nswap = 1G\n", 1ULL << 30, 2ULL << 30,
                    "limit_in_bytes=2147483648 memsw.limit_in_bytes=3221225472");
        /* From nothing: unlimited memsw takes any limit. */
        memsw_order("memory = 1G\nswap = 0\n", UBC_UNLIMITED, UBC_UNLIMITED,
                    "limit_in_bytes=1073741824 memsw.limit_in_bytes=1073741824");
        /* Back to unlimited from a limit: memsw must go first. */
        memsw_order("tasks = 5\n", 1ULL << 30, 2ULL << 30, "memsw.limit_in_bytes=-1 limit_in_bytes=-1");
        /* Unlimited swap: memsw unlimited. */
        memsw_order("memory = 1G\n", 1ULL << 30, 2ULL << 30,
                    "limit_in_bytes=1073741824 memsw.limit_in_bytes=-1");
}

static void test_v1_lacks_and_notes(void **state) {
        struct ubc_host h;
        struct ubc_limits l;
        struct cg_plan p;

        host_v1(&h);
        h.swap_accounting = false;
        h.io_weight = UBC_IO_WEIGHT_NONE;
        h.root_cpus[0] = '\0';
        h.root_mems[0] = '\0';
        limits_init_default(&l);
        l.cpu_units = 500000;
        assert_int_equal(policy_map(&l, &h, NULL, &p), 0);
        /* No parent CPUs known: better no cpuset.cpus write than an empty one. */
        assert_plan(&p, "cpu.shares=262144 # cpu.units 500000 -> cpu.shares 262144 (the kernel's maximum)\n"
                        "cpu.cfs_period_us=100000\n"
                        "cpu.cfs_quota_us=-1\n"
                        "memory.soft_limit_in_bytes=-1\n"
                        "memory.limit_in_bytes=-1\n"
                        "pids.max=max");

        l.cpu_units = 262144;
        h.io_weight = UBC_IO_WEIGHT_V1_BFQ;
        assert_int_equal(policy_map(&l, &h, NULL, &p), 0);
        assert_string_equal(p.w[0].value, "262144");
        assert_string_equal(p.w[0].note, "");
        assert_string_equal(p.w[5].file, "blkio.bfq.weight");
        assert_string_equal(p.w[5].value, "500");
}

static void test_hybrid(void **state) {
        struct ubc_host h;
        struct ubc_limits l;
        struct cg_plan p;

        /* Each controller mapped by the hierarchy it sits in. */
        host_v1(&h);
        h.mode = CG_MODE_HYBRID;
        h.ctrl[UBC_CTRL_CPU] = CG_VERSION_V2;
        h.ctrl[UBC_CTRL_CPUSET] = CG_VERSION_NONE;
        h.ctrl[UBC_CTRL_IO] = CG_VERSION_NONE;
        h.swap_accounting = false;
        limits_init_default(&l);
        assert_int_equal(policy_map(&l, &h, NULL, &p), 0);
        assert_plan(&p, "cpu.weight=100\n"
                        "cpu.max=max 100000\n"
                        "memory.soft_limit_in_bytes=-1\n"
                        "memory.limit_in_bytes=-1\n"
                        "pids.max=max");
}

static void test_plan_bounds(void **state) {
        struct ubc_host h;
        struct ubc_limits l;
        struct cg_current cur;
        struct cg_plan p, untouched;

        host_v1(&h);
        limits_init_default(&l);
        cg_current_init(&cur);
        /* 32 devices to reset and 16 limited: 48 * 4 writes do not fit. */
        cur.n_io_devs = UBC_IO_LIMITS_MAX * 2;
        for (unsigned i = 0; i < cur.n_io_devs; i++) {
                cur.io_devs[i].major = 8;
                cur.io_devs[i].minor = 100 + i;
        }
        l.set |= 1u << UBC_KEY_IO_LIMIT;
        l.n_io_limits = UBC_IO_LIMITS_MAX;
        l.io_limits = calloc(UBC_IO_LIMITS_MAX, sizeof(*l.io_limits));
        assert_non_null(l.io_limits);
        for (unsigned i = 0; i < UBC_IO_LIMITS_MAX; i++) {
                snprintf(l.io_limits[i].dev, sizeof(l.io_limits[i].dev), "8:%u", i);
                l.io_limits[i].major = 8;
                l.io_limits[i].minor = i;
                l.io_limits[i].rbps = 1;
                l.io_limits[i].wbps = l.io_limits[i].riops = l.io_limits[i].wiops = UBC_UNLIMITED;
        }
        memset(&p, 0x77, sizeof(p));
        memcpy(&untouched, &p, sizeof(p));
        assert_int_equal(policy_map(&l, &h, &cur, &p), -E2BIG);
        assert_memory_equal(&p, &untouched, sizeof(p));

        /* Fewer stale devices fit. */
        cur.n_io_devs = 8;
        assert_int_equal(policy_map(&l, &h, &cur, &p), 0);
        assert_int_equal(p.n, 10 + 16 * 4 + 8 * 4);

        /* Devices that validation never saw have no number: refused, not written as 0:0. */
        l.io_limits[3].major = l.io_limits[3].minor = 0;
        assert_int_equal(policy_map(&l, &h, &cur, &p), -ENODEV);
        limits_done(&l);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_map_functions),      cmocka_unit_test(test_current_init),
                cmocka_unit_test(test_v2_defaults),        cmocka_unit_test(test_v2_all_keys),
                cmocka_unit_test(test_v2_host_lacks),      cmocka_unit_test(test_v2_io_reset),
                cmocka_unit_test(test_v2_notes),           cmocka_unit_test(test_v1_defaults),
                cmocka_unit_test(test_v1_all_keys),        cmocka_unit_test(test_v1_memsw_order),
                cmocka_unit_test(test_v1_lacks_and_notes), cmocka_unit_test(test_hybrid),
                cmocka_unit_test(test_plan_bounds),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
