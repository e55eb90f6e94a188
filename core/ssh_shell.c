/* ssh_shell.c: placeholder, being written */
