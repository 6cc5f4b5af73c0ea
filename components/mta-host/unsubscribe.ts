import type { MailHostConfig } from "./config";
import { MTA_STS_POLICY_PATH } from "../dns/protocols/mta-sts";
import { HOST_TOOL_USER, PATHS } from "./layout";

/**
 * RFC 8058 one-click unsubscribe, the host's half: an HTTPS endpoint on the
 * host's own name and certificate that takes the POST a mailbox provider
 * sends when its user clicks "unsubscribe", checks the URL's MAC (the
 * application's half, and the token format, are in
 * components/sending/one-click.ts) and records the unsubscribe in the
 * intake spool, from which cron's `postforge-mailops apply` puts the
 * recipient on the suppression list, as it does for bounces and complaints:
 * within a minute, well inside Gmail's and Yahoo's two days.
 *
 * Python 3's own http.server and ssl (Debian 12 ships both with python3):
 * it starts as root to bind 443 and read the key and certificate, then runs
 * as HOST_TOOL_USER, which can only write the spool. GET answers with a page
 * and a button, never unsubscribing (link scanners fetch every URL); POST
 * needs the body `List-Unsubscribe=One-Click` (RFC 8058 §3.2). A token that
 * does not check out is a 404, so the endpoint tells nobody which addresses
 * it knows. The log names no recipient.
 *
 * The same server is the host's MTA-STS policy host (RFC 8461 §3.3): a GET of
 * /.well-known/mta-sts.txt with `Host: mta-sts.<domain>` answers the policy
 * file the config manifest wrote for that domain (PATHS.mtaStsDir), as
 * text/plain, read at each request so a new policy is served the moment the
 * sync writes it. A client asking (SNI) for an mta-sts. name gets the host's
 * certificate for those names, its own lineage (boot-script.ts
 * certificateNames). One HTTPS server on 443, not a second
 * web server in front of this one: it already has the limits, timeouts and
 * TLS settings the scanner test holds it to.
 */

/** Where MailHost stores the key the URLs' MACs are made with (a random 43-character string). */
export function unsubscribeKeySecretName(hostname: string): string {
  return `postforge/mail-host/${hostname}/unsubscribe-key`;
}

/** The systemd unit, restarted by the boot script and by certbot's deploy hook (a new certificate). */
export function renderUnsubscribeUnit(config: MailHostConfig): string {
  return `# Rendered by Postforge: RFC 8058 one-click unsubscribe for ${config.hostname}.
[Unit]
Description=Postforge one-click unsubscribe (RFC 8058) on https://${config.hostname}/unsubscribe/${config.domains.some((d) => d.mtaStsPolicy !== undefined) ? " and MTA-STS policies (RFC 8461)" : ""}
After=network-online.target
Wants=network-online.target

[Service]
ExecStart=${PATHS.unsubscribeServer}
Restart=always
RestartSec=2

[Install]
WantedBy=multi-user.target
`;
}

