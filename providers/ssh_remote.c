/* ssh_remote.c: the shell scripts the `ssh` provider runs on its hosts, each sent on the
 * stdin of `sh -s -- ARGS` over one exec channel. Every value that is not a fixed number
 * reaches the shell single-quoted (ssh_remote_quote).
 *
 * Remote layout (DIR = the host's dir, relative paths under the remote home):
 *   DIR/gpu.lock              flock()ed while a launch picks GPUs and ports
 *   DIR/jobs/ID/meta          job_id=, idem_key=, name=, owner=, kind=, rank=, world=, hosts=,
 *                             installation_id= (the launching store's; reconcile),
 *                             attempt= (the launch attempt, when known)
 *   DIR/jobs/ID/run.sh        the job's script; env: its exported environment
 *   DIR/jobs/ID/gpus          GPU indices handed to the job ("0,1"; "" for none)
 *   DIR/jobs/ID/port          $GANTRY_PORT; master_port: $MASTER_PORT (multi-node)
 *   DIR/jobs/ID/readiness     "URL\nTIMEOUT_S\n" when a probe must pass before RUNNING
 *   DIR/jobs/ID/max_runtime   seconds before the job is stopped
 *   DIR/jobs/ID/wrap.sh       the detached wrapper; wrapper: "PID BOOT_ID" of it
 *   DIR/jobs/ID/pid           "PGID BOOT_ID": the job's process group (setsid: own session)
 *   DIR/jobs/ID/job.log       the job's stdout and stderr
 *   DIR/jobs/ID/ready, ready_failed, runtime_exceeded, stop, exit ("exited N" / "signal N")
 * A process counts as alive only on the boot it was started on (BOOT_ID), so a rebooted
 * host never mistakes a reused pid for a job. The wrapper runs the job in its own process
 * group, enforces the readiness timeout and max_runtime, and writes `exit` once the job and
 * every process of its group are gone. Exit statuses above 128 are reported as signals
 * (the shell's `wait` cannot tell `exit 130` from SIGINT). */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/nvsmi.h"
#include "core/xmalloc.h"
#include "providers/ssh_internal.h"

/* Helpers every script starts with: umask 077 (what Gantry creates on a host, the token in
 * jobs/ID/env included, is private to the login user), D (absolute base dir from $1), BOOT,
 * put, galive, palive. */
#define SSH_REMOTE_PRELUDE                                                                         \
	"umask 077\n"                                                                              \
	"D=$1\n"                                                                                   \
	"case $D in /*) ;; *) D=${HOME:-.}/$D ;; esac\n"                                           \
	"BOOT=$(cat /proc/sys/kernel/random/boot_id 2>/dev/null)\n"                                \
	"put() { printf '%s\\n' \"$2\" >\"$J/.$1.tmp\" && mv -f \"$J/.$1.tmp\" \"$J/$1\"; }\n"     \
	"okpid() { case $1 in ''|*[!0-9]*|0|1) return 1;; esac; [ \"$2\" = \"$BOOT\" ]; }\n"       \
	"galive() { gp= gb=; [ -s \"$1\" ] || return 1; read -r gp gb <\"$1\"; "                   \
	"okpid \"$gp\" \"$gb\" && kill -0 -\"$gp\" 2>/dev/null; }\n"                               \
	"palive() { gp= gb=; [ -s \"$1\" ] || return 1; read -r gp gb <\"$1\"; "                   \
	"okpid \"$gp\" \"$gb\" && kill -0 \"$gp\" 2>/dev/null; }\n"

