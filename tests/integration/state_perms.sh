#!/usr/bin/env bash
# Trusted state: a state or config directory another local user can write (or owns) is refused
# by every command, naming the path and the chmod/chown; doctor fails on it; a symlink at
# gantry.db is refused; a user `nobody` racing a launch in a careless (world-writable)
# locks/, secrets/ and jobs/ never gets the notebook token or the job directory; doctor
# reports a damaged store. Run as root (victim) with `nobody` as the attacker.
. "$(dirname "$0")/../lib/common.sh"

if [ "$(id -u)" != 0 ] || ! id nobody >/dev/null 2>&1; then
	echo "SKIP: needs root and a user nobody"
	exit 77
fi

S=$T_HOME/state
expect_rc 0 "a fresh home works" g ls
expect_rc 0 "doctor is happy with it" g doctor
check "doctor checked the state directory" grep -q "^ok   permissions  *$S (uid 0, mode 0700)" "$T_HOME/out"
check "... and the store's pages" grep -q "^ok   store check *PRAGMA quick_check: ok" "$T_HOME/out"

# refused: NAME DIR — every command (a CLI one, doctor, the TUI on a terminal) names DIR and
# the command that fixes it
refused() {
	local what=$1 dir=$2 fix=$3 rc=0
	expect_rc 4 "$what: gantry ls refuses" g ls
	check "... naming the path and the fix" grep -qF "$dir" "$T_HOME/err"
	check "... with \`$fix $dir\`" grep -qF "\`$fix $dir\`" "$T_HOME/err"
	check "... on one line" test "$(wc -l <"$T_HOME/err")" = 1
	expect_rc 4 "$what: gantry launch refuses" g launch hello
	expect_rc 1 "$what: doctor fails" g doctor
	check "... with a FAIL naming the fix" grep -qF "FAIL permissions" "$T_HOME/out"
	grep -qF "\`$fix $dir\`" "$T_HOME/out" && ok "... and the path" || fail "doctor: $(cat "$T_HOME/out")"
	timeout 20 script -qec "$GANTRY_BIN" /dev/null </dev/null >"$T_HOME/tui" 2>&1 || rc=$?
	check "$what: the TUI refuses (exit $rc)" test "$rc" = 4
	check "... naming the path" grep -qF "$dir" "$T_HOME/tui"
}

chmod 0777 "$S"
refused "state/ writable by all" "$S" "chmod go-w"
chmod 0770 "$S"
refused "state/ writable by its group" "$S" "chmod go-w"
chmod 0700 "$S"

chown nobody "$S/jobs"
refused "jobs/ owned by nobody" "$S/jobs" "chown root"
chown root "$S/jobs"

chmod 0733 "$S/secrets"
refused "secrets/ writable by others" "$S/secrets" "chmod go-w"
chmod 0700 "$S/secrets"

chmod 0757 "$T_HOME"
refused "GANTRY_HOME writable by others" "$T_HOME" "chmod go-w"
chmod 0700 "$T_HOME"

mkdir -p "$T_HOME/config"
chmod 0775 "$T_HOME/config"
refused "the config directory writable by its group" "$T_HOME/config" "chmod go-w"
chmod 0700 "$T_HOME/config"

# the files in it: a template or config.yaml another user can change runs code as you
mkdir -p "$T_HOME/config/templates"
printf 'name: mine\nkind: training\ndescription: mine\nrun: echo mine\n' >"$T_HOME/config/templates/mine.yaml"
chmod 0664 "$T_HOME/config/templates/mine.yaml"
refused "a template writable by its group" "$T_HOME/config/templates/mine.yaml" "chmod go-w"
chmod 0644 "$T_HOME/config/templates/mine.yaml"
echo "refresh_ms: 1000" >"$T_HOME/dotfile.yaml"
ln -s "$T_HOME/dotfile.yaml" "$T_HOME/config/config.yaml"
expect_rc 0 "config.yaml as a link of yours to a private file works" g ls
chmod 0666 "$T_HOME/dotfile.yaml"
refused "config.yaml linked to a file writable by all" "$T_HOME/dotfile.yaml" "chmod go-w"
rm "$T_HOME/config/config.yaml" "$T_HOME/dotfile.yaml"

expect_rc 0 "back to private: it works again" g ls

# A sticky, world-writable directory above (like /tmp) is fine; a plain one is not.
mkdir -p "$T_HOME/shared"
chmod 1777 "$T_HOME/shared"
GANTRY_HOME=$T_HOME/shared/h expect_rc 0 "a home below a sticky directory works" g ls
chmod 0777 "$T_HOME/shared"
GANTRY_HOME=$T_HOME/shared/h expect_rc 4 "... below a plain world-writable one it is refused" g ls
check "... naming that directory" grep -qF "\`chmod go-w $T_HOME/shared\`" "$T_HOME/err"
# a symlink on the way is trusted no more than the directory that holds it
chmod 1777 "$T_HOME/shared"
mkdir -p "$T_HOME/open" && chmod 0777 "$T_HOME/open" && mkdir -p "$T_HOME/open/h"
ln -s "$T_HOME/open/h" "$T_HOME/link"
GANTRY_HOME=$T_HOME/link expect_rc 4 "a home reached through a link into a world-writable dir is refused" g ls
check "... naming the real directory" grep -qF "\`chmod go-w $T_HOME/open\`" "$T_HOME/err"

