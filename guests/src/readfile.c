/* readfile: reads the file named by argv[1] (default data/input.txt) and prints its size, line count
   and checksum; then lists the directory argv[2] (default data/sub) sorted by name.
   Exit code 2 if the file is missing. */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

int main(int argc, char **argv) {
  const char *path = argc > 1 ? argv[1] : "data/input.txt";
  const char *dir = argc > 2 ? argv[2] : "data/sub";
  FILE *f = fopen(path, "rb");
  if (!f) {
    fprintf(stderr, "readfile: cannot open %s: %s\n", path, strerror(errno));
    return 2;
  }
  unsigned char buf[512];
  size_t size = 0, lines = 0, got;
  uint32_t sum = 0;
  while ((got = fread(buf, 1, sizeof buf, f)) > 0) {
    for (size_t i = 0; i < got; i++) {
      sum = (sum << 5 | sum >> 27) ^ buf[i];
      if (buf[i] == '\n') lines++;
    }
    size += got;
  }
  fclose(f);
  printf("%s: size=%zu lines=%zu checksum=%08x\n", path, size, lines, sum);
  DIR *d = opendir(dir);
  if (!d) {
    fprintf(stderr, "readfile: cannot open directory %s: %s\n", dir, strerror(errno));
    return 2;
  }
  char *names[256];
  size_t count = 0;
  struct dirent *e;
  while ((e = readdir(d)) && count < 256) {
    if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
    names[count++] = strdup(e->d_name);
  }
  closedir(d);
  qsort(names, count, sizeof *names, cmp_str);
  printf("%s: %zu entries\n", dir, count);
  for (size_t i = 0; i < count; i++) { printf("  %s\n", names[i]); free(names[i]); }
  return 0;
}
