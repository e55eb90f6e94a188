/* sshtool.c: a command-line driver of core/ssh.h and core/ssh_shell.h for the integration
 * tests (tests/integration/ssh_*.sh).
 *
 *   sshtool exec [OPTIONS] CMD          run CMD: its stdout and stderr, exit = its status
 *   sshtool shell [OPTIONS] [CMD]       interactive shell (or CMD) with a PTY
 *   sshtool print-command [OPTIONS] [--tty] [CMD]
 *   sshtool label [OPTIONS]
 *   sshtool loop N [OPTIONS] CMD        N connect/exec/close rounds; fails if fds leak
 *   sshtool threads N [OPTIONS] CMD     N sessions on N threads at once
 *   sshtool keepalive [OPTIONS]         connect, wait for --wait-file, then keepalive
 *
 * OPTIONS: --host H --port P --user U --key K --known-hosts F --accept-new
 *   --connect-timeout MS --io-timeout MS --timeout MS (the command's) --stdin FILE
 *   --wait-file F (wait until F exists before running the command)
 *   --stop-after N (exec: stop reading after N bytes of output)
 *   --jump-host H --jump-port P --jump-user U --jump-key K --jump-known-hosts F
 *   --jump-accept-new
 *
 * Exit status: the remote status (0-255), 99 when the server sent none, 100 + enum ssh_err
 * on an SSH error (with "sshtool: ERROR NAME: message" and the fingerprint on stderr),
 * 2 for usage errors. */
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/ssh.h"
#include "core/ssh_shell.h"
#include "core/xmalloc.h"

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

struct opts {
	struct ssh_target t, j;
	int use_jump, timeout_ms, tty;
	const char *stdin_file, *wait_file;
	long stop_after;
	char *in;
	size_t inlen;
};

static int usage(void)
{
	fprintf(stderr, "usage: sshtool exec|shell|print-command|label|loop N|threads N|keepalive "
	                "[options] [CMD]\n"
	                "       sshtool http [options] PORT:/PATH...\n");
	return 2;
}

static int report(const struct ssh_error *err)
{
	fprintf(stderr, "sshtool: ERROR %s: %s\n", err_names[err->code], err->msg);
	if (err->fingerprint[0] != '\0')
		fprintf(stderr, "sshtool: FINGERPRINT %s %s\n", err->keytype, err->fingerprint);
	return 100 + (int)err->code;
}

/* Parses options from argv[i..]; returns the index of the first non-option or -1. */
static int parse(int argc, char **argv, int i, struct opts *o)
{
	for (; i < argc && strncmp(argv[i], "--", 2) == 0; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (strcmp(a, "--accept-new") == 0) {
			o->t.accept_new = 1;
			continue;
		}
		if (strcmp(a, "--jump-accept-new") == 0) {
			o->j.accept_new = 1;
			o->use_jump = 1;
			continue;
		}
		if (strcmp(a, "--tty") == 0) {
			o->tty = 1;
			continue;
		}
		if (v == NULL)
			return -1;
		i++;
		if (strcmp(a, "--host") == 0)
			o->t.host = v;
		else if (strcmp(a, "--port") == 0)
			o->t.port = atoi(v);
		else if (strcmp(a, "--user") == 0)
			o->t.user = v;
		else if (strcmp(a, "--key") == 0)
			o->t.key_file = v;
		else if (strcmp(a, "--known-hosts") == 0)
			o->t.known_hosts = v;
		else if (strcmp(a, "--connect-timeout") == 0)
			o->t.connect_timeout_ms = o->j.connect_timeout_ms = atoi(v);
		else if (strcmp(a, "--io-timeout") == 0)
			o->t.io_timeout_ms = o->j.io_timeout_ms = atoi(v);
		else if (strcmp(a, "--timeout") == 0)
			o->timeout_ms = atoi(v);
		else if (strcmp(a, "--stdin") == 0)
			o->stdin_file = v;
		else if (strcmp(a, "--wait-file") == 0)
			o->wait_file = v;
		else if (strcmp(a, "--stop-after") == 0)
			o->stop_after = atol(v);
		else if (strcmp(a, "--jump-host") == 0)
			o->j.host = v, o->use_jump = 1;
		else if (strcmp(a, "--jump-port") == 0)
			o->j.port = atoi(v);
		else if (strcmp(a, "--jump-user") == 0)
			o->j.user = v;
		else if (strcmp(a, "--jump-key") == 0)
			o->j.key_file = v;
		else if (strcmp(a, "--jump-known-hosts") == 0)
			o->j.known_hosts = v;
		else
			return -1;
	}
	if (o->use_jump)
		o->t.jump = &o->j;
	return i;
}

