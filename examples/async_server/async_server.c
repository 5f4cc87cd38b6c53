// SPDX-License-Identifier: Apache-2.0
/*
 * async_server: libconnpool on an event loop (libuv), no thread per request.
 *
 * One loop thread serves a line protocol over TCP on loopback ("balance N\n" answers
 * "N <balance>\n") from a pool of SQLite connections. A request asks for a connection with
 * connpool_acquire_async: served at once (OK) or queued (PENDING). The pool calls back on its
 * own thread, which only puts the request on a list and wakes the loop with uv_async_send; the
 * loop then runs the query on libuv's thread pool (uv_queue_work, so a slow query never stalls
 * the loop), releases the connection and answers.
 *
 *   ./async_server serve [port]       serve until interrupted (port 0: any; printed)
 *   ./async_server selftest [clients] the CTest check: that many clients at once against a
 *                                     pool of 4; exits non-zero unless every answer is right,
 *                                     requests really waited, and nothing leaked
 */
#include <connpool/connpool.h>
#include <dirent.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <uv.h>

#include "sqlite_factory.h"

#define ACCOUNTS 20
#define BALANCE(i) (1000 + (i))

struct request;

struct server {
  uv_loop_t *loop;
  uv_tcp_t listener;
  uv_async_t hop; /* pool thread -> loop: decided acquires are waiting in `decided` */
  connpool_pool_t *pool;
  pthread_t loop_thread;
  pthread_mutex_t mu;       /* guards decided */
  struct request *decided;  /* acquires the pool called back, not yet seen by the loop */
  long pending, peak_pending, served, failed, off_loop_callbacks;
};

struct request {
  uv_tcp_t tcp;
  struct server *srv;
  char in[128];
  size_t in_len;
  long account;
  int status; /* of the acquire */
  connpool_lease_t lease;
  void *conn;
  long long balance;
  uv_work_t work;
  uv_write_t write;
  char out[96];
  struct request *next;
};

static void free_request(uv_handle_t *h) { free(h->data); }

static void on_written(uv_write_t *w, int status) {
  (void)status;
  struct request *r = w->data;
  uv_close((uv_handle_t *)&r->tcp, free_request);
}

static void answer(struct request *r, const char *text) {
  snprintf(r->out, sizeof r->out, "%s\n", text);
  uv_buf_t b = uv_buf_init(r->out, (unsigned)strlen(r->out));
  r->write.data = r;
  if (uv_write(&r->write, (uv_stream_t *)&r->tcp, &b, 1, on_written) != 0)
    uv_close((uv_handle_t *)&r->tcp, free_request);
}

/* libuv's thread pool: the query, with the connection this request holds. */
static void run_query(uv_work_t *w) {
  struct request *r = w->data;
  sqlite3_stmt *st = NULL;
  r->balance = -1;
  if (sqlite3_prepare_v2(r->conn, "SELECT balance FROM accounts WHERE id = ?", -1, &st, NULL) == SQLITE_OK) {
    sqlite3_bind_int64(st, 1, r->account);
    if (sqlite3_step(st) == SQLITE_ROW) r->balance = sqlite3_column_int64(st, 0);
  }
  sqlite3_finalize(st);
}

/* Back on the loop: give the connection back first, then answer. */
static void query_done(uv_work_t *w, int status) {
  struct request *r = w->data;
  connpool_release(r->srv->pool, r->lease);
  char text[64];
  if (status != 0 || r->balance < 0) {
    r->srv->failed++;
    snprintf(text, sizeof text, "ERR query");
  } else {
    r->srv->served++;
    snprintf(text, sizeof text, "%ld %lld", r->account, r->balance);
  }
  answer(r, text);
}

/* On the loop, with the outcome of the acquire. */
static void acquired(struct request *r) {
  if (r->status != CONNPOOL_OK) {
    char text[64];
    r->srv->failed++;
    snprintf(text, sizeof text, "ERR %s", connpool_errname(r->status));
    answer(r, text);
    return;
  }
  r->work.data = r;
  uv_queue_work(r->srv->loop, &r->work, run_query, query_done);
}

