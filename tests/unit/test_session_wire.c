/* test_session_wire.c: the frames of a brokered shell (core/session_wire.c) through a real
 * socket pair: round trips of every type, data cut into frames of at most SESSION_WIRE_MAX,
 * frames split across reads, and malformed frames (unknown type, wrong lengths) refused. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/session_wire.h"

static unsigned char payload[SESSION_WIRE_MAX];

/* Reads frames from fd until one is complete. */
static int next_frame(struct session_wire_in *in, int fd, int *type, size_t *len)
{
	for (;;) {
		int k = session_wire_next(in, type, payload, len);

		if (k != 0)
			return k;
		if (session_wire_fill(in, fd) <= 0)
			return -2;
	}
}

static void test_round_trip(void **state)
{
	static struct session_wire_in in;
	unsigned char ws[4] = {0, 40, 0, 132}, st[4] = {0, 0, 0, 7};
	int sv[2], type;
	size_t len;

	(void)state;
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	assert_int_equal(session_wire_send(sv[0], SESSION_FRAME_DATA, "hi\n", 3), 0);
	assert_int_equal(session_wire_send(sv[0], SESSION_FRAME_RESIZE, ws, 4), 0);
	assert_int_equal(session_wire_send(sv[0], SESSION_FRAME_EOF, NULL, 0), 0);
	assert_int_equal(session_wire_send(sv[0], SESSION_FRAME_EXIT, st, 4), 0);
	assert_int_equal(next_frame(&in, sv[1], &type, &len), 1);
	assert_int_equal(type, SESSION_FRAME_DATA);
	assert_int_equal(len, 3);
	assert_memory_equal(payload, "hi\n", 3);
	assert_int_equal(next_frame(&in, sv[1], &type, &len), 1);
	assert_int_equal(type, SESSION_FRAME_RESIZE);
	assert_memory_equal(payload, ws, 4);
	assert_int_equal(next_frame(&in, sv[1], &type, &len), 1);
	assert_int_equal(type, SESSION_FRAME_EOF);
	assert_int_equal(len, 0);
	assert_int_equal(next_frame(&in, sv[1], &type, &len), 1);
	assert_int_equal(type, SESSION_FRAME_EXIT);
	assert_memory_equal(payload, st, 4);
	close(sv[0]);
	assert_int_equal(session_wire_fill(&in, sv[1]), 0); /* EOF */
	close(sv[1]);
}

/* 40000 bytes go as three frames, whole and in order. */
static void test_big_data(void **state)
{
	static struct session_wire_in in;
	static unsigned char big[40000], got[40000];
	size_t n = 0, len;
	int sv[2], type, frames = 0, st = -1;
	pid_t pid;

	(void)state;
	for (size_t i = 0; i < sizeof big; i++)
		big[i] = (unsigned char)(i * 7);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) { /* the writer: the pair's buffer is smaller than the data */
		close(sv[1]);
		_exit(session_wire_send(sv[0], SESSION_FRAME_DATA, big, sizeof big) == 0 ? 0 : 1);
	}
	close(sv[0]);
	while (n < sizeof big) {
		assert_int_equal(next_frame(&in, sv[1], &type, &len), 1);
		assert_int_equal(type, SESSION_FRAME_DATA);
		assert_true(len <= SESSION_WIRE_MAX);
		memcpy(got + n, payload, len);
		n += len;
		frames++;
	}
	assert_int_equal(frames, 3);
	assert_memory_equal(got, big, sizeof big);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	close(sv[1]);
}

/* A frame cut anywhere waits for the rest. */
static void test_split(void **state)
{
	static struct session_wire_in in;
	const unsigned char f[] = {'d', 0, 5, 'a', 'b', 'c', 'd', 'e'};
	int type;
	size_t len;

	(void)state;
	for (size_t cut = 0; cut < sizeof f; cut++) {
		memset(&in, 0, sizeof in);
		memcpy(in.buf, f, cut);
		in.len = cut;
		assert_int_equal(session_wire_next(&in, &type, payload, &len), 0);
		memcpy(in.buf + cut, f + cut, sizeof f - cut);
		in.len = sizeof f;
		assert_int_equal(session_wire_next(&in, &type, payload, &len), 1);
		assert_int_equal(len, 5);
		assert_memory_equal(payload, "abcde", 5);
		assert_int_equal(in.len, 0);
	}
}

static void test_malformed(void **state)
{
	static struct session_wire_in in;
	const unsigned char bad[][4] = {
	    {'z', 0, 0, 0},       /* unknown type */
	    {'w', 0, 3, 0},       /* resize of 3 bytes */
	    {'x', 0, 2, 0},       /* exit of 2 bytes */
	    {'e', 0, 1, 0},       /* eof with a payload */
	    {'d', 0xff, 0xff, 0}, /* longer than SESSION_WIRE_MAX */
	};
	int type;
	size_t len;

	(void)state;
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		memset(&in, 0, sizeof in);
		memcpy(in.buf, bad[i], 4);
		in.len = 4;
		assert_int_equal(session_wire_next(&in, &type, payload, &len), -1);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_round_trip),
	    cmocka_unit_test(test_big_data),
	    cmocka_unit_test(test_split),
	    cmocka_unit_test(test_malformed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
