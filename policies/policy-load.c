/* Reads a configuration folder: policies.d/ *.policy and guests.d/ID.conf, in sorted order.
 * Files are opened beneath their folder, so a symlink cannot make ubcd read /etc/shadow as a
 * policy, and each is bounded in size. A broken file is reported and left out. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "ubc/macro.h"
#include "ubc/policy.h"

struct folder {
        const char *name;   /* "policies.d" */
        const char *suffix; /* ".policy" */
        enum policy_file_kind kind;
        size_t max_files;
};

static const struct folder folders[] = {
        {"policies.d", ".policy", POLICY_FILE_CLASSES, UBC_CLASSES_MAX},
        {"guests.d", ".conf", POLICY_FILE_GUEST, UBC_GUESTS_MAX},
};

static char *path_join(const char *a, const char *b) {
        size_t la = strlen(a), lb = strlen(b);
        char *s;

        while (la > 1 && a[la - 1] == '/')
                la--;
        s = malloc(la + 1 + lb + 1);
        if (!s)
                return NULL;
        memcpy(s, a, la);
        s[la] = '/';
        memcpy(s + la + 1, b, lb + 1);
        return s;
}

static int add_failed(struct policy *p, const char *path) {
        char **a, *copy;

        copy = strdup(path);
        if (!copy)
                return -ENOMEM;
        a = realloc(p->failed, (p->n_failed + 1) * sizeof(*a));
        if (!a) {
                free(copy);
                return -ENOMEM;
        }
        p->failed = a;
        p->failed[p->n_failed++] = copy;
        return 0;
}

static int add_file(struct policy_file **array, size_t *n, struct policy_file *f) {
        struct policy_file *a;

        a = realloc(*array, (*n + 1) * sizeof(*a));
        if (!a)
                return -ENOMEM;
        *array = a;
        a[(*n)++] = *f;
        *f = (struct policy_file){};
        return 0;
}

/* Where openat2() is missing: resolve the path and check it stays below the folder, then open
 * the resolved path without following a symlink put there since. */
static int open_beneath_fallback(const char *folder_path, const char *name) {
        _cleanup_free_ char *folder_real = NULL, *joined = NULL, *file_real = NULL;
        size_t n;
        int fd;

        folder_real = realpath(folder_path, NULL);
        if (!folder_real)
                return negative_errno();
        joined = path_join(folder_path, name);
        if (!joined)
                return -ENOMEM;
        file_real = realpath(joined, NULL);
        if (!file_real)
                return negative_errno();

        n = strlen(folder_real);
        if (strncmp(file_real, folder_real, n) != 0 || (n > 1 && file_real[n] != '/'))
                return -EXDEV;

        fd = open(file_real, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK | O_NOFOLLOW);
        if (fd < 0)
                return negative_errno();
        return fd;
}

static int open_beneath(int dir_fd, const char *folder_path, const char *name) {
        struct open_how how = {
                /* O_NONBLOCK: a FIFO dropped into the folder must not hang the load. */
                .flags = O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK,
                .resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS,
        };
        long fd;

        fd = syscall(SYS_openat2, dir_fd, name, &how, sizeof(how));
        if (fd >= 0)
                return (int) fd;
        /* Old kernels say ENOSYS; some container seccomp profiles say EPERM for new calls. */
        if (errno != ENOSYS && errno != EPERM)
                return negative_errno();

        return open_beneath_fallback(folder_path, name);
}

static int read_file(int fd, const char *path, char **ret_buf, size_t *ret_len,
                     struct ubc_diag_sink *diags) {
        _cleanup_free_ char *buf = NULL;
        struct stat st;
        size_t len = 0, size;

        if (fstat(fd, &st) < 0) {
                diag_error(diags, path, 0, NULL, "cannot stat: %s", strerror(errno));
                return -EIO;
        }
        if (!S_ISREG(st.st_mode)) {
                diag_error(diags, path, 0, NULL, "not a regular file");
                return -EBADFD;
        }
        if (st.st_size > (off_t) UBC_POLICY_FILE_MAX) {
                diag_error(diags, path, 0, NULL, "file too large, at most %u bytes", UBC_POLICY_FILE_MAX);
                return -EFBIG;
        }

        /* Sized by fstat() plus one byte, to notice a file that grows while we read it; then
         * up to one byte past the limit, to notice when it grew too far. */
        size = (size_t) st.st_size + 1;
        buf = malloc(size);
        if (!buf)
                return -ENOMEM;
        for (;;) {
                ssize_t k;

                if (len == size) {
                        char *bigger;

                        if (size > UBC_POLICY_FILE_MAX) {
                                diag_error(diags, path, 0, NULL, "file too large, at most %u bytes",
                                           UBC_POLICY_FILE_MAX);
                                return -EFBIG;
                        }
                        size = UBC_POLICY_FILE_MAX + 1;
                        bigger = realloc(buf, size);
                        if (!bigger)
                                return -ENOMEM;
                        buf = bigger;
                }

                k = read(fd, buf + len, size - len);
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        diag_error(diags, path, 0, NULL, "cannot read: %s", strerror(errno));
                        return -EIO;
                }
                if (k == 0)
                        break;
                len += (size_t) k;
        }

        *ret_buf = TAKE_PTR(buf);
        *ret_len = len;
        return 0;
}