const char ssh_remote_status_script[] = SSH_REMOTE_PRELUDE
    "now=$(date +%s)\n"
    "echo \"@@now $now\"\n"
    "IFS= read -r l </proc/stat; echo \"@@cpu $l\"\n"
    "if [ \"$2\" = 2 ]; then sleep 0.1; IFS= read -r l </proc/stat; echo \"@@cpu $l\"; fi\n"
    "echo \"@@ncpu $(grep -c '^cpu[0-9]' /proc/stat)\"\n"
    "mt= ma=\n"
    "while read -r k v u; do case $k in MemTotal:) mt=$v;; MemAvailable:) ma=$v;; esac; "
    "done </proc/meminfo\n"
    "echo \"@@mem $mt $ma\"\n"
    "if command -v nvidia-smi >/dev/null 2>&1; then\n"
    "  T=; command -v timeout >/dev/null 2>&1 && T='timeout 10'\n"
    "  o=$($T " NVSMI_GPU_CMD
    " </dev/null 2>&1); echo \"@@gpu $?\"; [ -n \"$o\" ] && printf '%s\\n' \"$o\"\n"
    "  o=$($T " NVSMI_APP_CMD
    " </dev/null 2>&1); echo \"@@app $?\"; [ -n \"$o\" ] && printf '%s\\n' \"$o\"\n"
    "else\n"
    "  echo @@nogpu\n"
    "fi\n"
    "for j in \"$D\"/jobs/*/; do\n"
    "  [ -d \"$j\" ] || continue\n"
    "  j=${j%/}; echo \"@@job ${j##*/}\"\n"
    "  [ -f \"$j/meta\" ] && while IFS= read -r l; do echo \"meta.$l\"; done <\"$j/meta\"\n"
    "  galive \"$j/pid\" && echo alive=1\n"
    "  [ -s \"$j/pid\" ] && echo has_pid=1\n"
    "  if [ -s \"$j/wrapper\" ]; then echo has_wrapper=1; palive \"$j/wrapper\" && echo wrapper=1\n"
    "  else echo \"age=$(( now - $(stat -c %Y \"$j\" 2>/dev/null || echo \"$now\") ))\"; fi\n"
    "  for f in exit stop readiness ready ready_failed runtime_exceeded gpus port master_port; do\n"
    "    if [ -f \"$j/$f\" ]; then v=; IFS= read -r v <\"$j/$f\"; echo \"$f=$v\"; fi\n"
    "  done\n"
    "  [ -f \"$j/exit\" ] && echo \"ended=$(stat -c %Y \"$j/exit\" 2>/dev/null)\"\n"
    "  if [ -f \"$j/exit\" ] && [ -f \"$j/job.log\" ]; then\n"
    "    echo \"lastlog=$(tail -c 2048 \"$j/job.log\" | grep -a -v '^[[:space:]]*$' | tail -n "
    "1)\"\n"
    "  fi\n"
    "done\n"
    "echo @@end\n";

const char ssh_remote_stop_script[] = SSH_REMOTE_PRELUDE
    "J=$D/jobs/$2 G=$3\n"
    "[ -d \"$J\" ] || { echo @@gone; exit 0; }\n"
    "[ -f \"$J/exit\" ] && { echo @@ended; exit 0; }\n"
    "put stop \"$G\" || { echo \"@@err cannot write $J/stop\"; exit 0; }\n"
    "if [ -s \"$J/pid\" ]; then\n"
    "  gp= gb=; read -r gp gb <\"$J/pid\"\n"
    "  if okpid \"$gp\" \"$gb\"; then\n"
    "    kill -TERM -\"$gp\" 2>/dev/null\n"
    "    { setsid sh -c 'sleep \"$1\"; kill -KILL -\"$2\" 2>/dev/null' gantry-kill \"$G\" \"$gp\" "
    "</dev/null >/dev/null 2>&1 & }\n"
    "  fi\n"
    "fi\n"
    "echo @@ok\n";

const char ssh_remote_logs_script[] = SSH_REMOTE_PRELUDE
    "J=$D/jobs/$2 OFF=$3 MAX=$4 SKIP=$5 KEEP=$6 f=$D/jobs/$2/job.log\n"
    "[ -d \"$J\" ] || { echo @@gone; exit 0; }\n"
    "e=0; [ -f \"$J/exit\" ] && e=1\n"
    "size=-1; [ -f \"$f\" ] && size=$(( $(wc -c <\"$f\") ))\n"
    "start=$OFF\n"
    "if [ \"$start\" -lt 0 ]; then start=$((size + start)); [ \"$start\" -lt 0 ] && start=0; fi\n"
    "if [ \"$SKIP\" -gt 0 ] && [ $((size - start)) -gt \"$SKIP\" ]; then start=$((size - KEEP)); "
    "fi\n"
    "echo \"@@log $size $e $start\"\n"
    "[ \"$size\" -gt \"$start\" ] && tail -c +$((start + 1)) \"$f\" | head -c \"$MAX\"\n"
    "exit 0\n";

