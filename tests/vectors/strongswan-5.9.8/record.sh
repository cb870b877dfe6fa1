#!/usr/bin/env bash
# Records real IKEv2 exchanges between two Debian strongSwan 5.9.8 charons in two network
# namespaces (../../../docs: interop, "Recording a peer's messages as test data") and writes
# them here: capture, one file per IKE message, both configs and both logs (ike = 4, chd = 4:
# the whole key schedule as hex dumps).
#
#   scenario psk  : PSK, IKE aes256-sha384-ecp256 (CBC + HMAC), ESP aes128gcm16 with PFS
#                   (ecp256); child rekey, IKE rekey, DPD, child delete, IKE delete.
#   scenario cert : ECDSA P-256 certificates (RFC 7427), IKE aes128gcm16-prfsha256-x25519,
#                   fragment_size 400 so IKE_AUTH is fragmented (RFC 7383, SKF payloads).
#
# Usage: record.sh [psk|cert]...   (default: both). Needs root; run from anywhere.
# Uses only 10.99.0.0/16 inside namespaces it creates and removes again.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
scenarios=("$@")
[ ${#scenarios[@]} -gt 0 ] || scenarios=(psk cert)
charon=/usr/lib/ipsec/charon
id=$$
nsa="ikprec-a-$id"
nsb="ikprec-b-$id"
work=$(mktemp -d /tmp/ikeplex-record.XXXXXX)

cleanup() {
    set +e
    for f in "$work"/*/charon.pid "$work"/tcpdump.pid; do
        [ -f "$f" ] && kill "$(cat "$f")" 2>/dev/null
    done
    sleep 0.5
    ip netns del "$nsa" 2>/dev/null
    ip netns del "$nsb" 2>/dev/null
    rm -rf "$work"
}
trap cleanup EXIT

net_up() {
    ip netns add "$nsa"
    ip netns add "$nsb"
    ip link add "ra$id" type veth peer name "rb$id"
    ip link set "ra$id" netns "$nsa"
    ip link set "rb$id" netns "$nsb"
    ip -n "$nsa" addr add 10.99.0.1/24 dev "ra$id"
    ip -n "$nsb" addr add 10.99.0.2/24 dev "rb$id"
    for ns in "$nsa" "$nsb"; do
        ip -n "$ns" link set lo up
    done
    ip -n "$nsa" link set "ra$id" up
    ip -n "$nsb" link set "rb$id" up
    ip -n "$nsa" addr add 10.99.1.1/32 dev lo
    ip -n "$nsb" addr add 10.99.2.1/32 dev lo
}

# write_strongswan_conf DIR EXTRA
write_strongswan_conf() {
    cat > "$1/strongswan.conf" <<CONF
charon {
  load = random nonce openssl pem pkcs1 pkcs8 x509 pubkey sha1 sha2 hmac aes gcm kdf kernel-libipsec kernel-netlink socket-default vici updown
  install_routes = yes
  install_virtual_ip = no
  retransmit_timeout = 1
  retransmit_tries = 2
  $2
  filelog {
    main {
      path = $1/charon.log
      time_format = %T
      default = 1
      ike = 4
      chd = 4
      cfg = 2
      knl = 2
      enc = 1
      net = 1
      flush_line = yes
    }
  }
  syslog { daemon { default = -1 } }
  plugins { vici { socket = unix://$1/charon.vici } }
}
swanctl { load = pem pkcs1 pkcs8 x509 pubkey openssl random nonce }
CONF
}

start_charon() {  # NS DIR
    mkdir -p "$2/run"
    ip netns exec "$1" unshare -m sh -c "mount --make-rprivate / && mount --bind $2/run /run && \
        STRONGSWAN_CONF=$2/strongswan.conf exec $charon" > "$2/charon.out" 2>&1 &
    echo $! > "$2/charon.pid"
    for _ in $(seq 50); do
        [ -S "$2/charon.vici" ] && return 0
        sleep 0.1
    done
    echo "charon in $1 did not start" >&2
    cat "$2/charon.out" >&2
    return 1
}

sw() {  # DIR swanctl-args...
    local d=$1
    shift
    STRONGSWAN_CONF="$d/strongswan.conf" timeout 20 swanctl "$@" --uri "unix://$d/charon.vici"
}

psk_conf() {  # DIR LOCAL REMOTE LOCALNET REMOTENET ID
    cat > "$1/swanctl.conf" <<CONF
connections {
  t {
    version = 2
    local_addrs = $2
    remote_addrs = $3
    proposals = aes256-sha384-ecp256
    dpd_delay = 2s
    local { auth = psk
            id = $6 }
    remote { auth = psk }
    children {
      net {
        local_ts = $4
        remote_ts = $5
        esp_proposals = aes128gcm16-ecp256
        mode = tunnel
      }
    }
  }
}
secrets { ike-t { secret = "interop-test-psk-0123456789" } }
CONF
}

cert_conf() {  # DIR LOCAL REMOTE LOCALNET REMOTENET ID
    cat > "$1/swanctl.conf" <<CONF
connections {
  t {
    version = 2
    local_addrs = $2
    remote_addrs = $3
    proposals = aes128gcm16-prfsha256-x25519
    fragmentation = yes
    local { auth = pubkey
            certs = $6.crt
            id = $6 }
    remote { auth = pubkey }
    children {
      net {
        local_ts = $4
        remote_ts = $5
        esp_proposals = aes128gcm16
        mode = tunnel
      }
    }
  }
}
CONF
}

make_certs() {  # writes CA, a.test and b.test certificates into each dir's swanctl folders
    local c=$work/ca
    mkdir -p "$c"
    openssl ecparam -name prime256v1 -genkey -noout -out "$c/ca.key" 2>/dev/null
    openssl req -new -x509 -key "$c/ca.key" -subj "/CN=ikeplex test CA" -days 3650 \
        -out "$c/ca.crt" 2>/dev/null
    for x in a b; do
        local d=$work/$x
        mkdir -p "$d/x509" "$d/x509ca" "$d/private"
        openssl ecparam -name prime256v1 -genkey -noout -out "$d/private/$x.key" 2>/dev/null
        openssl req -new -key "$d/private/$x.key" -subj "/CN=$x.test" -out "$d/$x.csr" 2>/dev/null
        printf 'subjectAltName=DNS:%s.test\n' "$x" > "$d/ext.cnf"
        openssl x509 -req -in "$d/$x.csr" -CA "$c/ca.crt" -CAkey "$c/ca.key" -CAcreateserial \
            -days 3650 -extfile "$d/ext.cnf" -out "$d/x509/$x.test.crt" 2>/dev/null
        cp "$c/ca.crt" "$d/x509ca/ca.crt"
    done
}

split_messages() {  # PCAP OUTDIR: one .bin per IKE message (UDP payload, non-ESP marker stripped)
    local pcap=$1 out=$2
    mkdir -p "$out"
    rm -f "$out"/*.bin
    tshark -r "$pcap" -Y 'udp.port == 500 || (udp.port == 4500 && udp.length > 12)' \
        -d udp.port==4500,isakmp -T fields -e frame.number -e udp.srcport -e udp.payload \
        2>/dev/null |
    while read -r frame port payload; do
        local hex=$payload suffix=""
        if [ "$port" = 4500 ] || [ "${payload:0:8}" = "00000000" ]; then
            [ "${payload:0:8}" = "00000000" ] || continue  # ESP-in-UDP, not IKE
            hex=${payload:8}
            suffix=".4500"
        fi
        # exchange type is byte 18, flags byte 19 of the IKE header
        local ex=$((16#${hex:36:2})) flags=$((16#${hex:38:2})) name kind
        case $ex in
            34) name=ike_sa_init ;; 35) name=ike_auth ;; 36) name=create_child_sa ;;
            37) name=informational ;; *) name=ex$ex ;;
        esac
        if (( flags & 0x20 )); then kind=resp; else kind=req; fi
        printf '%s' "$hex" | xxd -r -p > "$out/$(printf '%02d' "$frame")-$name-$kind$suffix.bin"
    done
}

record() {  # SCENARIO
    local s=$1 out=$here/$1
    rm -rf "$work/a" "$work/b"
    mkdir -p "$work/a" "$work/b" "$out"
    local extra=""
    [ "$s" = cert ] && extra="fragment_size = 400"
    write_strongswan_conf "$work/a" "$extra"
    write_strongswan_conf "$work/b" "$extra"
    if [ "$s" = psk ]; then
        psk_conf "$work/a" 10.99.0.1 10.99.0.2 10.99.1.0/24 10.99.2.0/24 a.test
        psk_conf "$work/b" 10.99.0.2 10.99.0.1 10.99.2.0/24 10.99.1.0/24 b.test
    else
        make_certs
        cert_conf "$work/a" 10.99.0.1 10.99.0.2 10.99.1.0/24 10.99.2.0/24 a.test
        cert_conf "$work/b" 10.99.0.2 10.99.0.1 10.99.2.0/24 10.99.1.0/24 b.test
    fi

    ip netns exec "$nsb" tcpdump -i "rb$id" -U -w "$work/capture.pcap" \
        'udp port 500 or udp port 4500 or esp' > "$work/tcpdump.out" 2>&1 &
    echo $! > "$work/tcpdump.pid"
    sleep 1
    start_charon "$nsa" "$work/a"
    start_charon "$nsb" "$work/b"
    for x in a b; do
        sw "$work/$x" --load-all --file "$work/$x/swanctl.conf" > /dev/null
    done

    sw "$work/a" --initiate --child net > "$work/initiate.out"
    ip netns exec "$nsa" timeout 10 ping -c 2 -i 0.2 -I 10.99.1.1 10.99.2.1 > /dev/null
    if [ "$s" = psk ]; then
        sw "$work/a" --rekey --child net > /dev/null
        sleep 0.5
        sw "$work/a" --rekey --ike t > /dev/null
        sleep 0.5
        ip netns exec "$nsa" timeout 10 ping -c 1 -I 10.99.1.1 10.99.2.1 > /dev/null
        sleep 3  # idle past dpd_delay: one DPD exchange (empty INFORMATIONAL)
        sw "$work/a" --terminate --child net > /dev/null
        sleep 0.5
    fi
    sw "$work/a" --list-sas > "$work/list-sas.txt" || true
    sw "$work/a" --terminate --ike t > /dev/null
    sleep 1

    kill "$(cat "$work/tcpdump.pid")"
    for x in a b; do kill "$(cat "$work/$x/charon.pid")"; done
    sleep 1
    rm -f "$work/tcpdump.pid" "$work"/*/charon.pid

    cp "$work/capture.pcap" "$out/capture.pcap"
    split_messages "$out/capture.pcap" "$out/messages"
    for x in a b; do
        local role=initiator
        [ $x = b ] && role=responder
        sed "s#$work#/tmp/rec#g" "$work/$x/charon.log" > "$out/$role.charon.log"
        sed "s#$work#/tmp/rec#g" "$work/$x/strongswan.conf" > "$out/$role.strongswan.conf"
        cp "$work/$x/swanctl.conf" "$out/$role.swanctl.conf"
    done
    if [ "$s" = cert ]; then
        mkdir -p "$out/certs"
        cp "$work/ca/ca.crt" "$out/certs/"
        cp "$work/a/x509/a.test.crt" "$work/b/x509/b.test.crt" "$out/certs/"
        for x in a b; do
            openssl x509 -in "$out/certs/$x.test.crt" -outform der -out "$out/certs/$x.test.der"
        done
    fi
    echo "recorded $s: $(ls "$out/messages" | wc -l) IKE messages"
}

net_up
for s in "${scenarios[@]}"; do
    record "$s"
done
