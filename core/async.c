/* async.c: placeholder, being written */