/* Loads one file into p. A problem with the file is reported and listed in p->failed (0 is
 * returned); only running out of memory stops the whole load. */
static int load_file(struct policy *p, const struct folder *f, int dir_fd, const char *folder_path,
                     const char *name, struct ubc_diag_sink *diags) {
        _cleanup_free_ char *path = NULL, *buf = NULL;
        _cleanup_close_ int fd = -EBADF;
        struct policy_file file = {};
        uint32_t id = 0;
        size_t len;
        int r;

        path = path_join(folder_path, name);
        if (!path)
                return -ENOMEM;

        if (f->kind == POLICY_FILE_GUEST) {
                r = policy_guest_id_from_filename(name, &id);
                if (r < 0) {
                        diag_error(diags, path, 0, NULL, "%s, a guest file is named ID.conf with ID %u..%u",
                                   r == -ERANGE ? "guest ID out of range" : "not a guest ID", UBC_ID_MIN,
                                   UBC_ID_MAX);
                        goto failed;
                }
        }

        fd = open_beneath(dir_fd, folder_path, name);
        if (fd == -ENOMEM)
                return -ENOMEM;
        if (fd < 0) {
                if (fd == -EXDEV)
                        diag_error(diags, path, 0, NULL,
                                   "refused: a symlink leading out of '%s' (only relative links inside it "
                                   "are followed)",
                                   folder_path);
                else if (fd == -ELOOP)
                        diag_error(diags, path, 0, NULL, "refused: a symlink loop or a /proc magic link");
                else
                        diag_error(diags, path, 0, NULL, "cannot open: %s", strerror(-fd));
                goto failed;
        }

        r = read_file(fd, path, &buf, &len, diags);
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                goto failed;

        if (f->kind == POLICY_FILE_CLASSES)
                r = policy_parse_classes(path, buf, len, &file, diags);
        else
                r = policy_parse_guest(path, id, buf, len, &file, diags);
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                goto failed;

        if (f->kind == POLICY_FILE_CLASSES)
                r = add_file(&p->class_files, &p->n_class_files, &file);
        else
                r = add_file(&p->guest_files, &p->n_guest_files, &file);
        if (r < 0) {
                policy_file_done(&file);
                return r;
        }
        return 0;

failed:
        return add_failed(p, path);
}

static int cmp_names(const void *a, const void *b) {
        return strcmp(*(char *const *) a, *(char *const *) b);
}

static bool name_wanted(const char *name, const char *suffix) {
        size_t n = strlen(name), ls = strlen(suffix);

        /* Hidden files and editor leftovers (101.conf~, .101.conf.swp) are not policy. */
        return name[0] != '.' && n > ls && streq(name + n - ls, suffix);
}

static void free_names(char **names, size_t n) {
        for (size_t i = 0; i < n; i++)
                free(names[i]);
        free(names);
}

