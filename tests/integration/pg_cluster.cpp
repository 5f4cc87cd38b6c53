// SPDX-License-Identifier: Apache-2.0
#include "pg_cluster.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <glob.h>
#include <netinet/in.h>
#include <pwd.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

extern char** environ;

namespace connpool_it {

namespace {

bool IsExecutable(const std::string& path) { return access(path.c_str(), X_OK) == 0; }

bool HasServerBinaries(const std::string& dir) {
  return !dir.empty() && IsExecutable(dir + "/initdb") && IsExecutable(dir + "/pg_ctl") &&
         IsExecutable(dir + "/postgres");
}

// CONNPOOL_PG_BINDIR, else the newest /usr/lib/postgresql/N/bin (Debian keeps them off PATH),
// else a directory on PATH holding initdb, pg_ctl and postgres.
std::string FindBinDir() {
  if (const char* env = getenv("CONNPOOL_PG_BINDIR"); env != nullptr && *env != '\0')
    return HasServerBinaries(env) ? env : "";
  glob_t g;
  std::string best;
  int best_version = -1;
  if (glob("/usr/lib/postgresql/*/bin", 0, nullptr, &g) == 0) {
    for (size_t i = 0; i < g.gl_pathc; ++i) {
      std::string dir = g.gl_pathv[i];
      int version = atoi(dir.c_str() + strlen("/usr/lib/postgresql/"));
      if (HasServerBinaries(dir) && version > best_version) {
        best = dir;
        best_version = version;
      }
    }
  }
  globfree(&g);
  if (!best.empty()) return best;
  if (const char* path = getenv("PATH")) {
    std::stringstream ss(path);
    std::string dir;
    while (std::getline(ss, dir, ':'))
      if (HasServerBinaries(dir)) return dir;
  }
  return "";
}

std::string FindRunuser() {
  for (const char* p : {"/usr/sbin/runuser", "/sbin/runuser", "/usr/bin/runuser", "/bin/runuser"})
    if (IsExecutable(p)) return p;
  return "";
}

// Paths go through pg_ctl's shell command line and the watchdog's script: keep them plain.
bool IsPlainPath(const std::string& p) {
  return std::all_of(p.begin(), p.end(), [](char c) {
    return isalnum(static_cast<unsigned char>(c)) || c == '/' || c == '.' || c == '_' || c == '-';
  });
}

// Runs argv with stdin from /dev/null and stdout+stderr appended to `log` (/dev/null if
// empty), in `cwd`; returns the exit status, or -1 if it could not run.
int Spawn(const std::vector<std::string>& argv, const std::string& cwd, const std::string& log,
          std::string* err) {
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 1, log.empty() ? "/dev/null" : log.c_str(),
                                   O_WRONLY | O_CREAT | O_APPEND, 0644);
  posix_spawn_file_actions_adddup2(&fa, 1, 2);
  if (!cwd.empty()) posix_spawn_file_actions_addchdir_np(&fa, cwd.c_str());
  pid_t pid;
  int rc = posix_spawn(&pid, args[0], &fa, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  if (rc != 0) {
    *err = "cannot run " + argv[0] + ": " + strerror(rc);
    return -1;
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) {
      *err = std::string("waitpid: ") + strerror(errno);
      return -1;
    }
  }
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  *err = argv[0] + " was killed by signal " + std::to_string(WTERMSIG(status));
  return -1;
}

std::string ReadTail(const std::string& path, size_t bytes) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return "";
  std::string s((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return s.size() > bytes ? s.substr(s.size() - bytes) : s;
}

std::string RandomHex(size_t n) {
  std::random_device rd;
  std::string s;
  static const char kHex[] = "0123456789abcdef";
  for (size_t i = 0; i < n; ++i) s += kHex[rd() % 16];
  return s;
}

// A port nobody listens on right now: bind port 0 on 127.0.0.1 and ask which one we got.
int PickFreePort(std::string* err) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    *err = std::string("socket: ") + strerror(errno);
    return 0;
  }
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof addr;
  int port = 0;
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    port = ntohs(addr.sin_port);
  } else {
    *err = std::string("bind 127.0.0.1:0: ") + strerror(errno);
  }
  close(fd);
  return port;
}