const char ssh_remote_destroy_script[] = SSH_REMOTE_PRELUDE
    "J=$D/jobs/$2\n"
    "[ -d \"$J\" ] || { echo @@gone; exit 0; }\n"
    "for f in wrapper pid; do\n"
    "  if [ -s \"$J/$f\" ]; then\n"
    "    gp= gb=; read -r gp gb <\"$J/$f\"\n"
    "    okpid \"$gp\" \"$gb\" && kill -KILL -\"$gp\" 2>/dev/null\n"
    "  fi\n"
    "done\n"
    "if rm -rf \"$J\"; then echo @@ok; else echo \"@@err cannot remove $J\"; fi\n";

/* The detached wrapper ($1 = the job directory). */
static const char ssh_remote_wrapper[] =
    "umask 077\n"
    "J=$1\n"
    "BOOT=$(cat /proc/sys/kernel/random/boot_id 2>/dev/null)\n"
    "put() { printf '%s\\n' \"$2\" >\"$J/.$1.tmp\" && mv -f \"$J/.$1.tmp\" \"$J/$1\"; }\n"
    "probe() {\n"
    "  if command -v curl >/dev/null 2>&1; then\n"
    "    c=$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 \"$1\" 2>/dev/null)\n"
    "    case $c in 2[0-9][0-9]) return 0;; 000|'') last='no answer';; *) last=\"HTTP $c\";; esac\n"
    "    return 1\n"
    "  elif command -v python3 >/dev/null 2>&1; then\n"
    "    last=$(python3 -c 'import sys, urllib.request\n"
    "try:\n"
    "    r = urllib.request.urlopen(sys.argv[1], timeout=2)\n"
    "    sys.exit(0 if 200 <= r.status < 300 else print(\"HTTP %d\" % r.status) or 1)\n"
    "except Exception as e:\n"
    "    print(e); sys.exit(1)' \"$1\" 2>&1) && return 0\n"
    "    return 1\n"
    "  fi\n"
    "  last='neither curl nor python3 is installed on this host'\n"
    "  return 1\n"
    "}\n"
    "put wrapper \"$$ $BOOT\"\n"
    "cd \"$J/work\" 2>/dev/null || cd \"$J\" || exit 1\n"
    "if [ -f \"$J/stop\" ]; then put exit 'signal 15'; exit 0; fi\n"
    "setsid sh -c '. \"$1/env\" && exec sh \"$1/run.sh\"' gantry-job \"$J\" </dev/null "
    ">>\"$J/job.log\" 2>&1 &\n"
    "pid=$!\n"
    "put pid \"$pid $BOOT\"\n"
    "[ -f \"$J/stop\" ] && kill -TERM -\"$pid\" 2>/dev/null\n"
    "if [ -s \"$J/readiness\" ]; then\n"
    "  { IFS= read -r url; IFS= read -r to; } <\"$J/readiness\"\n"
    "  (\n"
    "    start=$(date +%s) last='no answer'\n"
    "    while :; do\n"
    "      [ -f \"$J/exit\" ] && exit 0\n"
    "      if probe \"$url\"; then put ready \"$(date +%s)000\"; exit 0; fi\n"
    "      [ $(( $(date +%s) - start )) -ge \"$to\" ] && break\n"
    "      sleep 1\n"
    "    done\n"
    "    [ -f \"$J/exit\" ] && exit 0\n"
    "    put ready_failed \"readiness probe GET $url did not answer 2xx within $to s (last: "
    "$last)\"\n"
    "    kill -TERM -\"$pid\" 2>/dev/null; sleep 10; kill -KILL -\"$pid\" 2>/dev/null\n"
    "  ) &\n"
    "fi\n"
    "if [ -s \"$J/max_runtime\" ]; then\n"
    "  read -r max <\"$J/max_runtime\"\n"
    "  (\n"
    "    sleep \"$max\"\n"
    "    [ -f \"$J/exit\" ] && exit 0\n"
    "    put runtime_exceeded \"stopped: it ran past its max_runtime of $max s\"\n"
    "    kill -TERM -\"$pid\" 2>/dev/null; sleep 10; kill -KILL -\"$pid\" 2>/dev/null\n"
    "  ) &\n"
    "fi\n"
    "wait \"$pid\"; rc=$?\n"
    "while kill -0 -\"$pid\" 2>/dev/null; do sleep 0.2; done\n"
    "if [ \"$rc\" -gt 128 ] && [ \"$rc\" -lt 192 ]; then put exit \"signal $((rc - 128))\"\n"
    "else put exit \"exited $rc\"; fi\n"
    "kill -KILL 0\n";

