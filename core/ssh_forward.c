/* ssh_forward.c: placeholder, being written */
