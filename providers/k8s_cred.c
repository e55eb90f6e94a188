/* k8s_cred.c: how the kubernetes provider proves who it is, from the kubeconfig's user:
 * client certificates (set on the http handle at open), an inline token, a token file
 * (read again every minute and after a 401: projected tokens rotate) or an exec credential
 * plugin (client.authentication.k8s.io: run with KUBERNETES_EXEC_INFO on a worker thread,
 * never on the loop; its token or certificate cached until its expirationTimestamp or a
 * 401). Every secret is registered with http_add_secret and wiped when replaced. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/async.h"
#include "core/http.h"
#include "core/loop.h"
#include "core/xmalloc.h"
#include "providers/k8s_internal.h"

#define KUBE_TOKEN_FILE_MS   60000
#define KUBE_EXEC_TIMEOUT_MS 30000
#define KUBE_EXEC_MAX_OUT    (1 << 20)

extern char **environ;

static void kube_wipe(char **s)
{
	if (*s != NULL) {
		memset(*s, 0, strlen(*s));
		free(*s);
		*s = NULL;
	}
}

int kube_cred_open(struct provider *p, char **cause)
{
	const char *path = p->conf.kubeconfig;
	char *def = NULL, *why = NULL;

	if (path == NULL) {
		const char *env = getenv("KUBECONFIG");

		if (env != NULL && *env != '\0') {
			def = xstrndup(env, strcspn(env, ":"));
		} else {
			const char *home = getenv("HOME");

			def = xprintf("%s/.kube/config", home != NULL ? home : ".");
		}
		path = def;
	}
	if (k8s_kubeconfig_load(path, p->conf.context, &p->acc, &why) != 0) {
		xcause(cause, "%s: kubeconfig %s", p->name, why != NULL ? why : "unreadable");
		free(why);
		free(def);
		return -1;
	}
	free(def);
	for (int i = 0; i < 2; i++) {
		struct http *h = i == 0 ? p->http : p->whttp;

		if (p->acc.ca_pem != NULL &&
		    http_set_ca_pem(h, p->acc.ca_pem, p->acc.ca_pem_len, &why) != 0)
			goto fail;
		if (p->acc.cert_pem != NULL && p->acc.key_pem != NULL &&
		    http_set_client_pem(h, p->acc.cert_pem, p->acc.cert_pem_len, p->acc.key_pem,
		                        p->acc.key_pem_len, &why) != 0)
			goto fail;
		if (p->acc.key_pem != NULL)
			http_add_secret(h, p->acc.key_pem);
		if (p->acc.token != NULL)
			http_add_secret(h, p->acc.token);
	}
	if (p->acc.token != NULL)
		p->token = xstrdup(p->acc.token);
	return 0;
fail:
	xcause(cause, "%s: kubeconfig context %s: %s", p->name,
	       p->acc.context != NULL ? p->acc.context : "?", why != NULL ? why : "bad TLS data");
	free(why);
	return -1;
}

/* ---- the worker thread: token file or exec plugin ---- */

struct kube_cred_run {
	struct provider *p;
	/* in (copies) */
	char *token_file;
	struct k8s_exec_plugin exec;
	int has_exec;
	/* out */
	struct k8s_exec_cred cred;
	char *err;
};

static char *kube_read_small(const char *path, char **err)
{
	char buf[65536];
	ssize_t n;
	size_t len = 0;
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	struct stat st = {0};
	char *s;

	if (fd < 0) {
		*err = xprintf("token file %s: %s", path, strerror(errno));
		return NULL;
	}
	/* issue 12: read at each use (tokens rotate), checked at each use */
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || (st.st_mode & 077) != 0) {
		*err = xprintf("token file %s: refused: not a regular file only you can read "
		               "(mode %04o); run chmod 600 %s",
		               path, (unsigned)(st.st_mode & 07777), path);
		close(fd);
		return NULL;
	}
	while (len < sizeof buf - 1 && (n = read(fd, buf + len, sizeof buf - 1 - len)) > 0)
		len += (size_t)n;
	close(fd);
	buf[len] = '\0';
	while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == '\r' || buf[len - 1] == ' '))
		buf[--len] = '\0';
	if (len == 0 || strpbrk(buf, "\r\n") != NULL) {
		memset(buf, 0, sizeof buf);
		*err = xprintf("token file %s is empty or not one line", path);
		return NULL;
	}
	s = xstrdup(buf);
	memset(buf, 0, sizeof buf);
	return s;
}

