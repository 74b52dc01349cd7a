/* Profiling aid of `make startup-profile` (never shipped): preloaded into dist/bulwark, it records the first call of
 * every managed method. At load it writes int3 over the first byte of each method listed in BWPROF_OFFSETS (hex
 * offsets from the executable's base, sorted); the first call of a method traps once: the handler puts the byte back,
 * appends the offset to BWPROF_OUT.<pid> and resumes at the method. Later calls run at full speed, so the process
 * keeps its timing (a debugger or valgrind slows a server past its etcd deadlines). Other executables are left alone. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <ucontext.h>
#include <unistd.h>

static unsigned long base, *offsets;
static unsigned char *original, *called;
static long count;
static int out = -1;

static long find(unsigned long offset)
{
    long low = 0, high = count - 1;
    while (low <= high) {
        long middle = (low + high) / 2;
        if (offsets[middle] == offset) return middle;
        if (offsets[middle] < offset) low = middle + 1; else high = middle - 1;
    }
    return -1;
}

static void on_trap(int signal_number, siginfo_t *info, void *context)
{
    (void)signal_number; (void)info;
    ucontext_t *uc = context;
    unsigned long address = uc->uc_mcontext.gregs[REG_RIP] - 1;
    long i = find(address - base);
    if (i < 0) { /* not ours: the default action */
        signal(SIGTRAP, SIG_DFL);
        raise(SIGTRAP);
        return;
    }
    /* Two threads may trap on the same method at once: one restores the byte and logs, both resume at the method. */
    if (!__atomic_exchange_n(&called[i], 1, __ATOMIC_SEQ_CST)) {
        *(unsigned char *)address = original[i];
        char line[24], digits[20];
        int length = 0, n = 0;
        unsigned long value = address - base;
        do { digits[n++] = "0123456789abcdef"[value & 15]; value >>= 4; } while (value);
        while (n) line[length++] = digits[--n];
        line[length++] = '\n';
        if (write(out, line, length) < 0) { /* nothing to do in a signal handler */ }
    }
    uc->uc_mcontext.gregs[REG_RIP] = address;
}

__attribute__((constructor)) static void start(void)
{
    char exe[4096];
    ssize_t length = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (length < 0) return;
    exe[length] = 0;
    const char *name = strrchr(exe, '/');
    const char *list = getenv("BWPROF_OFFSETS"), *log = getenv("BWPROF_OUT");
    if (!name || strcmp(name + 1, "bulwark") != 0 || !list || !log) return;

    FILE *maps = fopen("/proc/self/maps", "r");
    if (!maps) return;
    char line[8192];
    unsigned long code_start = 0, code_end = 0;
    while (fgets(line, sizeof line, maps)) {
        unsigned long start, end;
        char permissions[8], path[4096] = "";
        if (sscanf(line, "%lx-%lx %7s %*s %*s %*s %4095s", &start, &end, permissions, path) >= 4 && strcmp(path, exe) == 0) {
            if (!base) base = start;
            if (permissions[2] == 'x') { code_start = start; code_end = end; }
        }
    }
    fclose(maps);
    if (!code_start || mprotect((void *)code_start, code_end - code_start, PROT_READ | PROT_WRITE | PROT_EXEC) != 0) return;

    FILE *file = fopen(list, "r");
    if (!file) return;
    long capacity = 1 << 18;
    offsets = malloc(capacity * sizeof *offsets);
    while (count < capacity && fscanf(file, "%lx", &offsets[count]) == 1) count++;
    fclose(file);
    original = malloc(count);
    called = calloc(count, 1);

    char path[4200];
    snprintf(path, sizeof path, "%s.%d", log, getpid());
    out = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_sigaction = on_trap;
    action.sa_flags = SA_SIGINFO | SA_NODEFER | SA_RESTART;
    sigaction(SIGTRAP, &action, 0);

    for (long i = 0; i < count; i++) {
        unsigned char *method = (unsigned char *)(base + offsets[i]);
        if ((unsigned long)method < code_start || (unsigned long)method >= code_end) { called[i] = 1; continue; }
        original[i] = *method;
        *method = 0xCC;
    }
}
