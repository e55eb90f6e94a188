/* test_ssh_provider.c: the parts of the ssh provider that need no SSH server: settings
 * (ssh_conf.c), shell quoting and the remote scripts run by a local /bin/sh
 * (ssh_remote.c), and the status sweep parser (ssh_hosts.c) on the status script's real
 * output. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/kvlist.h"
#include "core/xmalloc.h"
#include "providers/ssh_internal.h"

/* Runs `sh -c CMD` with stdin from a file holding in; returns stdout (heap). */
static char *run_sh(const char *cmd, const char *in, int *status)
{
	char inpath[] = "/tmp/gantry-test-in.XXXXXX";
	int fd = mkstemp(inpath);
	char *full, *out = xstrdup("");
	size_t len = 0;
	char buf[4096];
	FILE *f;
	size_t n;

	assert_true(fd >= 0);
	assert_int_equal(write(fd, in, strlen(in)), (ssize_t)strlen(in));
	close(fd);
	full = xprintf("%s <%s", cmd, inpath);
	f = popen(full, "r");
	assert_non_null(f);
	while ((n = fread(buf, 1, sizeof buf, f)) > 0) {
		out = xrealloc(out, len + n + 1);
		memcpy(out + len, buf, n);
		len += n;
		out[len] = '\0';
	}
	*status = pclose(f);
	unlink(inpath);
	free(full);
	return out;
}

static void test_quote_roundtrip(void **state)
{
	const char *nasty[] = {
	    "plain",           "",      "it's", "'",         "''",     "a b\tc",
	    "$(touch /tmp/x)", "`id`",  "\\n",  "new\nline", "\"dq\"", "semi;colon && rm -rf x",
	    "*?[a]",           "~root", "-n",   "ünïcødé"};

	(void)state;
	for (size_t i = 0; i < sizeof nasty / sizeof nasty[0]; i++) {
		char *q = ssh_remote_quote(nasty[i]);
		char *cmd = xprintf("printf '%%s' %s", q);
		char *argv[] = {"sh", "-c", cmd, NULL};
		int pfd[2], st;
		char out[256];
		ssize_t n, len = 0;
		pid_t pid;

		assert_int_equal(pipe(pfd), 0);
		pid = fork();
		if (pid == 0) {
			dup2(pfd[1], 1);
			close(pfd[0]);
			execv("/bin/sh", argv);
			_exit(127);
		}
		close(pfd[1]);
		while ((n = read(pfd[0], out + len, sizeof out - 1 - (size_t)len)) > 0)
			len += n;
		close(pfd[0]);
		waitpid(pid, &st, 0);
		out[len] = '\0';
		assert_string_equal(out, nasty[i]);
		free(q);
		free(cmd);
	}
}

static void test_command(void **state)
{
	char *c = ssh_remote_command("/a dir", "it's", NULL);

	(void)state;
	assert_string_equal(c, "sh -s -- '/a dir' 'it'\\''s'");
	free(c);
}

static void kv(struct kvlist *s, struct kvlist *pos, const char *k, const char *v, int line)
{
	char where[64];

	kvlist_set(s, k, v);
	snprintf(where, sizeof where, "config.yaml:%d:7", line);
	kvlist_set(pos, k, where);
}

static void expect_conf_error(const char *k, const char *v, const char *want)
{
	struct kvlist s, pos;
	struct ssh_conf c;
	char *cause = NULL;

	kvlist_init(&s);
	kvlist_init(&pos);
	kv(&s, &pos, "hosts.0.address", "10.0.0.1", 3);
	kv(&s, &pos, k, v, 9);
	assert_int_equal(ssh_conf_parse(&s, &pos, "fleet", &c, &cause), -1);
	if (cause == NULL || strstr(cause, want) == NULL)
		fail_msg("cause '%s' lacks '%s'", cause != NULL ? cause : "(null)", want);
	free(cause);
	kvlist_free(&s);
	kvlist_free(&pos);
}

