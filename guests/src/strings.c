// glibc string and memory functions over many lengths (under --cpu x86-64-v3 glibc runs its AVX2 versions).
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
int main(void) {
  char buf[4096], dst[4096];
  unsigned long sum = 0;
  for (int n = 0; n < 300; n++) {
    for (int i = 0; i < n; i++) buf[i] = 'a' + (i * 7 + n) % 26;
    buf[n] = 0;
    sum += strlen(buf) * 3 + (strchr(buf, 'q') ? strchr(buf, 'q') - buf : 1000);
    memcpy(dst, buf, n + 1);
    memmove(dst + 1, dst, n);
    sum += memcmp(dst, buf, n) != 0;
    sum += strcmp(buf, dst + 1) == 0;
    sum += (memchr(buf, 'z', n) != NULL);
    memset(dst, n & 0xff, n);
    sum += dst[n / 2];
    sum += strrchr(buf, 'e') ? strrchr(buf, 'e') - buf : 7;
    strcpy(dst, buf); strcat(dst, "xyz");
    sum += strlen(dst) + strncmp(dst, buf, n / 2) + (strstr(dst, "xyz") - dst);
  }
  printf("sum=%lu\n", sum);
  return 0;
}
