/*
 * A minimal iproto echo server for benchmarks.
 *
 * Every frame is a 12-byte header pack('L3', msg, len, sync) followed by len bytes of body; the
 * reply to a frame is the same frame, byte for byte (same msg, same sync, same body), which is
 * what MR::IProto::Server answers for an echo handler. The point is to keep the server out of the
 * way when the client is measured: one epoll loop, non-blocking sockets, no per-frame allocation,
 * replies to a whole batch of pipelined frames written back with one write().
 *
 * Usage: echo-server [port] [host]       (defaults: 0 = any free port, 127.0.0.1)
 * Prints "listening HOST:PORT\n" on stdout once it accepts connections; exits on SIGTERM/SIGINT
 * and when the process that started it dies.
 *
 * Build: cc -O2 -o echo-server echo.c
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

#define HEADER_SIZE 12
#define READ_CHUNK (256 * 1024)
/* A frame larger than this closes the connection (the library's default maximum is 16 MiB). */
#define MAX_FRAME (16u * 1024u * 1024u + HEADER_SIZE)

struct conn {
  int fd;
  /* Bytes read but not yet echoed: [in_off, in_len) of in. */
  char *in;
  size_t in_off, in_len, in_cap;
  /* Bytes to echo but not yet written: [out_off, out_len) of out. */
  char *out;
  size_t out_off, out_len, out_cap;
  int want_write; /* EPOLLOUT registered */
};

static volatile sig_atomic_t stop = 0;

static void on_signal(int sig) {
  (void)sig;
  stop = 1;
}

static int set_nonblock(int fd) {
  int flags = fcntl(fd, F_GETFL, 0);
  return flags < 0 ? -1 : fcntl(fd, F_SETFL, flags | O_NONBLOCK);
}

static uint32_t read_le32(const unsigned char *p) {
  return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

static int reserve(char **buf, size_t *cap, size_t need) {
  if (need <= *cap) return 0;
  size_t next = *cap ? *cap : 64 * 1024;
  while (next < need) next *= 2;
  char *grown = realloc(*buf, next);
  if (!grown) return -1;
  *buf = grown;
  *cap = next;
  return 0;
}

static void conn_free(int epfd, struct conn *c) {
  epoll_ctl(epfd, EPOLL_CTL_DEL, c->fd, NULL);
  close(c->fd);
  free(c->in);
  free(c->out);
  free(c);
}

/* Move every complete frame from the input buffer to the output buffer. A partial frame stays. */
static int take_frames(struct conn *c) {
  size_t start = c->in_off, pos = start;
  while (c->in_len - pos >= HEADER_SIZE) {
    uint32_t len = read_le32((const unsigned char *)c->in + pos + 4);
    if ((uint64_t)len + HEADER_SIZE > MAX_FRAME) return -1;
    if (c->in_len - pos < HEADER_SIZE + (size_t)len) break;
    pos += HEADER_SIZE + len;
  }
  if (pos == start) return 0;
  size_t n = pos - start;
  if (c->out_off == c->out_len) c->out_off = c->out_len = 0;
  if (reserve(&c->out, &c->out_cap, c->out_len + n) < 0) return -1;
  memcpy(c->out + c->out_len, c->in + start, n);
  c->out_len += n;
  c->in_off = pos;
  if (c->in_off == c->in_len) c->in_off = c->in_len = 0;
  return 0;
}

/* Write what is pending; returns -1 on a fatal error, 0 otherwise (EAGAIN leaves the rest). */
static int flush_out(int epfd, struct conn *c) {
  while (c->out_off < c->out_len) {
    ssize_t w = write(c->fd, c->out + c->out_off, c->out_len - c->out_off);
    if (w > 0) {
      c->out_off += (size_t)w;
      continue;
    }
    if (w < 0 && errno == EINTR) continue;
    if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      if (!c->want_write) {
        /* Stop reading while the peer is not reading: the echo buffer must not grow unbounded. */
        struct epoll_event ev = {.events = EPOLLOUT, .data.ptr = c};
        if (epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &ev) < 0) return -1;
        c->want_write = 1;
      }
      return 0;
    }
    return -1;
  }
  c->out_off = c->out_len = 0;
  if (c->want_write) {
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
    if (epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &ev) < 0) return -1;
    c->want_write = 0;
  }
  return 0;
}

