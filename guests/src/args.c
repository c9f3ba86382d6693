/* args: prints argc, argv, envp and the auxiliary vector entries readable with getauxval. */
#include <stdio.h>
#include <sys/auxv.h>

int main(int argc, char **argv, char **envp) {
  printf("argc=%d\n", argc);
  for (int i = 0; i < argc; i++) printf("argv[%d]=%s\n", i, argv[i]);
  for (int i = 0; envp[i]; i++) printf("envp[%d]=%s\n", i, envp[i]);
  printf("AT_PAGESZ=%lu\n", getauxval(AT_PAGESZ));
  printf("AT_HWCAP=0x%lx\n", getauxval(AT_HWCAP));
  printf("AT_CLKTCK=%lu\n", getauxval(AT_CLKTCK));
  const char *platform = (const char *)getauxval(AT_PLATFORM);
  printf("AT_PLATFORM=%s\n", platform ? platform : "(none)");
  const char *execfn = (const char *)getauxval(AT_EXECFN);
  printf("AT_EXECFN=%s\n", execfn ? execfn : "(none)");
  return 0;
}
