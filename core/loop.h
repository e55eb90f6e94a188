/* loop.h: the one event loop. poll(2) over fd watchers, monotonic timers, signals turned into
 * callbacks through a self-pipe (handlers only set flags), and curl-multi glue (core/http.h).
 * Nothing here blocks except loop_run_once's poll. */
#ifndef GANTRY_LOOP_H
#define GANTRY_LOOP_H

#include <stdint.h>

struct loop;
struct loop_fd;
struct loop_timer;

typedef void (*loop_fd_cb)(int fd, short revents, void *arg);
typedef void (*loop_timer_cb)(void *arg);
typedef void (*loop_signal_cb)(int signo, void *arg);

struct loop *loop_new(void);
void loop_free(struct loop *l);

/* Milliseconds on the monotonic clock. */
uint64_t loop_now_ms(void);
/* Milliseconds since the Unix epoch (wall clock, UTC). */
int64_t loop_wall_ms(void);

/* Watches fd for events (POLLIN/POLLOUT). The returned handle stays valid until removed. */
struct loop_fd *loop_fd_add(struct loop *l, int fd, short events, loop_fd_cb cb, void *arg);
void loop_fd_set_events(struct loop_fd *w, short events);
void loop_fd_remove(struct loop *l, struct loop_fd *w);

/* Fires after delay_ms, then every interval_ms (0 = once; a one-shot timer frees itself
 * after firing and must not be cancelled afterwards). */
struct loop_timer *loop_timer_add(struct loop *l, uint64_t delay_ms, uint64_t interval_ms,
                                  loop_timer_cb cb, void *arg);
void loop_timer_cancel(struct loop *l, struct loop_timer *t);

/* Delivers signo through the loop (SIGWINCH, SIGCHLD, SIGTERM, SIGINT, ...). */
int loop_signal_watch(struct loop *l, int signo, loop_signal_cb cb, void *arg);

/* One iteration: waits at most max_wait_ms (-1 = until the next timer or event) and runs
 * what is due. Returns 0, or -1 if poll failed for a reason other than EINTR. */
int loop_run_once(struct loop *l, int max_wait_ms);
/* Runs until loop_stop. */
void loop_run(struct loop *l);
void loop_stop(struct loop *l);
int loop_stopped(const struct loop *l);

#endif
