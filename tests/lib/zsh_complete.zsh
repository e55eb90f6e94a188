# zsh_complete.zsh: drives zsh's real completion in a pty (zsh/zpty), as a user pressing Tab.
# usage: zsh -f zsh_complete.zsh FPATH_DIR PATH_DIR LINE EXPECT
# Starts an interactive `zsh -f` with FPATH_DIR on fpath (compinit) and PATH_DIR first on
# PATH, types LINE and Tab, and succeeds when the echoed line shows EXPECT within 10 s
# (e.g. LINE "gantry la", EXPECT "gantry launch "). Prints the tail of what zsh echoed.
zmodload zsh/zpty || exit 2
zpty z "TERM=dumb zsh -f -i"
zpty -w z "PS1='P> '; unsetopt beep; fpath=(${(q)1} \$fpath); autoload -Uz compinit; compinit -u -D; PATH=${(q)2}:\$PATH"
zpty -w -n z "$3"$'\t'
out=""
for i in {1..100}; do
	while zpty -r -t z chunk; do out+=$chunk; done
	[[ $out == *"$4"* ]] && break
	sleep 0.1
done
zpty -d z
print -r -- "${(q+)out[-160,-1]}"
[[ $out == *"$4"* ]]