void IgnoreNotice(void*, const PGresult*) {}

}  // namespace

PgCluster::~PgCluster() { Destroy(); }

std::string PgCluster::WhyUnsupported() {
  if (FindBinDir().empty())
    return "PostgreSQL server binaries (initdb, pg_ctl, postgres) not found in CONNPOOL_PG_BINDIR, "
           "/usr/lib/postgresql/*/bin or PATH; install the postgresql package";
  if (geteuid() == 0) {
    if (getpwnam("postgres") == nullptr)
      return "running as root, and initdb refuses root, but there is no 'postgres' user to run "
             "the server as";
    if (FindRunuser().empty()) return "running as root but runuser (util-linux) is missing";
  }
  return "";
}

bool PgCluster::RunPg(const std::string& tool, const std::vector<std::string>& args, std::string* err) {
  std::vector<std::string> argv;
  if (as_postgres_) argv = {FindRunuser(), "-u", "postgres", "--"};
  argv.push_back(bindir_ + "/" + tool);
  argv.insert(argv.end(), args.begin(), args.end());
  std::string spawn_err;
  int rc = Spawn(argv, dir_, dir_ + "/cmd.log", &spawn_err);
  if (rc == 0) return true;
  *err = tool + " failed (" + (rc < 0 ? spawn_err : "exit status " + std::to_string(rc)) +
         "); output:\n" + ReadTail(dir_ + "/cmd.log", 2000);
  return false;
}

bool PgCluster::Init(std::string* err) {
  if (!dir_.empty()) {
    *err = "Init called twice";
    return false;
  }
  bindir_ = FindBinDir();
  as_postgres_ = geteuid() == 0;
  if (as_postgres_) {
    const passwd* pw = getpwnam("postgres");
    if (pw == nullptr) {
      *err = "no postgres user";
      return false;
    }
    pg_uid_ = pw->pw_uid;
    pg_gid_ = pw->pw_gid;
  }
  // As root the postgres user must be able to reach the directory, so use /tmp rather than
  // a TMPDIR that may sit under /root.
  std::string base = "/tmp";
  if (const char* t = getenv("TMPDIR"); !as_postgres_ && t != nullptr && *t != '\0' && IsPlainPath(t))
    base = t;
  std::string templ = base + "/connpool-pg-XXXXXX";
  std::vector<char> buf(templ.begin(), templ.end());
  buf.push_back('\0');
  if (mkdtemp(buf.data()) == nullptr) {
    *err = "mkdtemp " + templ + ": " + strerror(errno);
    return false;
  }
  dir_ = buf.data();
  if (!StartWatchdog(err)) return false;
  if (mkdir((dir_ + "/sock").c_str(), 0700) != 0) {
    *err = "mkdir sock: " + std::string(strerror(errno));
    return false;
  }
  if (as_postgres_) {
    for (const std::string& p : {dir_, dir_ + "/sock"}) {
      if (chown(p.c_str(), pg_uid_, pg_gid_) != 0) {
        *err = "chown " + p + ": " + strerror(errno);
        return false;
      }
    }
  }
  // --no-sync: a throwaway cluster needs no durability, and initdb gets ~10x faster.
  if (!RunPg("initdb", {"-D", dir_ + "/data", "-A", "trust", "-U", kAppUser, "--no-sync",
                        "--no-locale", "-E", "UTF8"},
             err))
    return false;

  // secure_user must really present its password (everyone else is trusted): first match wins.
  const std::string hba = dir_ + "/data/pg_hba.conf";
  std::string rest = ReadTail(hba, std::string::npos);
  {
    std::ofstream out(hba, std::ios::trunc);  // an existing file keeps its owner
    out << "host all " << kSecureUser << " 127.0.0.1/32 scram-sha-256\n" << rest;
    if (!out) {
      *err = "cannot rewrite " + hba;
      return false;
    }
  }
  {
    // Small and fast: tests need neither durability nor big buffers, and many clusters may
    // run at once. Messages in English (the factory's fallback classification reads them).
    std::ofstream conf(dir_ + "/data/postgresql.conf", std::ios::app);
    conf << "\n# connpool integration tests\nfsync = off\nsynchronous_commit = off\n"
            "full_page_writes = off\nshared_buffers = 16MB\nmax_connections = 60\n"
            "lc_messages = 'C'\nlog_min_messages = warning\n";
    if (!conf) {
      *err = "cannot append to postgresql.conf";
      return false;
    }
  }
  secure_password_ = "S3cret-" + RandomHex(16);
  port_ = PickFreePort(err);
  return port_ != 0;
}

