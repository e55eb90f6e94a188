/* fleettool.c: drives the `ssh` provider directly (no engine, no store) with a real loop,
 * for tests/integration/ssh_provider.sh and tests/bench/sweep.py.
 *
 *   fleettool [--set KEY=VALUE]... [--name NAME] COMMAND [ARGS]
 *
 * Settings are the provider's flattened config keys ("hosts.0.address=127.0.0.2").
 * Commands (each prints one line per answer; exit 0 = done, 1 = the provider said no):
 *   launch [--id ID] [--idem KEY] [--gpus N] [--type T] [--shared] [--nodes N] [--port]
 *          [--ready PATH] [--ready-timeout S] [--max-runtime S] [--attempt N] [--env K=V]...
 *          SCRIPT
 *                              "ref=REF port=P url=U"
 *   refresh REF                "state=STATE exit=N reason=..."
 *   wait REF STATES SECONDS    refreshes until the state is one of STATES (a,b), at most
 *                              SECONDS; prints the last answer
 *   stop REF [GRACE_MS]        "stopped" (the stop was delivered)
 *   logs REF [-f] [--tail N]   the log bytes on stdout
 *   hosts [REF]                host, gpu and proc lines from the cache after one sweep
 *   list                       "REF JOB_ID [attempt=N]" lines (list_owned)
 *   destroy REF
 *   offer [--gpus N] [--type T] [--nodes N] [--cpus N]
 *   shell REF [WORKER]         where a shell would go
 *   sweep [ROUNDS]             benchmark: one cold sweep of every host (connects included),
 *                              then ROUNDS warm ones (poll_ms is forced to 0); wall and CPU
 *                              time (getrusage, all threads) of each
 *   hostadd NAME ADDR PORT KNOWN_HOSTS [--tofu] [--gpus N] [--type T] [--dir D] [--user U]
 *           [--key K]          adds a dynamic host (ssh_provider_host_add)
 *   hostrm NAME                removes it (ssh_provider_host_remove)
 *   session                    reads commands from stdin, one per line, in one provider
 *                              instance (so connections persist); "sh CMD" runs a shell
 *                              command; "sleep MS" runs the loop for MS
 */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/kvlist.h"
#include "core/loop.h"
#include "core/ssh.h"
#include "core/telemetry.h"
#include "core/template.h"
#include "core/xmalloc.h"
#include "providers/provider.h"
#include "providers/ssh.h"

#define LIMIT_MS 600000 /* bound on any single wait, so a broken provider fails */

static struct loop *g_loop;
static struct provider *g_p;
static int g_swept; /* sweep notifications (message NULL) */

static void on_notify(void *arg, const char *provider, int healthy, const char *message)
{
	(void)arg;
	if (message == NULL) {
		g_swept++;
		return;
	}
	printf("notify %s healthy=%d %s\n", provider, healthy, message);
	fflush(stdout);
}

/* Runs the loop until *flag is set (or the bound passes). */
static int run_until(const int *flag)
{
	uint64_t end = loop_now_ms() + LIMIT_MS;

	while (!*flag && loop_now_ms() < end)
		loop_run_once(g_loop, 100);
	return *flag ? 0 : -1;
}

static void usage(void)
{
	fprintf(stderr, "usage: fleettool [--set K=V]... [--name N] COMMAND [ARGS] (see the "
	                "header of tests/ssh/fleettool.c)\n");
	exit(2);
}

/* ---- launch ---- */

struct launch_out {
	int done, rc;
};

static void on_launch(void *arg, int rc, const struct provider_launch_result *res,
                      const char *cause)
{
	struct launch_out *o = arg;

	o->done = 1;
	o->rc = rc;
	if (rc == 0)
		printf("ref=%s port=%d url=%s\n", res->ref, res->port,
		       res->url != NULL ? res->url : "-");
	else
		printf("launch failed: %s\n", cause != NULL ? cause : "(no cause)");
	fflush(stdout);
}