/** The server, as the host runs it. */
export function renderUnsubscribeServer(): string {
  return `#!/usr/bin/python3
"""postforge-unsubscribe: RFC 8058 one-click unsubscribe on the mail host (rendered by Postforge).

POST https://<host>/unsubscribe/<token> with the body List-Unsubscribe=One-Click records an
unsubscribe in the intake spool; postforge-mailops apply (cron) puts the recipient on the
suppression list. GET shows a page with a button. Tokens: components/sending/one-click.ts.
"""
import base64
import datetime
import hashlib
import hmac
import html
import http.server
import json
import os
import pwd
import re
import socket
import ssl
import sys
import threading
import time
import urllib.parse

KEY = "${PATHS.unsubscribeKey}"
CERT = "${PATHS.tlsCert}"
CERT_KEY = "${PATHS.tlsKey}"
MTA_STS_CERT = "${PATHS.mtaStsCert}"
MTA_STS_CERT_KEY = "${PATHS.mtaStsKey}"
SPOOL = "${PATHS.intakeSpool}"
MTA_STS_DIR = "${PATHS.mtaStsDir}"
MTA_STS_PATH = "${MTA_STS_POLICY_PATH}"
MTA_STS_HOST = re.compile(r"^mta-sts\\.([a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)+)\\.?(?::443)?$")
USER = "${HOST_TOOL_USER}"
PORT = 443
MAC_LENGTH = 22
ADDRESS = re.compile(r"^[^@\\s]+@[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)+$")


def today():
    return os.environ.get("POSTFORGE_TODAY") or datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d")


def b64url_decode(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def recipient_of(key, token):
    """The recipient a token names when its MAC checks out under the key, else None (as recipientOfToken)."""
    parts = token.split(".")
    if len(parts) != 2 or not parts[0] or not parts[1]:
        return None
    try:
        address = b64url_decode(parts[0]).decode("utf-8")
    except (ValueError, UnicodeDecodeError):
        return None
    expected = base64.urlsafe_b64encode(hmac.new(key, address.encode("utf-8"), hashlib.sha256).digest()).decode().rstrip("=")[:MAC_LENGTH]
    if not hmac.compare_digest(expected, parts[1]) or not ADDRESS.match(address):
        return None
    return address


def record(recipient):
    # One event file, written whole then renamed, as postforge-mailops intake writes them.
    name = "%d-%d-unsubscribe-%s" % (time.time() * 1000, os.getpid(), base64.b16encode(os.urandom(4)).decode().lower())
    tmp = os.path.join(SPOOL, "." + name)
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump({"source": "one-click unsubscribe", "events": [{"kind": "unsubscribe", "recipient": recipient, "date": today(), "detail": "one-click unsubscribe (RFC 8058)"}]}, f)
        f.write("\\n")
    os.chmod(tmp, 0o640)
    os.rename(tmp, os.path.join(SPOOL, name + ".json"))


PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>Unsubscribe</title></head><body>
<p>%s</p>
%s
</body></html>
"""


class Handler(http.server.BaseHTTPRequestHandler):
    server_version = "postforge-unsubscribe"
    sys_version = ""
    timeout = 15
    protocol_version = "HTTP/1.1"

    def setup(self):
        super().setup()
        # The TLS handshake here, in the connection's own thread: a slow client holds up no one else.
        self.request.settimeout(self.timeout)
        self.request.do_handshake()

    def token(self):
        m = re.match(r"^/unsubscribe/([A-Za-z0-9_.-]{1,600})$", self.path.split("?", 1)[0])
        return m.group(1) if m else None

    def answer(self, status, text, form=""):
        body = (PAGE % (html.escape(text), form)).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(body)

    def policy(self):
        """The MTA-STS policy for this request's Host (mta-sts.<domain>), or None: not a policy request, or no such domain here."""
        if self.path != MTA_STS_PATH:
            return None
        m = MTA_STS_HOST.match((self.headers.get("Host") or "").lower())
        if not m:
            return None
        try:
            with open(os.path.join(MTA_STS_DIR, m.group(1) + ".txt"), "rb") as f:
                return f.read(65536)
        except OSError:
            return None

    def do_GET(self):
        policy = self.policy()
        if policy is not None:
            self.send_response(200)
            self.send_header("Content-Type", "text/plain; charset=utf-8")
            self.send_header("Content-Length", str(len(policy)))
            # Senders cache by the TXT record's id, not by HTTP; a cache in between must not serve an old file under a new id.
            self.send_header("Cache-Control", "no-cache")
            self.end_headers()
            self.wfile.write(policy)
            return
        token = self.token()
        if token is None or recipient_of(self.server.key, token) is None:
            return self.answer(404, "This unsubscribe link is not valid.")
        # Never unsubscribe on GET: scanners and previews fetch links.
        form = '<form method="post"><input type="hidden" name="List-Unsubscribe" value="One-Click"><button type="submit">Unsubscribe</button></form>'
        self.answer(200, "Unsubscribe from this sender's mail?", form)

    def do_POST(self):
        token = self.token()
        try:
            length = int(self.headers.get("Content-Length") or "0")
        except ValueError:
            length = -1
        if length < 0 or length > 4096:
            # The body is not read: the connection cannot carry another request after it.
            self.close_connection = True
            return self.answer(400 if length < 0 else 413, "The request is malformed or too large.")
        body = self.rfile.read(length).decode("utf-8", "replace") if length else ""
        fields = urllib.parse.parse_qs(body, keep_blank_values=True)
        recipient = recipient_of(self.server.key, token) if token else None
        if recipient is None:
            return self.answer(404, "This unsubscribe link is not valid.")
        if fields.get("List-Unsubscribe") != ["One-Click"]:
            return self.answer(400, "A one-click unsubscribe sends List-Unsubscribe=One-Click (RFC 8058).")
        record(recipient)
        self.answer(200, "You are unsubscribed.")

    def log_message(self, format, *args):
        # The path names the recipient: it is left out of the log.
        line = (format % args).replace(self.path, re.sub(r"/unsubscribe/.*", "/unsubscribe/<token>", self.path))
        print("postforge-unsubscribe: %s %s" % (self.client_address[0], line), file=sys.stderr)


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    address_family = socket.AF_INET6
    # At most this many connections at once; more wait in the listen backlog (slow clients cannot pile up threads).
    slots = threading.BoundedSemaphore(64)

    def process_request(self, request, client_address):
        if not self.slots.acquire(timeout=5):
            self.shutdown_request(request)
            return
        super().process_request(request, client_address)

    def process_request_thread(self, request, client_address):
        try:
            super().process_request_thread(request, client_address)
        finally:
            self.slots.release()

    def server_bind(self):
        # One socket for IPv4 and IPv6.
        self.socket.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        super().server_bind()


def main():
    with open(KEY, "rb") as f:
        key = f.read().strip()
    if len(key) < 32:
        print("postforge-unsubscribe: %s holds no key of 32 characters or more" % KEY, file=sys.stderr)
        return 1
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(CERT, CERT_KEY)
    # The MTA-STS policy hosts' certificate, chosen by SNI; read now, as root, like the host's.
    if os.path.exists(MTA_STS_CERT):
        policy_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        policy_context.minimum_version = ssl.TLSVersion.TLSv1_2
        policy_context.load_cert_chain(MTA_STS_CERT, MTA_STS_CERT_KEY)

        def choose(sock, name, _context):
            if name and name.lower().startswith("mta-sts."):
                sock.context = policy_context

        context.sni_callback = choose
    server = Server(("::", PORT), Handler)
    server.key = key
    server.socket = context.wrap_socket(server.socket, server_side=True, do_handshake_on_connect=False)
    # Bound and keyed: from here on, the unprivileged user, which may write the spool and nothing else of ours.
    user = pwd.getpwnam(USER)
    os.setgroups([])
    os.setgid(user.pw_gid)
    os.setuid(user.pw_uid)
    print("postforge-unsubscribe: serving on port %d as %s" % (PORT, USER), file=sys.stderr)
    server.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
`;
}