/* The fixed part of the launch script; the variables come first (see
 * ssh_remote_launch_script). */
static const char ssh_remote_launch_body[] =
    "J=$D/jobs/$ID\n"
    "for t in setsid flock; do\n"
    "  command -v \"$t\" >/dev/null 2>&1 || { echo \"@@err $t is not installed on this host\"; "
    "exit 0; }\n"
    "done\n"
    "mkdir -p \"$D/jobs\" 2>/dev/null || { echo \"@@err cannot create $D/jobs\"; exit 0; }\n"
    "exec 9>>\"$D/gpu.lock\" || { echo \"@@err cannot open $D/gpu.lock\"; exit 0; }\n"
    "flock -w 60 9 || { echo \"@@err timed out waiting for $D/gpu.lock\"; exit 0; }\n"
    "report() {\n"
    "  p= x= g= pt= mp=\n"
    "  [ -s \"$J/pid\" ] && read -r p x <\"$J/pid\"\n"
    "  [ -f \"$J/gpus\" ] && IFS= read -r g <\"$J/gpus\"\n"
    "  [ -f \"$J/port\" ] && read -r pt <\"$J/port\"\n"
    "  [ -f \"$J/master_port\" ] && read -r mp <\"$J/master_port\"\n"
    "  echo \"@@ok pid=${p:-0} gpus=$g port=${pt:-0} master_port=${mp:-0}\"\n"
    "}\n"
    "if [ -e \"$J\" ]; then\n"
    "  k=\n"
    "  [ -f \"$J/meta\" ] && while IFS= read -r l; do case $l in idem_key=*) k=${l#idem_key=};; "
    "esac; done <\"$J/meta\"\n"
    "  if [ \"$k\" = \"$IDEM\" ]; then report; exit 0; fi\n"
    "  echo \"@@err $J already exists for another launch\"; exit 0\n"
    "fi\n"
    "busy=' ' ports=' '\n"
    "addgpus() { o=$IFS; IFS=,; for x in $1; do busy=\"$busy$x \"; done; IFS=$o; }\n"
    "for j in \"$D\"/jobs/*/; do\n"
    "  [ -d \"$j\" ] || continue; j=${j%/}\n"
    "  if galive \"$j/pid\" || { [ ! -f \"$j/exit\" ] && palive \"$j/wrapper\"; }; then\n"
    "    g=; [ -f \"$j/gpus\" ] && IFS= read -r g <\"$j/gpus\"; addgpus \"$g\"\n"
    "    for f in port master_port; do\n"
    "      [ -f \"$j/$f\" ] && { x=; read -r x <\"$j/$f\"; ports=\"$ports$x \"; }\n"
    "    done\n"
    "  fi\n"
    "done\n"
    "picked= n=0 i=0\n"
    "while [ \"$i\" -lt \"$TOTAL\" ] && [ \"$n\" -lt \"$NEED\" ]; do\n"
    "  case $busy in *\" $i \"*) ;; *) picked=${picked:+$picked,}$i; n=$((n + 1));; esac\n"
    "  i=$((i + 1))\n"
    "done\n"
    "if [ \"$n\" -lt \"$NEED\" ]; then\n"
    "  [ \"$SHARED\" = 1 ] && [ \"$TOTAL\" -ge \"$NEED\" ] || { echo \"@@nogpu $n\"; exit 0; }\n"
    "  i=0\n"
    "  while [ \"$n\" -lt \"$NEED\" ]; do\n"
    "    case ,$picked, in *\",$i,\"*) ;; *) picked=${picked:+$picked,}$i; n=$((n + 1));; esac\n"
    "    i=$((i + 1))\n"
    "  done\n"
    "fi\n"
    "pick_port() {\n"
    "  t=0\n"
    "  while [ \"$t\" -lt 200 ]; do\n"
    "    t=$((t + 1))\n"
    "    r=$(od -An -N2 -tu2 /dev/urandom 2>/dev/null | tr -dc 0-9)\n"
    "    pp=$(( 20000 + ${r:-$(( $$ * 131 + t * 977 ))} % 40000 ))\n"
    "    case $ports in *\" $pp \"*) continue;; esac\n"
    "    grep -q \":$(printf '%04X' \"$pp\") \" /proc/net/tcp /proc/net/tcp6 2>/dev/null && "
    "continue\n"
    "    echo \"$pp\"; return 0\n"
    "  done\n"
    "  return 1\n"
    "}\n"
    "PORT=0\n"
    "if [ \"$FIXED\" -gt 0 ]; then PORT=$FIXED\n"
    "elif [ \"$WANTPORT\" = 1 ]; then\n"
    "  PORT=$(pick_port) || { echo '@@err no free port found'; exit 0; }\n"
    "  ports=\"$ports$PORT \"\n"
    "fi\n"
    "if [ \"$WORLD\" -gt 1 ] && [ \"$MP\" = 0 ]; then\n"
    "  MP=$(pick_port) || { echo '@@err no free port found'; exit 0; }\n"
    "fi\n"
    "mkdir \"$J\" \"$J/work\" || { echo \"@@err cannot create $J\"; exit 0; }\n"
    "printf '%s' \"$SCRIPT\" >\"$J/run.sh\"\n"
    "printf '%s\\n' \"$META\" >\"$J/meta\"\n"
    "printf '%s\\n' \"$picked\" >\"$J/gpus\"\n"
    "[ \"$PORT\" -gt 0 ] && echo \"$PORT\" >\"$J/port\"\n"
    "[ \"$WORLD\" -gt 1 ] && echo \"$MP\" >\"$J/master_port\"\n"
    "case $U0 in ''|*[!0-7]*) U0=077;; esac\n"
    "{\n"
    "  printf '%s' \"$ENVTEXT\"\n"
    "  echo \"umask $U0\"\n"
    "  echo \"export CUDA_VISIBLE_DEVICES='$picked'\"\n"
    "  echo \"export GANTRY_GPUS=$NEED\"\n"
    "  [ \"$PORT\" -gt 0 ] && echo \"export GANTRY_PORT=$PORT\"\n"
    "  [ \"$WORLD\" -gt 1 ] && echo \"export MASTER_PORT=$MP\"\n"
    "} >\"$J/env\"\n"
    "[ -n \"$RPATH\" ] && [ \"$PORT\" -gt 0 ] && printf 'http://127.0.0.1:%s%s\\n%s\\n' "
    "\"$PORT\" \"$RPATH\" \"$RTO\" >\"$J/readiness\"\n"
    "[ \"$MAXRT\" -gt 0 ] && echo \"$MAXRT\" >\"$J/max_runtime\"\n"
    "printf '%s' \"$WRAP\" >\"$J/wrap.sh\"\n"
    "{ setsid sh \"$J/wrap.sh\" \"$J\" </dev/null >/dev/null 2>&1 9>&- & }\n"
    "i=0\n"
    "while [ ! -s \"$J/pid\" ] && [ ! -f \"$J/exit\" ] && [ \"$i\" -lt 200 ]; do sleep 0.05; "
    "i=$((i + 1)); done\n"
    "report\n";