bool PgCluster::StartWatchdog(std::string* err) {
  // If this process dies without Destroy() (crash, abort, SIGKILL from a ctest timeout), the
  // watchdog reads EOF on its stdin and stops the server and removes the directory. A normal
  // Destroy() writes "done" first. setsid keeps it out of our process group, which a killer
  // may signal as a whole.
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) {
    *err = std::string("pipe2: ") + strerror(errno);
    return false;
  }
  std::string stop = (as_postgres_ ? FindRunuser() + " -u postgres -- " : std::string()) + bindir_ +
                     "/pg_ctl -D " + dir_ + "/data -m immediate -w -t 60 stop";
  std::string script = "read line; [ \"$line\" = done ] && exit 0; " + stop +
                       " >/dev/null 2>&1; rm -rf " + dir_;
  if (!IsPlainPath(dir_) || !IsPlainPath(bindir_)) {
    *err = "unexpected characters in " + dir_ + " or " + bindir_;
    return false;
  }
  const char* argv[] = {"/bin/sh", "-c", script.c_str(), nullptr};
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, fds[0], 0);
  posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_adddup2(&fa, 1, 2);
  posix_spawn_file_actions_addchdir_np(&fa, "/");
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSID);
  int rc = posix_spawn(&watchdog_pid_, "/bin/sh", &fa, &attr, const_cast<char**>(argv), environ);
  posix_spawnattr_destroy(&attr);
  posix_spawn_file_actions_destroy(&fa);
  close(fds[0]);
  if (rc != 0) {
    close(fds[1]);
    watchdog_pid_ = -1;
    *err = std::string("cannot start the cleanup watchdog: ") + strerror(rc);
    return false;
  }
  watchdog_fd_ = fds[1];
  return true;
}

bool PgCluster::StartOnce(std::string* err) {
  std::string opts = "-c listen_addresses=127.0.0.1 -p " + std::to_string(port_) + " -k " + dir_ + "/sock";
  if (!server_options_.empty()) opts += " " + server_options_;
  return RunPg("pg_ctl", {"-D", dir_ + "/data", "-l", dir_ + "/server.log", "-w", "-t", "60", "-o", opts, "start"},
               err);
}

bool PgCluster::Start(std::string* err) {
  if (running_) return true;
  // A free port can be taken by someone else before the server binds it: try another one,
  // as long as no DSN with this port has been handed out.
  for (int attempt = 0;; ++attempt) {
    if (StartOnce(err)) break;
    std::string log = ReadTail(dir_ + "/server.log", 4000);
    bool port_taken = log.find("could not bind") != std::string::npos ||
                      log.find("could not create any TCP/IP sockets") != std::string::npos;
    if (!port_taken || port_fixed_ || attempt == 4) {
      *err += "\nserver log:\n" + log;
      return false;
    }
    std::string perr;
    int p = PickFreePort(&perr);
    if (p == 0) {
      *err = perr;
      return false;
    }
    port_ = p;
  }
  running_ = true;
  // The password role: created once, on the first start.
  if (!role_created_) {
    if (!Exec(std::string("CREATE ROLE ") + kSecureUser + " LOGIN PASSWORD '" + secure_password_ + "'", err))
      return false;
    role_created_ = true;
  }
  return true;
}

