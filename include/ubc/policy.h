/* The policy language: classes in policies.d/NAME.policy, guests in guests.d/ID.conf.
 * Parse (per file, pure over a buffer), resolve (class + guest), validate (against the host). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ubc/diag.h"
#include "ubc/host.h"
#include "ubc/limits.h"

#define UBC_ID_MIN          100u
#define UBC_ID_MAX          999999999u
#define UBC_NAME_MAX        64
#define UBC_POLICY_FILE_MAX (1u << 20) /* bytes; a larger file is refused */
#define UBC_POLICY_LINE_MAX 4096       /* bytes; a longer line is an error */
#define UBC_CLASSES_MAX     4096
#define UBC_GUESTS_MAX      100000
#define UBC_DEFAULT_CLASS   "default" /* used by guests that name no class, if defined */

enum ubc_guest_type {
        UBC_GUEST_SLICE,
        UBC_GUEST_CONTAINER,
        UBC_GUEST_VM,
};

struct policy_class {
        char name[UBC_NAME_MAX];
        unsigned line;            /* of its [class NAME] header */
        struct ubc_limits limits; /* only the keys the class sets (source CLASS) */
};

/* A [container] or [vm] setting, kept verbatim for the launchers. */
struct policy_setting {
        char section[16];
        char key[64];
        char *value;
        unsigned line;
};

struct policy_guest {
        uint32_t id;
        enum ubc_guest_type type;
        char class_name[UBC_NAME_MAX]; /* "" = the default class */
        unsigned class_line;
        char name[UBC_NAME_MAX];
        bool onboot;
        struct ubc_limits limits; /* only the keys the guest file sets (source GUEST) */
        struct policy_setting *settings;
        size_t n_settings;
};

enum policy_file_kind {
        POLICY_FILE_CLASSES,
        POLICY_FILE_GUEST,
};

struct policy_file {
        char *path; /* as shown in diagnostics: "<config dir>/guests.d/101.conf" */
        enum policy_file_kind kind;
        struct policy_class *classes; /* POLICY_FILE_CLASSES */
        size_t n_classes;
        struct policy_guest guest; /* POLICY_FILE_GUEST */
};

/* Parses one buffer. On any error every problem is reported with path:line and key,
 * -EINVAL is returned and *ret is left untouched: nothing of a broken file is used. */
int policy_parse_classes(const char *path, const char *buf, size_t len, struct policy_file *ret,
                         struct ubc_diag_sink *diags);
int policy_parse_guest(const char *path, uint32_t id, const char *buf, size_t len, struct policy_file *ret,
                       struct ubc_diag_sink *diags);
void policy_file_done(struct policy_file *f);

/* "101.conf" -> 101. -EINVAL if not DIGITS.conf, -ERANGE outside UBC_ID_MIN..UBC_ID_MAX. */
int policy_guest_id_from_filename(const char *name, uint32_t *ret);

/* Every file of a configuration folder (holding policies.d/ and guests.d/). */
struct policy {
        struct policy_file *class_files;
        size_t n_class_files;
        struct policy_file *guest_files;
        size_t n_guest_files;
        char **failed; /* paths of files that did not load, so a caller can keep old versions */
        size_t n_failed;
};

/* Reads policies.d/NAME.policy and guests.d/ID.conf below config_dir. Files are opened
 * beneath their folder (a symlink out of it is refused), size-bounded, and each broken file
 * is reported, listed in ret->failed and left out. A missing or unreadable folder is an
 * error (-ENOENT, -EACCES ...) reported through diags. Returns 0 even when some files
 * failed; diags->n_errors tells. */
int policy_load_dir(const char *config_dir, struct policy *ret, struct ubc_diag_sink *diags);
void policy_done(struct policy *p);
/* For every path in new->failed that 'old' had loaded, moves old's version into 'new', so a
 * file that fails to parse changes nothing. */
int policy_keep_failed(struct policy *new, struct policy *old);

/* A guest with its class applied: defaults < class < guest. */
struct policy_resolved {
        const struct policy_guest *guest; /* points into the policy */
        const char *guest_file;
        const struct policy_class *class; /* NULL when no class applies */
        const char *class_file;
        struct ubc_limits limits; /* owned */
};

/* Resolves every guest. Missing classes, duplicate guest IDs and duplicate class names are
 * reported; a guest with such an error is left out of *ret. ret is sorted by ID. */
int policy_resolve(const struct policy *p, struct policy_resolved **ret, size_t *ret_n,
                   struct ubc_diag_sink *diags);
void policy_resolved_free(struct policy_resolved *r, size_t n);

/* Checks resolved limits against the host (cpu.set within the host's CPUs, io.limit devices
 * exist, swap and io.weight supported where set explicitly) and fills io_limits[].major/minor.
 * Errors name the file:line the key came from. -EINVAL if any. */
int policy_validate_host(struct policy_resolved *g, const struct ubc_host *host,
                         struct ubc_diag_sink *diags);

/* file:line a resolved key came from, "default" for a code default. */
int policy_origin(const struct policy_resolved *g, enum ubc_key key, char *buf, size_t size);

/* Parses one "key = value" for a live change (ubcctl set); same rules as a file. */
int policy_parse_setting(struct ubc_limits *l, const char *key, const char *value,
                         struct ubc_diag_sink *diags);
/* Formats a key's value as a policy file would hold it ("512M:1G", "1.5", "0-3"). */
int policy_format_value(const struct ubc_limits *l, enum ubc_key key, char *buf, size_t size);

const char *ubc_guest_type_name(enum ubc_guest_type t);
