// Frames that end without their RET: longjmp out of a recursion (several frames unwound at once), a longjmp out of
// one frame, and a function whose frame returns normally between them. For the frame-definition test
// (test/query/frames-agree.test.ts): the unwound frames are the ones where two definitions could part.
#include <setjmp.h>
#include <stdio.h>

static jmp_buf env;
static volatile int sink;

__attribute__((noinline)) static void dive(int n) {
  char pad[40];
  pad[n % 40] = (char)n;
  sink += pad[n % 40];
  if (n == 0) longjmp(env, 1);
  dive(n - 1);
  sink++;
}

__attribute__((noinline)) static int leaf(int x) { return x * 3 + sink; }

__attribute__((noinline)) static void escape(void) {
  sink += leaf(2);
  longjmp(env, 2);
}

int main(void) {
  int total = 0;
  for (int round = 0; round < 3; round++) {
    if (setjmp(env) == 0) dive(5 + round);
    total += leaf(round);
    if (setjmp(env) == 0) escape();
  }
  printf("%d %d\n", total, sink);
  return 0;
}
