// SPDX-License-Identifier: Apache-2.0
/* pg_factory.c - see pg_factory.h. */
#define _POSIX_C_SOURCE 200809L

#include "pg_factory.h"

#include <ctype.h>
#include <errno.h>
#include <libpq-fe.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct pg_factory_ctx {
    char *conninfo;
    char connect_timeout[16]; /* our default, as libpq wants it: decimal seconds */
    int deadline_s;           /* what create enforces: the string's connect_timeout if it has one */
} pg_factory_ctx;

/* ---------------------------------------------------------------------------------------- */
/* Classifying failures                                                                     */
/* ---------------------------------------------------------------------------------------- */

int connpool_pg_find_sqlstate(const char *message, char *out, size_t outlen) {
    const char *p;
    if (out != NULL && outlen > 0) out[0] = '\0';
    if (message == NULL || out == NULL || outlen < 6) return 0;
    /* Verbose messages read "<SEVERITY>:  <SQLSTATE>: <text>"; the severity word may be
     * translated, the two blanks and the five-character code are not. */
    for (p = strstr(message, ":  "); p != NULL; p = strstr(p + 1, ":  ")) {
        const char *code = p + 3;
        int i;
        for (i = 0; i < 5; ++i)
            if (!(isdigit((unsigned char)code[i]) || isupper((unsigned char)code[i]))) break;
        if (i == 5 && code[5] == ':') {
            memcpy(out, code, 5);
            out[5] = '\0';
            return 1;
        }
    }
    return 0;
}

int connpool_pg_classify_failure(const char *message) {
    /* Texts that retrying cannot fix. The server ones are the English fallbacks for servers
     * whose messages carry no SQLSTATE; the client ones come from libpq before any network. */
    static const char *const permanent[] = {
        "password authentication failed",   /* 28P01 */
        "no pg_hba.conf entry",             /* 28000 */
        "role \"",                          /* 28000: role "x" does not exist */
        "database \"",                      /* 3D000: database "x" does not exist */
        "no password supplied",             /* fe_sendauth: the server wants one */
        "invalid connection option",
        "missing \"=\" after",
        "unterminated quoted string",
        "invalid URI",
        "invalid percent-encoded token",
        "invalid integer value",
        "invalid sslmode value",
    };
    char state[6];
    size_t i;
    if (message == NULL) return CONNPOOL_FACTORY_RETRY;
    if (connpool_pg_find_sqlstate(message, state, sizeof state)) {
        if (state[0] == '2' && state[1] == '8') return CONNPOOL_FACTORY_FATAL; /* authorization */
        if (strcmp(state, "3D000") == 0) return CONNPOOL_FACTORY_FATAL;       /* no such database */
        if (strcmp(state, "42501") == 0) return CONNPOOL_FACTORY_FATAL;       /* no CONNECT right */
        return CONNPOOL_FACTORY_RETRY; /* 57P03 starting up, 53300 too many connections, ... */
    }
    for (i = 0; i < sizeof permanent / sizeof permanent[0]; ++i)
        if (strstr(message, permanent[i]) != NULL) return CONNPOOL_FACTORY_FATAL;
    return CONNPOOL_FACTORY_RETRY;
}

/* libpq's message on one line, without the LOCATION lines verbose mode adds. */
static void copy_message(const char *msg, char *err, size_t errlen) {
    size_t n = 0;
    const char *line = msg;
    if (err == NULL || errlen == 0) return;
    err[0] = '\0';
    while (line != NULL && *line != '\0') {
        const char *end = strchr(line, '\n');
        size_t len = end ? (size_t)(end - line) : strlen(line);
        while (len > 0 && isspace((unsigned char)*line)) {
            ++line;
            --len;
        }
        while (len > 0 && isspace((unsigned char)line[len - 1])) --len;
        if (len > 0 && strncmp(line, "LOCATION:", 9) != 0) {
            if (n > 0 && n + 1 < errlen) err[n++] = ' ';
            if (n + len >= errlen) len = errlen - 1 - n;
            memcpy(err + n, line, len);
            n += len;
            err[n] = '\0';
        }
        line = end ? end + 1 : NULL;
    }
}

