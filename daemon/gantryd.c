/* gantryd.c: the multi-user daemon (issue 12). One engine, run as the service account that
 * alone holds the provider credentials and the store, serves the users' `gantry` over a
 * Unix socket (daemon/serve.c); each client is who the kernel says it is (SO_PEERCRED).
 * Paths come from the command line only: GANTRY_HOME and GANTRY_SYSTEM_DIR in the
 * environment it was started with are ignored. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/engine.h"
#include "core/loop.h"
#include "core/policy.h"
#include "core/xmalloc.h"
#include "daemon/serve_internal.h"

#define GANTRYD_HOME   "/var/lib/gantry"
#define GANTRYD_SOCKET "/run/gantry/gantryd.sock"
#define GANTRYD_GROUP  "gantry"

struct gantryd_args {
	int foreground;
	const char *socket;
	const char *group;
	const char *home;
	const char *system_dir;
	const char *policy;
};

static void gantryd_usage(FILE *f)
{
	fprintf(f,
	        "usage: gantryd [--foreground] [--socket PATH] [--group NAME] [--home DIR]\n"
	        "               [--system-dir DIR] [--policy FILE]\n"
	        "\n"
	        "Runs Gantry's engine as this (service) account and serves the users' `gantry`\n"
	        "over a Unix socket: identity from the kernel (SO_PEERCRED), launches checked\n"
	        "against the policy, every decision audited.\n"
	        "\n"
	        "  --foreground     stay in the foreground, log to stderr (systemd, tests)\n"
	        "  --socket PATH    the socket (default " GANTRYD_SOCKET "), mode 0660\n"
	        "  --group NAME     the socket's group: only its members and root may connect\n"
	        "                   (default " GANTRYD_GROUP ")\n"
	        "  --home DIR       the service's config/ and state/ (default " GANTRYD_HOME ")\n"
	        "  --system-dir DIR templates/ and policy.yaml (default " GANTRY_SYSCONFDIR
	        "/gantry)\n"
	        "  --policy FILE    the policy (default SYSTEM_DIR/policy.yaml); a broken file\n"
	        "                   at start: gantryd refuses to start; later: the last good\n"
	        "                   policy stays and the error is reported\n"
	        "  --help, --version\n"
	        "\n"
	        "GANTRY_HOME and GANTRY_SYSTEM_DIR are ignored. SIGTERM or SIGINT: clean exit\n"
	        "(the socket is removed); SIGHUP: reads the policy and config.yaml again.\n");
}

static int gantryd_parse(int argc, char **argv, struct gantryd_args *a)
{
	static const struct option opts[] = {
	    {"foreground", no_argument, NULL, 'f'},
	    {"socket", required_argument, NULL, 's'},
	    {"group", required_argument, NULL, 'g'},
	    {"home", required_argument, NULL, 'H'},
	    {"system-dir", required_argument, NULL, 'S'},
	    {"policy", required_argument, NULL, 'p'},
	    {"help", no_argument, NULL, 'h'},
	    {"version", no_argument, NULL, 'V'},
	    {NULL, 0, NULL, 0},
	};
	int c;

	memset(a, 0, sizeof *a);
	a->socket = GANTRYD_SOCKET;
	a->group = GANTRYD_GROUP;
	a->home = GANTRYD_HOME;
	a->system_dir = GANTRY_SYSCONFDIR "/gantry";
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'f':
			a->foreground = 1;
			break;
		case 's':
			a->socket = optarg;
			break;
		case 'g':
			a->group = optarg;
			break;
		case 'H':
			a->home = optarg;
			break;
		case 'S':
			a->system_dir = optarg;
			break;
		case 'p':
			a->policy = optarg;
			break;
		case 'h':
			gantryd_usage(stdout);
			exit(0);
		case 'V':
			printf("gantryd %s\n", PACKAGE_VERSION);
			exit(0);
		default:
			gantryd_usage(stderr);
			return -1;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "gantryd: unexpected argument '%s'\n", argv[optind]);
		gantryd_usage(stderr);
		return -1;
	}
	if (a->home[0] != '/' || a->system_dir[0] != '/' || a->socket[0] != '/' ||
	    (a->policy != NULL && a->policy[0] != '/')) {
		fprintf(stderr, "gantryd: --home, --system-dir, --socket and --policy take "
		                "absolute paths\n");
		return -1;
	}
	return 0;
}

static void gantryd_on_stop(int signo, void *arg)
{
	struct loop *l = arg;

	fprintf(stderr, "gantryd: %s: stopping\n", signo == SIGTERM ? "SIGTERM" : "SIGINT");
	loop_stop(l);
}

static void gantryd_on_hup(int signo, void *arg)
{
	struct engine *e = arg;
	char *cause = NULL;

	(void)signo;
	if (engine_policy_reload(e, &cause) != 0) {
		fprintf(stderr, "gantryd: policy: %s (the last good policy stays)\n", cause);
		free(cause);
		cause = NULL;
	}
	if (engine_config_reload(e, &cause) != 0) {
		fprintf(stderr, "gantryd: config: %s\n", cause);
		free(cause);
	}
}

/* The policy's errors at start stop us (later ones keep the last good policy). */
static int gantryd_check_policy(const char *path)
{
	struct policy *p = NULL;
	char *cause = NULL;

	if (policy_load(path, &p, &cause) != 0) {
		fprintf(stderr, "gantryd: refusing to start: %s\n", cause);
		free(cause);
		return -1;
	}
	policy_free(p);
	return 0;
}

