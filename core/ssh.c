/* ssh.c: placeholder, being written */
