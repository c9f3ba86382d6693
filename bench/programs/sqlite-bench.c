/* A fixed SQLite workload for the benchmark of real programs: inserts, an index, joins, aggregates and
   string functions on an in-memory database; prints a digest of the results so runs can be compared. */
#include <stdio.h>
#include <stdlib.h>
#include <sqlite3.h>

static unsigned long digest = 1469598103934665603UL;

static int row(void *unused, int n, char **v, char **names) {
  (void)unused; (void)names;
  for (int i = 0; i < n; i++)
    for (const char *p = v[i] ? v[i] : "NULL"; *p; p++) digest = (digest ^ (unsigned char)*p) * 1099511628211UL;
  return 0;
}

static void run(sqlite3 *db, const char *sql) {
  char *err = 0;
  if (sqlite3_exec(db, sql, row, 0, &err) != SQLITE_OK) { fprintf(stderr, "sql error: %s\n", err); exit(1); }
}

int main(int argc, char **argv) {
  int n = argc > 1 ? atoi(argv[1]) : 20000;
  sqlite3 *db;
  if (sqlite3_open(":memory:", &db) != SQLITE_OK) return 1;
  run(db, "create table t(id integer primary key, k integer, name text, v real)");
  run(db, "create table g(k integer primary key, label text)");
  run(db, "begin");
  char sql[256];
  for (int i = 0; i < n; i++) {
    snprintf(sql, sizeof sql, "insert into t(k, name, v) values (%d, 'name-%d', %d.25)", (i * 7919) % 97, i * 31 % 1000, i % 1000);
    run(db, sql);
  }
  for (int k = 0; k < 97; k++) { snprintf(sql, sizeof sql, "insert into g values (%d, 'group %d')", k, k); run(db, sql); }
  run(db, "commit");
  run(db, "create index t_k on t(k)");
  run(db, "select g.label, count(*), sum(t.v), min(t.name), max(t.name) from t join g on g.k = t.k group by g.label order by 2 desc, 1");
  run(db, "select k, avg(v) from t where name like '%7%' group by k having count(*) > 10 order by k");
  run(db, "select upper(name) || '/' || length(name) from t where id % 997 = 0 order by name");
  run(db, "update t set v = v * 2 where k < 20");
  run(db, "delete from t where id % 3 = 0");
  run(db, "select count(*), total(v) from t");
  sqlite3_close(db);
  printf("sqlite %d rows: digest %016lx\n", n, digest);
  return 0;
}