char *ssh_remote_quote(const char *s)
{
	size_t n = 2;
	char *out, *o;

	for (const char *c = s; *c != '\0'; c++)
		n += *c == '\'' ? 4 : 1;
	out = xmalloc(n + 1);
	o = out;
	*o++ = '\'';
	for (const char *c = s; *c != '\0'; c++) {
		if (*c == '\'') {
			memcpy(o, "'\\''", 4);
			o += 4;
		} else {
			*o++ = *c;
		}
	}
	*o++ = '\'';
	*o = '\0';
	return out;
}

char *ssh_remote_command(const char *arg, ...)
{
	va_list ap;
	char *cmd = xstrdup("sh -s --");

	va_start(ap, arg);
	for (const char *a = arg; a != NULL; a = va_arg(ap, const char *)) {
		char *q = ssh_remote_quote(a), *next = xprintf("%s %s", cmd, q);

		free(q);
		free(cmd);
		cmd = next;
	}
	va_end(ap);
	return cmd;
}

static int ssh_remote_env_name_ok(const char *k)
{
	if (!isalpha((unsigned char)*k) && *k != '_')
		return 0;
	for (; *k != '\0'; k++)
		if (!isalnum((unsigned char)*k) && *k != '_')
			return 0;
	return 1;
}

/* Appends "NAME=QUOTED\n" (a shell variable assignment) to *buf. */
static void ssh_remote_assign(char **buf, const char *name, const char *value)
{
	char *q = ssh_remote_quote(value != NULL ? value : "");
	char *next = xprintf("%s%s=%s\n", *buf, name, q);

	free(q);
	free(*buf);
	*buf = next;
}

