/* telemetry.c: placeholder, being written */