bool PgCluster::Stop(std::string* err) {
  CloseAdmin();
  if (!running_) return true;
  if (!RunPg("pg_ctl", {"-D", dir_ + "/data", "-m", "immediate", "-w", "-t", "60", "stop"}, err))
    return false;
  running_ = false;
  return true;
}

void PgCluster::Destroy() {
  CloseAdmin();
  if (dir_.empty()) return;
  std::string err;
  if (running_ || access((dir_ + "/data/postmaster.pid").c_str(), F_OK) == 0) {
    running_ = true;
    Stop(&err);
  }
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
  dir_.clear();
  if (watchdog_fd_ >= 0) {
    // Our cleanup is done: tell the watchdog to leave without doing it again.
    ssize_t n = write(watchdog_fd_, "done\n", 5);
    (void)n;
    close(watchdog_fd_);
    watchdog_fd_ = -1;
  }
  if (watchdog_pid_ > 0) {
    int status;
    while (waitpid(watchdog_pid_, &status, 0) < 0 && errno == EINTR) {
    }
    watchdog_pid_ = -1;
  }
}

std::string PgCluster::Dsn(const std::string& user, const std::string& password) {
  port_fixed_ = true;
  std::string dsn = "host=127.0.0.1 port=" + std::to_string(port_) + " dbname=postgres user=" + user;
  if (!password.empty()) dsn += " password=" + password;
  return dsn;
}

PGconn* PgCluster::Admin(std::string* err) {
  if (admin_ != nullptr && PQstatus(admin_) == CONNECTION_OK) return admin_;
  CloseAdmin();
  std::string dsn = "host=127.0.0.1 port=" + std::to_string(port_) + " dbname=postgres user=" +
                    kAppUser + " connect_timeout=10 application_name=connpool_test_admin";
  admin_ = PQconnectdb(dsn.c_str());
  if (PQstatus(admin_) != CONNECTION_OK) {
    *err = std::string("admin connection: ") + PQerrorMessage(admin_);
    CloseAdmin();
    return nullptr;
  }
  PQsetNoticeReceiver(admin_, IgnoreNotice, nullptr);
  return admin_;
}

void PgCluster::CloseAdmin() {
  if (admin_ != nullptr) PQfinish(admin_);
  admin_ = nullptr;
}

bool PgCluster::Exec(const std::string& sql, std::string* err) {
  PGconn* c = Admin(err);
  if (c == nullptr) return false;
  PGresult* r = PQexec(c, sql.c_str());
  ExecStatusType st = PQresultStatus(r);
  bool ok = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK;
  if (!ok) *err = sql + ": " + PQerrorMessage(c);
  PQclear(r);
  return ok;
}

long PgCluster::ClientBackends(std::string* err) {
  PGconn* c = Admin(err);
  if (c == nullptr) return -1;
  PGresult* r = PQexec(c,
                       "SELECT count(*) FROM pg_stat_activity "
                       "WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()");
  long n = -1;
  if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1)
    n = atol(PQgetvalue(r, 0, 0));
  else
    *err = std::string("pg_stat_activity: ") + PQerrorMessage(c);
  PQclear(r);
  return n;
}

std::string PgCluster::LogTail(size_t bytes) const {
  if (dir_.empty()) return "";
  return "--- server.log (tail) ---\n" + ReadTail(dir_ + "/server.log", bytes) +
         "--- cmd.log (tail) ---\n" + ReadTail(dir_ + "/cmd.log", bytes / 2);
}

}  // namespace connpool_it