static int read_file(const char *path, char **data, size_t *len)
{
	FILE *f = fopen(path, "rb");
	size_t cap = 65536, n;

	if (f == NULL)
		return -1;
	*data = xmalloc(cap);
	*len = 0;
	while ((n = fread(*data + *len, 1, cap - *len, f)) > 0) {
		*len += n;
		if (*len == cap)
			*data = xrealloc(*data, cap *= 2);
	}
	fclose(f);
	return 0;
}

static void wait_for_file(const char *path)
{
	struct timespec ts = {0, 20 * 1000 * 1000};
	int i;

	for (i = 0; i < 3000 && access(path, F_OK) < 0; i++)
		nanosleep(&ts, NULL);
}

static int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	if (d == NULL)
		return -1;
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

struct stream_state {
	long seen, stop_after;
};

static int to_stdio(void *arg, int stream, const char *data, size_t len)
{
	struct stream_state *st = arg;

	fwrite(data, 1, len, stream == 1 ? stdout : stderr);
	fflush(stream == 1 ? stdout : stderr);
	st->seen += (long)len;
	return st->stop_after > 0 && st->seen >= st->stop_after;
}

static int status_exit(int status)
{
	fflush(stdout);
	fprintf(stderr, "sshtool: exit status %d\n", status);
	return status < 0 ? 99 : status & 255;
}

static int cmd_exec(struct opts *o, const char *cmd)
{
	struct ssh_session *s;
	struct ssh_error err;
	struct stream_state st = {0, o->stop_after};
	int status = -1;

	if (ssh_connect(&o->t, &s, &err) < 0)
		return report(&err);
	fprintf(stderr, "sshtool: connected, host key %s\n", ssh_session_fingerprint(s));
	if (o->wait_file != NULL)
		wait_for_file(o->wait_file);
	if (ssh_exec_stream(s, cmd, o->in, o->inlen, to_stdio, &st, &status, o->timeout_ms, &err) <
	    0) {
		ssh_close(s);
		return report(&err);
	}
	ssh_close(s);
	return status_exit(status);
}

/* http PORT:/PATH...: GETs each path from 127.0.0.1:PORT on the server over one session;
 * prints "HTTP STATUS LEN" and the body for each, or the error, and goes on with the next
 * (the session must survive a refused port). Exit: the last error's code, else 0. */
static int cmd_http(struct opts *o, char **paths, int n)
{
	struct ssh_session *s;
	struct ssh_error err;
	int i, rc = 0;

	if (ssh_connect(&o->t, &s, &err) < 0)
		return report(&err);
	for (i = 0; i < n; i++) {
		struct ssh_http_result r;
		const char *path = strchr(paths[i], ':');

		if (path == NULL) {
			fprintf(stderr, "sshtool: expected PORT:/PATH, got %s\n", paths[i]);
			rc = 2;
			continue;
		}
		if (ssh_http_get(s, "127.0.0.1", atoi(paths[i]), path + 1, &r, o->timeout_ms,
		                 &err) < 0) {
			rc = report(&err);
			continue;
		}
		printf("HTTP %d %zu\n%s\n", r.status, r.len, r.body);
		ssh_http_result_clear(&r);
	}
	fflush(stdout);
	ssh_close(s);
	return rc;
}

static int cmd_shell(struct opts *o, const char *cmd)
{
	struct ssh_session *s;
	struct ssh_error err;
	int status = -1;

	if (ssh_connect(&o->t, &s, &err) < 0)
		return report(&err);
	if (ssh_shell_run(s, cmd, 0, 1, &status, &err) < 0) {
		ssh_close(s);
		return report(&err);
	}
	ssh_close(s);
	return status_exit(status);
}

static int cmd_loop(struct opts *o, int n, const char *cmd)
{
	struct ssh_session *s;
	struct ssh_error err;
	struct ssh_exec_result r;
	int i, before = -1, after, rc = 0;

	/* a first round so that one-time allocations (libssh2_init, resolver) are done */
	for (i = 0; i <= n; i++) {
		if (i == 1)
			before = count_fds();
		if (ssh_connect(&o->t, &s, &err) < 0)
			return report(&err);
		if (ssh_exec(s, cmd, NULL, 0, &r, o->timeout_ms, &err) < 0) {
			ssh_close(s);
			return report(&err);
		}
		if (i == 0)
			fputs(r.out, stdout);
		ssh_exec_result_clear(&r);
		ssh_close(s);
	}
	after = count_fds();
	printf("fds before %d after %d\n", n > 0 ? before : after, after);
	if (n > 0 && before != after)
		rc = 1;
	return rc;
}

struct thread_arg {
	struct opts *o;
	const char *cmd;
	int index, ok;
	char out[600];
};

