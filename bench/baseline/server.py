#!/usr/bin/env python3
"""The benchmark baseline: the instant-messaging server as the handout
prescribes it, written plainly in Python 3.

    python3 bench/baseline/server.py <port> <users file> [--quiet]

The design is the handout's: the main thread accepts connections and starts
one thread per client (link La); link Lb is opened by that thread on `/port`
and afterwards used by whichever thread delivers a message to the user, under
the user's `threading.Lock`, which is held for the whole exchange (the chat
line out, the `302` back). `/toall` delivers to one receiver after another.

It follows the same protocol and the same decisions as the Deno server
(README.md, "Decisions where the handout is silent"): byte-exact replies,
`\\n` or `\\r\\n` accepted, lines over 65,536 bytes answered `401` and never
held whole, invalid UTF-8 answered `401`, a 5-second Lb connect timeout, a
10-second reply timeout after which the receiver is logged out, `/list` with
the requester first and then everyone else in login order. Where the plain
design differs, it is said at the place (`/toall` is sequential; a broken Lb is
noticed at the next delivery, as nobody reads Lb between exchanges).

Port 0 picks a free port; once listening, one line with the real port goes to
standard output. Events are logged to standard error (with `--quiet`, only
failures). SIGINT or SIGTERM exits 0.
"""

import os
import re
import signal
import socket
import sys
import threading
import time

AUTH_SUCCESSFUL = "101 Authentication successful"
AUTH_FAILED = "102 Authentication failed"
BUILD_SUCCESSFUL = "201 Build connection successful"
BUILD_FAILED = "202 Build connection failed"
RECEIPT_SUCCESSFUL = b"302 Message receipt successful"
DELIVERY_SUCCESSFUL = "303 Message delivery successful"
DELIVERY_FAILED = "304 Message delivery failed"
BYE = "310 Bye bye"
UNRECOGNIZED = "401 Unrecognized message"

MAX_LINE_BYTES = 65536
REPLY_TIMEOUT_S = 10.0
CONNECT_TIMEOUT_S = 5.0
LISTEN_BACKLOG = 511  # the same accept queue as Deno.listen's default
PORT_DIGITS = re.compile(r"[0-9]{1,5}")
USAGE = "usage: server.py <port> <users file> [--quiet]"

TOO_LONG = object()  # stands in for a line longer than MAX_LINE_BYTES

quiet = False


def log(message):
    sys.stderr.write(time.strftime("%Y-%m-%dT%H:%M:%S ") + message + "\n")


def log_event(message):
    if not quiet:
        log(message)


def read_line(reader):
    """The next line from a buffered binary reader, without its `\\n` or
    `\\r\\n`; TOO_LONG for a line over the limit (dropped as it arrives); None
    at the end of the stream (an unterminated last line is dropped)."""
    limit = MAX_LINE_BYTES + 2  # the line, then `\r\n`
    line = reader.readline(limit)
    if not line.endswith(b"\n"):
        if len(line) < limit:
            return None
        # Over the limit: skip the rest of the line, chunk by chunk.
        while True:
            rest = reader.readline(limit)
            if rest.endswith(b"\n"):
                return TOO_LONG
            if len(rest) < limit:
                return None
    line = line[:-1]
    if line.endswith(b"\r"):
        line = line[:-1]
    if len(line) > MAX_LINE_BYTES:
        return TOO_LONG
    return line


class Session:
    """One client: link La and its reader; once logged in, a name, and once
    `/port` succeeded, link Lb with its reader and lock."""

    def __init__(self, conn, address):
        self.conn = conn
        self.reader = conn.makefile("rb")
        self.address = address
        self.name = None
        self.lb = None
        self.lb_reader = None
        self.lb_lock = threading.Lock()
        self.port_requested = False
        self.logged_out = False

    @property
    def label(self):
        return self.name or "%s:%d" % self.address

    def send(self, line):
        self.conn.sendall(line.encode() + b"\n")