/* The pool's thread: never touch libuv here except uv_async_send, which is thread-safe. */
static void on_acquire_done(void *ud, int status, connpool_lease_t lease, void *conn) {
  struct request *r = ud;
  struct server *s = r->srv;
  r->status = status;
  r->lease = lease;
  r->conn = conn;
  pthread_mutex_lock(&s->mu);
  if (pthread_equal(pthread_self(), s->loop_thread)) s->off_loop_callbacks++; /* must stay 0 */
  r->next = s->decided;
  s->decided = r;
  pthread_mutex_unlock(&s->mu);
  uv_async_send(&s->hop);
}

/* The loop, woken by uv_async_send (several sends may coalesce into one call). */
static void on_hop(uv_async_t *h) {
  struct server *s = h->data;
  pthread_mutex_lock(&s->mu);
  struct request *list = s->decided;
  s->decided = NULL;
  pthread_mutex_unlock(&s->mu);
  while (list != NULL) {
    struct request *r = list;
    list = r->next;
    s->pending--;
    acquired(r);
  }
}

static void start_request(struct request *r) {
  struct server *s = r->srv;
  int rc = connpool_acquire_async(s->pool, 0, 5000, NULL, on_acquire_done, r, &r->lease, &r->conn);
  if (rc == CONNPOOL_PENDING) {
    if (++s->pending > s->peak_pending) s->peak_pending = s->pending;
    return;
  }
  r->status = rc; /* OK: served at once, the callback will not be called */
  acquired(r);
}

static void alloc_in(uv_handle_t *h, size_t suggested, uv_buf_t *b) {
  (void)suggested;
  struct request *r = h->data;
  *b = uv_buf_init(r->in + r->in_len, (unsigned)(sizeof r->in - 1 - r->in_len));
}

static void on_read(uv_stream_t *stream, ssize_t n, const uv_buf_t *b) {
  (void)b;
  struct request *r = stream->data;
  if (n < 0 || (n == 0 && r->in_len == sizeof r->in - 1)) {
    uv_close((uv_handle_t *)&r->tcp, free_request);
    return;
  }
  r->in_len += (size_t)n;
  r->in[r->in_len] = '\0';
  if (strchr(r->in, '\n') == NULL) return;
  uv_read_stop(stream);
  if (sscanf(r->in, "balance %ld", &r->account) != 1) {
    answer(r, "ERR usage: balance N");
    return;
  }
  start_request(r);
}

static void on_connection(uv_stream_t *listener, int status) {
  struct server *s = listener->data;
  if (status < 0) return;
  struct request *r = calloc(1, sizeof *r);
  if (r == NULL) return;
  r->srv = s;
  uv_tcp_init(s->loop, &r->tcp);
  r->tcp.data = r;
  if (uv_accept(listener, (uv_stream_t *)&r->tcp) != 0) {
    uv_close((uv_handle_t *)&r->tcp, free_request);
    return;
  }
  uv_read_start((uv_stream_t *)&r->tcp, alloc_in, on_read);
}

/* --- the self-test's clients, on the same loop ------------------------------------------ */

struct client {
  uv_tcp_t tcp;
  uv_connect_t connect;
  uv_write_t write;
  char req[32], in[96];
  size_t in_len;
  long account;
  struct selftest *t;
};

struct selftest {
  struct server *srv;
  long clients, finished, correct;
};

static void client_closed(uv_handle_t *h) {
  struct client *c = h->data;
  struct selftest *t = c->t;
  free(c);
  if (++t->finished == t->clients) { /* all answered: stop serving */
    uv_close((uv_handle_t *)&t->srv->listener, NULL);
    uv_close((uv_handle_t *)&t->srv->hop, NULL);
  }
}

static void client_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *b) {
  (void)suggested;
  struct client *c = h->data;
  *b = uv_buf_init(c->in + c->in_len, (unsigned)(sizeof c->in - 1 - c->in_len));
}

