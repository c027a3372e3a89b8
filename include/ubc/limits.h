/* The limit keys a class or guest may set, and their parsed values. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#define UBC_UNLIMITED UINT64_MAX

#define UBC_CPU_UNITS_MIN     8
#define UBC_CPU_UNITS_MAX     500000
#define UBC_CPU_UNITS_DEFAULT 1024
#define UBC_IO_WEIGHT_MIN     10
#define UBC_IO_WEIGHT_MAX     1000
#define UBC_IO_WEIGHT_DEFAULT 500
#define UBC_CPU_PERIOD_US     100000ULL
#define UBC_TASKS_MAX         4194304ULL /* PID_MAX_LIMIT */
#define UBC_IO_LIMITS_MAX     16
#define UBC_CPUS_MAX          1024

enum ubc_key {
        UBC_KEY_CPU_UNITS,
        UBC_KEY_CPU_LIMIT,
        UBC_KEY_CPU_SET,
        UBC_KEY_MEMORY,
        UBC_KEY_SWAP,
        UBC_KEY_IO_WEIGHT,
        UBC_KEY_IO_LIMIT,
        UBC_KEY_TASKS,
        _UBC_KEY_MAX,
};

/* Where a resolved value came from. */
enum ubc_source {
        UBC_SOURCE_DEFAULT,
        UBC_SOURCE_CLASS,
        UBC_SOURCE_GUEST,
        UBC_SOURCE_RUNTIME, /* ubcctl set without --save: lasts until ubcd restarts */
};

struct ubc_cpuset {
        uint64_t bits[UBC_CPUS_MAX / 64];
};

/* One io.limit line; a field of UBC_UNLIMITED is not limited. */
struct ubc_io_limit {
        char dev[64];          /* as written: /dev/vda, vda or 254:0 */
        unsigned major, minor; /* filled by validation against the host */
        uint64_t rbps, wbps, riops, wiops;
        uint32_t line; /* of this device's io.limit line, 0 if not from a file */
};

struct ubc_limits {
        uint32_t set; /* bit (1u << ubc_key) per key given explicitly */
        uint32_t cpu_units;
        uint64_t cpu_quota_us;           /* per UBC_CPU_PERIOD_US; 0 = no limit */
        struct ubc_cpuset cpu_set;       /* empty = all of the parent's CPUs */
        uint64_t mem_barrier, mem_limit; /* bytes or UBC_UNLIMITED */
        uint64_t swap;                   /* bytes or UBC_UNLIMITED */
        uint32_t io_weight;
        uint32_t n_io_limits;
        struct ubc_io_limit *io_limits; /* owned, n_io_limits entries */
        uint64_t tasks;                 /* count or UBC_UNLIMITED */
        uint32_t line[_UBC_KEY_MAX];    /* line of the key in its file, 0 if default */
        uint8_t source[_UBC_KEY_MAX];   /* enum ubc_source */
};

static inline bool limits_has(const struct ubc_limits *l, enum ubc_key k) {
        return l->set & (1u << k);
}

/* The code defaults: an empty policy is a working policy. */
void limits_init_default(struct ubc_limits *ret);
/* Deep copy (io_limits); -ENOMEM on failure, dst untouched then. */
int limits_copy(struct ubc_limits *dst, const struct ubc_limits *src);
void limits_done(struct ubc_limits *l);
/* Every key set in 'over' replaces the one in 'base', keeping its source. */
int limits_overlay(struct ubc_limits *base, const struct ubc_limits *over, enum ubc_source source);

const char *ubc_key_name(enum ubc_key k); /* "cpu.units", ... */
int ubc_key_from_name(const char *name);  /* enum ubc_key or -ENOENT */