static int cmd_launch(int argc, char **argv)
{
	struct provider_job_spec spec;
	struct kvlist env;
	struct launch_out o = {0};
	char *cause = NULL, idbuf[64], idembuf[80];
	int rc;

	memset(&spec, 0, sizeof spec);
	kvlist_init(&env);
	snprintf(idbuf, sizeof idbuf, "j%08lx", (unsigned long)(getpid() * 2654435761u));
	spec.job_id = idbuf;
	spec.kind = JOB_KIND_TRAINING;
	spec.nodes = 1;
	spec.name = "fleet-test";
	spec.owner = "tester";
	spec.installation_id = getenv("FLEETTOOL_INSTALLATION_ID");
	spec.env = &env;
	spec.readiness_timeout_s = 30;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (strcmp(a, "--id") == 0 && i + 1 < argc)
			spec.job_id = argv[++i];
		else if (strcmp(a, "--idem") == 0 && i + 1 < argc)
			spec.idem_key = argv[++i];
		else if (strcmp(a, "--gpus") == 0 && i + 1 < argc)
			spec.gpus = atoi(argv[++i]);
		else if (strcmp(a, "--type") == 0 && i + 1 < argc)
			spec.gpu_type = argv[++i];
		else if (strcmp(a, "--shared") == 0)
			spec.gpu_shared = 1;
		else if (strcmp(a, "--nodes") == 0 && i + 1 < argc)
			spec.nodes = atoi(argv[++i]);
		else if (strcmp(a, "--port") == 0)
			spec.want_port = 1;
		else if (strcmp(a, "--ready") == 0 && i + 1 < argc)
			spec.readiness_path = argv[++i];
		else if (strcmp(a, "--ready-timeout") == 0 && i + 1 < argc)
			spec.readiness_timeout_s = atoi(argv[++i]);
		else if (strcmp(a, "--max-runtime") == 0 && i + 1 < argc)
			spec.max_runtime_s = atol(argv[++i]);
		else if (strcmp(a, "--attempt") == 0 && i + 1 < argc)
			spec.attempt = atoi(argv[++i]);
		else if (strcmp(a, "--env") == 0 && i + 1 < argc) {
			char *kv = xstrdup(argv[++i]), *eq = strchr(kv, '=');

			if (eq == NULL)
				usage();
			*eq = '\0';
			kvlist_set(&env, kv, eq + 1);
			free(kv);
		} else if (a[0] == '-' && a[1] == '-')
			usage();
		else
			spec.script = a;
	}
	if (spec.script == NULL)
		usage();
	if (spec.idem_key == NULL) {
		snprintf(idembuf, sizeof idembuf, "idem-%s", spec.job_id);
		spec.idem_key = idembuf;
	}
	if (ssh_provider_ops.launch(g_p, &spec, on_launch, &o, &cause) != 0) {
		printf("launch failed: %s\n", cause);
		free(cause);
		kvlist_free(&env);
		return 1;
	}
	rc = run_until(&o.done) == 0 && o.rc == 0 ? 0 : 1;
	kvlist_free(&env);
	return rc;
}

/* ---- refresh / wait ---- */

struct status_out {
	int done, rc;
	enum job_state state;
	int has_exit, exit_code;
	char *reason;
};

static void on_status(void *arg, int rc, const struct provider_status *st, const char *cause)
{
	struct status_out *o = arg;

	o->done = 1;
	o->rc = rc;
	free(o->reason);
	o->reason = NULL;
	if (rc == 0) {
		o->state = st->state;
		o->has_exit = st->has_exit;
		o->exit_code = st->exit_code;
		o->reason = st->reason != NULL ? xstrdup(st->reason) : NULL;
	} else {
		o->reason = xstrdup(cause != NULL ? cause : "(no cause)");
	}
}

static int refresh_once(const char *ref, struct status_out *o)
{
	char *cause = NULL;

	o->done = 0;
	if (ssh_provider_ops.refresh(g_p, NULL, ref, on_status, o, &cause) != 0) {
		free(o->reason);
		o->reason = cause;
		o->rc = -1;
		return -1;
	}
	if (run_until(&o->done) != 0)
		return -1;
	return o->rc;
}