static void *thread_main(void *p)
{
	struct thread_arg *a = p;
	struct ssh_session *s;
	struct ssh_error err;
	struct ssh_exec_result r;
	char *cmd = xprintf("%s %d", a->cmd, a->index);

	if (ssh_connect(&a->o->t, &s, &err) < 0) {
		snprintf(a->out, sizeof a->out, "connect: %s", err.msg);
	} else {
		if (ssh_exec(s, cmd, NULL, 0, &r, a->o->timeout_ms, &err) < 0) {
			snprintf(a->out, sizeof a->out, "exec: %s", err.msg);
		} else {
			snprintf(a->out, sizeof a->out, "%s", r.out);
			a->ok = r.exit_status == 0;
			ssh_exec_result_clear(&r);
		}
		ssh_close(s);
	}
	free(cmd);
	return NULL;
}

static int cmd_threads(struct opts *o, int n, const char *cmd)
{
	pthread_t *tids = xcalloc((size_t)n, sizeof *tids);
	struct thread_arg *args = xcalloc((size_t)n, sizeof *args);
	int i, bad = 0;

	for (i = 0; i < n; i++) {
		args[i].o = o;
		args[i].cmd = cmd;
		args[i].index = i;
		if (pthread_create(&tids[i], NULL, thread_main, &args[i]) != 0)
			return 1;
	}
	for (i = 0; i < n; i++) {
		pthread_join(tids[i], NULL);
		printf("%d %s %s", i, args[i].ok ? "ok" : "FAIL", args[i].out);
		if (!args[i].ok)
			bad++, printf("\n");
	}
	free(tids);
	free(args);
	return bad > 0;
}

static int cmd_keepalive(struct opts *o)
{
	struct ssh_session *s;
	struct ssh_error err;
	int i;

	if (ssh_connect(&o->t, &s, &err) < 0)
		return report(&err);
	fprintf(stderr, "sshtool: connected\n");
	if (ssh_keepalive(s, &err) < 0) {
		ssh_close(s);
		return report(&err);
	}
	if (o->wait_file != NULL)
		wait_for_file(o->wait_file);
	/* a few rounds: the first send after a drop may still be buffered */
	for (i = 0; i < 20; i++) {
		struct timespec ts = {0, 100 * 1000 * 1000};

		if (ssh_keepalive(s, &err) < 0) {
			ssh_close(s);
			return report(&err);
		}
		nanosleep(&ts, NULL);
	}
	ssh_close(s);
	fprintf(stderr, "sshtool: keepalive ok\n");
	return 0;
}

int main(int argc, char **argv)
{
	struct opts o;
	const char *sub;
	int i, n = 0, rc;

	memset(&o, 0, sizeof o);
	if (argc < 2)
		return usage();
	sub = argv[1];
	i = 2;
	if (strcmp(sub, "loop") == 0 || strcmp(sub, "threads") == 0) {
		if (argc < 3)
			return usage();
		n = atoi(argv[2]);
		i = 3;
	}
	i = parse(argc, argv, i, &o);
	if (i < 0)
		return usage();
	if (o.stdin_file != NULL && read_file(o.stdin_file, &o.in, &o.inlen) < 0) {
		fprintf(stderr, "sshtool: %s: %s\n", o.stdin_file, strerror(errno));
		return 2;
	}
	if (strcmp(sub, "print-command") == 0 || strcmp(sub, "label") == 0) {
		char *line = strcmp(sub, "label") == 0
		                 ? ssh_target_label(&o.t)
		                 : ssh_print_command(&o.t, i < argc ? argv[i] : NULL, o.tty);

		printf("%s\n", line);
		free(line);
		return 0;
	}
	if (o.t.host == NULL || ssh_global_init() < 0)
		return usage();
	if (strcmp(sub, "exec") == 0 && i + 1 == argc)
		rc = cmd_exec(&o, argv[i]);
	else if (strcmp(sub, "shell") == 0 && i + 1 >= argc)
		rc = cmd_shell(&o, i < argc ? argv[i] : NULL);
	else if (strcmp(sub, "loop") == 0 && i + 1 == argc)
		rc = cmd_loop(&o, n, argv[i]);
	else if (strcmp(sub, "threads") == 0 && i + 1 == argc && n > 0)
		rc = cmd_threads(&o, n, argv[i]);
	else if (strcmp(sub, "http") == 0 && i < argc)
		rc = cmd_http(&o, argv + i, argc - i);
	else if (strcmp(sub, "keepalive") == 0 && i == argc)
		rc = cmd_keepalive(&o);
	else
		rc = usage();
	free(o.in);
	return rc;
}
