"""Debian's FreeRADIUS 3.2 (radiusd) with a minimal configuration of its own, for the RADIUS
tests (integration_radius, integration_eap_radius, interop_freeradius_eap): one writer of
radiusd.conf, users and acct_users, and one way to start radiusd -X in a namespace.

The configuration: a client for `net` (and `net6`) that must send Message-Authenticator, the
files module with the users file, pap, mschap, the eap module with md5 and mschapv2
(`default_eap` first), auth and acct listeners on `server` (auth also on `server6`), the detail
module writing Accounting-Requests to raddb/radacct/detail."""
import os
import subprocess

from lib import Failure, wait_until

RADIUSD = "/usr/sbin/freeradius"

_CONF = """\
prefix = /usr
exec_prefix = /usr
sysconfdir = /etc
localstatedir = /var
sbindir = /usr/sbin
raddbdir = {dir}
confdir = {dir}
logdir = {dir}/log
radacctdir = {dir}/radacct
run_dir = {dir}/run
db_dir = {dir}
libdir = /usr/lib/freeradius
dictdir = /usr/share/freeradius
pidfile = {dir}/run/radiusd.pid
name = freeradius
max_request_time = 30
cleanup_delay = 1
max_requests = 1024
hostname_lookups = no
log {{
    destination = stdout
    auth = yes
}}
security {{
    allow_core_dumps = no
    max_attributes = 200
    reject_delay = 0
    status_server = no
}}
client ikeplex {{
    ipaddr = {net}
    secret = {secret}
    require_message_authenticator = yes
}}
{client6}
modules {{
    pap {{
    }}
    mschap {{
    }}
    files {{
        filename = {dir}/users
        acctusersfile = {dir}/acct_users
    }}
    detail {{
        filename = {dir}/radacct/detail
        permissions = 0600
        header = "%t"
    }}
    eap {{
        default_eap_type = {default_eap}
        timer_expire = 60
        ignore_unknown_eap_types = no
        max_sessions = 64
        md5 {{
        }}
        mschapv2 {{
        }}
{tls}    }}
}}
server default {{
    listen {{
        type = auth
        ipaddr = {server}
        port = 1812
    }}
    listen {{
        type = acct
        ipaddr = {server}
        port = 1813
    }}
{listen6}    authorize {{
        eap {{
            ok = return
        }}
        files
        pap
    }}
    authenticate {{
        Auth-Type PAP {{
            pap
        }}
        Auth-Type MS-CHAP {{
            mschap
        }}
        eap
    }}
    preacct {{
    }}
    accounting {{
        detail
    }}
    post-auth {{
    }}
}}
"""

_CLIENT6 = """client ikeplex6 {{
    ipv6addr = {net6}
    secret = {secret}
    require_message_authenticator = yes
}}"""

_TLS = """        tls-config tls-common {{
            private_key_file = {pki}/server.key
            certificate_file = {pki}/server.pem
            ca_file = {pki}/ca.pem
            cipher_list = "DEFAULT"
            tls_min_version = "1.2"
            tls_max_version = "1.3"
            fragment_size = 1024
            cache {{
                enable = no
            }}
        }}
        tls {{
            tls = tls-common
        }}
"""

_LISTEN6 = """    listen {{
        type = auth
        ipv6addr = {server6}
        port = 1812
    }}
"""


def write_raddb(raddb, *, secret, server, net, users, server6=None, net6=None, default_eap="md5",
                tls_pki=None):
    """radiusd.conf, users (the text `users`) and an empty acct_users in `raddb`, with its
    log, radacct and run folders. `tls_pki`: a folder with server.key, server.pem and ca.pem
    (lib.make_certs) for EAP-TLS over TLS 1.2 and 1.3."""
    for d in ("log", "radacct", "run"):
        os.makedirs(f"{raddb}/{d}", exist_ok=True)
    client6 = _CLIENT6.format(net6=net6, secret=secret) if net6 else ""
    listen6 = _LISTEN6.format(server6=server6) if server6 else ""
    tls = _TLS.format(pki=tls_pki) if tls_pki else ""
    with open(f"{raddb}/radiusd.conf", "w") as f:
        f.write(_CONF.format(dir=raddb, secret=secret, server=server, net=net, client6=client6,
                             listen6=listen6, default_eap=default_eap, tls=tls))
    with open(f"{raddb}/users", "w", encoding="utf-8") as f:
        f.write(users)
    open(f"{raddb}/acct_users", "w").close()


def start_radiusd(ns, raddb, folder):
    """radiusd -X with the configuration in `raddb`, in namespace `ns`, its output in
    folder/radiusd.log; returns (process, a function that reads the log so far) once it says
    "Ready to process requests" (20 s)."""
    with open(f"{folder}/radiusd.log", "w") as log:
        proc = subprocess.Popen(["ip", "netns", "exec", ns, RADIUSD, "-d", raddb, "-X"],
                                stdout=log, stderr=subprocess.STDOUT)

    def read_log():
        with open(f"{folder}/radiusd.log", errors="replace") as f:
            return f.read()
    try:
        wait_until(lambda: proc.poll() is not None or "Ready to process requests" in read_log(), 20,
                   "radiusd to start")
        if proc.poll() is not None:
            raise Failure(f"radiusd exited ({proc.returncode}): {read_log()[-2000:]}")
    except BaseException:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=5)
        raise
    return proc, read_log
