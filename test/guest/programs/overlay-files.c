// Creates, writes, renames, rereads and deletes files under a directory (argv[1]) and prints what it sees at each
// step. With argv[2] = "keep" it leaves DIR/kept.txt behind. Used to compare the guest's copy-on-write overlay
// with a native run.
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char buf[4096];

static void check(const char *what, long r) {
  printf("%s = %ld%s%s\n", what, r, r < 0 ? " " : "", r < 0 ? strerror(errno) : "");
}

static int cmp(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static void list(const char *dir) {
  DIR *d = opendir(dir);
  if (!d) { printf("opendir %s: %s\n", dir, strerror(errno)); return; }
  char *names[64]; int n = 0; struct dirent *e;
  while ((e = readdir(d)) && n < 64) names[n++] = strdup(e->d_name);
  closedir(d);
  qsort(names, n, sizeof *names, cmp);
  printf("ls %s:", dir);
  for (int i = 0; i < n; i++) { printf(" %s", names[i]); free(names[i]); }
  printf("\n");
}

static void show(const char *path) {
  struct stat st;
  if (lstat(path, &st) != 0) { printf("stat %s: %s\n", path, strerror(errno)); return; }
  printf("stat %s: mode %o size %ld nlink %ld\n", path, st.st_mode, (long)st.st_size, (long)st.st_nlink);
}

static void cat(const char *path) {
  int fd = open(path, O_RDONLY);
  if (fd < 0) { printf("open %s: %s\n", path, strerror(errno)); return; }
  ssize_t n = read(fd, buf, sizeof buf - 1);
  buf[n < 0 ? 0 : n] = 0;
  printf("read %s: %zd [%s]\n", path, n, buf);
  close(fd);
}

int main(int argc, char **argv) {
  if (argc < 2) return 2;
  char base[512], p[600], q[600], s[600], sub[600], k[600];
  snprintf(base, sizeof base, "%s/itrace-overlay-test", argv[1]);
  snprintf(p, sizeof p, "%s/a.txt", base);
  snprintf(q, sizeof q, "%s/b.txt", base);
  snprintf(s, sizeof s, "%s/link", base);
  snprintf(sub, sizeof sub, "%s/sub", base);
  snprintf(k, sizeof k, "%s/kept.txt", argv[1]);
  umask(022);
  check("mkdir", mkdir(base, 0777));
  check("mkdir again", mkdir(base, 0777));
  int fd = open(p, O_CREAT | O_WRONLY | O_EXCL, 0666);
  check("open O_CREAT|O_EXCL", fd >= 0 ? 0 : -1);
  check("write", write(fd, "hello, overlay\n", 15));
  check("pwrite", pwrite(fd, "H", 1, 0));
  check("fsync", fsync(fd));
  check("close", close(fd));
  check("open O_EXCL again", open(p, O_CREAT | O_WRONLY | O_EXCL, 0666));
  show(p);
  cat(p);
  fd = open(p, O_WRONLY | O_APPEND);
  check("append", write(fd, "more\n", 5));
  check("ftruncate", ftruncate(fd, 18));
  check("fallocate-ish ftruncate", ftruncate(fd, 20));
  close(fd);
  show(p);
  check("rename", rename(p, q));
  show(p);
  cat(q);
  check("link", link(q, p));
  show(q);
  check("symlink", symlink("b.txt", s));
  ssize_t n = readlink(s, buf, sizeof buf);
  printf("readlink = %.*s\n", (int)(n < 0 ? 0 : n), buf);
  cat(s);
  check("chmod", chmod(q, 0600));
  show(q);
  struct timespec ts[2] = {{1000000000, 5}, {1234567890, 0}};
  check("utimensat", utimensat(AT_FDCWD, q, ts, 0));
  struct stat st;
  stat(q, &st);
  printf("mtime %ld\n", (long)st.st_mtime);
  check("mkdir sub", mkdir(sub, 0750));
  show(sub);
  list(base);
  check("rmdir non-empty", rmdir(base));
  check("unlink dir", unlink(sub));
  check("rmdir sub", rmdir(sub));
  check("unlink a", unlink(p));
  check("unlink a again", unlink(p));
  check("unlink link", unlink(s));
  cat(q);
  check("truncate", truncate(q, 3));
  cat(q);
  check("unlink b", unlink(q));
  list(base);
  check("rmdir", rmdir(base));
  show(base);
  if (argc > 2 && strcmp(argv[2], "keep") == 0) {
    fd = open(k, O_CREAT | O_TRUNC | O_WRONLY, 0644);
    check("keep", write(fd, "kept\n", 5));
    close(fd);
    cat(k);
  }
  return 0;
}