static void client_read(uv_stream_t *stream, ssize_t n, const uv_buf_t *b) {
  (void)b;
  struct client *c = stream->data;
  if (n > 0) {
    c->in_len += (size_t)n;
    c->in[c->in_len] = '\0';
    if (strchr(c->in, '\n') == NULL && c->in_len < sizeof c->in - 1) return;
  }
  long account = -1;
  long long balance = -1;
  if (sscanf(c->in, "%ld %lld", &account, &balance) == 2 && account == c->account &&
      balance == BALANCE(c->account))
    c->t->correct++;
  else
    fprintf(stderr, "client %ld: wrong answer '%s'\n", c->account, c->in);
  uv_close((uv_handle_t *)&c->tcp, client_closed);
}

static void client_connected(uv_connect_t *req, int status) {
  struct client *c = req->data;
  if (status < 0) {
    fprintf(stderr, "connect: %s\n", uv_strerror(status));
    uv_close((uv_handle_t *)&c->tcp, client_closed);
    return;
  }
  snprintf(c->req, sizeof c->req, "balance %ld\n", c->account);
  uv_buf_t b = uv_buf_init(c->req, (unsigned)strlen(c->req));
  uv_write(&c->write, (uv_stream_t *)&c->tcp, &b, 1, NULL);
  uv_read_start((uv_stream_t *)&c->tcp, client_alloc, client_read);
}

static int thread_count(void) {
  int n = 0;
  DIR *d = opendir("/proc/self/task");
  if (d == NULL) return -1;
  for (struct dirent *e; (e = readdir(d)) != NULL;)
    if (e->d_name[0] != '.') n++;
  closedir(d);
  return n;
}

static long stat_field(connpool_pool_t *pool, const char *key) {
  char *js = connpool_pool_stats_json(pool);
  char k[64];
  snprintf(k, sizeof k, "\"%s\":", key);
  const char *at = js ? strstr(js, k) : NULL;
  long v = at ? strtol(at + strlen(k), NULL, 10) : -1;
  connpool_free(js);
  return v;
}

/* --- setup ------------------------------------------------------------------------------ */

static connpool_pool_t *open_pool(const char *path) {
  char err[256];
  connpool_config_t *cfg = NULL;
  if (connpool_config_from_json("{\"name\": \"async-server\", \"max_size\": 4, \"min_idle\": 4,"
                                " \"acquire_timeout_ms\": 5000}",
                                &cfg, err, sizeof err) != CONNPOOL_OK) {
    fprintf(stderr, "config: %s\n", err);
    return NULL;
  }
  connpool_pool_t *pool = NULL;
  int rc = connpool_pool_new(cfg, sqlite_factory_new(path), &pool, err, sizeof err);
  connpool_config_free(cfg);
  if (rc != CONNPOOL_OK) {
    fprintf(stderr, "pool: %s: %s\n", connpool_errname(rc), err);
    return NULL;
  }
  connpool_lease_t lease;
  void *conn;
  if (connpool_acquire(pool, 5000, &lease, &conn) != CONNPOOL_OK) {
    fprintf(stderr, "no connection for the schema\n");
    connpool_pool_free(pool);
    return NULL;
  }
  sqlite3_exec(conn, "CREATE TABLE accounts (id INTEGER PRIMARY KEY, balance INTEGER NOT NULL)", NULL, NULL, NULL);
  for (int i = 0; i < ACCOUNTS; i++) {
    char sql[96];
    snprintf(sql, sizeof sql, "INSERT INTO accounts VALUES (%d, %d)", i, BALANCE(i));
    sqlite3_exec(conn, sql, NULL, NULL, NULL);
  }
  connpool_release(pool, lease);
  return pool;
}

