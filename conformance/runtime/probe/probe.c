/*
 * probe: runs as a container's process and prints, as one JSON object on
 * stdout, what the process sees of its own environment.  The conformance
 * suite compares that report with the config.json it gave the runtime, so
 * every check is made from the inside, like runtime-tools' runtimetest.
 *
 * Usage: probe [option]...
 *   --sysctl NAME      report the value of a sysctl (dots or slashes)
 *   --syscall NAME     try a syscall with harmless arguments, report errno
 *   --access PATH      report whether PATH exists, is readable, is writable
 *   --file PATH        report the first 64 KiB of PATH (e.g. a cgroup file)
 *   --write PATH       create PATH (report errno), to test read-only roots
 *   --exit N           exit with status N after printing the report
 *
 * Built with `gcc -static -O2` so it needs nothing from the rootfs.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/types.h>
#include <sys/utsname.h>
#include <unistd.h>

extern char **environ;

static int first_field = 1;

static void put_string(const char *s)
{
    putchar('"');
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\')
            printf("\\%c", *p);
        else if (*p == '\n')
            fputs("\\n", stdout);
        else if (*p == '\t')
            fputs("\\t", stdout);
        else if (*p < 0x20 || *p >= 0x7f)
            printf("\\u%04x", *p);
        else
            putchar(*p);
    }
    putchar('"');
}

static void key(const char *name)
{
    if (!first_field)
        putchar(',');
    first_field = 0;
    put_string(name);
    putchar(':');
}

static void field_str(const char *name, const char *value)
{
    key(name);
    if (value)
        put_string(value);
    else
        fputs("null", stdout);
}

static void field_int(const char *name, long long value)
{
    key(name);
    printf("%lld", value);
}

/* Reads a whole small file into a static buffer; NULL when it cannot. */
static const char *slurp(const char *path, int *err)
{
    static char buf[65536];
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        *err = errno;
        return NULL;
    }
    size_t used = 0;
    ssize_t n;
    while (used < sizeof(buf) - 1 && (n = read(fd, buf + used, sizeof(buf) - 1 - used)) > 0)
        used += (size_t)n;
    if (n < 0 && used == 0) {
        *err = errno;
        close(fd);
        return NULL;
    }
    close(fd);
    buf[used] = '\0';
    *err = 0;
    return buf;
}

static void field_file(const char *name, const char *path)
{
    int err;
    const char *text = slurp(path, &err);
    field_str(name, text);
}

/* Value of "Name:\t..." from /proc/self/status. */
static void status_line(const char *status, const char *name, char *out, size_t size)
{
    size_t len = strlen(name);
    out[0] = '\0';
    for (const char *line = status; line && *line; line = strchr(line, '\n')) {
        if (*line == '\n')
            line++;
        if (strncmp(line, name, len) == 0 && line[len] == ':') {
            const char *v = line + len + 1;
            while (*v == ' ' || *v == '\t')
                v++;
            size_t n = strcspn(v, "\n");
            if (n >= size)
                n = size - 1;
            memcpy(out, v, n);
            out[n] = '\0';
            return;
        }
    }
}

static void report_identity(void)
{
    gid_t groups[256];
    int n = getgroups(256, groups);
    field_int("pid", getpid());
    field_int("ppid", getppid());
    field_int("uid", getuid());
    field_int("gid", getgid());
    field_int("euid", geteuid());
    field_int("egid", getegid());
    key("groups");
    putchar('[');
    for (int i = 0; i < n; i++)
        printf(i ? ",%u" : "%u", groups[i]);
    putchar(']');
    mode_t mask = umask(0);
    umask(mask);
    field_int("umask", mask);
    char cwd[PATH_MAX];
    field_str("cwd", getcwd(cwd, sizeof(cwd)) ? cwd : NULL);
    field_int("stdin_tty", isatty(0));
    field_int("stdout_tty", isatty(1));
    field_str("tty_name", ttyname(0));
    struct winsize size;
    int sized = ioctl(0, TIOCGWINSZ, &size) == 0;
    field_int("tty_rows", sized ? size.ws_row : -1);
    field_int("tty_cols", sized ? size.ws_col : -1);
}

