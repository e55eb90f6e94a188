/* nvsmi.c: placeholder, being written */
