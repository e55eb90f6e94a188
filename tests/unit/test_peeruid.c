/* test_peeruid.c: the uid at the other end of real loopback connections (core/peeruid.c):
 * our own uid on both ends of a connection we made (IPv4 and IPv6, through netlink and
 * through /proc), another user's uid for a connection made by a child that became nobody
 * (as root), and no answer for what is not a connected TCP socket. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <grp.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/peeruid.h"

/* A listener on the loopback of the family (port picked), or -1. */
static int listen_lo(int family, int *port)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	int fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -1;
	memset(&ss, 0, sizeof ss);
	if (family == AF_INET) {
		struct sockaddr_in *in = (struct sockaddr_in *)&ss;

		in->sin_family = AF_INET;
		in->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		sl = sizeof *in;
	} else {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;

		in6->sin6_family = AF_INET6;
		in6->sin6_addr = in6addr_loopback;
		sl = sizeof *in6;
	}
	if (bind(fd, (struct sockaddr *)&ss, sl) != 0 || listen(fd, 8) != 0) {
		close(fd);
		return -1;
	}
	sl = sizeof ss;
	getsockname(fd, (struct sockaddr *)&ss, &sl);
	*port = ntohs(family == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port
	                                : ((struct sockaddr_in6 *)&ss)->sin6_port);
	return fd;
}

static int connect_lo(int family, int port)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	int fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);

	memset(&ss, 0, sizeof ss);
	if (family == AF_INET) {
		struct sockaddr_in *in = (struct sockaddr_in *)&ss;

		in->sin_family = AF_INET;
		in->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		in->sin_port = htons((uint16_t)port);
		sl = sizeof *in;
	} else {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;

		in6->sin6_family = AF_INET6;
		in6->sin6_addr = in6addr_loopback;
		in6->sin6_port = htons((uint16_t)port);
		sl = sizeof *in6;
	}
	if (fd >= 0 && connect(fd, (struct sockaddr *)&ss, sl) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static void own_uid(int family)
{
	int port, lfd = listen_lo(family, &port), cfd, afd;
	uid_t u = (uid_t)-2, peer;
	char *cause = NULL;

	if (lfd < 0 && family == AF_INET6)
		skip(); /* no IPv6 loopback here */
	assert_true(lfd >= 0);
	cfd = connect_lo(family, port);
	assert_true(cfd >= 0);
	afd = accept(lfd, NULL, NULL);
	assert_true(afd >= 0);
	/* the accepted end: the peer is the connecting socket, ours */
	assert_int_equal(peeruid_of(afd, &u, &cause), 0);
	assert_null(cause);
	assert_int_equal(u, getuid());
	/* and the other way round */
	u = (uid_t)-2;
	assert_int_equal(peeruid_of(cfd, &u, NULL), 0);
	assert_int_equal(u, getuid());
	/* netlink alone, and the /proc fallback alone, find the same */
	u = (uid_t)-2;
	assert_int_equal(peeruid_of_netlink(afd, &u, &cause), 0);
	assert_null(cause);
	assert_int_equal(u, getuid());
	u = (uid_t)-2;
	assert_int_equal(peeruid_of_proc(afd, &u, &cause), 0);
	assert_null(cause);
	assert_int_equal(u, getuid());
	assert_int_equal(peeruid_allow(afd, getuid(), &peer), 1);
	assert_int_equal(peer, getuid());
	assert_int_equal(peeruid_allow(afd, getuid() + 1, &peer), 0);
	assert_int_equal(peer, getuid());
	close(afd);
	close(cfd);
	close(lfd);
}

static void test_own_uid_v4(void **state)
{
	(void)state;
	own_uid(AF_INET);
}

static void test_own_uid_v6(void **state)
{
	(void)state;
	own_uid(AF_INET6);
}

/* A child that became nobody connects: its uid, not ours, through both lookups. */
static void test_other_user(void **state)
{
	struct passwd *pw = getpwnam("nobody");
	int port, lfd, afd, sync[2], st = 0;
	uid_t u = (uid_t)-2, peer;
	pid_t pid;
	char c;

	(void)state;
	if (geteuid() != 0 || pw == NULL) {
		if (getenv("CI") != NULL && strcmp(getenv("CI"), "true") == 0)
			fail_msg("CI=true: this test must run as root with a user nobody");
		skip();
	}
	lfd = listen_lo(AF_INET, &port);
	assert_true(lfd >= 0);
	assert_int_equal(pipe(sync), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int fd;

		close(sync[1]);
		if (setgroups(0, NULL) != 0 || setresgid(pw->pw_gid, pw->pw_gid, pw->pw_gid) != 0 ||
		    setresuid(pw->pw_uid, pw->pw_uid, pw->pw_uid) != 0)
			_exit(2);
		fd = connect_lo(AF_INET, port);
		if (fd < 0)
			_exit(3);
		/* hold the connection until the parent has looked */
		if (read(sync[0], &c, 1) < 0)
			_exit(4);
		_exit(0);
	}
	close(sync[0]);
	afd = accept(lfd, NULL, NULL);
	assert_true(afd >= 0);
	assert_int_equal(peeruid_of(afd, &u, NULL), 0);
	assert_int_equal(u, pw->pw_uid);
	u = (uid_t)-2;
	assert_int_equal(peeruid_of_netlink(afd, &u, NULL), 0);
	assert_int_equal(u, pw->pw_uid);
	u = (uid_t)-2;
	assert_int_equal(peeruid_of_proc(afd, &u, NULL), 0);
	assert_int_equal(u, pw->pw_uid);
	assert_int_equal(peeruid_allow(afd, getuid(), &peer), 0);
	assert_int_equal(peer, pw->pw_uid);
	assert_int_equal(peeruid_allow(afd, pw->pw_uid, &peer), 1);
	close(sync[1]);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	close(afd);
	close(lfd);
}

/* Not a connected TCP socket: no uid, a refusal. */
static void test_not_tcp(void **state)
{
	int p[2], sv[2], lfd, port;
	uid_t u = 0, peer;
	char *cause = NULL;

	(void)state;
	assert_int_equal(pipe(p), 0);
	assert_int_equal(peeruid_of(p[0], &u, &cause), -1);
	assert_non_null(cause);
	free(cause);
	cause = NULL;
	assert_int_equal(peeruid_allow(p[0], getuid(), &peer), 0);
	assert_int_equal(peer, (uid_t)-1);
	close(p[0]);
	close(p[1]);
	/* a listener has no peer */
	lfd = listen_lo(AF_INET, &port);
	assert_int_equal(peeruid_of(lfd, &u, &cause), -1);
	free(cause);
	close(lfd);
	/* a Unix socket pair: SO_PEERCRED */
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	u = (uid_t)-2;
	assert_int_equal(peeruid_of(sv[0], &u, NULL), 0);
	assert_int_equal(u, getuid());
	close(sv[0]);
	close(sv[1]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_own_uid_v4),
	    cmocka_unit_test(test_own_uid_v6),
	    cmocka_unit_test(test_other_user),
	    cmocka_unit_test(test_not_tcp),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
