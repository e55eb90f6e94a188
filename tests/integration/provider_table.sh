#!/usr/bin/env bash
# The provider types come from one table (providers/provider.c): an unknown type lists the
# types config.yaml may name (not `local`, which is built in), an unknown instance lists the
# configured ones.
. "$(dirname "$0")/../lib/common.sh"

expect_rc 2 "an unknown provider instance is refused" g launch hello --provider nope
check "the configured instances are listed" grep -q "no provider named 'nope' is configured (configured: local)" "$T_HOME/err"
mkdir -p "$GANTRY_HOME/config"
printf 'providers:\n  x:\n    type: bogus\n' >"$GANTRY_HOME/config/config.yaml"
expect_rc 4 "an unknown type fails the config" g ls
check "the known types come from the table" grep -q "provider 'x' has unknown type 'bogus' (known: ssh, lambda, slurm, kubernetes)" "$T_HOME/err"
printf 'providers:\n  x:\n    type: local\n' >"$GANTRY_HOME/config/config.yaml"
expect_rc 4 "a second instance of the built-in type is refused" g ls
check "... listing only the types with remote workers" grep -q "unknown type 'local' (known: ssh, lambda, slurm, kubernetes)" "$T_HOME/err"
printf 'providers:\n  x:\n    host: a\n' >"$GANTRY_HOME/config/config.yaml"
expect_rc 4 "a provider without a type fails the config" g ls
check "... and says where the types are listed" grep -q "provider 'x' has no 'type' (the types are listed under 'Provider types' in gantry --help)" "$T_HOME/err"
rm "$GANTRY_HOME/config/config.yaml"
expect_rc 0 "--help" g --help
for ty in local ssh lambda; do
	check "--help lists the $ty type with its summary from the table" grep -Eq "^  $ty +jobs " "$T_HOME/out"
done
t_done
