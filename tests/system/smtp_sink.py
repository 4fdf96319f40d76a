#!/usr/bin/python3
"""smtp_sink.py PORT DIR [USER PASSWORD] [--tls starttls|ssl] - a real SMTP server (Debian's
python3-aiosmtpd) on 127.0.0.1:PORT for the email handler's system test. Every message it
accepts is written to DIR/<n>.json as {"from", "to", "login", "tls", "data"}; DIR/ready appears
once it listens. With USER and PASSWORD it offers AUTH PLAIN/LOGIN and refuses mail without a
successful login. --tls starttls requires STARTTLS before anything else, --tls ssl speaks SMTPS;
both with a self-signed certificate made with openssl in DIR."""
import json
import os
import ssl
import subprocess
import sys
import time

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult

args = sys.argv[1:]
tls = None
if "--tls" in args:
    i = args.index("--tls")
    tls = args[i + 1]
    del args[i:i + 2]
port, outdir = int(args[0]), args[1]
creds = (args[2], args[3]) if len(args) > 3 else None
count = 0


class Sink:
    async def handle_DATA(self, server, session, envelope):
        global count
        if creds and not session.authenticated:
            return "530 Authentication required"
        count += 1
        login = session.auth_data if isinstance(session.auth_data, str) else None
        rec = {"from": envelope.mail_from, "to": envelope.rcpt_tos, "login": login,
               "tls": server.transport.get_extra_info("ssl_object") is not None,
               "data": envelope.content.decode("utf-8", "replace")}
        tmp = os.path.join(outdir, "%d.tmp" % count)
        with open(tmp, "w") as f:
            json.dump(rec, f)
        os.rename(tmp, os.path.join(outdir, "%d.json" % count))
        return "250 OK"


def authenticate(server, session, envelope, mechanism, auth_data):
    ok = creds and auth_data.login.decode() == creds[0] and auth_data.password.decode() == creds[1]
    # handled=False: aiosmtpd itself answers 535 to a failed login
    return AuthResult(success=bool(ok), handled=False,
                      auth_data=auth_data.login.decode() if ok else None)


def tls_context():
    cert, key = os.path.join(outdir, "cert.pem"), os.path.join(outdir, "key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-subj", "/CN=127.0.0.1", "-keyout", key, "-out", cert],
                   check=True, capture_output=True)
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(cert, key)
    return ctx


kwargs = {}
if creds:
    kwargs.update(authenticator=authenticate, auth_require_tls=False)
if tls == "starttls":
    kwargs.update(tls_context=tls_context(), require_starttls=True)
elif tls == "ssl":
    kwargs.update(ssl_context=tls_context())
ctl = Controller(Sink(), hostname="127.0.0.1", port=port, **kwargs)
ctl.start()
open(os.path.join(outdir, "ready"), "w").close()
try:
    while True:
        time.sleep(3600)
finally:
    ctl.stop()