/* ---------------------------------------------------------------------------------------- */
/* Callbacks                                                                                */
/* ---------------------------------------------------------------------------------------- */

static int64_t now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void ignore_notice(void *arg, const PGresult *res) {
    (void)arg;
    (void)res;
}

/* Waits until the connection's socket is ready; 1 then, 0 at the deadline (-1: none), -1 on
 * error. */
static int wait_socket(PGconn *conn, int for_write, int64_t deadline_ms) {
    struct pollfd pfd;
    pfd.fd = PQsocket(conn);
    if (pfd.fd < 0) return -1;
    pfd.events = for_write ? POLLOUT : POLLIN;
    for (;;) {
        int timeout = -1;
        int rc;
        if (deadline_ms >= 0) {
            int64_t left = deadline_ms - now_ms();
            if (left <= 0) return 0;
            timeout = left > 1000000000 ? 1000000000 : (int)left;
        }
        pfd.revents = 0;
        rc = poll(&pfd, 1, timeout);
        if (rc > 0) return 1;
        if (rc < 0 && errno != EINTR) return -1;
    }
}

static int pg_create(void *ctx, void **conn_out, char *err, size_t errlen) {
    pg_factory_ctx *c = (pg_factory_ctx *)ctx;
    /* Defaults first, then the user's string expanded from "dbname": later entries win, so
     * the string may override connect_timeout and application_name. */
    const char *const keys[] = {"connect_timeout", "application_name", "dbname", NULL};
    const char *const values[] = {c->connect_timeout, "connpool", c->conninfo, NULL};
    const int64_t deadline = c->deadline_s > 0 ? now_ms() + (int64_t)c->deadline_s * 1000 : -1;
    PostgresPollingStatusType st = PGRES_POLLING_WRITING;
    PGconn *conn;
    int rc;

    /* Non-blocking connect so that the SQLSTATE of an authentication failure can be read:
     * error verbosity must be set before the server answers, and PQconnectdb gives no PGconn
     * until it is over. The poll loop enforces connect_timeout, as PQconnectdb would. */
    conn = PQconnectStartParams(keys, values, 1);
    if (conn == NULL) {
        snprintf(err, errlen, "libpq: out of memory");
        return CONNPOOL_FACTORY_RETRY;
    }
    PQsetErrorVerbosity(conn, PQERRORS_VERBOSE);
    PQsetNoticeReceiver(conn, ignore_notice, NULL);
    if (PQstatus(conn) == CONNECTION_BAD) st = PGRES_POLLING_FAILED;
    while (st != PGRES_POLLING_OK && st != PGRES_POLLING_FAILED) {
        int ready = wait_socket(conn, st == PGRES_POLLING_WRITING, deadline);
        if (ready == 0) {
            snprintf(err, errlen, "connection attempt timed out after %d s (connect_timeout)",
                     c->deadline_s);
            PQfinish(conn);
            return CONNPOOL_FACTORY_RETRY;
        }
        if (ready < 0) break;
        st = PQconnectPoll(conn);
    }
    if (PQstatus(conn) != CONNECTION_OK) {
        const char *msg = PQerrorMessage(conn);
        copy_message(msg != NULL && msg[0] != '\0' ? msg : "connection failed", err, errlen);
        rc = connpool_pg_classify_failure(msg);
        PQfinish(conn);
        return rc;
    }
    /* Back to libpq's default verbosity for the application's own queries. */
    PQsetErrorVerbosity(conn, PQERRORS_DEFAULT);
    *conn_out = conn;
    return CONNPOOL_FACTORY_OK;
}