static void report_strings(const char *name, char **list, int count)
{
    key(name);
    putchar('[');
    for (int i = 0; count < 0 ? list[i] != NULL : i < count; i++) {
        if (i)
            putchar(',');
        put_string(list[i]);
    }
    putchar(']');
}

static void report_status(void)
{
    int err;
    const char *status = slurp("/proc/self/status", &err);
    static char copy[65536];
    char value[256];
    static const char *names[] = {"CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb",
                                  "NoNewPrivs", "Seccomp", "Umask"};
    snprintf(copy, sizeof(copy), "%s", status ? status : "");
    key("status");
    putchar('{');
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        status_line(copy, names[i], value, sizeof(value));
        if (i)
            putchar(',');
        put_string(names[i]);
        putchar(':');
        put_string(value);
    }
    putchar('}');
    field_int("no_new_privs", prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0));
}

static void report_uts(void)
{
    struct utsname u;
    uname(&u);
    field_str("hostname", u.nodename);
    field_str("domainname", u.domainname);
}

static void report_rlimits(void)
{
    static const struct {
        const char *name;
        int resource;
    } limits[] = {
        {"RLIMIT_AS", RLIMIT_AS},           {"RLIMIT_CORE", RLIMIT_CORE},
        {"RLIMIT_CPU", RLIMIT_CPU},         {"RLIMIT_DATA", RLIMIT_DATA},
        {"RLIMIT_FSIZE", RLIMIT_FSIZE},     {"RLIMIT_LOCKS", RLIMIT_LOCKS},
        {"RLIMIT_MEMLOCK", RLIMIT_MEMLOCK}, {"RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE},
        {"RLIMIT_NICE", RLIMIT_NICE},       {"RLIMIT_NOFILE", RLIMIT_NOFILE},
        {"RLIMIT_NPROC", RLIMIT_NPROC},     {"RLIMIT_RSS", RLIMIT_RSS},
        {"RLIMIT_RTPRIO", RLIMIT_RTPRIO},   {"RLIMIT_RTTIME", RLIMIT_RTTIME},
        {"RLIMIT_SIGPENDING", RLIMIT_SIGPENDING}, {"RLIMIT_STACK", RLIMIT_STACK},
    };
    key("rlimits");
    putchar('{');
    for (size_t i = 0; i < sizeof(limits) / sizeof(limits[0]); i++) {
        struct rlimit rl;
        getrlimit(limits[i].resource, &rl);
        printf("%s\"%s\":{\"soft\":%llu,\"hard\":%llu}", i ? "," : "", limits[i].name,
               (unsigned long long)rl.rlim_cur, (unsigned long long)rl.rlim_max);
    }
    putchar('}');
}

static void report_scheduling(void)
{
    struct sched_param param = {0};
    cpu_set_t set;
    field_int("oom_score_adj", atoll(slurp("/proc/self/oom_score_adj", &(int){0}) ?: "0"));
    /* ioprio_get(IOPRIO_WHO_PROCESS, 0): class in bits 13+, level below. */
    long prio = syscall(SYS_ioprio_get, 1, 0);
    field_int("ioprio_class", prio < 0 ? -1 : prio >> 13);
    field_int("ioprio_level", prio < 0 ? -1 : prio & 0x1fff);
    field_int("sched_policy", sched_getscheduler(0) & ~SCHED_RESET_ON_FORK);
    sched_getparam(0, &param);
    field_int("sched_priority", param.sched_priority);
    errno = 0;
    field_int("nice", getpriority(PRIO_PROCESS, 0));
    CPU_ZERO(&set);
    key("cpu_affinity");
    putchar('[');
    if (sched_getaffinity(0, sizeof(set), &set) == 0) {
        int first = 1;
        for (int cpu = 0; cpu < CPU_SETSIZE; cpu++)
            if (CPU_ISSET(cpu, &set)) {
                printf(first ? "%d" : ",%d", cpu);
                first = 0;
            }
    }
    putchar(']');
    field_int("personality", personality(0xffffffff));
}

static void report_namespaces(void)
{
    static const char *kinds[] = {"cgroup", "ipc", "mnt", "net", "pid",
                                  "pid_for_children", "time", "user", "uts"};
    key("namespaces");
    putchar('{');
    int first = 1;
    for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
        char path[64], target[128];
        snprintf(path, sizeof(path), "/proc/self/ns/%s", kinds[i]);
        ssize_t n = readlink(path, target, sizeof(target) - 1);
        if (n < 0)
            continue;
        target[n] = '\0';
        printf(first ? "" : ",");
        first = 0;
        put_string(kinds[i]);
        putchar(':');
        put_string(target);
    }
    putchar('}');
}

