#!/usr/bin/python3
"""An SMTP server for tests (Debian's python3-aiosmtpd), on 127.0.0.1:PORT.

Every message it accepts is written whole, as received, to DIR/<n>.eml. The recipient's
local part chooses a misbehaviour:
  refuse-...  550 at RCPT (a permanent refusal)
  later-...   451 at RCPT (try again later)
  cut-...     the connection closed after the message's data, with no answer
Runs until SIGTERM.
"""
import argparse
import os
import signal
import threading

from aiosmtpd.controller import Controller


class Sink:
    def __init__(self, out):
        self.out = out
        self.count = 0
        self.lock = threading.Lock()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        local = address.split("@")[0]
        if local.startswith("refuse"):
            return "550 5.1.1 mailbox unavailable"
        if local.startswith("later"):
            return "451 4.3.0 try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if any(a.split("@")[0].startswith("cut") for a in envelope.rcpt_tos):
            server.transport.abort()
            return "451 never seen"
        with self.lock:
            self.count += 1
            path = os.path.join(self.out, "%06d.eml" % self.count)
        with open(path + ".tmp", "wb") as f:
            f.write(envelope.original_content)
        os.rename(path + ".tmp", path)
        return "250 2.0.0 accepted"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--dir", required=True)
    args = parser.parse_args()
    controller = Controller(Sink(args.dir), hostname="127.0.0.1", port=args.port)
    controller.start()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    stop.wait()
    controller.stop()


if __name__ == "__main__":
    main()