/* Runs the plugin: stdout (heap), or NULL and why. */
static char *kube_exec_run(const struct k8s_exec_plugin *x, size_t *outlen, char **err)
{
	int out[2], st = 0;
	pid_t pid;
	char *info = k8s_exec_info(x->api_version, 0);
	char *infoenv = xprintf("KUBERNETES_EXEC_INFO=%s", info);
	size_t nenv = 0, na = 0, len = 0, cap = 4096;
	char **envp, **argv, *buf;
	uint64_t deadline = loop_now_ms() + KUBE_EXEC_TIMEOUT_MS;

	free(info);
	while (environ[nenv] != NULL)
		nenv++;
	envp = xcalloc(nenv + x->env.n + 2, sizeof *envp);
	for (size_t i = 0; i < nenv; i++)
		envp[i] = environ[i];
	for (size_t i = 0; i < x->env.n; i++)
		envp[nenv + i] = xprintf("%s=%s", x->env.keys[i], x->env.vals[i]);
	envp[nenv + x->env.n] = infoenv;
	while (x->args != NULL && x->args[na] != NULL)
		na++;
	argv = xcalloc(na + 2, sizeof *argv);
	argv[0] = x->command;
	for (size_t i = 0; i < na; i++)
		argv[i + 1] = x->args[i];
	buf = xmalloc(cap);
	if (pipe2(out, O_CLOEXEC) != 0) {
		*err = xprintf("exec plugin %s: pipe: %s", x->command, strerror(errno));
		pid = -1;
		goto done;
	}
	pid = fork();
	if (pid == 0) {
		int nul = open("/dev/null", O_RDWR);

		if (nul >= 0) {
			dup2(nul, 0);
		}
		dup2(out[1], 1);
		execvpe(x->command, argv, envp);
		_exit(127);
	}
	close(out[1]);
	if (pid < 0) {
		close(out[0]);
		*err = xprintf("exec plugin %s: fork: %s", x->command, strerror(errno));
		goto done;
	}
	for (;;) {
		struct pollfd pf = {out[0], POLLIN, 0};
		uint64_t now = loop_now_ms();
		ssize_t n;

		if (now >= deadline) {
			kill(pid, SIGKILL);
			*err = xprintf("exec plugin %s: no answer within %d s", x->command,
			               KUBE_EXEC_TIMEOUT_MS / 1000);
			break;
		}
		if (poll(&pf, 1, (int)(deadline - now)) < 0 && errno != EINTR)
			break;
		if (len + 1 >= cap) {
			if (cap >= KUBE_EXEC_MAX_OUT) {
				kill(pid, SIGKILL);
				*err = xprintf("exec plugin %s: answer too long", x->command);
				break;
			}
			cap *= 2;
			buf = xrealloc(buf, cap);
		}
		n = read(out[0], buf + len, cap - 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	close(out[0]);
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	if (*err == NULL && (!WIFEXITED(st) || WEXITSTATUS(st) != 0))
		*err = WIFEXITED(st)
		           ? xprintf("exec plugin %s failed (exit %d)", x->command, WEXITSTATUS(st))
		           : xprintf("exec plugin %s killed", x->command);
done:
	for (size_t i = 0; i < x->env.n; i++)
		free(envp[nenv + i]);
	free(envp);
	free(argv);
	kube_wipe(&infoenv);
	if (*err != NULL) {
		memset(buf, 0, cap);
		free(buf);
		return NULL;
	}
	buf[len] = '\0';
	*outlen = len;
	return buf;
}

static void kube_cred_work(void *arg)
{
	struct kube_cred_run *r = arg;
	char *out;
	size_t len = 0;

	if (!r->has_exec) {
		r->cred.token = kube_read_small(r->token_file, &r->err);
		return;
	}
	out = kube_exec_run(&r->exec, &len, &r->err);
	if (out == NULL)
		return;
	if (k8s_exec_cred_parse(out, len, r->exec.api_version, &r->cred, &r->err) != 0 &&
	    r->err == NULL)
		r->err = xstrdup("exec plugin: unreadable ExecCredential");
	memset(out, 0, len);
	free(out);
}

static void kube_cred_run_free(struct kube_cred_run *r)
{
	free(r->token_file);
	free(r->exec.command);
	for (size_t i = 0; r->exec.args != NULL && r->exec.args[i] != NULL; i++)
		free(r->exec.args[i]);
	free(r->exec.args);
	kvlist_free(&r->exec.env);
	free(r->exec.api_version);
	k8s_exec_cred_clear(&r->cred);
	free(r->err);
	free(r);
}

static void kube_cred_done(void *arg, int cancelled)
{
	struct kube_cred_run *r = arg;
	struct provider *p = r->p;
	char *c = NULL, *why = NULL;

	p->cred_busy = 0;
	if (cancelled || p->closing) {
		kube_cred_run_free(r);
		return;
	}
	for (int i = 0;
	     i < 2 && r->err == NULL && r->cred.cert_pem != NULL && r->cred.key_pem != NULL; i++) {
		struct http *h = i == 0 ? p->http : p->whttp;

		http_add_secret(h, r->cred.key_pem);
		if (http_set_client_pem(h, r->cred.cert_pem, strlen(r->cred.cert_pem),
		                        r->cred.key_pem, strlen(r->cred.key_pem), &why) != 0) {
			r->err = xprintf("exec plugin: %s", why);
			free(why);
		}
	}
	if (r->err == NULL) {
		kube_wipe(&p->token);
		if (r->cred.token != NULL) {
			http_add_secret(p->http, r->cred.token);
			http_add_secret(p->whttp, r->cred.token);
			p->token = r->cred.token;
			r->cred.token = NULL;
		}
		p->token_mono = loop_now_ms();
		p->token_exp_ms = r->cred.expires_ms;
		p->cred_bad = 0;
		free(p->cred_err);
		p->cred_err = NULL;
		waiters_fire(p, &p->cred_waiters, 0, NULL);
	} else {
		char *red = http_redact(p->http, r->err);

		p->cred_bad = 1;
		free(p->cred_err);
		p->cred_err = xprintf("%s: %s", p->name, red);
		free(red);
		c = xstrdup(p->cred_err);
		waiters_fire(p, &p->cred_waiters, -1, c);
		free(c);
	}
	kube_cred_run_free(r);
}

/* Whether the token in hand is good to use now. */
static int kube_cred_fresh(struct provider *p)
{
	if (p->acc.exec != NULL) {
		if (p->token_mono == 0)
			return 0;
		return p->token_exp_ms == 0 || loop_wall_ms() + 30000 < p->token_exp_ms;
	}
	if (p->acc.token_file != NULL)
		return p->token != NULL && loop_now_ms() - p->token_mono < KUBE_TOKEN_FILE_MS;
	return 1; /* inline token or certificates */
}

void kube_cred_ready(struct provider *p, void (*fn)(struct provider *, void *, int, const char *),
                     void *ctx)
{
	struct kube_cred_run *r;
	const struct k8s_exec_plugin *x = p->acc.exec;

	if (kube_cred_fresh(p)) {
		fn(p, ctx, 0, NULL);
		return;
	}
	waiters_add(&p->cred_waiters, fn, ctx);
	if (p->cred_busy)
		return;
	p->cred_busy = 1;
	if (p->cq == NULL)
		p->cq = async_queue_new(p->loop, "k8s-cred");
	r = xcalloc(1, sizeof *r);
	r->p = p;
	kvlist_init(&r->exec.env);
	if (x != NULL) {
		size_t na = 0;

		r->has_exec = 1;
		r->exec.command = xstrdup(x->command);
		while (x->args != NULL && x->args[na] != NULL)
			na++;
		r->exec.args = xcalloc(na + 1, sizeof *r->exec.args);
		for (size_t i = 0; i < na; i++)
			r->exec.args[i] = xstrdup(x->args[i]);
		kvlist_copy(&r->exec.env, &x->env);
		r->exec.api_version = xstrdup(
		    x->api_version != NULL ? x->api_version : "client.authentication.k8s.io/v1");
	} else {
		r->token_file = xstrdup(p->acc.token_file);
	}
	async_queue_submit(p->cq, kube_cred_work, kube_cred_done, r);
}

char *kube_cred_header(struct provider *p)
{
	if (p->token == NULL)
		return NULL;
	return xprintf("Authorization: Bearer %s", p->token);
}

void kube_cred_invalidate(struct provider *p)
{
	if (p->acc.exec == NULL && p->acc.token_file == NULL)
		return; /* an inline token cannot change */
	p->token_mono = 0;
	p->token_exp_ms = 0;
	if (p->acc.token_file != NULL)
		kube_wipe(&p->token);
}

void kube_cred_close(struct provider *p)
{
	if (p->cq != NULL) {
		async_queue_free(p->cq);
		p->cq = NULL;
	}
	waiters_fire(p, &p->cred_waiters, -1, "kubernetes: closed");
	kube_wipe(&p->token);
	free(p->cred_err);
	p->cred_err = NULL;
	k8s_access_clear(&p->acc);
}
