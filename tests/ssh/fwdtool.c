/* fwdtool.c: a command-line driver of core/ssh_forward.h for tests/integration/ssh_forward.sh
 * and tests/bench/forward.py.
 *
 *   fwdtool [OPTIONS] --remote-port P
 *
 * OPTIONS: --host H --port P --user U --key K --known-hosts F --accept-new
 *   --connect-timeout MS --io-timeout MS --keepalive S
 *   --remote-host H (as seen from the server; default 127.0.0.1) --remote-port P
 *   --local-port P (default 0: any free port) --bind ADDR (default 127.0.0.1)
 *   --jump-host H --jump-port P --jump-user U --jump-key K --jump-known-hosts F
 *
 * Runs one forward until stdin closes, SIGTERM or SIGINT, or the forward dies. Prints one
 * line per event on stdout:
 *   listening ADDR:PORT          the listener is bound
 *   up                           the session is connected
 *   failed N SSH_ERR_...: MSG    a connection's channel could not be opened (N = count)
 *   SSH_ERR_...: MSG             the forward died (connection lost, auth, ...)
 *   stats connections=N active=N failed=N bytes_up=N bytes_down=N   on exit
 * A start failure (port in use, ...) prints "SSH_ERR_...: MSG" on stderr.
 *
 * Exit status: 0 after a stop, 1 when the forward could not start, 3 when it died, 2 for
 * usage errors. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/ssh.h"
#include "core/ssh_forward.h"

static const char *const err_names[] = {
    "SSH_OK",
    "SSH_ERR_RESOLVE",
    "SSH_ERR_CONNECT",
    "SSH_ERR_TIMEOUT",
    "SSH_ERR_HANDSHAKE",
    "SSH_ERR_HOSTKEY_UNKNOWN",
    "SSH_ERR_HOSTKEY_CHANGED",
    "SSH_ERR_AUTH",
    "SSH_ERR_CHANNEL",
    "SSH_ERR_CLOSED",
    "SSH_ERR_LOCAL",
};

static volatile sig_atomic_t stop_signal;

static void on_signal(int sig)
{
	stop_signal = sig;
}

static int usage(void)
{
	fprintf(stderr, "usage: fwdtool --host H [--port P] [--user U] [--key K] "
	                "[--known-hosts F] --remote-port P [--remote-host H] [--local-port P] "
	                "[--bind ADDR]\n");
	return 2;
}

static const char *err_name(enum ssh_err code)
{
	if ((unsigned)code < sizeof err_names / sizeof err_names[0])
		return err_names[code];
	return "SSH_ERR_?";
}

static void print_stats(const struct ssh_forward_info *in)
{
	printf("stats connections=%llu active=%d failed=%d bytes_up=%llu bytes_down=%llu\n",
	       (unsigned long long)in->connections, in->active, in->failed,
	       (unsigned long long)in->bytes_up, (unsigned long long)in->bytes_down);
}

int main(int argc, char **argv)
{
	struct ssh_target t = {0}, j = {0};
	struct ssh_forward_opts o = {.target = &t};
	struct ssh_forward *f;
	struct ssh_forward_info in;
	struct ssh_error err;
	struct sigaction sa;
	struct pollfd p[2];
	int i, nfd = -1, use_jump = 0, was_up = 0, seen_failed = 0, rc = 0;
	char buf[256];

	for (i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (strcmp(a, "--accept-new") == 0) {
			t.accept_new = 1;
			continue;
		}
		if (v == NULL)
			return usage();
		i++;
		if (strcmp(a, "--host") == 0)
			t.host = v;
		else if (strcmp(a, "--port") == 0)
			t.port = atoi(v);
		else if (strcmp(a, "--user") == 0)
			t.user = v;
		else if (strcmp(a, "--key") == 0)
			t.key_file = v;
		else if (strcmp(a, "--known-hosts") == 0)
			t.known_hosts = v;
		else if (strcmp(a, "--connect-timeout") == 0)
			t.connect_timeout_ms = j.connect_timeout_ms = atoi(v);
		else if (strcmp(a, "--io-timeout") == 0)
			t.io_timeout_ms = j.io_timeout_ms = atoi(v);
		else if (strcmp(a, "--keepalive") == 0)
			t.keepalive_s = atoi(v);
		else if (strcmp(a, "--remote-host") == 0)
			o.remote_host = v;
		else if (strcmp(a, "--remote-port") == 0)
			o.remote_port = atoi(v);
		else if (strcmp(a, "--local-port") == 0)
			o.local_port = atoi(v);
		else if (strcmp(a, "--bind") == 0)
			o.bind_addr = v;
		else if (strcmp(a, "--jump-host") == 0)
			j.host = v, use_jump = 1;
		else if (strcmp(a, "--jump-port") == 0)
			j.port = atoi(v);
		else if (strcmp(a, "--jump-user") == 0)
			j.user = v;
		else if (strcmp(a, "--jump-key") == 0)
			j.key_file = v;
		else if (strcmp(a, "--jump-known-hosts") == 0)
			j.known_hosts = v;
		else
			return usage();
	}
	if (t.host == NULL || o.remote_port == 0)
		return usage();
	if (use_jump)
		t.jump = &j;
	setvbuf(stdout, NULL, _IOLBF, 0);
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal; /* no SA_RESTART: poll returns EINTR */
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (ssh_global_init() < 0) {
		fprintf(stderr, "SSH_ERR_LOCAL: libssh2_init failed\n");
		return 1;
	}
	if (ssh_forward_start(&o, &f, &nfd, &err) < 0) {
		fprintf(stderr, "%s: %s\n", err_name(err.code), err.msg);
		return 1;
	}
	ssh_forward_info(f, &in);
	printf("listening %s:%d\n", o.bind_addr != NULL ? o.bind_addr : "127.0.0.1", in.local_port);
	p[0] = (struct pollfd){.fd = 0, .events = POLLIN};
	p[1] = (struct pollfd){.fd = nfd, .events = POLLIN};
	while (!stop_signal) {
		int n = poll(p, 2, 100);

		if (n < 0 && errno != EINTR)
			break;
		if (n > 0 && (p[1].revents & POLLIN))
			while (read(nfd, buf, sizeof buf) > 0)
				;
		ssh_forward_info(f, &in);
		if (in.up && !was_up) {
			printf("up\n");
			was_up = 1;
		}
		if (in.failed > seen_failed) {
			printf("failed %d %s: %s\n", in.failed, err_name(in.err.code), in.err.msg);
			seen_failed = in.failed;
		}
		if (in.dead) {
			printf("%s: %s\n", err_name(in.err.code), in.err.msg);
			rc = 3;
			break;
		}
		if (n > 0 && (p[0].revents & (POLLIN | POLLHUP))) {
			ssize_t r = read(0, buf, sizeof buf);

			if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR))
				break; /* stdin closed */
		}
	}
	ssh_forward_info(f, &in); /* the figures as the forward ends (f is freed by stop) */
	ssh_forward_stop(f);
	print_stats(&in);
	return rc;
}