static int pg_validate(void *ctx, void *conn) {
    PGconn *pg = (PGconn *)conn;
    PGresult *res;
    int ok;
    (void)ctx;
    if (PQstatus(pg) != CONNECTION_OK) return 1;
    /* A query still in progress (results not consumed) or an unknown state: not reusable. */
    if (PQtransactionStatus(pg) == PQTRANS_ACTIVE || PQtransactionStatus(pg) == PQTRANS_UNKNOWN)
        return 1;
    res = PQexec(pg, "");
    ok = PQresultStatus(res) == PGRES_EMPTY_QUERY;
    PQclear(res);
    return ok ? 0 : 1;
}

static int exec_command(PGconn *pg, const char *sql) {
    PGresult *res = PQexec(pg, sql);
    int ok = PQresultStatus(res) == PGRES_COMMAND_OK;
    PQclear(res);
    return ok;
}

static int pg_reset(void *ctx, void *conn) {
    PGconn *pg = (PGconn *)conn;
    PGnotify *n;
    (void)ctx;
    if (PQstatus(pg) != CONNECTION_OK) return 1;
    switch (PQtransactionStatus(pg)) {
        case PQTRANS_IDLE: break;
        case PQTRANS_INTRANS:
        case PQTRANS_INERROR:
            if (!exec_command(pg, "ROLLBACK")) return 1;
            break;
        default: return 1; /* a query in flight or a broken connection */
    }
    if (!exec_command(pg, "DISCARD ALL")) return 1;
    while ((n = PQnotifies(pg)) != NULL) PQfreemem(n);
    return 0;
}

static void pg_destroy(void *ctx, void *conn) {
    (void)ctx;
    PQfinish((PGconn *)conn);
}

static void ctx_free(void *ctx) {
    pg_factory_ctx *c = (pg_factory_ctx *)ctx;
    if (c == NULL) return;
    free(c->conninfo);
    free(c);
}

/* 1 and *seconds when the string sets its own connect_timeout, else 0. Parse errors are left
 * for create to report (as FATAL, with libpq's message). */
static int conninfo_timeout(const char *conninfo, int *seconds) {
    PQconninfoOption *opts = PQconninfoParse(conninfo, NULL);
    PQconninfoOption *o;
    int found = 0;
    if (opts == NULL) return 0;
    for (o = opts; o->keyword != NULL; ++o) {
        if (strcmp(o->keyword, "connect_timeout") == 0 && o->val != NULL && o->val[0] != '\0') {
            *seconds = atoi(o->val);
            found = 1;
        }
    }
    PQconninfoFree(opts);
    return found;
}

connpool_factory_t *connpool_pg_factory_new(const char *conninfo, int connect_timeout_s) {
    pg_factory_ctx *c;
    connpool_factory_t *f;
    int own = 0;
    if (conninfo == NULL) return NULL;
    c = (pg_factory_ctx *)calloc(1, sizeof *c);
    if (c == NULL) return NULL;
    c->conninfo = (char *)malloc(strlen(conninfo) + 1);
    if (c->conninfo == NULL) {
        free(c);
        return NULL;
    }
    strcpy(c->conninfo, conninfo);
    if (connect_timeout_s <= 0) connect_timeout_s = CONNPOOL_PG_DEFAULT_CONNECT_TIMEOUT_S;
    snprintf(c->connect_timeout, sizeof c->connect_timeout, "%d", connect_timeout_s);
    c->deadline_s = conninfo_timeout(conninfo, &own) ? own : connect_timeout_s;
    /* libpq's rule: zero or negative waits forever, and 1 s means 2 s. */
    if (c->deadline_s < 0) c->deadline_s = 0;
    if (c->deadline_s == 1) c->deadline_s = 2;
    f = connpool_factory_new(c, ctx_free, pg_create, pg_destroy);
    if (f == NULL) {
        ctx_free(c);
        return NULL;
    }
    connpool_factory_set_validate(f, pg_validate);
    connpool_factory_set_reset(f, pg_reset);
    return f;
}
