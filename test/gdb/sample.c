/* The program the gdb tests debug natively and as a recording. No output: only state gdb can inspect.
 * Marker comments name lines the tests look up. */
int counter;
long total;
struct point { int x, y; };

int fib(int n) {
  if (n < 2) return n;
  return fib(n - 1) + fib(n - 2);
}

int square(int v) {
  int r = v * v; /* L_SQUARE */
  counter++;
  return r;
}

int add(struct point *p) {
  int s = square(p->x) + square(p->y); /* L_CALL */
  total += s; /* L_TOTAL */
  return s;
}

/* close(fd) as a raw SYSCALL instruction, labelled so a test can stop on it */
__attribute__((noinline, noclone)) long sys_close(long fd) {
  long r;
  __asm__ volatile(".globl syscall_insn\nsyscall_insn: syscall" : "=a"(r) : "a"(3L), "D"(fd) : "rcx", "r11", "memory");
  return r;
}

int main(void) {
  struct point pts[3] = {{1, 2}, {3, 4}, {5, 6}};
  int sum = 0;
  for (int i = 0; i < 3; i++) sum += add(&pts[i]); /* L_LOOP */
  long bad = sys_close(99); /* L_SYSCALL */
  sum += fib(7) + (bad < 0);
  return sum & 0x7f; /* L_RETURN */
}
