// cgi-spawner: starts php-cgi for PHP_CGI_MODE=cgi, one request at a time, for the Node bootstrap.
//
// Why a process of its own: Node starts a child with fork() and exec(), and fork() copies the page
// tables of the whole bootstrap (tens of MB of malloc'd memory): about a millisecond on every
// invocation. vfork() from this process of a few hundred KB copies nothing. Built with the layer
// (scripts/layer/build-layer.sh) and by scripts/build.mjs; without it the executor spawns php-cgi from Node.
//
// Nothing it starts outlives the bootstrap, even one killed with SIGKILL (which runs no cleanup):
// it asks the kernel for SIGKILL when its parent dies (PR_SET_PDEATHSIG), and so does each php-cgi
// it starts, between vfork() and execve(), which posix_spawn() has no way to do. Node cannot either,
// so the bootstrap also starts its FastCGI php-cgi through this binary's second mode:
//
//   cgi-spawner --tied-exec <parent pid> <program> [args...]
//       Sets PR_SET_PDEATHSIG, checks that its parent is still <parent pid> (it may have died
//       before), then execs <program> (searched on PATH): the program keeps this process's pid and
//       dies with the parent. One extra exec of this small binary, well under a millisecond.
//
// Usage: cgi-spawner <php-cgi>. It exits when its stdin closes. Numbers are in the machine's byte
// order, little-endian on both Lambda architectures (the TypeScript side writes little-endian).
//   request (stdin):  u32 env_bytes, env_bytes of "NAME=value\0" strings, u32 body_bytes, body
//   answer (stdout):  frames of one type byte, a u32 length and the payload:
//     'P'  u32 pid of php-cgi, which leads a session of its own: kill(-pid) stops all it started
//     'O'  bytes php-cgi wrote to stdout       'E'  bytes it wrote to stderr
//     'X'  i32 wait status, last: php-cgi has exited and its pipes are closed (or, when something
//          it started still holds them, EXIT_GRACE_MS after its exit, its whole group killed)
//     'F'  why php-cgi could not be started: the only frame of that request
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

enum { EXIT_GRACE_MS = 100, WAIT_POLL_MS = 5, CHUNK_BYTES = 256 * 1024 };
// Far above Lambda's 6 MB payloads: only a corrupt stream gets near it.
static const uint32_t MAX_PART_BYTES = 1u << 30;

static char chunk[CHUNK_BYTES];

static int read_exactly(int fd, void *into, size_t length) {
  char *at = into;
  while (length > 0) {
    ssize_t n = read(fd, at, length);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return -1;
    at += n;
    length -= (size_t)n;
  }
  return 0;
}

// Node reads these frames; if it is gone there is nobody left to serve.
static void write_frame(char type, const void *payload, uint32_t length) {
  char head[5];
  head[0] = type;
  memcpy(head + 1, &length, 4);
  struct iovec parts[2] = {{head, sizeof head}, {(void *)payload, length}};
  struct iovec *next = parts;
  int count = length > 0 ? 2 : 1;
  while (count > 0) {
    ssize_t n = writev(STDOUT_FILENO, next, count);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) _exit(1);
    while (count > 0 && (size_t)n >= next->iov_len) {
      n -= (ssize_t)next->iov_len;
      next++;
      count--;
    }
    if (count > 0) {
      next->iov_base = (char *)next->iov_base + n;
      next->iov_len -= (size_t)n;
    }
  }
}

static long now_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1000L + t.tv_nsec / 1000000L;
}

static void close_fd(int *fd) {
  if (*fd >= 0) close(*fd);
  *fd = -1;
}

// Reads what is there and forwards it; closes the pipe at its end.
static void forward(int *fd, char type) {
  ssize_t n = read(*fd, chunk, sizeof chunk);
  if (n > 0) write_frame(type, chunk, (uint32_t)n);
  else if (n == 0 || (errno != EAGAIN && errno != EINTR)) close_fd(fd);
}