static void print_status(const struct status_out *o)
{
	if (o->rc != 0)
		printf("refresh failed: %s\n", o->reason != NULL ? o->reason : "");
	else if (o->has_exit)
		printf("state=%s exit=%d reason=%s\n", job_state_name(o->state), o->exit_code,
		       o->reason != NULL ? o->reason : "-");
	else
		printf("state=%s exit=- reason=%s\n", job_state_name(o->state),
		       o->reason != NULL ? o->reason : "-");
	fflush(stdout);
}

static int cmd_refresh(int argc, char **argv)
{
	struct status_out o = {0};
	int rc;

	if (argc < 2)
		usage();
	rc = refresh_once(argv[1], &o);
	print_status(&o);
	free(o.reason);
	return rc == 0 ? 0 : 1;
}

static int state_in(enum job_state s, const char *list)
{
	const char *name = job_state_name(s);
	size_t n = strlen(name);

	for (const char *p = list; p != NULL && *p != '\0';) {
		size_t len = strcspn(p, ",");

		if (len == n && strncmp(p, name, n) == 0)
			return 1;
		p += len;
		if (*p == ',')
			p++;
	}
	return 0;
}

static void pause_ms(int ms)
{
	uint64_t end = loop_now_ms() + (uint64_t)ms;

	while (loop_now_ms() < end)
		loop_run_once(g_loop, (int)(end - loop_now_ms()));
}

static int cmd_wait(int argc, char **argv)
{
	struct status_out o = {0};
	uint64_t end;
	int rc = 1;

	if (argc < 4)
		usage();
	end = loop_now_ms() + (uint64_t)atoi(argv[3]) * 1000;
	for (;;) {
		if (refresh_once(argv[1], &o) == 0 && state_in(o.state, argv[2])) {
			rc = 0;
			break;
		}
		if (loop_now_ms() >= end)
			break;
		pause_ms(200);
	}
	print_status(&o);
	free(o.reason);
	return rc;
}

/* ---- stop ---- */

struct done_out {
	int done, rc;
};

static void on_done(void *arg, int rc, const char *cause)
{
	struct done_out *o = arg;

	o->done = 1;
	o->rc = rc;
	if (rc == 0)
		printf("stopped\n");
	else
		printf("stop failed: %s\n", cause != NULL ? cause : "(no cause)");
	fflush(stdout);
}

static int cmd_stop(int argc, char **argv)
{
	struct done_out o = {0};
	char *cause = NULL;

	if (argc < 2)
		usage();
	if (ssh_provider_ops.stop(g_p, argv[1], argc > 2 ? atoi(argv[2]) : 10000, on_done, &o,
	                          &cause) != 0) {
		printf("stop failed: %s\n", cause);
		free(cause);
		return 1;
	}
	return run_until(&o.done) == 0 && o.rc == 0 ? 0 : 1;
}

/* ---- logs ---- */

struct log_out {
	int eof;
	size_t bytes;
};

static void on_log(void *arg, const char *data, size_t len, int eof)
{
	struct log_out *o = arg;

	if (len > 0) {
		fwrite(data, 1, len, stdout);
		fflush(stdout);
		o->bytes += len;
	}
	if (eof)
		o->eof = 1;
}

static int cmd_logs(int argc, char **argv)
{
	struct log_out o = {0};
	struct provider_logs *lg = NULL;
	char *cause = NULL;
	int follow = 0;
	int64_t tail = 0;
	const char *ref = NULL;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-f") == 0)
			follow = 1;
		else if (strcmp(argv[i], "--tail") == 0 && i + 1 < argc)
			tail = atoll(argv[++i]);
		else
			ref = argv[i];
	}
	if (ref == NULL)
		usage();
	if (ssh_provider_ops.logs_open(g_p, ref, follow, tail, on_log, &o, &lg, &cause) != 0) {
		fprintf(stderr, "logs failed: %s\n", cause);
		free(cause);
		return 1;
	}
	run_until(&o.eof);
	ssh_provider_ops.logs_close(g_p, lg);
	return o.eof ? 0 : 1;
}

/* ---- hosts ---- */

static void print_val(const char *name, struct tele_val v, int decimals)
{
	printf(" %s=", name);
	if (v.ok)
		printf("%.*f", decimals, v.v);
	else
		printf("n/a");
}

