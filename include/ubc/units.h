/* Pure parsers and formatters for policy values: sizes, CPU counts, CPU lists. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ubc/limits.h"

/* "512M", "2G", "1048576", "unlimited" (UBC_UNLIMITED). K/M/G/T are powers of 1024.
 * -EINVAL malformed, -ERANGE overflow. */
int unit_parse_size(const char *s, uint64_t *ret);
/* yes/no, true/false, on/off, 1/0 (any case); -EINVAL otherwise. */
int unit_parse_bool(const char *s, bool *ret);
/* Unsigned decimal in [min, max]; -EINVAL malformed, -ERANGE outside. */
int unit_parse_uint(const char *s, uint64_t min, uint64_t max, uint64_t *ret);
/* CPUs as a decimal with up to 2 places ("1.5", "0.25", "0" = none) to a quota per
 * UBC_CPU_PERIOD_US. */
int unit_parse_cpu_limit(const char *s, uint64_t *ret_quota_us);
/* Formats bytes as the largest exact unit ("512M") or "unlimited". */
int unit_format_size(uint64_t bytes, char *buf, size_t size);
/* quota back to "1.5" */
int unit_format_cpu_limit(uint64_t quota_us, char *buf, size_t size);

/* "0-3,6" (also as the kernel writes it); -EINVAL malformed, -ERANGE CPU >= UBC_CPUS_MAX. */
int cpuset_parse(const char *s, struct ubc_cpuset *ret);
/* Canonical kernel form "0-3,6"; "" for an empty set. -ENOBUFS if it does not fit. */
int cpuset_format(const struct ubc_cpuset *set, char *buf, size_t size);
bool cpuset_is_empty(const struct ubc_cpuset *set);
bool cpuset_is_subset(const struct ubc_cpuset *inner, const struct ubc_cpuset *outer);
unsigned cpuset_count(const struct ubc_cpuset *set);
