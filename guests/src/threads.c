/* threads: pthreads whose output does not depend on the schedule. Four workers add to a mutex-protected counter,
   meet at a barrier, keep a thread-local sum, and pass tokens through a condition-variable queue to the main
   thread; prints the totals. */
#include <pthread.h>
#include <stdio.h>

#define WORKERS 4
#define ROUNDS 2000

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t ready = PTHREAD_COND_INITIALIZER;
static pthread_barrier_t barrier;
static long counter;
static int queue[WORKERS * 8], head, tail;
static __thread long local_sum;

static void *worker(void *arg) {
  long id = (long)arg;
  for (int i = 0; i < ROUNDS; i++) {
    pthread_mutex_lock(&lock);
    counter++;
    pthread_mutex_unlock(&lock);
    local_sum += id + i;
  }
  pthread_barrier_wait(&barrier);
  long seen = counter; /* every worker has finished its rounds */
  for (int k = 0; k < 8; k++) {
    pthread_mutex_lock(&lock);
    queue[tail++] = (int)(id * 100 + k);
    pthread_cond_signal(&ready);
    pthread_mutex_unlock(&lock);
  }
  return (void *)(local_sum + (seen == WORKERS * ROUNDS ? 0 : 1000000000L));
}

int main(void) {
  pthread_t t[WORKERS];
  pthread_barrier_init(&barrier, NULL, WORKERS);
  for (long i = 0; i < WORKERS; i++) pthread_create(&t[i], NULL, worker, (void *)i);
  long tokens = 0, got = 0;
  pthread_mutex_lock(&lock);
  while (got < WORKERS * 8) {
    while (head == tail) pthread_cond_wait(&ready, &lock);
    tokens += queue[head++];
    got++;
  }
  pthread_mutex_unlock(&lock);
  long total = 0;
  for (int i = 0; i < WORKERS; i++) { void *r; pthread_join(t[i], &r); total += (long)r; }
  printf("counter=%ld tls_total=%ld tokens=%ld got=%ld main_tls=%ld\n", counter, total, tokens, got, local_sum);
  return 0;
}