class Server:
    def __init__(self, users):
        self.users = users
        self.online = {}  # name -> Session, in login order
        self.online_lock = threading.Lock()
        self.sessions = set()

    # --- La: one thread per client -------------------------------------

    def serve(self, conn, address):
        session = Session(conn, address)
        with self.online_lock:
            self.sessions.add(session)
        log_event("%s: connected" % session.label)
        cause = "disconnected"
        try:
            while True:
                line = read_line(session.reader)
                if line is None:
                    break
                if not self.handle(session, line):
                    break
        except OSError as error:
            cause = str(error)
        finally:
            self.drop(session, cause)
            with self.online_lock:
                self.sessions.discard(session)

    def handle(self, session, raw):
        """Answers one line; False once the session is over."""
        if raw is TOO_LONG:
            session.send(UNRECOGNIZED)
            return True
        try:
            line = raw.decode("utf-8")
        except UnicodeDecodeError:
            session.send(UNRECOGNIZED)
            return True

        if session.name is None:
            if line == "/login" or line.startswith("/login "):
                session.send(self.login(session, line[len("/login "):]))
            else:
                session.send(UNRECOGNIZED)
            return True

        if line == "/list":
            session.send(self.list_for(session.name))
        elif line == "/exit":
            self.exit(session)
            return False
        elif line.startswith("/to "):
            space = line.find(" ", 4)
            if space <= 4 or space == len(line) - 1:
                session.send(UNRECOGNIZED)
            else:
                session.send(self.send_to(session, line[4:space], line[space + 1:]))
        elif line.startswith("/toall "):
            if len(line) == len("/toall "):
                session.send(UNRECOGNIZED)
            else:
                session.send(self.send_to_all(session, line[len("/toall "):]))
        elif line.startswith("/port "):
            digits = line[len("/port "):]
            port = int(digits) if PORT_DIGITS.fullmatch(digits) else 0
            if port < 1 or port > 65535 or session.port_requested:
                session.send(UNRECOGNIZED)
            else:
                session.send(self.connect_lb(session, port))
        else:
            session.send(UNRECOGNIZED)
        return True

    def login(self, session, words):
        parts = words.split(" ")
        if len(parts) != 2 or parts[0] == "" or parts[1] == "":
            log_event("%s: login failed: malformed /login" % session.label)
            return AUTH_FAILED
        user, password = parts
        if self.users.get(user) != password:
            log_event("%s: login failed: wrong user name or password" % session.label)
            return AUTH_FAILED
        with self.online_lock:
            if user in self.online or session.logged_out:
                log_event("%s: login failed: %s is already online" % (session.label, user))
                return AUTH_FAILED
            session.name = user
            self.online[user] = session
        log_event("%s:%d: logged in as %s" % (session.address + (user,)))
        return AUTH_SUCCESSFUL

    def list_for(self, requester):
        with self.online_lock:
            names = [requester] + [name for name in self.online if name != requester]
        return "301 " + " ".join(names)

    def connect_lb(self, session, port):
        session.port_requested = True
        host = session.address[0]
        try:
            lb = socket.create_connection((host, port), timeout=CONNECT_TIMEOUT_S)
        except OSError as error:
            log("%s: Lb to %s:%d failed: %s" % (session.label, host, port, error))
            return BUILD_FAILED
        lb.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        lb.settimeout(REPLY_TIMEOUT_S)
        with session.lb_lock:
            if session.logged_out:
                lb.close()
                return BUILD_FAILED
            session.lb = lb
            session.lb_reader = lb.makefile("rb")
        log_event("%s: Lb connected to %s:%d" % (session.label, host, port))
        return BUILD_SUCCESSFUL

    # --- Deliveries on Lb, one exchange at a time per receiver ----------

    def send_to(self, sender, target, content):
        with self.online_lock:
            receiver = self.online.get(target)
        if receiver is None or receiver.lb is None:
            log_event("%s: /to %s: not online with Lb" % (sender.label, target))
            return DELIVERY_FAILED
        line = "/from %s %s\n" % (sender.name, content)
        if self.deliver(receiver, line.encode()):
            return DELIVERY_SUCCESSFUL
        return DELIVERY_FAILED

    def send_to_all(self, sender, content):
        with self.online_lock:
            receivers = [s for s in self.online.values() if s is not sender and s.lb is not None]
        data = ("/broadcastfrom %s %s\n" % (sender.name, content)).encode()
        delivered = True
        for receiver in receivers:  # one after another, as the handout has it
            if not self.deliver(receiver, data):
                delivered = False
        return DELIVERY_SUCCESSFUL if delivered else DELIVERY_FAILED

    def deliver(self, receiver, data):
        """One exchange under the receiver's lock: True only for a `302`."""
        with receiver.lb_lock:
            if receiver.logged_out or receiver.lb is None:
                return False
            try:
                receiver.lb.sendall(data)
                reply = read_line(receiver.lb_reader)
            except socket.timeout:
                self.drop(receiver, "no reply on Lb within %d s" % REPLY_TIMEOUT_S)
                return False
            except OSError as error:
                self.drop(receiver, "Lb %s" % error)
                return False
            if reply is None:
                self.drop(receiver, "Lb closed during a delivery")
                return False
            if reply != RECEIPT_SUCCESSFUL:
                log("%s: answered %r instead of a receipt" % (receiver.label, reply))
                return False
            return True

    # --- Leaving ---------------------------------------------------------

    def exit(self, session):
        self.unlist(session)
        with session.lb_lock:  # lets a delivery in flight finish
            try:
                session.send(BYE)
            except OSError:
                pass
            self.drop(session, "exit")

    def unlist(self, session):
        with self.online_lock:
            if session.name is not None and self.online.get(session.name) is session:
                del self.online[session.name]

    def drop(self, session, cause):
        """Logs the user out and closes both links (never takes lb_lock: the
        caller may hold it)."""
        if session.logged_out:
            return
        session.logged_out = True
        self.unlist(session)
        for conn in (session.lb, session.conn):
            if conn is None:
                continue
            try:
                conn.shutdown(socket.SHUT_RDWR)  # wakes a thread blocked reading it
            except OSError:
                pass
            conn.close()
        log_event("%s: logged out (%s)" % (session.label, cause))


