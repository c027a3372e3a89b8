/* Resolution: each guest's limits are the code defaults, then its class (or the class named
 * "default"), then its own keys. Conflicts that make a guest ambiguous leave it out. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy-internal.h"
#include "ubc/macro.h"

struct class_ref {
        const struct policy_class *class;
        const char *file;
        size_t order;   /* position in load order: the earlier definition is "first" */
        bool ambiguous; /* defined more than once, set on every definition of the name */
};

struct guest_ref {
        const struct policy_guest *guest;
        const char *file;
        size_t order;
        bool duplicate;
};

static int cmp_class_refs(const void *a, const void *b) {
        const struct class_ref *x = a, *y = b;
        int c = strcmp(x->class->name, y->class->name);

        if (c != 0)
                return c;
        return (x->order > y->order) - (x->order < y->order);
}

static int cmp_guest_refs(const void *a, const void *b) {
        const struct guest_ref *x = a, *y = b;

        if (x->guest->id != y->guest->id)
                return (x->guest->id > y->guest->id) - (x->guest->id < y->guest->id);
        return (x->order > y->order) - (x->order < y->order);
}

static int cmp_name_to_ref(const void *key, const void *elem) {
        return strcmp(key, ((const struct class_ref *) elem)->class->name);
}

/* The first definition of a class name, NULL if none. */
static const struct class_ref *find_class(const struct class_ref *refs, size_t n, const char *name) {
        const struct class_ref *r;

        if (n == 0)
                return NULL;
        r = bsearch(name, refs, n, sizeof(*refs), cmp_name_to_ref);

        while (r && r > refs && streq(r[-1].class->name, name))
                r--;
        return r;
}

static void report_missing_class(const struct policy_guest *g, const char *file,
                                 const struct class_ref *refs, size_t n, struct ubc_diag_sink *diags) {
        char list[320] = "", hint[96] = "";
        const char *best = NULL;
        unsigned best_d = UINT_MAX;
        size_t used = 0;

        if (n == 0) {
                diag_error(diags, file, g->class_line, "class",
                           "unknown class '%s', no classes are defined in policies.d", g->class_name);
                return;
        }

        for (size_t i = 0; i < n; i++) {
                unsigned d;

                if (i > 0 && streq(refs[i].class->name, refs[i - 1].class->name))
                        continue;
                if (used > 0)
                        used = policy_append(list, sizeof(list), used, ", ");
                used = policy_append(list, sizeof(list), used, refs[i].class->name);

                d = policy_typo_distance(g->class_name, refs[i].class->name);
                if (d < best_d) {
                        best = refs[i].class->name;
                        best_d = d;
                }
        }
        if (used >= sizeof(list))
                snprintf(list + sizeof(list) - 5, 5, "...");
        if (best)
                snprintf(hint, sizeof(hint), ", did you mean '%s'?", best);

        diag_error(diags, file, g->class_line, "class", "unknown class '%s'%s (known classes: %s)",
                   g->class_name, hint, list);
}

static int resolve_one(struct policy_resolved *out, const struct guest_ref *gr, const struct class_ref *cr) {
        struct ubc_limits l;
        int r;

        limits_init_default(&l);
        if (cr) {
                r = limits_overlay(&l, &cr->class->limits, UBC_SOURCE_CLASS);
                if (r < 0)
                        return r;
        }
        r = limits_overlay(&l, &gr->guest->limits, UBC_SOURCE_GUEST);
        if (r < 0) {
                limits_done(&l);
                return r;
        }

        *out = (struct policy_resolved){
                .guest = gr->guest,
                .guest_file = gr->file,
                .class = cr ? cr->class : NULL,
                .class_file = cr ? cr->file : NULL,
                .limits = l,
        };
        return 0;
}

static void report_duplicates(struct class_ref *crefs, size_t n_crefs, struct guest_ref *grefs,
                              size_t n_grefs, struct ubc_diag_sink *diags) {
        for (size_t i = 1; i < n_crefs; i++) {
                struct class_ref *first = &crefs[i - 1];

                if (!streq(crefs[i].class->name, first->class->name))
                        continue;
                while (first > crefs && streq(first[-1].class->name, first->class->name))
                        first--;
                diag_error(diags, crefs[i].file, crefs[i].class->line, NULL,
                           "class '%s' is already defined at %s:%u, guests using it are left out",
                           crefs[i].class->name, first->file, first->class->line);
                first->ambiguous = crefs[i].ambiguous = true;
        }

        for (size_t i = 1; i < n_grefs; i++) {
                struct guest_ref *first = &grefs[i - 1];

                if (grefs[i].guest->id != first->guest->id)
                        continue;
                while (first > grefs && first[-1].guest->id == first->guest->id)
                        first--;
                diag_error(diags, grefs[i].file, 0, NULL,
                           "guest %u is also defined in %s, both are left out", grefs[i].guest->id,
                           first->file);
                first->duplicate = grefs[i].duplicate = true;
        }
}