static int load_folder(struct policy *p, const struct folder *f, int config_fd, const char *config_dir,
                       struct ubc_diag_sink *diags) {
        _cleanup_free_ char *folder_path = NULL;
        _cleanup_close_ int fd = -EBADF;
        char **names = NULL;
        size_t n_names = 0;
        bool too_many = false;
        DIR *d;
        int r = 0, dfd;

        folder_path = path_join(config_dir, f->name);
        if (!folder_path)
                return -ENOMEM;

        fd = openat(config_fd, f->name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0) {
                /* An empty /etc/ubc is a working install. */
                if (errno == ENOENT)
                        return 0;
                /* Anything else fails the whole load: going on without the folder would drop
                 * every class or guest in it. */
                r = negative_errno();
                diag_error(diags, folder_path, 0, NULL, "cannot open folder: %s", strerror(-r));
                return r;
        }

        dfd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
        if (dfd < 0)
                return negative_errno();
        d = fdopendir(dfd);
        if (!d) {
                r = negative_errno();
                close(dfd);
                return r;
        }

        for (;;) {
                struct dirent *de;
                char **a;

                errno = 0;
                de = readdir(d);
                if (!de) {
                        if (errno != 0) {
                                r = negative_errno();
                                diag_error(diags, folder_path, 0, NULL, "cannot read folder: %s",
                                           strerror(-r));
                                goto finish;
                        }
                        break;
                }
                if (!name_wanted(de->d_name, f->suffix))
                        continue;
                if (n_names >= f->max_files) {
                        too_many = true;
                        continue;
                }

                a = realloc(names, (n_names + 1) * sizeof(*a));
                if (!a) {
                        r = -ENOMEM;
                        goto finish;
                }
                names = a;
                names[n_names] = strdup(de->d_name);
                if (!names[n_names]) {
                        r = -ENOMEM;
                        goto finish;
                }
                n_names++;
        }

        if (too_many)
                diag_error(diags, folder_path, 0, NULL, "more than %zu *%s files, the rest are left out",
                           f->max_files, f->suffix);

        if (n_names > 0)
                qsort(names, n_names, sizeof(*names), cmp_names);
        for (size_t i = 0; i < n_names; i++) {
                r = load_file(p, f, fd, folder_path, names[i], diags);
                if (r < 0)
                        goto finish;
        }

finish:
        closedir(d);
        free_names(names, n_names);
        return r;
}

int policy_load_dir(const char *config_dir, struct policy *ret, struct ubc_diag_sink *diags) {
        _cleanup_close_ int fd = -EBADF;
        struct policy p = {};
        int r;

        if (!config_dir || !ret)
                return -EINVAL;

        fd = open(config_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0) {
                r = negative_errno();
                diag_error(diags, config_dir, 0, NULL, "cannot open the configuration folder: %s",
                           strerror(-r));
                return r;
        }

        for (size_t i = 0; i < ELEMENTSOF(folders); i++) {
                r = load_folder(&p, &folders[i], fd, config_dir, diags);
                if (r < 0) {
                        policy_done(&p);
                        return r;
                }
        }

        *ret = p;
        return 0;
}

void policy_done(struct policy *p) {
        if (!p)
                return;
        for (size_t i = 0; i < p->n_class_files; i++)
                policy_file_done(&p->class_files[i]);
        free(p->class_files);
        for (size_t i = 0; i < p->n_guest_files; i++)
                policy_file_done(&p->guest_files[i]);
        free(p->guest_files);
        for (size_t i = 0; i < p->n_failed; i++)
                free(p->failed[i]);
        free(p->failed);
        *p = (struct policy){};
}

static int cmp_files(const void *a, const void *b) {
        return strcmp(((const struct policy_file *) a)->path, ((const struct policy_file *) b)->path);
}

/* Moves the file called 'path' from old's array into new's; 0 if old did not have it. */
static int move_file(struct policy_file **from, size_t *n_from, struct policy_file **to, size_t *n_to,
                     const char *path) {
        for (size_t i = 0; i < *n_from; i++) {
                int r;

                if (!streq((*from)[i].path, path))
                        continue;

                r = add_file(to, n_to, &(*from)[i]);
                if (r < 0)
                        return r;
                memmove(&(*from)[i], &(*from)[i + 1], (*n_from - i - 1) * sizeof(**from));
                (*n_from)--;
                return 1;
        }
        return 0;
}

int policy_keep_failed(struct policy *new, struct policy *old) {
        bool moved_class = false, moved_guest = false;
        int r;

        if (!new || !old)
                return -EINVAL;

        for (size_t i = 0; i < new->n_failed; i++) {
                r = move_file(&old->class_files, &old->n_class_files, &new->class_files, &new->n_class_files,
                              new->failed[i]);
                if (r < 0)
                        return r;
                moved_class = moved_class || r > 0;

                r = move_file(&old->guest_files, &old->n_guest_files, &new->guest_files, &new->n_guest_files,
                              new->failed[i]);
                if (r < 0)
                        return r;
                moved_guest = moved_guest || r > 0;
        }

        /* Keep the load's sorted order, which decides which of two duplicates is named first. */
        if (moved_class)
                qsort(new->class_files, new->n_class_files, sizeof(*new->class_files), cmp_files);
        if (moved_guest)
                qsort(new->guest_files, new->n_guest_files, sizeof(*new->guest_files), cmp_files);
        return 0;
}