// Written by the child of vfork(), which shares this memory, when it cannot exec php-cgi.
static volatile int spawn_errno;

// Starts php-cgi with the three pipe ends as its stdio, in a session of its own (a deadline kills
// its whole group), tied to this process's life. Returns its pid, or 0 with the errno of the
// failure (vfork, or anything up to and including execve).
static pid_t spawn_php(const char *php_cgi, char **env, int in, int out, int err, int *failure) {
  char *argv[] = {(char *)php_cgi, NULL};
  pid_t spawner = getpid();
  spawn_errno = 0;
  pid_t pid = vfork();
  if (pid < 0) {
    *failure = errno;
    return 0;
  }
  if (pid > 0) {
    // The child has exec'd or exited by now: vfork() suspends this process until then.
    if (spawn_errno == 0) return pid;
    *failure = spawn_errno;
    waitpid(pid, NULL, 0);
    return 0;
  }
  // The child, up to execve(): it runs on this process's memory, so it only makes system calls.
  if (setsid() < 0 || dup2(in, STDIN_FILENO) < 0 || dup2(out, STDOUT_FILENO) < 0 || dup2(err, STDERR_FILENO) < 0) {
    spawn_errno = errno;
    _exit(127);
  }
  signal(SIGPIPE, SIG_DFL);  // Ignored here, not in PHP.
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, NULL);
  // Without it (a kernel that refuses) php-cgi still runs; only a SIGKILLed bootstrap leaves it behind.
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (getppid() != spawner) _exit(127);  // The spawner died before the tie: nobody waits for this answer.
  execve(php_cgi, argv, env);
  spawn_errno = errno;
  _exit(127);
}

// Runs one request to its end and answers it. `env` is NULL-terminated.
static void serve(const char *php_cgi, char **env, const char *body, uint32_t body_length) {
  int in[2], out[2], err[2];
  if (pipe2(in, O_CLOEXEC) || pipe2(out, O_CLOEXEC) || pipe2(err, O_CLOEXEC)) {
    const char *why = strerror(errno);
    write_frame('F', why, (uint32_t)strlen(why));
    _exit(1);  // Out of descriptors: a fresh spawner is the way out.
  }
  int failed = 0;
  pid_t pid = spawn_php(php_cgi, env, in[0], out[1], err[1], &failed);
  close(in[0]);
  close(out[1]);
  close(err[1]);
  if (failed) {
    // "ENOENT: No such file or directory", as Node words a failed spawn.
    char why[256];
    const char *name = strerrorname_np(failed);
    int length = snprintf(why, sizeof why, "%s: %s", name ? name : "spawn failed", strerror(failed));
    write_frame('F', why, (uint32_t)(length < 0 ? 0 : length < (int)sizeof why ? length : (int)sizeof why - 1));
    close(in[1]);
    close(out[0]);
    close(err[0]);
    return;
  }
  uint32_t pid_u32 = (uint32_t)pid;
  write_frame('P', &pid_u32, sizeof pid_u32);

  // Readable when php-cgi exits (Linux 5.3+); elsewhere waitpid() is polled.
  int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
  int to_php = in[1], from_stdout = out[0], from_stderr = err[0];
  fcntl(to_php, F_SETFL, O_NONBLOCK);
  uint32_t sent = 0;
  if (body_length == 0) close_fd(&to_php);
  int status = 0, exited = 0;
  long exited_at = 0;
  while (from_stdout >= 0 || from_stderr >= 0 || !exited) {
    struct pollfd fds[4];
    int n = 0, at_stdin = -1, at_stdout = -1, at_stderr = -1, at_pid = -1;
    if (to_php >= 0) fds[at_stdin = n++] = (struct pollfd){to_php, POLLOUT, 0};
    if (from_stdout >= 0) fds[at_stdout = n++] = (struct pollfd){from_stdout, POLLIN, 0};
    if (from_stderr >= 0) fds[at_stderr = n++] = (struct pollfd){from_stderr, POLLIN, 0};
    if (!exited && pidfd >= 0) fds[at_pid = n++] = (struct pollfd){pidfd, POLLIN, 0};
    int timeout = -1;
    if (exited) {
      long left = exited_at + EXIT_GRACE_MS - now_ms();
      timeout = left > 0 ? (int)left : 0;
    } else if (pidfd < 0) {
      timeout = WAIT_POLL_MS;
    }
    int ready = poll(fds, (nfds_t)n, timeout);
    if (ready < 0 && errno == EINTR) continue;
    if (ready == 0 && exited) {
      // php-cgi is gone but something it started still holds its pipes: the answer is complete.
      kill(-pid, SIGKILL);
      break;
    }
    if (at_stdin >= 0 && fds[at_stdin].revents) {
      // A script may exit without reading its body (EPIPE): not an error.
      ssize_t written = write(to_php, body + sent, body_length - sent);
      if (written > 0) sent += (uint32_t)written;
      if ((written < 0 && errno != EAGAIN && errno != EINTR) || sent == body_length) close_fd(&to_php);
    }
    if (at_stdout >= 0 && fds[at_stdout].revents) forward(&from_stdout, 'O');
    if (at_stderr >= 0 && fds[at_stderr].revents) forward(&from_stderr, 'E');
    if (!exited && (at_pid < 0 || fds[at_pid].revents) && waitpid(pid, &status, WNOHANG) == pid) {
      exited = 1;
      exited_at = now_ms();
    }
  }
  close_fd(&to_php);
  close_fd(&from_stdout);
  close_fd(&from_stderr);
  if (!exited) waitpid(pid, &status, 0);
  if (pidfd >= 0) close(pidfd);
  int32_t status_i32 = status;
  write_frame('X', &status_i32, sizeof status_i32);
}

