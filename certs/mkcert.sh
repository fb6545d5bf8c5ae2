#!/bin/bash
# mkcert.sh DIR [HOSTNAME|IP]...
#
# Makes throw-away TLS material for development and tests in DIR:
#   ca.pem, ca.key          a development CA (ECDSA P-256, valid 10 years)
#   server.pem, server.key  a server certificate signed by that CA (ECDSA P-256,
#                           valid 825 days) for DNS:localhost, IP:127.0.0.1, IP:::1
#                           and every HOSTNAME or IP given
# Private keys are mode 0600. Nothing is printed unless something fails.
#
# Idempotent: when DIR/server.pem is valid for more than one more day, verifies
# against DIR/ca.pem, matches DIR/server.key and covers every requested name, it is
# left alone. An existing CA is reused for a new server certificate while it has
# more than 826 days left; otherwise a new CA is made (and has to be trusted again).
#
# Exit status: 0 ok, 64 usage error, 1 failure (openssl's messages on stderr).

set -euo pipefail

prog=${0##*/}

usage() {
    echo "usage: $prog DIR [HOSTNAME|IP]..." >&2
    exit 64
}

die() {
    echo "$prog: $*" >&2
    exit 1
}

[ $# -ge 1 ] || usage
case $1 in
-h | --help) usage ;;
esac
dir=$1
shift

command -v openssl >/dev/null 2>&1 || die "openssl not found (apt-get install openssl)"

# Subject alternative names: localhost always, then the extra names, without
# repeats. Names are checked strictly because they are written into an openssl
# config file.
dns_names=(localhost)
ip_names=(127.0.0.1 ::1)
contains() {
    local want=$1 have
    shift
    for have in "$@"; do
        [ "$have" = "$want" ] && return 0
    done
    return 1
}
for name in "$@"; do
    if [[ $name =~ ^[0-9]{1,3}(\.[0-9]{1,3}){3}$ ]] || [[ $name =~ ^[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*$ ]]; then
        name=${name,,}
        contains "$name" "${ip_names[@]}" || ip_names+=("$name")
    elif [[ $name =~ ^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$ ]] &&
        [ ${#name} -le 253 ]; then
        name=${name,,}
        contains "$name" "${dns_names[@]}" || dns_names+=("$name")
    else
        die "not a host name or IP address: '$name'"
    fi
done
san=""
for name in "${dns_names[@]}"; do
    san+="${san:+, }DNS:$name"
done
for name in "${ip_names[@]}"; do
    san+="${san:+, }IP:$name"
done

if [ ! -d "$dir" ]; then
    mkdir -p "$dir" || die "cannot create $dir"
fi
cd "$dir" || die "cannot enter $dir"

# Serialise concurrent runs on the same DIR (tests may start several at once).
if command -v flock >/dev/null 2>&1; then
    exec 9<.
    flock 9
fi

# Prints nothing; succeeds when cert file $1 matches private key file $2.
key_matches() {
    local a b
    a=$(openssl x509 -in "$1" -noout -pubkey 2>/dev/null) || return 1
    b=$(openssl pkey -in "$2" -pubout 2>/dev/null) || return 1
    [ -n "$a" ] && [ "$a" = "$b" ]
}

# Succeeds when server.pem can be kept as it is.
server_ok() {
    local name out
    [ -s server.pem ] && [ -s server.key ] && [ -s ca.pem ] || return 1
    openssl x509 -in server.pem -noout -checkend 86400 >/dev/null 2>&1 || return 1
    openssl verify -CAfile ca.pem server.pem >/dev/null 2>&1 || return 1
    key_matches server.pem server.key || return 1
    for name in "${dns_names[@]}"; do
        out=$(openssl x509 -in server.pem -noout -checkhost "$name" 2>/dev/null) || return 1
        [[ $out == *" does match "* ]] || return 1
    done
    for name in "${ip_names[@]}"; do
        out=$(openssl x509 -in server.pem -noout -checkip "$name" 2>/dev/null) || return 1
        [[ $out == *" does match "* ]] || return 1
    done
    return 0
}

# Succeeds when the existing CA can sign a new server certificate that expires
# before the CA does.
ca_ok() {
    [ -s ca.pem ] && [ -s ca.key ] || return 1
    openssl x509 -in ca.pem -noout -checkend $((826 * 86400)) >/dev/null 2>&1 || return 1
    key_matches ca.pem ca.key
}

server_ok && exit 0

umask 077
work=$(mktemp -d .mkcert.XXXXXX) || die "cannot create a temporary directory in $dir"
trap 'rm -rf "$work"' EXIT
log=$work/log

# Runs a command with its output kept in the log; on failure shows the log and exits.
run() {
    if ! "$@" >>"$log" 2>&1; then
        cat "$log" >&2
        die "failed: $*"
    fi
}

# A config of our own, so the system's openssl.cnf cannot add or change extensions.
cat >"$work/openssl.cnf" <<EOF
[req]
distinguished_name = dn
prompt = no
[dn]
CN = unused
[ca_ext]
basicConstraints = critical, CA:TRUE, pathlen:0
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[server_ext]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
subjectAltName = $san
EOF

newkey() {
    run openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 \
        -pkeyopt ec_param_enc:named_curve -out "$1"
}

serial() {
    printf '0x%s' "$(openssl rand -hex 16)"
}

new_ca=0
if ! ca_ok; then
    # A fresh name for every CA, so a browser that still trusts an old one does
    # not confuse the two.
    newkey "$work/ca.key"
    run openssl req -new -x509 -config "$work/openssl.cnf" -extensions ca_ext \
        -key "$work/ca.key" -sha256 -days 3650 -set_serial "$(serial)" \
        -subj "/O=kamrat development/CN=kamrat development CA $(openssl rand -hex 4)" \
        -out "$work/ca.pem"
    new_ca=1
    ca_pem=$work/ca.pem
    ca_key=$work/ca.key
else
    ca_pem=ca.pem
    ca_key=ca.key
fi

newkey "$work/server.key"
run openssl req -new -config "$work/openssl.cnf" -key "$work/server.key" \
    -subj "/O=kamrat development/CN=${dns_names[0]}" -out "$work/server.csr"
run openssl x509 -req -in "$work/server.csr" -CA "$ca_pem" -CAkey "$ca_key" \
    -set_serial "$(serial)" -days 825 -sha256 \
    -extfile "$work/openssl.cnf" -extensions server_ext -out "$work/server.pem"
run openssl verify -CAfile "$ca_pem" "$work/server.pem"

chmod 600 "$work"/*.key
chmod 644 "$work"/*.pem
if [ "$new_ca" = 1 ]; then
    mv -f "$work/ca.key" ca.key
    mv -f "$work/ca.pem" ca.pem
fi
mv -f "$work/server.key" server.key
mv -f "$work/server.pem" server.pem
exit 0