/* Appends "export NAME='VALUE'\n" to *buf (the text of the env file). */
static void ssh_remote_export(char **buf, const char *name, const char *value)
{
	char *q = ssh_remote_quote(value != NULL ? value : "");
	char *next = xprintf("%sexport %s=%s\n", *buf, name, q);

	free(q);
	free(*buf);
	*buf = next;
}

/* A meta value on one line. */
static char *ssh_remote_meta_value(const char *v)
{
	char *s = xstrdup(v != NULL ? v : "");

	for (char *c = s; *c != '\0'; c++)
		if (*c == '\n' || *c == '\r')
			*c = ' ';
	return s;
}

/* The env file starts by dropping every variable of the worker login's environment but
 * the minimal set (HOME, USER, LOGNAME, PATH, SHELL, LANG, LC_*, TZ, TERM) and what
 * job_env.pass names (NAME or PREFIX*), as local jobs do (local_build_env); what follows
 * (template env, GANTRY_*) is set after. (unset) tried in a subshell first: a failed unset
 * of a special builtin would end the shell. */
static void ssh_remote_env_filter(char **buf, const char *const *pass)
{
	char *keep = xstrdup("");

	for (size_t i = 0; pass != NULL && pass[i] != NULL; i++) {
		size_t n = strlen(pass[i]);
		int prefix = n > 0 && pass[i][n - 1] == '*';
		char *name = xstrndup(pass[i], prefix ? n - 1 : n);
		char *q = ssh_remote_quote(name);
		char *next =
		    xprintf("%s%s%s%s", keep, keep[0] != '\0' ? "|" : "", q, prefix ? "*" : "");

		free(q);
		free(name);
		free(keep);
		keep = next;
	}
	{
		char *next = xprintf(
		    "%sfor gantry_n in $(env | sed -n 's/^\\([A-Za-z_][A-Za-z0-9_]*\\)=.*/\\1/p'); "
		    "do\n"
		    "  case $gantry_n in HOME|USER|LOGNAME|PATH|SHELL|LANG|LC_*|TZ|TERM|PWD) "
		    "continue;; esac\n"
		    "%s%s%s"
		    "  (unset \"$gantry_n\") 2>/dev/null && unset \"$gantry_n\"\n"
		    "done\n"
		    "unset gantry_n\n",
		    *buf, keep[0] != '\0' ? "  case $gantry_n in " : "", keep,
		    keep[0] != '\0' ? ") continue;; esac\n" : "");

		free(*buf);
		*buf = next;
	}
	free(keep);
}

static int ssh_remote_reserved(const char *k)
{
	static const char *const names[] = {"GANTRY_JOB_ID",        "GANTRY_GPUS", "GANTRY_PORT",
	                                    "CUDA_VISIBLE_DEVICES", "RANK",        "WORLD_SIZE",
	                                    "MASTER_ADDR",          "MASTER_PORT"};

	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		if (strcmp(k, names[i]) == 0)
			return 1;
	return 0;
}

/* Appends the installation label to the meta text (reconcile: whose job this is). */
static void ssh_remote_label(char **meta, const char *installation_id)
{
	char *v = ssh_remote_meta_value(installation_id);
	char *next = xprintf("%s\ninstallation_id=%s", *meta, v);

	free(v);
	free(*meta);
	*meta = next;
}

char *ssh_remote_env_text(const struct kvlist *env, const char *const *pass, const char *job_id,
                          char **cause)
{
	char *text = xstrdup("");

	ssh_remote_env_filter(&text, pass);
	for (size_t i = 0; env != NULL && i < env->n; i++) {
		if (!ssh_remote_env_name_ok(env->keys[i])) {
			xcause(cause, "environment variable name '%s' is not a valid shell name",
			       env->keys[i]);
			free(text);
			return NULL;
		}
		if (!ssh_remote_reserved(env->keys[i]))
			ssh_remote_export(&text, env->keys[i], env->vals[i]);
	}
	ssh_remote_export(&text, "GANTRY_JOB_ID", job_id);
	return text;
}