static void print_hosts(struct tele_host *h, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		printf("host %s address=%s reachable=%d cpus=%d", h[i].name, h[i].address,
		       h[i].reachable, h[i].cpus);
		print_val("cpu", h[i].cpu_pct, 1);
		print_val("mem_used", h[i].mem_used_mib, 0);
		print_val("mem_total", h[i].mem_total_mib, 0);
		printf(" gpus_total=%d gpus_free=%d type=%s ngpus=%zu nprocs=%zu sampled=%d "
		       "contact=%d gpu_error=%s reason=%s\n",
		       h[i].gpus_total, h[i].gpus_free, h[i].gpu_type != NULL ? h[i].gpu_type : "-",
		       h[i].ngpus, h[i].nprocs, h[i].at_ms > 0, h[i].last_contact_ms > 0,
		       h[i].gpu_error != NULL ? h[i].gpu_error : "-",
		       h[i].reason != NULL ? h[i].reason : "-");
		for (size_t g = 0; g < h[i].ngpus; g++) {
			struct tele_gpu *u = &h[i].gpus[g];

			printf("gpu %s %d name=%s uuid=%s", h[i].name, u->index, u->name, u->uuid);
			print_val("util", u->util_pct, 0);
			print_val("mem_used", u->mem_used_mib, 0);
			print_val("mem_total", u->mem_total_mib, 0);
			print_val("temp", u->temp_c, 0);
			print_val("power", u->power_w, 2);
			print_val("power_limit", u->power_limit_w, 2);
			printf("\n");
		}
		for (size_t k = 0; k < h[i].nprocs; k++)
			printf("proc %s %ld name=%s gpu=%s\n", h[i].name, h[i].procs[k].pid,
			       h[i].procs[k].name, h[i].procs[k].gpu_uuid);
	}
	fflush(stdout);
}

static int cmd_hosts(int argc, char **argv)
{
	struct tele_host *h = NULL;
	size_t n = 0;
	int before = g_swept;
	const char *ref = argc > 1 ? argv[1] : NULL;

	/* the first call finds a cold cache and asks for a sweep */
	if (ssh_provider_ops.hosts(g_p, ref, &h, &n) != 0) {
		printf("hosts failed\n");
		return 1;
	}
	tele_hosts_free(h, n);
	for (uint64_t end = loop_now_ms() + LIMIT_MS; g_swept == before && loop_now_ms() < end;)
		loop_run_once(g_loop, 100);
	if (ssh_provider_ops.hosts(g_p, ref, &h, &n) != 0) {
		printf("hosts failed\n");
		return 1;
	}
	print_hosts(h, n);
	tele_hosts_free(h, n);
	return 0;
}

/* ---- list / destroy / offer / shell ---- */

struct async_answer {
	int done, rc;
	char *cause;
};

static void on_owned(void *arg, int rc, const struct provider_owned *v, size_t n, const char *cause)
{
	struct async_answer *w = arg;

	w->done = 1;
	w->rc = rc;
	w->cause = cause != NULL ? xstrdup(cause) : NULL;
	for (size_t i = 0; rc == 0 && i < n; i++) {
		if (v[i].attempt > 0)
			printf("%s %s attempt=%d\n", v[i].ref, v[i].job_id, v[i].attempt);
		else
			printf("%s %s\n", v[i].ref, v[i].job_id);
	}
}

/* list_owned answers on the loop (never blocking it): the loop runs until it does */
static void on_tick(void *arg)
{
	(*(int *)arg)++;
}

/* list_owned answers on the loop (never blocking it): the loop runs until it does, and a
 * 20 ms timer counts how often the loop turned meanwhile ("list: N ticks" on stderr) */
static int cmd_list(void)
{
	struct async_answer w = {0};
	char *cause = NULL;
	int ticks = 0, rc;
	struct loop_timer *t = loop_timer_add(g_loop, 20, 20, on_tick, &ticks);

	rc = ssh_provider_ops.list_owned(g_p, on_owned, &w, &cause);
	if (rc == 0)
		rc = run_until(&w.done);
	loop_timer_cancel(g_loop, t);
	fprintf(stderr, "list: %d ticks\n", ticks);
	if (rc != 0 || w.rc != 0) {
		printf("list failed: %s\n", cause != NULL     ? cause
		                            : w.cause != NULL ? w.cause
		                                              : "timeout");
		free(cause);
		free(w.cause);
		return 1;
	}
	return 0;
}