int main(int argc, char **argv) {
  const char *mode = argc > 1 ? argv[1] : "selftest";
  int selftest = strcmp(mode, "selftest") == 0;
  if (!selftest && strcmp(mode, "serve") != 0) {
    fprintf(stderr, "usage: %s serve [port] | selftest [clients]\n", argv[0]);
    return 2;
  }
  long arg = argc > 2 ? atol(argv[2]) : (selftest ? 200 : 0);

  char dir[] = "/tmp/connpool-async-XXXXXX", path[600];
  if (!mkdtemp(dir)) {
    perror("mkdtemp");
    return 1;
  }
  snprintf(path, sizeof path, "%s/bank.db", dir);
  static struct server s;
  s.loop = uv_default_loop();
  s.loop_thread = pthread_self();
  pthread_mutex_init(&s.mu, NULL);
  if ((s.pool = open_pool(path)) == NULL) return 1;

  uv_async_init(s.loop, &s.hop, on_hop);
  s.hop.data = &s;
  uv_tcp_init(s.loop, &s.listener);
  s.listener.data = &s;
  struct sockaddr_in addr;
  uv_ip4_addr("127.0.0.1", selftest ? 0 : (int)arg, &addr);
  int rc = uv_tcp_bind(&s.listener, (const struct sockaddr *)&addr, 0);
  if (rc == 0) rc = uv_listen((uv_stream_t *)&s.listener, 1024, on_connection);
  if (rc != 0) {
    fprintf(stderr, "listen: %s\n", uv_strerror(rc));
    return 1;
  }
  struct sockaddr_storage bound;
  int len = sizeof bound;
  uv_tcp_getsockname(&s.listener, (struct sockaddr *)&bound, &len);
  int port = ntohs(((struct sockaddr_in *)&bound)->sin_port);
  printf("async_server: listening on 127.0.0.1:%d (one loop thread, a pool of 4)\n", port);
  fflush(stdout);

  struct selftest t = {&s, arg, 0, 0};
  if (selftest) {
    for (long i = 0; i < t.clients; i++) {
      struct client *c = calloc(1, sizeof *c);
      c->t = &t;
      c->account = i % ACCOUNTS;
      uv_tcp_init(s.loop, &c->tcp);
      c->tcp.data = c;
      c->connect.data = c;
      uv_ip4_addr("127.0.0.1", port, &addr);
      uv_tcp_connect(&c->connect, &c->tcp, (const struct sockaddr *)&addr, client_connected);
    }
  }
  int threads_before = thread_count();
  uv_run(s.loop, UV_RUN_DEFAULT);
  int threads_after = thread_count();

  long in_use = stat_field(s.pool, "in_use"), waiters = stat_field(s.pool, "waiters");
  char *stats = connpool_pool_stats_json(s.pool);
  printf("%s\n", stats ? stats : "(no stats)");
  connpool_free(stats);
  connpool_pool_free(s.pool);
  uv_loop_close(s.loop);
  char side[700];
  unlink(path);
  snprintf(side, sizeof side, "%s-wal", path);
  unlink(side);
  snprintf(side, sizeof side, "%s-shm", path);
  unlink(side);
  rmdir(dir);

  printf("served %ld, failed %ld, peak pending acquires %ld, threads %d -> %d\n", s.served, s.failed,
         s.peak_pending, threads_before, threads_after);
  if (!selftest) return 0;
  int ok = 1;
#define CHECK(cond, what)                       \
  if (!(cond)) {                                \
    fprintf(stderr, "selftest: %s\n", what);    \
    ok = 0;                                     \
  }
  CHECK(t.correct == t.clients, "not every client got its right balance");
  CHECK(s.served == t.clients && s.failed == 0, "not every request was served");
  CHECK(s.peak_pending > 0, "no request ever waited: the test did not exercise the async path");
  CHECK(s.off_loop_callbacks == 0, "a pool callback ran on the loop thread");
  CHECK(in_use == 0 && waiters == 0, "leases or waiters left after the run");
  /* a thread per waiting request would show here: the pool's and libuv's threads only */
  CHECK(threads_after < 24, "more threads than the pool and libuv's thread pool account for");
  printf("selftest %s\n", ok ? "passed" : "FAILED");
  return ok ? 0 : 1;
}