static void test_conf(void **state)
{
	struct kvlist s, pos;
	struct ssh_conf c;
	char *cause = NULL;

	(void)state;
	kvlist_init(&s);
	kvlist_init(&pos);
	kv(&s, &pos, "user", "alice", 1);
	kv(&s, &pos, "rate_gpu_hour", "2.5", 2);
	kv(&s, &pos, "hosts.0.name", "gpu1", 3);
	kv(&s, &pos, "hosts.0.address", "10.0.0.1", 4);
	kv(&s, &pos, "hosts.0.gpus", "8", 5);
	kv(&s, &pos, "hosts.0.labels.rack", "r1", 6);
	kv(&s, &pos, "hosts.1.address", "cpu-box", 7);
	kv(&s, &pos, "hosts.1.port", "2222", 8);
	kv(&s, &pos, "hosts.1.dir", "~/work", 9);
	kv(&s, &pos, "jump.address", "bastion", 10);
	assert_int_equal(ssh_conf_parse(&s, &pos, "fleet", &c, &cause), 0);
	assert_int_equal(c.nhosts, 2);
	assert_string_equal(c.hosts[0].name, "gpu1");
	assert_int_equal(c.hosts[0].port, 22);
	assert_int_equal(c.hosts[0].gpus, 8);
	assert_string_equal(c.hosts[0].gpu_type, "H100");
	assert_string_equal(c.hosts[0].dir, ".gantry");
	assert_string_equal(kvlist_get(&c.hosts[0].labels, "rack"), "r1");
	assert_string_equal(c.hosts[1].name, "cpu-box");
	assert_int_equal(c.hosts[1].gpus, 0);
	assert_null(c.hosts[1].gpu_type);
	assert_string_equal(c.hosts[1].dir, "work");
	assert_int_equal(c.connect_timeout_ms, 5000);
	assert_int_equal(c.io_timeout_ms, 20000);
	assert_int_equal(c.poll_ms, 2000);
	assert_true(c.has_rate_gpu);
	assert_false(c.has_rate_cpu);
	assert_true(c.has_jump);
	assert_int_equal(c.jump_port, 22);
	assert_int_equal(ssh_conf_host_index(&c, "cpu-box", 7), 1);
	assert_int_equal(ssh_conf_host_index(&c, "cpu", 3), -1);
	ssh_conf_free(&c);
	kvlist_free(&s);
	kvlist_free(&pos);

	expect_conf_error("colour", "red", "config.yaml:9:7: colour: unknown setting");
	expect_conf_error(
	    "hosts.0.port", "http",
	    "config.yaml:9:7: hosts.0.port: expected a whole number 1-65535, got 'http'");
	expect_conf_error("hosts.0.gpus", "-1", "hosts.0.gpus: expected a whole number 0-1024");
	expect_conf_error("hosts.0.colour", "x", "hosts.0.colour: unknown host setting");
	expect_conf_error("hosts.0.name", "a,b", "expected a host name of letters");
	expect_conf_error("rate_gpu_hour", "cheap", "rate_gpu_hour: expected a price");
	expect_conf_error("poll_ms", "1e3", "poll_ms: expected a whole number");
	expect_conf_error("hosts.0.dir", "../x", "'..' is not allowed");
	expect_conf_error("hosts.2.address", "10.0.0.3", "host 1 has no address");
	expect_conf_error("jump.port", "22", "jump: an address is required");
	expect_conf_error("hosts", "x", "expected a list of hosts");

	kvlist_init(&s);
	kv(&s, &pos, "user", "bob", 1);
	assert_int_equal(ssh_conf_parse(&s, NULL, "fleet", &c, &cause), -1);
	assert_string_equal(cause, "fleet: no hosts configured");
	free(cause);
	cause = NULL;
	kvlist_set(&s, "hosts.0.address", "10.0.0.1");
	kvlist_set(&s, "hosts.1.address", "10.0.0.1");
	assert_int_equal(ssh_conf_parse(&s, NULL, "fleet", &c, &cause), -1);
	assert_string_equal(cause, "fleet: hosts.1.address: host name '10.0.0.1' is used twice");
	free(cause);
	kvlist_free(&s);
	kvlist_free(&pos);
}