static void on_destroyed(void *arg, int rc, const char *cause)
{
	struct async_answer *w = arg;

	w->done = 1;
	w->rc = rc;
	w->cause = cause != NULL ? xstrdup(cause) : NULL;
}

static int cmd_destroy(int argc, char **argv)
{
	struct async_answer w = {0};
	char *cause = NULL;

	if (argc < 2)
		usage();
	if (ssh_provider_ops.destroy(g_p, argv[1], on_destroyed, &w, &cause) != 0 ||
	    run_until(&w.done) != 0 || w.rc != 0) {
		printf("destroy failed: %s\n", cause != NULL     ? cause
		                               : w.cause != NULL ? w.cause
		                                                 : "timeout");
		free(cause);
		free(w.cause);
		return 1;
	}
	printf("destroyed\n");
	return 0;
}

struct offer_answer {
	int done;
	struct offer_verdict o;
};

static void on_offers(void *arg, int rc, struct offer_list *l, const char *cause)
{
	struct offer_answer *w = arg;

	(void)cause;
	w->done = 1;
	if (rc == 0 && l->n > 0)
		offer_verdict_from(&w->o, &l->v[0]);
}

static int cmd_offer(int argc, char **argv)
{
	struct template t;
	struct tpl_accel accel = {NULL, 0};
	struct offer_answer w = {0};
	struct offer_verdict o;
	char *cause = NULL;

	memset(&t, 0, sizeof t);
	t.resources.nodes = 1;
	for (int i = 1; i + 1 < argc; i += 2) {
		if (strcmp(argv[i], "--gpus") == 0)
			accel.count = atoi(argv[i + 1]);
		else if (strcmp(argv[i], "--type") == 0)
			accel.name = argv[i + 1];
		else if (strcmp(argv[i], "--nodes") == 0)
			t.resources.nodes = atoi(argv[i + 1]);
		else if (strcmp(argv[i], "--cpus") == 0)
			t.resources.cpus = atoi(argv[i + 1]);
		else
			usage();
	}
	if (accel.count > 0) {
		if (accel.name == NULL)
			accel.name = "any";
		t.resources.accels = &accel;
		t.resources.naccels = 1;
	}
	if (ssh_provider_ops.plan_offer(g_p, &t, on_offers, &w, &cause) != 0 ||
	    run_until(&w.done) != 0) {
		printf("offer failed: %s\n", cause != NULL ? cause : "timeout");
		free(cause);
		return 1;
	}
	o = w.o;
	printf("fits=%d priced=%d price=%.2f gpus=%d gpu=%s description=%s reason=%s\n", o.fits,
	       o.priced, o.price_per_hour, o.gpus, o.gpu_name != NULL ? o.gpu_name : "-",
	       o.description, o.reason != NULL ? o.reason : "-");
	offer_verdict_clear(&o);
	return 0;
}

struct target_answer {
	int done;
	struct provider_shell s;
};

static void on_target(void *arg, int rc, struct provider_shell *sh, const char *cause)
{
	struct target_answer *w = arg;

	(void)cause;
	w->done = 1;
	if (rc == 0) {
		w->s = *sh;
		memset(sh, 0, sizeof *sh);
	}
}

static int cmd_shell(int argc, char **argv)
{
	struct target_answer w = {0};
	struct provider_shell s;
	char *cause = NULL;

	if (argc < 2)
		usage();
	if (ssh_provider_ops.target(g_p, argv[1], argc > 2 ? atoi(argv[2]) : 0, on_target, &w,
	                            &cause) != 0 ||
	    run_until(&w.done) != 0) {
		printf("shell failed: %s\n", cause != NULL ? cause : "timeout");
		free(cause);
		return 1;
	}
	s = w.s;
	printf("host=%s address=%s port=%d user=%s key=%s dir=%s workers=%d jump=%s\n", s.host_name,
	       s.target.host, s.target.port, s.target.user != NULL ? s.target.user : "-",
	       s.target.key_file != NULL ? s.target.key_file : "-", s.dir, s.nworkers,
	       s.target.jump != NULL ? s.target.jump->host : "-");
	provider_shell_clear(&s);
	return 0;
}

