#!/usr/bin/env bash
# Records real VICI traffic between Debian's swanctl 5.9.8 and charon 5.9.8 (README.md here).
#
# Two charons in two network namespaces with a private /run each (docs: interop §3.2), PSK,
# IKE only + a Child SA over kernel-libipsec. Every swanctl command of instance "a" runs
# through record.py, a unix-socket proxy that writes each packet of both directions to
# packets/NNN-<command>-<kind>.bin and describes it in packets.txt; swanctl's own output (raw
# message dumps, --raw) goes to output/<command>.txt.
#
# Usage: record.sh   (needs root; writes only into this folder; removes everything else it made)
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
charon=/usr/lib/ipsec/charon
id=$$
nsa="vrec-a-$id"
nsb="vrec-b-$id"
work=$(mktemp -d /tmp/ikeplex-vici-record.XXXXXX)

cleanup() {
    set +e
    for f in "$work"/*/charon.pid; do
        [ -f "$f" ] && kill "$(cat "$f")" 2>/dev/null
    done
    sleep 1
    ip netns del "$nsa" 2>/dev/null
    ip netns del "$nsb" 2>/dev/null
    rm -rf "$work"
}
trap cleanup EXIT

net_up() {
    ip netns add "$nsa"
    ip netns add "$nsb"
    ip link add "va$id" type veth peer name "vb$id"
    ip link set "va$id" netns "$nsa"
    ip link set "vb$id" netns "$nsb"
    ip -n "$nsa" addr add 10.99.0.1/24 dev "va$id"
    ip -n "$nsb" addr add 10.99.0.2/24 dev "vb$id"
    for ns in "$nsa" "$nsb"; do
        ip -n "$ns" link set lo up
    done
    ip -n "$nsa" link set "va$id" up
    ip -n "$nsb" link set "vb$id" up
    ip -n "$nsa" addr add 10.99.1.1/32 dev lo
    ip -n "$nsb" addr add 10.99.2.1/32 dev lo
}

write_strongswan_conf() {  # DIR
    cat > "$1/strongswan.conf" <<CONF
charon {
  load = random nonce openssl pem pkcs1 x509 pubkey sha1 sha2 hmac aes gcm kdf kernel-libipsec kernel-netlink socket-default vici updown
  install_routes = yes
  install_virtual_ip = no
  retransmit_timeout = 1
  retransmit_tries = 2
  filelog {
    main {
      path = $1/charon.log
      time_format = %T
      default = 1
      cfg = 2
      flush_line = yes
    }
  }
  syslog { daemon { default = -1 } }
  plugins { vici { socket = unix://$1/charon.vici } }
}
swanctl { load = pem pkcs1 x509 pubkey openssl random nonce }
CONF
}

write_swanctl_conf() {  # DIR LOCAL REMOTE LOCALNET REMOTENET ID
    cat > "$1/swanctl.conf" <<CONF
connections {
  t {
    version = 2
    local_addrs = $2
    remote_addrs = $3
    proposals = aes128-sha256-modp2048
    local {
      auth = psk
      id = $6
    }
    remote {
      auth = psk
    }
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
pools {
  p {
    addrs = 10.99.3.0/28
  }
}
secrets {
  ike-t {
    secret = "interop-test-psk-0123456789"
  }
}
CONF
    mkdir -p "$1/swanctl"  # swanctl --file: credential folders next to the file (none used)
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

rec() {  # LABEL swanctl-args...: one swanctl command of instance a, through the recorder
    local label=$1
    shift
    STRONGSWAN_CONF="$work/a/strongswan.conf" timeout 40 python3 "$here/record.py" run \
        --upstream "$work/a/charon.vici" --out "$work/out" --label "$label" \
        --output "$work/out/output/$label.txt" -- swanctl "$@"
}

net_up
mkdir -p "$work/a" "$work/b" "$work/out/output"
write_strongswan_conf "$work/a"
write_strongswan_conf "$work/b"
write_swanctl_conf "$work/a" 10.99.0.1 10.99.0.2 10.99.1.0/24 10.99.2.0/24 a.test
write_swanctl_conf "$work/b" 10.99.0.2 10.99.0.1 10.99.2.0/24 10.99.1.0/24 b.test
start_charon "$nsa" "$work/a"
start_charon "$nsb" "$work/b"
STRONGSWAN_CONF="$work/b/strongswan.conf" timeout 20 swanctl --load-all \
    --file "$work/b/swanctl.conf" --uri "unix://$work/b/charon.vici" > /dev/null

rec version --version --raw
rec version-daemon --version --daemon --raw
rec stats --stats --raw
rec load-all --load-all --file "$work/a/swanctl.conf" --raw
rec list-conns --list-conns --raw
rec list-sas-empty --list-sas --raw
rec initiate --initiate --child net --raw
rec list-sas --list-sas --raw
# The read-only commands once more without --raw, to show what swanctl prints (not recorded).
for c in list-conns list-sas stats; do
    STRONGSWAN_CONF="$work/a/strongswan.conf" timeout 20 swanctl --$c \
        --uri "unix://$work/a/charon.vici" > "$work/out/output/$c.pretty.txt" 2>&1
done
# Packet types swanctl never sends or provokes: an unknown command (CMD_UNKNOWN), an unknown
# event (EVENT_UNKNOWN) and an EVENT_UNREGISTER (swanctl just closes the connection).
timeout 20 python3 "$here/record.py" probe \
    --upstream "$work/a/charon.vici" --out "$work/out" --label probe \
    --send CMD_REQUEST:no-such-command --send EVENT_REGISTER:no-such-event \
    --send EVENT_REGISTER:ike-updown --send EVENT_UNREGISTER:ike-updown
rec terminate --terminate --ike t --raw

# Replace the work folder's random name in everything that is kept.
rm -rf "$here/packets" "$here/output"
cp -r "$work/out/packets" "$work/out/output" "$here/"
sed -i "s#$work#/tmp/vici-rec#g" "$here"/output/*.txt
cp "$work/out/packets.txt" "$here/packets.txt"
sed "s#$work#/tmp/vici-rec#g" "$work/a/strongswan.conf" > "$here/strongswan.conf"
cp "$work/a/swanctl.conf" "$here/swanctl.conf"
sed "s#$work#/tmp/vici-rec#g" "$work/a/charon.log" > "$here/charon.log"
echo "recorded $(ls "$here/packets" | wc -l) VICI packets into $here/packets"
