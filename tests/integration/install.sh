#!/usr/bin/env bash
# install.sh: `make install` puts the man page where man(1) finds it and the shell
# completions where bash-completion and zsh look; the page renders without warnings; the
# bash and zsh completions complete subcommands, options, job names and template names
# from the real gantry binary.
. "$(dirname "$0")/../lib/common.sh"

for tool in make man groff zsh; do
	if ! command -v "$tool" >/dev/null; then
		echo "FAIL - $tool is missing (./bootstrap test installs man-db, groff-base and zsh)"
		exit 1
	fi
done
builddir=$(cd "$(dirname "$GANTRY_BIN")" && pwd)
root=$T_HOME/root
check "make install DESTDIR=... succeeds" \
	bash -c "env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -s -C '$builddir' install 'DESTDIR=$root' >'$T_HOME/install.log'"
page=$(find "$root" -path '*/man1/gantry.1' -type f | head -1)
check "the man page is installed in a man1 directory: ${page#"$root"}" test -n "$page"
mandir=${page%/man1/gantry.1}
check "man finds it on that MANPATH" bash -c "[ \"\$(MANPATH='$mandir' man -w gantry)\" = '$page' ]"
check "groff renders it without warnings" bash -c "[ -z \"\$(groff -ww -z -man '$page' 2>&1)\" ]"
MANWIDTH=80 man --warnings -l "$page" >"$T_HOME/man.txt" 2>"$T_HOME/man.err"
check "man -l renders it without warnings" bash -c "[ ! -s '$T_HOME/man.err' ]"
check "the page documents gantry open" grep -q "gantry open" "$T_HOME/man.txt"
share=${mandir%/man}
bashc=$share/bash-completion/completions/gantry
zshc=$share/zsh/site-functions/_gantry
export bashc zshc
check "the bash completion is installed: ${bashc#"$root"}" test -f "$bashc"
check "the zsh completion is installed: ${zshc#"$root"}" test -f "$zshc"

# something to complete: a job and a user template
mkdir -p "$T_HOME/config/templates"
printf 'name: zz-mine\nkind: training\ndescription: mine\nrun: "true"\n' \
	>"$T_HOME/config/templates/zz-mine.yaml"
expect_rc 0 "launch a job to complete" g launch hello --name done-job --wait
id=$(job_field done-job id)

# bash: source the completion in a non-interactive bash and call its function
bcomp() {
	bash -c '. "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); _gantry; printf "%s\n" "${COMPREPLY[@]}"' \
		_ "$bashc" "$@"
}
export -f bcomp
check "bash: 'gantry la' -> launch" bash -c "[ \"\$(bcomp '$GANTRY_BIN' la)\" = launch ]"
check "bash: 'gantry op' -> open" bash -c "[ \"\$(bcomp '$GANTRY_BIN' op)\" = open ]"
check "bash: 'gantry launch zz' -> the user's template" bash -c "[ \"\$(bcomp '$GANTRY_BIN' launch zz)\" = zz-mine ]"
check "bash: 'gantry launch h' -> hello and http-endpoint" bash -c "[ \"\$(bcomp '$GANTRY_BIN' launch h | tr '\n' ' ')\" = 'hello http-endpoint ' ]"
check "bash: 'gantry -o json show do' -> the job's name" bash -c "[ \"\$(bcomp '$GANTRY_BIN' -o json show do)\" = done-job ]"
check "bash: 'gantry logs ${id:0:3}' -> the job's id" bash -c "bcomp '$GANTRY_BIN' logs '${id:0:3}' | grep -qx '$id'"
check "bash: 'gantry launch hello --dr' -> --dry-run" bash -c "[ \"\$(bcomp '$GANTRY_BIN' launch hello --dr)\" = --dry-run ]"
check "bash: 'gantry open --no' -> --no-clipboard" bash -c "[ \"\$(bcomp '$GANTRY_BIN' open --no)\" = --no-clipboard ]"
check "bash: 'gantry launch hello --provider ' -> local" bash -c "[ \"\$(bcomp '$GANTRY_BIN' launch hello --provider '')\" = local ]"
check "bash: no second job after 'gantry stop done-job '" bash -c "[ -z \"\$(bcomp '$GANTRY_BIN' stop done-job '')\" ]"
check "bash: 'gantry' on PATH works too" bash -c "PATH='$builddir':\$PATH; [ \"\$(bcomp gantry la)\" = launch ]"
check "bash: the file registers _gantry for gantry" bash -c ". '$bashc'; complete -p gantry | grep -q -- '-F _gantry'"

# zsh: parse it, then complete in a real interactive zsh in a pty (compinit with the
# installed site-functions directory on fpath), pressing Tab after each line
check "zsh: the file parses (zsh -n)" zsh -n "$zshc"
zdrive="$(cd "$(dirname "$0")/../lib" && pwd)/zsh_complete.zsh"
zcomp() { timeout 30 zsh -f "$zdrive" "${zshc%/*}" "$builddir" "$1" "$2" >>"$T_HOME/zsh.log" 2>&1; }
check "zsh: 'gantry la<Tab>' -> gantry launch" zcomp "gantry la" "gantry launch "
check "zsh: 'gantry launch zz<Tab>' -> the user's template" zcomp "gantry launch zz" "gantry launch zz-mine "
check "zsh: 'gantry -o json show do<Tab>' -> the job's name" zcomp "gantry -o json show do" "show done-job "
check "zsh: 'gantry logs ${id:0:3}<Tab>' -> the job's id" zcomp "gantry logs ${id:0:3}" "gantry logs $id "
check "zsh: 'gantry open --no-c<Tab>' -> --no-clipboard" zcomp "gantry open --no-c" "gantry open --no-clipboard "
check "zsh: 'gantry launch hello --provider <Tab>' -> local" zcomp "gantry launch hello --provider " "--provider local "
# the driver fails when the completion does not come (so the checks above mean something)
check "zsh: without _gantry on fpath nothing completes" bash -c "! timeout 30 zsh -f '$zdrive' '$T_HOME' '$builddir' 'gantry la' 'gantry launch ' >/dev/null 2>&1"
t_done