/* ---- sweep benchmark ---- */

static double cpu_ms(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000.0 +
	       (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1000.0;
}

/* One sweep of every host: hosts() on a stale cache, then wait for the notification. */
static int sweep_once(size_t *reachable, size_t *nhosts, size_t *ngpus)
{
	struct tele_host *h = NULL;
	size_t n = 0;
	int before = g_swept;
	uint64_t end = loop_now_ms() + LIMIT_MS;

	ssh_provider_ops.hosts(g_p, NULL, &h, &n);
	tele_hosts_free(h, n);
	while (g_swept == before && loop_now_ms() < end)
		loop_run_once(g_loop, 100);
	if (g_swept == before)
		return -1;
	ssh_provider_ops.hosts(g_p, NULL, &h, &n);
	*reachable = *ngpus = 0;
	for (size_t i = 0; i < n; i++) {
		*reachable += h[i].reachable;
		*ngpus += h[i].ngpus;
	}
	*nhosts = n;
	tele_hosts_free(h, n);
	return 0;
}

static int cmd_sweep(int argc, char **argv)
{
	int rounds = argc > 1 ? atoi(argv[1]) : 5;
	size_t ok = 0, n = 0, gpus = 0;

	for (int r = 0; r <= rounds; r++) {
		uint64_t t0 = loop_now_ms();
		double c0 = cpu_ms();

		if (sweep_once(&ok, &n, &gpus) != 0) {
			printf("sweep failed\n");
			return 1;
		}
		printf("sweep %s hosts=%zu reachable=%zu wall_ms=%llu cpu_ms=%.1f gpus=%zu\n",
		       r == 0 ? "cold" : "warm", n, ok, (unsigned long long)(loop_now_ms() - t0),
		       cpu_ms() - c0, gpus);
		fflush(stdout);
	}
	return ok == n ? 0 : 1;
}

/* ---- dispatch ---- */

static int run_command(int argc, char **argv);

/* hostadd NAME ADDRESS PORT KNOWN_HOSTS [--tofu] [--gpus N] [--type T] [--dir D] [--user U]
 *         [--key K]: ssh_provider_host_add */
static int cmd_hostadd(int argc, char **argv)
{
	struct ssh_dyn_host d;
	char *cause = NULL;

	if (argc < 5)
		usage();
	memset(&d, 0, sizeof d);
	d.name = argv[1];
	d.address = argv[2];
	d.port = atoi(argv[3]);
	d.known_hosts = argv[4];
	for (int i = 5; i < argc; i++) {
		if (strcmp(argv[i], "--tofu") == 0)
			d.tofu_first = 1;
		else if (strcmp(argv[i], "--gpus") == 0 && i + 1 < argc)
			d.gpus = atoi(argv[++i]);
		else if (strcmp(argv[i], "--type") == 0 && i + 1 < argc)
			d.gpu_type = argv[++i];
		else if (strcmp(argv[i], "--dir") == 0 && i + 1 < argc)
			d.dir = argv[++i];
		else if (strcmp(argv[i], "--user") == 0 && i + 1 < argc)
			d.user = argv[++i];
		else if (strcmp(argv[i], "--key") == 0 && i + 1 < argc)
			d.key_file = argv[++i];
		else
			usage();
	}
	if (ssh_provider_host_add(g_p, &d, &cause) != 0) {
		printf("hostadd failed: %s\n", cause);
		free(cause);
		return 1;
	}
	printf("added %s\n", d.name);
	return 0;
}

static int cmd_hostrm(int argc, char **argv)
{
	char *cause = NULL;

	if (argc < 2)
		usage();
	if (ssh_provider_host_remove(g_p, argv[1], &cause) != 0) {
		printf("hostrm failed: %s\n", cause);
		free(cause);
		return 1;
	}
	printf("removed %s\n", argv[1]);
	return 0;
}

/* Splits a line at blanks (no quoting). */
static int split(char *line, char **argv, int max)
{
	int n = 0;

	for (char *t = strtok(line, " \t\n"); t != NULL && n < max; t = strtok(NULL, " \t\n"))
		argv[n++] = t;
	return n;
}

static int cmd_session(void)
{
	char line[4096];
	int fails = 0;

	while (fgets(line, sizeof line, stdin) != NULL) {
		char *argv[64];
		int argc, rc;

		if (strncmp(line, "sh ", 3) == 0) {
			fflush(stdout);
			rc = system(line + 3);
			printf("sh rc=%d\n", WIFEXITED(rc) ? WEXITSTATUS(rc) : -1);
			fflush(stdout);
			continue;
		}
		argc = split(line, argv, 64);
		if (argc == 0 || argv[0][0] == '#')
			continue;
		if (strcmp(argv[0], "sleep") == 0 && argc > 1) {
			pause_ms(atoi(argv[1]));
			continue;
		}
		printf("> %s\n", argv[0]);
		rc = run_command(argc, argv);
		printf("rc=%d\n", rc);
		fflush(stdout);
		fails += rc != 0;
	}
	return fails > 0 ? 1 : 0;
}

static int run_command(int argc, char **argv)
{
	const char *c = argv[0];

	if (strcmp(c, "launch") == 0)
		return cmd_launch(argc, argv);
	if (strcmp(c, "refresh") == 0)
		return cmd_refresh(argc, argv);
	if (strcmp(c, "wait") == 0)
		return cmd_wait(argc, argv);
	if (strcmp(c, "stop") == 0)
		return cmd_stop(argc, argv);
	if (strcmp(c, "logs") == 0)
		return cmd_logs(argc, argv);
	if (strcmp(c, "hosts") == 0)
		return cmd_hosts(argc, argv);
	if (strcmp(c, "list") == 0)
		return cmd_list();
	if (strcmp(c, "destroy") == 0)
		return cmd_destroy(argc, argv);
	if (strcmp(c, "offer") == 0)
		return cmd_offer(argc, argv);
	if (strcmp(c, "shell") == 0)
		return cmd_shell(argc, argv);
	if (strcmp(c, "sweep") == 0)
		return cmd_sweep(argc, argv);
	if (strcmp(c, "session") == 0)
		return cmd_session();
	if (strcmp(c, "hostadd") == 0)
		return cmd_hostadd(argc, argv);
	if (strcmp(c, "hostrm") == 0)
		return cmd_hostrm(argc, argv);
	usage();
	return 2;
}

int main(int argc, char **argv)
{
	struct kvlist settings;
	struct provider_config cfg;
	const char *name = "fleet";
	char *cause = NULL;
	int i, rc;

	kvlist_init(&settings);
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--set") == 0 && i + 1 < argc) {
			char *kv = xstrdup(argv[++i]), *eq = strchr(kv, '=');

			if (eq == NULL)
				usage();
			*eq = '\0';
			kvlist_set(&settings, kv, eq + 1);
			free(kv);
		} else if (strcmp(argv[i], "--name") == 0 && i + 1 < argc) {
			name = argv[++i];
		} else {
			break;
		}
	}
	if (i >= argc)
		usage();
	if (ssh_global_init() != 0) {
		fprintf(stderr, "fleettool: ssh_global_init failed\n");
		return 1;
	}
	if (strcmp(argv[i], "sweep") == 0)
		kvlist_set(&settings, "poll_ms", "0");
	g_loop = loop_new();
	memset(&cfg, 0, sizeof cfg);
	cfg.name = name;
	cfg.settings = &settings;
	cfg.loop = g_loop;
	cfg.notify = on_notify;
	/* set: label launches with it, and list only what carries it (reconcile) */
	cfg.installation_id = getenv("FLEETTOOL_INSTALLATION_ID");
	if (ssh_provider_ops.open(&cfg, &g_p, &cause) != 0) {
		printf("open failed: %s\n", cause);
		free(cause);
		kvlist_free(&settings);
		loop_free(g_loop);
		return 1;
	}
	rc = run_command(argc - i, argv + i);
	ssh_provider_ops.close(g_p);
	loop_free(g_loop);
	kvlist_free(&settings);
	return rc;
}
