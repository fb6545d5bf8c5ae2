/*
 * tls: kamrat's TLS policy on top of what lws sets up: TLS 1.2 and 1.3 only,
 * Mozilla "intermediate" ciphers (ECDHE + AEAD), X25519/P-256/P-384, no
 * renegotiation, no compression, ALPN http/1.1 (set on the vhost).
 *
 * Thread: the lws thread.
 */
#ifndef KAMRAT_TLS_H
#define KAMRAT_TLS_H

#include <openssl/ssl.h>

#include "server.h"

/* TLS 1.2 cipher list and TLS 1.3 suites for the vhost creation info. */
extern const char tls_cipher_list[];
extern const char tls13_ciphersuites[];

/* Apply the policy to the vhost's context. Returns 0, or -1 (logged). */
int tls_harden(SSL_CTX *ctx);

/*
 * Reload the certificate and key from the configured paths without closing
 * anything: new handshakes get the new pair, open connections continue.
 * The pair is checked first; a broken pair is refused and the old one kept.
 * Returns 0, or -1 (logged).
 */
int tls_reload(struct server *srv, SSL_CTX *ctx);

#endif
