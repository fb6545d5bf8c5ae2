#include "tls.h"

#include <openssl/err.h>

#include "klog.h"

const char tls_cipher_list[] = "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
                               "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
                               "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";

const char tls13_ciphersuites[] =
    "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256";

int tls_harden(SSL_CTX *ctx)
{
    SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION | SSL_OP_NO_SSLv3 |
                                 SSL_OP_NO_TLSv1 | SSL_OP_NO_TLSv1_1);
    /* Mozilla intermediate lets the client pick among equally strong suites. */
    SSL_CTX_clear_options(ctx, SSL_OP_CIPHER_SERVER_PREFERENCE);
    /* An idle connection gives its 34 KiB of record buffers back (lws 4.1
     * also sets it on each SSL; said here so it does not hang on that). */
    SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
    if (SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1 ||
        SSL_CTX_set_cipher_list(ctx, tls_cipher_list) != 1 ||
        SSL_CTX_set_ciphersuites(ctx, tls13_ciphersuites) != 1 ||
        SSL_CTX_set1_groups_list(ctx, "X25519:P-256:P-384") != 1) {
        klog_error("tls_policy_failed reason=\"%s\"", ERR_reason_error_string(ERR_get_error()));
        ERR_clear_error();
        return -1;
    }
    return 0;
}

int tls_reload(struct server *srv, SSL_CTX *ctx)
{
    char err[512];
    if (config_check_files(srv->cfg, err, sizeof(err)) < 0) {
        klog_error("tls_reload_failed reason=\"%s\" (keeping the current certificate)", err);
        return -1;
    }
    lws_tls_cert_updated(srv->ctx, srv->cfg->tls_cert, srv->cfg->tls_key, NULL, 0, NULL, 0);
    /* lws resets the ECDH curve while loading: put our groups back. */
    if (ctx && tls_harden(ctx) < 0)
        return -1;
    klog_info("tls_reloaded");
    return 0;
}