static int gantryd_detach(void)
{
	pid_t pid = fork();

	if (pid < 0) {
		fprintf(stderr, "gantryd: fork: %s\n", strerror(errno));
		return -1;
	}
	if (pid > 0)
		_exit(0);
	setsid();
	if (freopen("/dev/null", "r", stdin) == NULL || freopen("/dev/null", "w", stdout) == NULL)
		return -1;
	return 0;
}

int main(int argc, char **argv)
{
	struct gantryd_args a;
	struct engine_opts eo;
	struct serve_opts so;
	struct engine *e = NULL;
	struct serve *srv = NULL;
	char *policy, *cause = NULL;
	int rc = 1;

	/* the local provider starts its job supervisors as `SELF __supervise ...` */
	if (argc >= 2 && strcmp(argv[1], "__supervise") == 0)
		return engine_supervisor_main(argc - 1, argv + 1);
	if (gantryd_parse(argc, argv, &a) != 0)
		return 2;
	umask(077);
	signal(SIGPIPE, SIG_IGN);
	/* our paths, whatever the environment said */
	if (setenv("GANTRY_HOME", a.home, 1) != 0 ||
	    setenv("GANTRY_SYSTEM_DIR", a.system_dir, 1) != 0) {
		fprintf(stderr, "gantryd: setenv: %s\n", strerror(errno));
		return 1;
	}
	unsetenv("GANTRY_DAEMON");
	policy = a.policy != NULL ? xstrdup(a.policy) : xprintf("%s/policy.yaml", a.system_dir);
	if (gantryd_check_policy(policy) != 0)
		goto out;
	if (serve_socket_check(a.socket, getuid(), &cause) != 0) { /* before the store opens */
		fprintf(stderr, "gantryd: %s\n", cause);
		goto out;
	}
	memset(&eo, 0, sizeof eo);
	eo.embedded = 1;
	eo.serving = 1;
	eo.policy_path = policy;
	if (engine_open(&eo, &e, &cause) != 0) {
		fprintf(stderr, "gantryd: %s\n", cause);
		goto out;
	}
	memset(&so, 0, sizeof so);
	so.socket_path = a.socket;
	so.group = a.group;
	so.service_uid = getuid();
	if (serve_open(e, &so, &srv, &cause) != 0) {
		fprintf(stderr, "gantryd: %s\n", cause);
		goto out;
	}
	if (loop_signal_watch(engine_loop(e), SIGTERM, gantryd_on_stop, engine_loop(e)) != 0 ||
	    loop_signal_watch(engine_loop(e), SIGINT, gantryd_on_stop, engine_loop(e)) != 0 ||
	    loop_signal_watch(engine_loop(e), SIGHUP, gantryd_on_hup, e) != 0) {
		fprintf(stderr, "gantryd: cannot watch signals\n");
		goto out;
	}
	engine_watch(e); /* refresh, autostop, budgets: as a watching TUI */
	{
		const char *perr = NULL;
		const struct policy *p = engine_policy(e, &perr);

		fprintf(stderr, "gantryd: listening on %s (group %s), home %s, policy %s%s\n",
		        a.socket, a.group, a.home, policy,
		        p != NULL ? "" : " (none: users see their own jobs)");
	}
	if (!a.foreground && gantryd_detach() != 0)
		goto out;
	loop_run(engine_loop(e));
	rc = 0;
out:
	serve_close(srv);
	engine_close(e);
	free(cause);
	free(policy);
	return rc;
}