static char type_of(mode_t mode)
{
    if (S_ISCHR(mode)) return 'c';
    if (S_ISBLK(mode)) return 'b';
    if (S_ISLNK(mode)) return 'l';
    if (S_ISDIR(mode)) return 'd';
    if (S_ISFIFO(mode)) return 'p';
    if (S_ISSOCK(mode)) return 's';
    return 'f';
}

static void report_dev(void)
{
    key("dev");
    putchar('{');
    DIR *dir = opendir("/dev");
    int first = 1;
    struct dirent *entry;
    while (dir && (entry = readdir(dir)) != NULL) {
        char path[PATH_MAX], target[PATH_MAX];
        struct stat st;
        if (entry->d_name[0] == '.')
            continue;
        snprintf(path, sizeof(path), "/dev/%s", entry->d_name);
        if (lstat(path, &st) != 0)
            continue;
        ssize_t n = S_ISLNK(st.st_mode) ? readlink(path, target, sizeof(target) - 1) : -1;
        target[n < 0 ? 0 : n] = '\0';
        printf(first ? "" : ",");
        first = 0;
        put_string(path);
        printf(":{\"type\":\"%c\",\"major\":%u,\"minor\":%u,\"mode\":%u,\"uid\":%u,\"gid\":%u,"
               "\"target\":",
               type_of(st.st_mode), major(st.st_rdev), minor(st.st_rdev),
               st.st_mode & 07777, st.st_uid, st.st_gid);
        put_string(target);
        putchar('}');
    }
    if (dir)
        closedir(dir);
    putchar('}');
}

/* Tries one syscall by name with harmless arguments; returns 0 or errno. */
static int try_syscall(const char *name)
{
    char buf[PATH_MAX];
    long ret;
    if (strcmp(name, "getcwd") == 0)
        ret = syscall(SYS_getcwd, buf, sizeof(buf));
    else if (strcmp(name, "getpid") == 0)
        ret = syscall(SYS_getpid);
    else if (strcmp(name, "uname") == 0)
        ret = syscall(SYS_uname, buf);
    else if (strcmp(name, "mkdir") == 0) {
        ret = syscall(SYS_mkdir, "/tmp/.probe-mkdir", 0700);
        if (ret == 0)
            rmdir("/tmp/.probe-mkdir");
    } else if (strcmp(name, "chdir") == 0)
        ret = syscall(SYS_chdir, ".");
    else if (strcmp(name, "getppid") == 0)
        ret = syscall(SYS_getppid);
    else if (strcmp(name, "sethostname") == 0) {
        struct utsname u;
        uname(&u);
        ret = syscall(SYS_sethostname, u.nodename, strlen(u.nodename));
    } else if (strcmp(name, "unshare") == 0)
        ret = syscall(SYS_unshare, 0);
    else
        return -1;
    return ret < 0 ? errno : 0;
}

