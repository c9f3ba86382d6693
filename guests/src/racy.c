/* racy: two threads increment a shared counter without a lock, with a system call between the load and the store.
   On one processor a switch inside that window loses an update; the default schedule (a thread runs until it
   blocks) never switches there, chaos mode (--chaos SEED) does for some seeds. Prints the count; exit 1 when
   updates were lost. */
#include <pthread.h>
#include <stdio.h>
#include <unistd.h>

#define ROUNDS 200
static volatile long counter;

static void *worker(void *arg) {
  (void)arg;
  for (int i = 0; i < ROUNDS; i++) {
    long v = counter;
    getppid(); /* a system call in the critical section */
    counter = v + 1;
  }
  return NULL;
}

int main(void) {
  pthread_t a, b;
  pthread_create(&a, NULL, worker, NULL);
  pthread_create(&b, NULL, worker, NULL);
  pthread_join(a, NULL);
  pthread_join(b, NULL);
  printf("counter=%ld\n", counter);
  return counter == 2 * ROUNDS ? 0 : 1;
}