int policy_resolve(const struct policy *p, struct policy_resolved **ret, size_t *ret_n,
                   struct ubc_diag_sink *diags) {
        _cleanup_free_ struct class_ref *crefs = NULL;
        _cleanup_free_ struct guest_ref *grefs = NULL;
        struct policy_resolved *out = NULL;
        size_t n_crefs = 0, n_out = 0;
        int r;

        if (!p || !ret || !ret_n)
                return -EINVAL;

        for (size_t f = 0; f < p->n_class_files; f++)
                n_crefs += p->class_files[f].n_classes;
        if (n_crefs > 0) {
                crefs = calloc(n_crefs, sizeof(*crefs));
                if (!crefs)
                        return -ENOMEM;
        }
        n_crefs = 0;
        for (size_t f = 0; f < p->n_class_files; f++)
                for (size_t c = 0; c < p->class_files[f].n_classes; c++) {
                        crefs[n_crefs] = (struct class_ref){
                                .class = &p->class_files[f].classes[c],
                                .file = p->class_files[f].path,
                                .order = n_crefs,
                        };
                        n_crefs++;
                }
        if (n_crefs > 1)
                qsort(crefs, n_crefs, sizeof(*crefs), cmp_class_refs);

        if (p->n_guest_files > 0) {
                grefs = calloc(p->n_guest_files, sizeof(*grefs));
                out = calloc(p->n_guest_files, sizeof(*out));
                if (!grefs || !out) {
                        free(out);
                        return -ENOMEM;
                }
        }
        for (size_t i = 0; i < p->n_guest_files; i++)
                grefs[i] = (struct guest_ref){
                        .guest = &p->guest_files[i].guest,
                        .file = p->guest_files[i].path,
                        .order = i,
                };
        if (p->n_guest_files > 1)
                qsort(grefs, p->n_guest_files, sizeof(*grefs), cmp_guest_refs);

        report_duplicates(crefs, n_crefs, grefs, p->n_guest_files, diags);

        for (size_t i = 0; i < p->n_guest_files; i++) {
                const struct guest_ref *gr = &grefs[i];
                const struct policy_guest *g = gr->guest;
                const char *name = g->class_name[0] ? g->class_name : UBC_DEFAULT_CLASS;
                const struct class_ref *cr;

                if (gr->duplicate)
                        continue;

                cr = find_class(crefs, n_crefs, name);
                if (!cr && g->class_name[0]) {
                        report_missing_class(g, gr->file, crefs, n_crefs, diags);
                        continue;
                }
                if (cr && cr->ambiguous) {
                        diag_error(diags, gr->file, g->class_line, g->class_name[0] ? "class" : NULL,
                                   "class '%s' is defined more than once (first at %s:%u), "
                                   "guest %u is left out",
                                   name, cr->file, cr->class->line, g->id);
                        continue;
                }

                r = resolve_one(&out[n_out], gr, cr);
                if (r < 0) {
                        policy_resolved_free(out, n_out);
                        return r;
                }
                n_out++;
        }

        if (n_out == 0) {
                free(out);
                out = NULL;
        }
        *ret = out;
        *ret_n = n_out;
        return 0;
}

void policy_resolved_free(struct policy_resolved *r, size_t n) {
        if (!r)
                return;
        for (size_t i = 0; i < n; i++)
                limits_done(&r[i].limits);
        free(r);
}

int policy_origin(const struct policy_resolved *g, enum ubc_key key, char *buf, size_t size) {
        const char *file = NULL;
        unsigned line;
        int n;

        if (!g || !buf || size == 0 || (unsigned) key >= _UBC_KEY_MAX)
                return -EINVAL;

        switch (g->limits.source[key]) {
        case UBC_SOURCE_CLASS:
                file = g->class_file;
                break;
        case UBC_SOURCE_GUEST:
                file = g->guest_file;
                break;
        default:
                break;
        }

        line = g->limits.line[key];
        if (!file)
                n = snprintf(buf, size, "default");
        else if (line == 0)
                /* A live change (ubcctl set) has no line. */
                n = snprintf(buf, size, "%s", file);
        else
                n = snprintf(buf, size, "%s:%u", file, line);
        if (n < 0 || (size_t) n >= size)
                return -ENOBUFS;
        return 0;
}
