"""A small PKI for the live revocation tests, made at test time with openssl(1): an EC CA,
end-entity certificates whose CRL distribution point and AIA OCSP URI point at servers the test
runs in a namespace, the CA's CRL (`openssl ca -gencrl` over an index the test writes) and an
OCSP responder (`openssl ocsp -index ... -port ...`) answering good, revoked and unknown (a
certificate missing from the index)."""
import datetime
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(__file__))
from lib import Failure, run, stop_process, wait_until  # noqa: E402


def _ossl(*args):
    run(["openssl", *args], timeout=30)


class Pki:
    """CA `ca.pem`/`ca.key` in `folder`; issue() makes end-entity certificates; revoke() marks
    one in the index; crl() writes the CRL (DER) to `crl_path`."""

    def __init__(self, folder, crl_uri=None, ocsp_uri=None):
        self.dir, self.crl_uri, self.ocsp_uri = folder, crl_uri, ocsp_uri
        os.makedirs(folder, exist_ok=True)
        self.ca, self.ca_key = f"{folder}/ca.pem", f"{folder}/ca.key"
        _ossl("ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", self.ca_key)
        _ossl("req", "-x509", "-new", "-key", self.ca_key, "-subj", "/O=ikeplex test/CN=revocation test CA",
              "-days", "30", "-out", self.ca)
        self.index = f"{folder}/index.txt"
        self.entries = {}  # serial hex -> [status, subject, revoked_at]
        with open(f"{folder}/crlnumber", "w") as f:
            f.write("01\n")
        with open(f"{folder}/ca.cnf", "w") as f:
            f.write(f"""[ ca ]
default_ca = test
[ test ]
database = {self.index}
crlnumber = {folder}/crlnumber
default_md = sha256
default_crl_days = 1
""")
        self._write_index()
        self.serial = 0x1000

    def issue(self, name, listed=True, crl=True, ocsp=True):
        """A certificate for DNS name `name` (CN too): returns (cert_pem, pkcs8_key_pem). `listed`:
        in the index (else OCSP says unknown); `crl`/`ocsp`: carries that URI."""
        d = self.dir
        self.serial += 1
        serial = f"{self.serial:X}"
        _ossl("ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", f"{d}/{name}.key")
        _ossl("req", "-new", "-key", f"{d}/{name}.key", "-subj", f"/O=ikeplex test/CN={name}", "-out", f"{d}/{name}.csr")
        ext = [f"subjectAltName=DNS:{name}"]
        if crl and self.crl_uri:
            ext.append(f"crlDistributionPoints=URI:{self.crl_uri}")
        if ocsp and self.ocsp_uri:
            ext.append(f"authorityInfoAccess=OCSP;URI:{self.ocsp_uri}")
        with open(f"{d}/{name}.ext", "w") as f:
            f.write("\n".join(ext) + "\n")
        _ossl("x509", "-req", "-in", f"{d}/{name}.csr", "-CA", self.ca, "-CAkey", self.ca_key,
              "-set_serial", f"0x{serial}", "-days", "30", "-extfile", f"{d}/{name}.ext", "-out", f"{d}/{name}.pem")
        _ossl("pkcs8", "-topk8", "-nocrypt", "-in", f"{d}/{name}.key", "-out", f"{d}/{name}.p8.pem")
        if listed:
            self.entries[serial] = ["V", f"/O=ikeplex test/CN={name}", ""]
            self._write_index()
        return f"{d}/{name}.pem", f"{d}/{name}.p8.pem"

    def revoke(self, name_pem):
        serial = run(["openssl", "x509", "-in", name_pem, "-noout", "-serial"]).strip().split("=")[1].upper()
        serial = serial.lstrip("0") or "0"
        when = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(minutes=5)
        self.entries[serial][0] = "R"
        self.entries[serial][2] = when.strftime("%y%m%d%H%M%SZ")
        self._write_index()

    def _write_index(self):
        expiry = (datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=30)).strftime("%y%m%d%H%M%SZ")
        with open(self.index, "w") as f:
            for serial, (status, subject, revoked) in self.entries.items():
                f.write(f"{status}\t{expiry}\t{revoked}\t{serial}\tunknown\t{subject}\n")
        with open(self.index + ".attr", "w") as f:
            f.write("unique_subject = no\n")

    def crl(self, out_der):
        pem = out_der + ".pem"
        _ossl("ca", "-config", f"{self.dir}/ca.cnf", "-gencrl", "-keyfile", self.ca_key, "-cert", self.ca, "-out", pem)
        _ossl("crl", "-in", pem, "-outform", "DER", "-out", out_der)


class Server:
    """A process in namespace `ns` (the CRL's HTTP server, the OCSP responder); stop() makes it go
    silent."""

    def __init__(self, ns, args, log, ready_port, addr):
        self.log = open(log, "w")
        self.proc = subprocess.Popen(["ip", "netns", "exec", ns, *args], stdout=self.log, stderr=subprocess.STDOUT)
        # Listening once a TCP connect succeeds (bounded).
        wait_until(lambda: self.proc.poll() is not None or _listening(ns, addr, ready_port), 10,
                   f"{args[0]} on {addr}:{ready_port}")
        if self.proc.poll() is not None:
            raise Failure(f"{args} exited: {open(log).read()}")

    def stop(self):
        stop_process(self.proc)
        self.log.close()


def _listening(ns, addr, port):
    out = run(["ip", "netns", "exec", ns, "ss", "-Hltn", f"sport = :{port}"], check=False)
    return out.strip() != ""


def http_server(ns, folder, addr, port, log):
    """python3 -m http.server serving `folder` on addr:port in `ns`."""
    return Server(ns, [sys.executable, "-m", "http.server", "--bind", addr, "--directory", folder, str(port)],
                  log, port, addr)


def ocsp_responder(ns, pki, addr, port, log):
    """`openssl ocsp` answering for `pki`'s index on port `port` (every address) in `ns`, signed by the CA, each
    answer valid 10 minutes."""
    return Server(ns, ["openssl", "ocsp", "-index", pki.index, "-port", str(port), "-rsigner", pki.ca,
                       "-rkey", pki.ca_key, "-CA", pki.ca, "-nmin", "10", "-ignore_err"], log, port, addr)