/* The status script run by a local sh over a hand-made job directory, parsed. */
static void test_status_script(void **state)
{
	char dir[] = "/tmp/gantry-test-sweep.XXXXXX";
	char *j, *cmd, *out, *cause = NULL;
	struct ssh_hosts_conn conn;
	struct ssh_sweep_result res;
	struct stat sb;
	int st;

	(void)state;
	assert_non_null(mkdtemp(dir));
	j = xprintf("%s/jobs/j1", dir);
	cmd = xprintf("mkdir -p %s %s/jobs/j2 && cd %s && printf 'job_id=j1\\nidem_key=k1\\n"
	              "rank=0\\n' >meta && echo 'exited 3' >exit && echo '0,1' >gpus && "
	              "printf 'a\\nlast words\\n\\n' >job.log && echo 4242 >port && "
	              "echo \"$$ $(cat /proc/sys/kernel/random/boot_id)\" >%s/jobs/j2/wrapper",
	              j, dir, j, dir);
	assert_int_equal(system(cmd), 0);
	free(cmd);
	cmd = xprintf("PATH=/usr/bin:/bin sh -s -- %s 2", dir);
	out = run_sh(cmd, ssh_remote_status_script, &st);
	assert_int_equal(st, 0);
	memset(&conn, 0, sizeof conn);
	conn.name = "local";
	assert_int_equal(ssh_hosts_parse_sweep(&conn, out, &res, &cause), 0);
	assert_true(res.tele.reachable);
	assert_true(res.tele.cpus > 0);
	assert_true(res.tele.cpu_pct.ok);
	assert_true(res.tele.mem_total_mib.ok);
	assert_true(res.tele.mem_used_mib.ok);
	if (stat("/usr/bin/nvidia-smi", &sb) != 0)
		assert_string_equal(res.tele.gpu_error, "nvidia-smi not found");
	assert_int_equal(res.njobs, 2);
	assert_string_equal(res.jobs[0].id, "j1");
	assert_true(res.jobs[0].has_exit);
	assert_string_equal(res.jobs[0].exit, "exited 3");
	assert_string_equal(res.jobs[0].gpus, "0,1");
	assert_int_equal(res.jobs[0].port, 4242);
	assert_string_equal(res.jobs[0].lastlog, "last words");
	assert_string_equal(kvlist_get(&res.jobs[0].meta, "idem_key"), "k1");
	assert_false(res.jobs[0].alive);
	assert_false(res.jobs[0].has_wrapper);
	assert_string_equal(res.jobs[1].id, "j2");
	/* the shell that wrote wrapper is gone: not alive */
	assert_true(res.jobs[1].has_wrapper);
	assert_false(res.jobs[1].wrapper);
	assert_true(conn.have_cpu);
	ssh_hosts_sweep_clear(&res);
	free(out);

	/* a later sweep takes one sample and compares with the previous one */
	free(cmd);
	cmd = xprintf("PATH=/usr/bin:/bin sh -s -- %s 1", dir);
	out = run_sh(cmd, ssh_remote_status_script, &st);
	assert_int_equal(ssh_hosts_parse_sweep(&conn, out, &res, &cause), 0);
	assert_int_equal(res.njobs, 2);
	ssh_hosts_sweep_clear(&res);
	free(out);

	/* output cut short is an error, not an empty host */
	assert_int_equal(ssh_hosts_parse_sweep(&conn, "@@now 1\n@@ncpu 2\n", &res, &cause), -1);
	assert_non_null(strstr(cause, "cut short"));
	free(cause);
	cause = NULL;

	/* nvidia-smi answers: parsed; its failure becomes gpu_error */
	assert_int_equal(
	    ssh_hosts_parse_sweep(&conn,
	                          "@@gpu 0\n0, NVIDIA H100 80GB HBM3, GPU-1, 5, 10, 81559, 30, "
	                          "[N/A], 700.00\n@@app 0\n@@end\n",
	                          &res, &cause),
	    0);
	assert_int_equal(res.tele.ngpus, 1);
	assert_false(res.tele.gpus[0].power_w.ok);
	assert_null(res.tele.gpu_error);
	ssh_hosts_sweep_clear(&res);
	assert_int_equal(ssh_hosts_parse_sweep(&conn,
	                                       "@@gpu 9\nNVIDIA-SMI has failed because it "
	                                       "couldn't communicate with the NVIDIA driver.\n"
	                                       "@@app 9\n@@end\n",
	                                       &res, &cause),
	                 0);
	assert_int_equal(res.tele.ngpus, 0);
	assert_string_equal(res.tele.gpu_error,
	                    "nvidia-smi failed (exit 9): NVIDIA-SMI has failed because it "
	                    "couldn't communicate with the NVIDIA driver.");
	ssh_hosts_sweep_clear(&res);

	free(cmd);
	cmd = xprintf("rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
	free(cmd);
	free(j);
}

/* The launch script run by a local sh: files, GPU choice, env quoting, idempotency. */
static void test_launch_script(void **state)
{
	char dir[] = "/tmp/gantry-test-launch.XXXXXX";
	struct ssh_remote_launch l;
	struct kvlist env;
	char *script, *out, *cause = NULL, *cmd, *path, *log = NULL;
	int st;

	(void)state;
	assert_non_null(mkdtemp(dir));
	kvlist_init(&env);
	kvlist_set(&env, "GREETING", "it's $(not run) `either`");
	memset(&l, 0, sizeof l);
	l.dir = dir;
	l.job_id = "jx1";
	l.idem_key = "key-1";
	l.name = "x";
	l.owner = "tester";
	l.installation_id = "0123abcd";
	l.kind = "training";
	l.script = "echo \"$GREETING|$CUDA_VISIBLE_DEVICES|$GANTRY_GPUS|$GANTRY_JOB_ID\"\n";
	l.env = &env;
	l.gpus = 2;
	l.gpus_total = 4;
	l.world = 1;
	script = ssh_remote_launch_script(&l, &cause);
	assert_non_null(script);
	cmd = xstrdup("sh -s");
	out = run_sh(cmd, script, &st);
	assert_int_equal(st, 0);
	if (strncmp(out, "@@ok pid=", 9) != 0)
		fail_msg("launch said: %s", out);
	assert_non_null(strstr(out, " gpus=0,1 port=0 master_port=0"));
	free(out);
	/* the job ends quickly; its log shows the env, quoted values intact */
	path = xprintf("%s/jobs/jx1/exit", dir);
	for (int i = 0; i < 200 && access(path, F_OK) != 0; i++)
		usleep(50000);
	assert_int_equal(access(path, F_OK), 0);
	free(path);
	path = xprintf("cat %s/jobs/jx1/job.log", dir);
	log = run_sh(path, "", &st);
	assert_string_equal(log, "it's $(not run) `either`|0,1|2|jx1\n");
	free(log);
	free(path);
	/* labelled: whose installation launched it, and its owner (reconcile) */
	path = xprintf("grep -x -e installation_id=0123abcd -e owner=tester %s/jobs/jx1/meta", dir);
	log = run_sh(path, "", &st);
	assert_string_equal(log, "owner=tester\ninstallation_id=0123abcd\n");
	free(log);
	free(path);
	/* the same id and key again: the same job, nothing new */
	out = run_sh(cmd, script, &st);
	assert_non_null(strstr(out, "@@ok pid="));
	assert_non_null(strstr(out, " gpus=0,1 "));
	free(out);
	free(script);
	/* another key with the same id is refused */
	l.idem_key = "key-2";
	script = ssh_remote_launch_script(&l, &cause);
	out = run_sh(cmd, script, &st);
	assert_non_null(strstr(out, "@@err "));
	assert_non_null(strstr(out, "already exists"));
	free(out);
	free(script);
	/* too many GPUs */
	l.job_id = "jx2";
	l.gpus = 5;
	script = ssh_remote_launch_script(&l, &cause);
	out = run_sh(cmd, script, &st);
	assert_string_equal(out, "@@nogpu 4\n");
	free(out);
	free(script);
	/* a name that is not a shell variable */
	kvlist_set(&env, "BAD-NAME", "x");
	assert_null(ssh_remote_launch_script(&l, &cause));
	assert_non_null(strstr(cause, "BAD-NAME"));
	free(cause);
	kvlist_free(&env);
	free(cmd);
	cmd = xprintf("rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
	free(cmd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_quote_roundtrip),
	    cmocka_unit_test(test_command),
	    cmocka_unit_test(test_conf),
	    cmocka_unit_test(test_status_script),
	    cmocka_unit_test(test_launch_script),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