/* Read until EAGAIN, echoing complete frames as they arrive. Returns -1 when the peer is gone. */
static int on_readable(int epfd, struct conn *c) {
  for (;;) {
    /* Keep the unfinished frame at the front so the buffer does not creep forward. */
    if (c->in_off > 0 && c->in_off == c->in_len) c->in_off = c->in_len = 0;
    if (c->in_off > 0 && c->in_cap - c->in_len < READ_CHUNK / 4) {
      memmove(c->in, c->in + c->in_off, c->in_len - c->in_off);
      c->in_len -= c->in_off;
      c->in_off = 0;
    }
    if (reserve(&c->in, &c->in_cap, c->in_len + READ_CHUNK) < 0) return -1;
    ssize_t r = read(c->fd, c->in + c->in_len, c->in_cap - c->in_len);
    if (r > 0) {
      c->in_len += (size_t)r;
      if (take_frames(c) < 0) return -1;
      if (flush_out(epfd, c) < 0) return -1;
      if (c->want_write) return 0;
      continue;
    }
    if (r == 0) return -1;
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) return 0;
    return -1;
  }
}

int main(int argc, char **argv) {
  int port = argc > 1 ? atoi(argv[1]) : 0;
  const char *host = argc > 2 ? argv[2] : "127.0.0.1";

  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGINT, &sa, NULL);
  signal(SIGPIPE, SIG_IGN);
  /* A benchmark killed on timeout must not leave its server behind. */
  prctl(PR_SET_PDEATHSIG, SIGTERM);
  if (getppid() == 1) return 0;

  int lfd = socket(AF_INET, SOCK_STREAM, 0);
  if (lfd < 0) {
    perror("socket");
    return 1;
  }
  int one = 1;
  setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  struct sockaddr_in addr;
  memset(&addr, 0, sizeof addr);
  addr.sin_family = AF_INET;
  addr.sin_port = htons((uint16_t)port);
  if (inet_pton(AF_INET, host, &addr.sin_addr) != 1) {
    fprintf(stderr, "echo-server: bad IPv4 address %s\n", host);
    return 1;
  }
  if (bind(lfd, (struct sockaddr *)&addr, sizeof addr) < 0 || listen(lfd, 128) < 0) {
    perror("echo-server: bind/listen");
    return 1;
  }
  socklen_t alen = sizeof addr;
  getsockname(lfd, (struct sockaddr *)&addr, &alen);
  set_nonblock(lfd);

  int epfd = epoll_create1(0);
  struct epoll_event lev = {.events = EPOLLIN, .data.ptr = NULL};
  epoll_ctl(epfd, EPOLL_CTL_ADD, lfd, &lev);

  printf("listening %s:%d\n", host, ntohs(addr.sin_port));
  fflush(stdout);

  struct epoll_event events[64];
  while (!stop) {
    int n = epoll_wait(epfd, events, 64, 500);
    if (n < 0) {
      if (errno == EINTR) continue;
      perror("epoll_wait");
      break;
    }
    for (int i = 0; i < n; i++) {
      struct conn *c = events[i].data.ptr;
      if (c == NULL) {
        for (;;) {
          int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK);
          if (fd < 0) break;
          setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
          struct conn *nc = calloc(1, sizeof *nc);
          if (!nc) {
            close(fd);
            continue;
          }
          nc->fd = fd;
          struct epoll_event ev = {.events = EPOLLIN, .data.ptr = nc};
          if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
            close(fd);
            free(nc);
          }
        }
        continue;
      }
      uint32_t got = events[i].events;
      int dead = (got & EPOLLERR) || ((got & EPOLLHUP) && !(got & EPOLLIN));
      if (!dead && (got & EPOLLOUT)) {
        if (flush_out(epfd, c) < 0) dead = 1;
        /* Frames read before the output backed up can go now. */
        else if (!c->want_write && (take_frames(c) < 0 || flush_out(epfd, c) < 0)) dead = 1;
      }
      if (!dead && (got & EPOLLIN)) {
        if (on_readable(epfd, c) < 0) dead = 1;
      }
      if (dead) conn_free(epfd, c);
    }
  }
  close(epfd);
  close(lfd);
  return 0;
}