// --tied-exec <parent pid> <program> [args...]: see the top of this file.
static int tied_exec(int argc, char **argv) {
  if (argc < 4) return 2;
  char *end;
  long parent = strtol(argv[2], &end, 10);
  if (*end != '\0' || parent <= 0) return 2;
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (getppid() != (pid_t)parent) return 127;  // The parent is already gone: run nothing.
  execvp(argv[3], argv + 3);
  fprintf(stderr, "cgi-spawner: cannot run %s: %s\n", argv[3], strerror(errno));
  return 127;
}

int main(int argc, char **argv) {
  if (argc >= 2 && strcmp(argv[1], "--tied-exec") == 0) return tied_exec(argc, argv);
  if (argc != 2) return 2;
  // This process goes when the bootstrap goes, even mid-request. Had the bootstrap died before this
  // line, its end of our stdin is closed: the first read below ends this process.
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  signal(SIGPIPE, SIG_IGN);
  for (;;) {
    uint32_t env_length, body_length;
    if (read_exactly(STDIN_FILENO, &env_length, 4)) return 0;
    if (env_length > MAX_PART_BYTES) return 3;
    char *env_block = malloc((size_t)env_length + 1);
    if (!env_block || read_exactly(STDIN_FILENO, env_block, env_length)) return 3;
    env_block[env_length] = '\0';
    if (read_exactly(STDIN_FILENO, &body_length, 4) || body_length > MAX_PART_BYTES) return 3;
    char *body = malloc((size_t)body_length + 1);
    if (!body || (body_length > 0 && read_exactly(STDIN_FILENO, body, body_length))) return 3;

    size_t count = 0;
    for (uint32_t i = 0; i < env_length; i++) count += env_block[i] == '\0';
    char **env = malloc((count + 1) * sizeof *env);
    if (!env) return 3;
    size_t k = 0;
    for (uint32_t i = 0, start = 0; i < env_length; i++) {
      if (env_block[i] != '\0') continue;
      env[k++] = env_block + start;
      start = i + 1;
    }
    env[k] = NULL;

    serve(argv[1], env, body, body_length);
    free(env);
    free(body);
    free(env_block);
  }
}
