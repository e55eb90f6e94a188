/* test_ssh.c: the parts of core/ssh that need no server: the printed OpenSSH command line
 * and its quoting, target labels, error messages, base64 for fingerprints and known_hosts,
 * and errors that come before any traffic. Everything with a server is in
 * tests/integration/ssh_*.sh. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/ssh.h"
#include "core/ssh_internal.h"

static void check_command(const struct ssh_target *t, const char *cmd, int tty, const char *want)
{
	char *got = ssh_print_command(t, cmd, tty);

	assert_string_equal(got, want);
	free(got);
}

static void test_command_plain(void **state)
{
	struct ssh_target t = {.host = "gpu1"};

	(void)state;
	check_command(&t, NULL, 0, "ssh -o StrictHostKeyChecking=yes gpu1");
	t.port = 22;
	t.user = "ana";
	check_command(&t, NULL, 1, "ssh -o StrictHostKeyChecking=yes -t ana@gpu1");
	t.port = 2222;
	t.key_file = "/k/id";
	t.known_hosts = "/k/kh";
	check_command(&t, "nvidia-smi -L", 0,
	              "ssh -p 2222 -i /k/id -o IdentitiesOnly=yes -o UserKnownHostsFile=/k/kh "
	              "-o StrictHostKeyChecking=yes ana@gpu1 'nvidia-smi -L'");
}

static void test_command_quoting(void **state)
{
	struct ssh_target t = {.host = "h", .key_file = "/a b/it's", .known_hosts = "/x/k\"h"};

	(void)state;
	check_command(&t, "echo 'x'; $HOME", 0,
	              "ssh -i '/a b/it'\\''s' -o IdentitiesOnly=yes "
	              "-o 'UserKnownHostsFile=\"/x/k\\\"h\"' -o StrictHostKeyChecking=yes h "
	              "'echo '\\''x'\\''; $HOME'");
	/* % is expanded by ssh in IdentityFile and UserKnownHostsFile: doubled */
	t.key_file = "/p%h/k";
	t.known_hosts = "/p%h/kh";
	check_command(&t, "", 0,
	              "ssh -o IdentityFile=/p%%h/k -o IdentitiesOnly=yes "
	              "-o UserKnownHostsFile=/p%%h/kh -o StrictHostKeyChecking=yes h ''");
}

static void test_command_jump(void **state)
{
	struct ssh_target j = {.host = "login", .user = "ana", .port = 2200};
	struct ssh_target t = {.host = "gpu1", .user = "ana", .jump = &j};

	(void)state;
	check_command(&t, NULL, 1,
	              "ssh -o StrictHostKeyChecking=yes -J ana@login:2200 -t ana@gpu1");
	j.port = 0;
	check_command(&t, NULL, 0, "ssh -o StrictHostKeyChecking=yes -J ana@login ana@gpu1");
	/* a jump with its own key: -J takes no per-hop options */
	j.key_file = "/k/j d";
	j.known_hosts = "/k/%kh";
	check_command(&t, NULL, 0,
	              "ssh -o StrictHostKeyChecking=yes -o 'ProxyCommand=ssh -i '\\''/k/j d'\\'' "
	              "-o IdentitiesOnly=yes -o UserKnownHostsFile=/k/%%%%kh "
	              "-o StrictHostKeyChecking=yes -W %h:%p ana@login' ana@gpu1");
}

static void test_label(void **state)
{
	struct ssh_target t = {.host = "10.0.0.5"};
	char *s;

	(void)state;
	s = ssh_target_label(&t);
	assert_string_equal(s, "10.0.0.5:22");
	free(s);
	t.user = "root";
	t.port = 2222;
	s = ssh_target_label(&t);
	assert_string_equal(s, "root@10.0.0.5:2222");
	free(s);
}

static void test_error_set(void **state)
{
	struct ssh_error err;
	char big[1000];

	(void)state;
	memset(&err, 'x', sizeof err);
	ssh_error_set(&err, SSH_ERR_CONNECT, "%s: %s", "gpu1 (127.0.0.2:22)", "connection refused");
	assert_int_equal(err.code, SSH_ERR_CONNECT);
	assert_string_equal(err.msg, "gpu1 (127.0.0.2:22): connection refused");
	assert_string_equal(err.fingerprint, "");
	assert_string_equal(err.keytype, "");
	memset(big, 'a', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	ssh_error_set(&err, SSH_ERR_LOCAL, "%s", big);
	assert_int_equal(strlen(err.msg), sizeof err.msg - 1);
	ssh_error_set(NULL, SSH_ERR_LOCAL, "no crash");
}

static void test_base64(void **state)
{
	static const struct {
		const char *in, *pad, *nopad;
	} v[] = {{"", "", ""},
	         {"f", "Zg==", "Zg"},
	         {"fo", "Zm8=", "Zm8"},
	         {"foo", "Zm9v", "Zm9v"},
	         {"foob", "Zm9vYg==", "Zm9vYg"},
	         {"\xff\xfe\xfd", "//79", "//79"}};
	size_t i;
	char *s;

	(void)state;
	for (i = 0; i < sizeof v / sizeof v[0]; i++) {
		s = ssh_knownhosts_base64((const unsigned char *)v[i].in, strlen(v[i].in), 1);
		assert_string_equal(s, v[i].pad);
		free(s);
		s = ssh_knownhosts_base64((const unsigned char *)v[i].in, strlen(v[i].in), 0);
		assert_string_equal(s, v[i].nopad);
		free(s);
	}
}

static void test_connect_local_errors(void **state)
{
	struct ssh_target t = {.host = ""};
	struct ssh_session *s = (struct ssh_session *)&t;
	struct ssh_error err;

	(void)state;
	assert_int_equal(ssh_global_init(), 0);
	assert_int_equal(ssh_global_init(), 0);
	assert_int_equal(ssh_connect(&t, &s, &err), -1);
	assert_null(s);
	assert_int_equal(err.code, SSH_ERR_LOCAL);
	t.host = "127.0.0.1";
	t.port = 70000;
	assert_int_equal(ssh_connect(&t, &s, &err), -1);
	assert_null(s);
	assert_int_equal(err.code, SSH_ERR_LOCAL);
	assert_string_equal(err.msg, "127.0.0.1: bad port 70000");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_command_plain),
	    cmocka_unit_test(test_command_quoting),
	    cmocka_unit_test(test_command_jump),
	    cmocka_unit_test(test_label),
	    cmocka_unit_test(test_error_set),
	    cmocka_unit_test(test_base64),
	    cmocka_unit_test(test_connect_local_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