char *ssh_remote_launch_script(const struct ssh_remote_launch *l, char **cause)
{
	char *vars = xstrdup(""), *env = xstrdup(""), *meta, *text, *dq, *n[6];
	char num[32];

	ssh_remote_env_filter(&env, l->env_pass);
	if (l->env != NULL) {
		for (size_t i = 0; i < l->env->n; i++) {
			if (!ssh_remote_env_name_ok(l->env->keys[i])) {
				xcause(cause,
				       "environment variable name '%s' is not a valid shell "
				       "name",
				       l->env->keys[i]);
				free(vars);
				free(env);
				return NULL;
			}
			if (!ssh_remote_reserved(l->env->keys[i]))
				ssh_remote_export(&env, l->env->keys[i], l->env->vals[i]);
		}
	}
	ssh_remote_export(&env, "GANTRY_JOB_ID", l->job_id);
	if (l->world > 1) {
		snprintf(num, sizeof num, "%d", l->rank);
		ssh_remote_export(&env, "RANK", num);
		snprintf(num, sizeof num, "%d", l->world);
		ssh_remote_export(&env, "WORLD_SIZE", num);
		ssh_remote_export(&env, "MASTER_ADDR", l->master_addr);
	}
	n[0] = ssh_remote_meta_value(l->job_id);
	n[1] = ssh_remote_meta_value(l->idem_key);
	n[2] = ssh_remote_meta_value(l->name);
	n[3] = ssh_remote_meta_value(l->owner);
	n[4] = ssh_remote_meta_value(l->kind);
	n[5] = ssh_remote_meta_value(l->hosts);
	meta = xprintf("job_id=%s\nidem_key=%s\nname=%s\nowner=%s\nkind=%s\nrank=%d\nworld=%d\n"
	               "hosts=%s",
	               n[0], n[1], n[2], n[3], n[4], l->rank, l->world > 0 ? l->world : 1, n[5]);
	if (l->installation_id != NULL)
		ssh_remote_label(&meta, l->installation_id);
	if (l->attempt > 0) {
		char *next = xprintf("%s\nattempt=%d", meta, l->attempt);

		free(meta);
		meta = next;
	}
	ssh_remote_assign(&vars, "ID", l->job_id);
	ssh_remote_assign(&vars, "IDEM", n[1]);
	for (size_t i = 0; i < 6; i++)
		free(n[i]);
	ssh_remote_assign(&vars, "META", meta);
	ssh_remote_assign(&vars, "SCRIPT", l->script);
	ssh_remote_assign(&vars, "ENVTEXT", env);
	ssh_remote_assign(&vars, "WRAP", ssh_remote_wrapper);
	if (l->readiness_path != NULL && l->readiness_path[0] != '\0') {
		char *path =
		    xprintf("%s%s", l->readiness_path[0] == '/' ? "" : "/", l->readiness_path);

		ssh_remote_assign(&vars, "RPATH", path);
		free(path);
	} else {
		ssh_remote_assign(&vars, "RPATH", "");
	}
	dq = ssh_remote_quote(l->dir);
	/* U0: the login's umask, which the job itself gets back (through its env file) */
	text = xprintf("set -- %s\nU0=$(umask)\n%s"
	               "NEED=%d TOTAL=%d SHARED=%d WANTPORT=%d FIXED=%d RTO=%d MAXRT=%ld "
	               "WORLD=%d MP=%d\n%s%s",
	               dq, SSH_REMOTE_PRELUDE, l->gpus > 0 ? l->gpus : 0,
	               l->gpus_total > 0 ? l->gpus_total : 0, l->gpu_shared ? 1 : 0,
	               l->want_port ? 1 : 0, l->fixed_port > 0 ? l->fixed_port : 0,
	               l->readiness_timeout_s > 0 ? l->readiness_timeout_s : 120,
	               l->max_runtime_s > 0 ? l->max_runtime_s : 0L, l->world > 1 ? l->world : 1,
	               l->master_port > 0 ? l->master_port : 0, vars, ssh_remote_launch_body);
	free(dq);
	free(meta);
	free(vars);
	free(env);
	return text;
}
