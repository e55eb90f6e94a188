/* engine_ssh.c: placeholder, being written */