def load_users(path):
    try:
        with open(path, encoding="utf-8") as file:
            text = file.read()
    except OSError as error:
        raise ValueError("cannot read users file %s: %s" % (path, error.strerror))
    users = {}
    for number, line in enumerate(text.split("\n"), start=1):
        line = line.strip()
        if line == "" or line.startswith("#"):
            continue
        words = line.split()
        if len(words) != 2:
            raise ValueError('%s:%d: expected "username password"' % (path, number))
        if words[0] in users:
            raise ValueError('%s:%d: user "%s" is listed twice' % (path, number, words[0]))
        users[words[0]] = words[1]
    return users


def main(argv):
    global quiet
    args = [arg for arg in argv if arg != "--quiet"]
    quiet = len(args) != len(argv)
    if len(args) != 2 or not args[0].isdigit() or int(args[0]) > 65535:
        print("error: expected a port and a users file\n" + USAGE, file=sys.stderr)
        return 2
    try:
        users = load_users(args[1])
    except ValueError as error:
        print("error: %s" % error, file=sys.stderr)
        return 1
    try:
        listener = socket.create_server(("0.0.0.0", int(args[0])), backlog=LISTEN_BACKLOG)
    except OSError as error:
        print("error: cannot listen on port %s: %s" % (args[0], error.strerror), file=sys.stderr)
        return 1
    server = Server(users)
    print("listening on 0.0.0.0:%d with %d users" % (listener.getsockname()[1], len(users)), flush=True)
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    signal.signal(signal.SIGINT, lambda *_: os._exit(0))
    while True:
        try:
            conn, address = listener.accept()
        except OSError as error:  # out of file descriptors, say
            log("accept failed: %s" % error)
            time.sleep(0.1)
            continue
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        threading.Thread(target=server.serve, args=(conn, address), daemon=True).start()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