/* Access report like runtimetest's: readable means some content is visible. */
static void report_access(const char *path)
{
    struct stat st;
    char buf[1];
    put_string(path);
    if (stat(path, &st) != 0) {
        printf(":{\"exists\":false,\"errno\":%d}", errno);
        return;
    }
    int readable = 0, read_errno = 0, write_errno = 0;
    if (S_ISDIR(st.st_mode)) {
        DIR *dir = opendir(path);
        struct dirent *entry;
        read_errno = dir ? 0 : errno;
        while (dir && (entry = readdir(dir)) != NULL)
            if (strcmp(entry->d_name, ".") && strcmp(entry->d_name, ".."))
                readable = 1;
        if (dir)
            closedir(dir);
        char tmp[PATH_MAX];
        snprintf(tmp, sizeof(tmp), "%s/.probe-write-test", path);
        if (mkdir(tmp, 0700) == 0)
            rmdir(tmp);
        else
            write_errno = errno;
    } else {
        int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
        read_errno = fd < 0 ? errno : 0;
        if (fd >= 0) {
            readable = read(fd, buf, 1) == 1;
            close(fd);
        }
        /* Opening for write is enough to see a read-only mount; never write. */
        fd = open(path, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
        write_errno = fd < 0 ? errno : 0;
        if (fd >= 0)
            close(fd);
    }
    printf(":{\"exists\":true,\"type\":\"%c\",\"readable\":%s,\"read_errno\":%d,"
           "\"writable\":%s,\"write_errno\":%d}",
           type_of(st.st_mode), readable ? "true" : "false", read_errno,
           write_errno ? "false" : "true", write_errno);
}

struct options {
    const char *sysctls[32], *syscalls[32], *access[32], *files[32], *writes[32];
    int n_sysctls, n_syscalls, n_access, n_files, n_writes, exit_code;
};

static void parse_options(int argc, char **argv, struct options *o)
{
    memset(o, 0, sizeof(*o));
    for (int i = 1; i + 1 < argc; i += 2) {
        const char *opt = argv[i], *value = argv[i + 1];
        if (strcmp(opt, "--sysctl") == 0 && o->n_sysctls < 32)
            o->sysctls[o->n_sysctls++] = value;
        else if (strcmp(opt, "--syscall") == 0 && o->n_syscalls < 32)
            o->syscalls[o->n_syscalls++] = value;
        else if (strcmp(opt, "--access") == 0 && o->n_access < 32)
            o->access[o->n_access++] = value;
        else if (strcmp(opt, "--file") == 0 && o->n_files < 32)
            o->files[o->n_files++] = value;
        else if (strcmp(opt, "--write") == 0 && o->n_writes < 32)
            o->writes[o->n_writes++] = value;
        else if (strcmp(opt, "--exit") == 0)
            o->exit_code = atoi(value);
    }
}

static void report_requests(const struct options *o)
{
    key("sysctl");
    putchar('{');
    for (int i = 0; i < o->n_sysctls; i++) {
        char path[PATH_MAX];
        int err;
        snprintf(path, sizeof(path), "/proc/sys/%s", o->sysctls[i]);
        for (char *p = path + 10; *p; p++)
            if (*p == '.')
                *p = '/';
        const char *value = slurp(path, &err);
        printf(i ? "," : "");
        put_string(o->sysctls[i]);
        putchar(':');
        if (value) {
            char trimmed[4096];
            snprintf(trimmed, sizeof(trimmed), "%s", value);
            trimmed[strcspn(trimmed, "\n")] = '\0';
            put_string(trimmed);
        } else
            fputs("null", stdout);
    }
    printf("},\"syscall\":{");
    for (int i = 0; i < o->n_syscalls; i++) {
        printf(i ? "," : "");
        put_string(o->syscalls[i]);
        printf(":%d", try_syscall(o->syscalls[i]));
    }
    printf("},\"access\":{");
    for (int i = 0; i < o->n_access; i++) {
        printf(i ? "," : "");
        report_access(o->access[i]);
    }
    printf("},\"files\":{");
    for (int i = 0; i < o->n_files; i++) {
        int err;
        const char *text = slurp(o->files[i], &err);
        printf(i ? "," : "");
        put_string(o->files[i]);
        putchar(':');
        text ? put_string(text) : (void)printf("null");
    }
    printf("},\"writes\":{");
    for (int i = 0; i < o->n_writes; i++) {
        int fd = open(o->writes[i], O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
        printf(i ? "," : "");
        put_string(o->writes[i]);
        printf(":%d", fd < 0 ? errno : 0);
        if (fd >= 0) {
            close(fd);
            unlink(o->writes[i]);
        }
    }
    putchar('}');
}

int main(int argc, char **argv)
{
    struct options opts;
    parse_options(argc, argv, &opts);
    putchar('{');
    report_identity();
    report_strings("args", argv, argc);
    report_strings("env", environ, -1);
    report_uts();
    report_status();
    report_rlimits();
    report_scheduling();
    report_namespaces();
    field_file("mountinfo", "/proc/self/mountinfo");
    field_file("cgroup", "/proc/self/cgroup");
    field_file("uid_map", "/proc/self/uid_map");
    field_file("gid_map", "/proc/self/gid_map");
    report_dev();
    report_requests(&opts);
    printf("}\n");
    fflush(stdout);
    return opts.exit_code;
}