# gantry.db (or SQLite's side files) as a symlink: refused, nothing made through it
echo precious >"$T_HOME/precious"
mv "$S/gantry.db" "$S/gantry.db.real"
ln -s "$T_HOME/elsewhere.db" "$S/gantry.db"
expect_rc 4 "a symlink at gantry.db is refused" g ls
check "... naming it" grep -qF "$S/gantry.db is a symbolic link" "$T_HOME/err"
check "... nothing created through it" test ! -e "$T_HOME/elsewhere.db"
expect_rc 1 "doctor fails on it" g doctor
check "... saying so" grep -qF "FAIL permissions    $S/gantry.db is a symbolic link" "$T_HOME/out"
rm "$S/gantry.db"
mv "$S/gantry.db.real" "$S/gantry.db"
ln -s "$T_HOME/precious" "$S/gantry.db-wal"
expect_rc 4 "a symlink at gantry.db-wal is refused" g ls
check "... its target untouched" test "$(cat "$T_HOME/precious")" = precious
rm "$S/gantry.db-wal"
expect_rc 0 "without the links it works again" g ls

# --- the attack: nobody races a notebook launch in careless directories ---
# The attacker watches locks/ (inotify); when a launch lock appears it pre-creates
# secrets/ID.token (0666, its own) and jobs/ID (0777, its own), then reads the token file.
mkdir -p "$T_HOME/config/templates" "$T_HOME/att"
cat >"$T_HOME/config/templates/nb.yaml" <<'YAML'
name: nb
kind: notebook
description: a notebook that only sleeps
run: sleep 30
YAML
chmod 0711 "$T_HOME" "$S"
chmod 0777 "$S/locks" "$S/secrets" "$S/jobs" "$T_HOME/att"
cat >"$T_HOME/att/attack.py" <<'PY'
import ctypes, os, struct, sys, time
locks, secrets, jobs, out = sys.argv[1:5]
libc = ctypes.CDLL(None, use_errno=True)
fd = libc.inotify_init()
if fd < 0 or libc.inotify_add_watch(fd, locks.encode(), 0x100) < 0:  # IN_CREATE
    sys.exit("inotify: %d" % ctypes.get_errno())
open(os.path.join(out, "ready"), "w").close()
buf = os.read(fd, 4096)
name = buf[16:16 + struct.unpack_from("iIII", buf)[3]].split(b"\0")[0].decode()
job = name[:-len(".lock")]
tok = os.path.join(secrets, job + ".token")
try:
    t = os.open(tok, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o666)
    os.fchmod(t, 0o666)
    os.close(t)
except OSError:
    pass
try:
    os.mkdir(os.path.join(jobs, job), 0o777)
    os.chmod(os.path.join(jobs, job), 0o777)
except OSError:
    pass
loot = ""
for _ in range(200):  # up to 10 s for the victim to write it
    try:
        loot = open(tok).read()
    except OSError:
        pass
    if loot:
        break
    time.sleep(0.05)
open(os.path.join(out, "loot"), "w").write(loot)
open(os.path.join(out, "done"), "w").write(job)
PY
runuser -u nobody -- python3 "$T_HOME/att/attack.py" "$S/locks" "$S/secrets" "$S/jobs" \
	"$T_HOME/att" 2>"$T_HOME/att.log" &
att=$!
for ((i = 0; i < 200; i++)); do [ -e "$T_HOME/att/ready" ] && break; sleep 0.05; done
check "the attacker is watching" test -e "$T_HOME/att/ready"
rc=0
g launch nb >"$T_HOME/out" 2>"$T_HOME/err" || rc=$?
check "the launch in world-writable locks/secrets/jobs is refused (exit $rc)" test "$rc" = 4
if [ ! -e "$T_HOME/att/done" ]; then # refused before any lock: wake the attacker up
	kill "$att" 2>/dev/null || :
fi
wait "$att" 2>/dev/null || :
check "the attacker got no token" test ! -s "$T_HOME/att/loot"
check "no token file of the attacker's holds anything" \
	bash -c '! find "$1" -user nobody -type f -size +0 | grep -q .' _ "$S/secrets"
check "no job runs in a directory of the attacker's" \
	bash -c '! find "$1" -mindepth 1 -maxdepth 1 -user nobody -type d -exec test -e {}/run.sh \; -print | grep -q .' _ "$S/jobs"
find "$S/secrets" "$S/jobs" -mindepth 1 -maxdepth 1 -user nobody -exec rm -rf {} +
chmod 0700 "$T_HOME" "$S" "$S/locks" "$S/secrets" "$S/jobs"

# --- a damaged store: doctor runs PRAGMA quick_check and fails ---
for i in 1 2 3; do g launch hello >/dev/null 2>&1; done
g ls >/dev/null # settled; the WAL checkpointed when the last connection closes
check "no WAL left behind" test ! -e "$S/gantry.db-wal"
page=$(sqlite3 "$S/gantry.db" "SELECT rootpage FROM sqlite_master WHERE name='jobs_state'")
psize=$(sqlite3 "$S/gantry.db" "PRAGMA page_size")
printf '\377\377\377\377\377\377\377' |
	dd of="$S/gantry.db" bs=1 seek=$(((page - 1) * psize + 1)) conv=notrunc 2>/dev/null
expect_rc 0 "the damaged store still lists jobs" g ls
expect_rc 1 "doctor fails on a damaged store" g doctor
check "... saying what quick_check found" \
	grep -qE "^FAIL store check +$S/gantry.db is damaged \(PRAGMA quick_check: Page $page: " "$T_HOME/out"
t_done
