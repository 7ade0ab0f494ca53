/*
 * mm-steps: the guest side of the kernel-differential tests. It runs the steps given on its
 * command line, in order, and prints one JSON line per step on stdout, so that the same
 * operations can be replayed in the simulator and the two compared.
 *
 * A small static C program rather than Node: everything it maps is charged to the cgroup it
 * joins, and nothing else is (a Node process would bring tens of MiB of its own heap along).
 * System calls go through syscall(2), so no libnuma is needed in the guest.
 *
 *   cpu N                    run on CPU N only (sched_setaffinity): "local" means its node
 *   join CGROUP_DIR          write our pid to CGROUP_DIR/cgroup.procs
 *   map PAGES                mmap PAGES anonymous private pages (THP off for the range)
 *   mbind MODE NODES [move]  mbind(2) the whole mapping; "move" adds MPOL_MF_MOVE
 *   policy MODE NODES        set_mempolicy(2) for the task
 *   touch                    write one byte to each page, first to last
 *   query                    move_pages(2) status of every page: runs of (node, count)
 *   loop MS                  touch every page, over and over, for MS ms of guest time
 *   write FILE TEXT          write TEXT to FILE (created if missing); prints the errno (0 when
 *                            it worked). Writing a new file tells the shell a step is done.
 *   wait FILE                sleep until FILE exists: the shell did its step (memory.reclaim
 *                            written from outside the cgroup, for one)
 *   read FILE                the file's text
 *   sleep MS
 *
 * MODE is default, preferred, bind, interleave, local, preferred_many or weighted_interleave;
 * NODES a comma-separated list of node ids, or "-" for none.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define PAGE 4096UL
#define MAX_NODES 64
#define MPOL_MF_MOVE (1 << 1)

static char *base;
static unsigned long npages;

static void fail(const char *step, const char *what) {
  printf("{\"step\":\"%s\",\"error\":\"%s: %s\"}\n", step, what, strerror(errno));
  fflush(stdout);
  exit(1);
}

static int mode_of(const char *name) {
  static const char *names[] = {"default", "preferred",      "bind",
                                "interleave", "local", "preferred_many",
                                "weighted_interleave"};
  for (int i = 0; i < 7; i++)
    if (strcmp(name, names[i]) == 0) return i;
  fprintf(stderr, "mm-steps: unknown policy mode %s\n", name);
  exit(2);
}

static unsigned long mask_of(const char *list) {
  unsigned long mask = 0;
  if (strcmp(list, "-") == 0) return 0;
  for (const char *p = list; *p;) {
    char *end;
    long n = strtol(p, &end, 10);
    if (end == p || n < 0 || n >= MAX_NODES) {
      fprintf(stderr, "mm-steps: bad node list %s\n", list);
      exit(2);
    }
    mask |= 1UL << n;
    p = *end == ',' ? end + 1 : end;
  }
  return mask;
}

static double now_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

static void json_string(const char *s, size_t n) {
  putchar('"');
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c == '"' || c == '\\')
      printf("\\%c", c);
    else if (c == '\n')
      fputs("\\n", stdout);
    else if (c < 0x20)
      printf("\\u%04x", c);
    else
      putchar(c);
  }
  putchar('"');
}

static void query(void) {
  void **pages = malloc(npages * sizeof *pages);
  int *status = malloc(npages * sizeof *status);
  if (!pages || !status) fail("query", "malloc");
  for (unsigned long i = 0; i < npages; i++) pages[i] = base + i * PAGE;
  if (syscall(SYS_move_pages, 0, npages, pages, NULL, status, 0) != 0) fail("query", "move_pages");
  printf("{\"step\":\"query\",\"runs\":[");
  unsigned long i = 0;
  int first = 1;
  while (i < npages) {
    unsigned long j = i;
    while (j < npages && status[j] == status[i]) j++;
    printf("%s[%d,%lu]", first ? "" : ",", status[i], j - i);
    first = 0;
    i = j;
  }
  printf("]}\n");
  free(pages);
  free(status);
}

static void touch_all(void) {
  for (unsigned long i = 0; i < npages; i++) ((volatile char *)base)[i * PAGE] += 1;
}

int main(int argc, char **argv) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  for (int i = 1; i < argc; i++) {
    const char *s = argv[i];
    const char *a = i + 1 < argc ? argv[i + 1] : NULL;
    const char *b = i + 2 < argc ? argv[i + 2] : NULL;
    if (strcmp(s, "cpu") == 0 && a) {
      cpu_set_t set;
      CPU_ZERO(&set);
      CPU_SET(atoi(a), &set);
      if (sched_setaffinity(0, sizeof set, &set) != 0) fail(s, "sched_setaffinity");
      printf("{\"step\":\"cpu\",\"cpu\":%d,\"now\":%d}\n", atoi(a), sched_getcpu());
      i += 1;
    } else if (strcmp(s, "join") == 0 && a) {
      char path[512];
      snprintf(path, sizeof path, "%s/cgroup.procs", a);
      FILE *f = fopen(path, "w");
      if (!f || fprintf(f, "%d\n", getpid()) < 0 || fclose(f) != 0) fail(s, path);
      printf("{\"step\":\"join\",\"cgroup\":\"%s\"}\n", a);
      i += 1;
    } else if (strcmp(s, "map") == 0 && a) {
      npages = strtoul(a, NULL, 10);
      base = mmap(NULL, npages * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
      if (base == MAP_FAILED) fail(s, "mmap");
      if (madvise(base, npages * PAGE, MADV_NOHUGEPAGE) != 0) fail(s, "madvise");
      printf("{\"step\":\"map\",\"pages\":%lu,\"start_pfn\":%lu}\n", npages,
             (unsigned long)(uintptr_t)base / PAGE);
      i += 1;
    } else if ((strcmp(s, "mbind") == 0 || strcmp(s, "policy") == 0) && a && b) {
      unsigned long mask = mask_of(b);
      int mode = mode_of(a);
      int move = strcmp(s, "mbind") == 0 && i + 3 < argc && strcmp(argv[i + 3], "move") == 0;
      long r = strcmp(s, "mbind") == 0
                   ? syscall(SYS_mbind, base, npages * PAGE, mode, mask ? &mask : NULL,
                             mask ? MAX_NODES + 1 : 0, move ? MPOL_MF_MOVE : 0)
                   : syscall(SYS_set_mempolicy, mode, mask ? &mask : NULL, mask ? MAX_NODES + 1 : 0);
      printf("{\"step\":\"%s\",\"mode\":\"%s\",\"nodes\":\"%s\",\"errno\":%d}\n", s, a, b,
             r == 0 ? 0 : errno);
      i += 2 + move;
    } else if (strcmp(s, "touch") == 0) {
      touch_all();
      printf("{\"step\":\"touch\"}\n");
    } else if (strcmp(s, "query") == 0) {
      query();
    } else if (strcmp(s, "loop") == 0 && a) {
      double end = now_ms() + strtod(a, NULL);
      unsigned long passes = 0;
      while (now_ms() < end) {
        touch_all();
        passes++;
      }
      printf("{\"step\":\"loop\",\"passes\":%lu}\n", passes);
      i += 1;
    } else if (strcmp(s, "write") == 0 && a && b) {
      int fd = open(a, O_WRONLY | O_CREAT, 0644);
      int err = 0;
      if (fd < 0)
        err = errno;
      else {
        if (write(fd, b, strlen(b)) < 0) err = errno;
        close(fd);
      }
      printf("{\"step\":\"write\",\"file\":\"%s\",\"text\":\"%s\",\"errno\":%d}\n", a, b, err);
      i += 2;
    } else if (strcmp(s, "read") == 0 && a) {
      static char buf[1 << 20];
      int fd = open(a, O_RDONLY);
      if (fd < 0) fail(s, a);
      size_t n = 0;
      ssize_t r;
      while (n < sizeof buf && (r = read(fd, buf + n, sizeof buf - n)) > 0) n += (size_t)r;
      close(fd);
      printf("{\"step\":\"read\",\"file\":\"%s\",\"text\":", a);
      json_string(buf, n);
      printf("}\n");
      i += 1;
    } else if (strcmp(s, "wait") == 0 && a) {
      while (access(a, F_OK) != 0) usleep(10000);
      printf("{\"step\":\"wait\",\"file\":\"%s\"}\n", a);
      i += 1;
    } else if (strcmp(s, "sleep") == 0 && a) {
      usleep((useconds_t)(strtod(a, NULL) * 1000));
      i += 1;
    } else {
      fprintf(stderr, "mm-steps: bad step %s (argument %d)\n", s, i);
      return 2;
    }
  }
  return 0;
}
