/* lambda_key.h: Gantry's own ed25519 key for a lambda provider (see lambda_key.c). */
#ifndef GANTRY_LAMBDA_KEY_H
#define GANTRY_LAMBDA_KEY_H

/* Makes DIR/id_ed25519 when it does not exist yet (once: created exclusively, never through a
 * symlink, mode 0600), checks it when it does (a regular file of this user, mode 0600 or
 * stricter, in a trusted DIR), and reads its public key ("ssh-ed25519 AAAA... gantry").
 * Blocking (runs ssh-keygen): call it off the loop. 0 with heap *key_path and *public_key, or
 * -1 with cause. */
int lambda_key_ensure(const char *dir, char **key_path, char **public_key, char **cause);

#endif
