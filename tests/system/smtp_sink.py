#!/usr/bin/python3
"""smtp_sink.py PORT DIR [USER PASSWORD] - a real SMTP server (Debian's python3-aiosmtpd) on
127.0.0.1:PORT for the email handler's system test. Every message it accepts is written to
DIR/<n>.json as {"from", "to", "login", "data"}; DIR/ready appears once it listens. With USER
and PASSWORD it offers AUTH PLAIN/LOGIN (over plain SMTP, as a test may) and refuses mail
without a successful login."""
import json
import os
import sys
import time

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult

port, outdir = int(sys.argv[1]), sys.argv[2]
creds = (sys.argv[3], sys.argv[4]) if len(sys.argv) > 4 else None
count = 0


class Sink:
    async def handle_DATA(self, server, session, envelope):
        global count
        if creds and not session.authenticated:
            return "530 Authentication required"
        count += 1
        login = session.auth_data if isinstance(session.auth_data, str) else None
        rec = {"from": envelope.mail_from, "to": envelope.rcpt_tos, "login": login,
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


kwargs = {}
if creds:
    kwargs = {"authenticator": authenticate, "auth_require_tls": False}
ctl = Controller(Sink(), hostname="127.0.0.1", port=port, **kwargs)
ctl.start()
open(os.path.join(outdir, "ready"), "w").close()
try:
    while True:
        time.sleep(3600)
finally:
    ctl.stop()
