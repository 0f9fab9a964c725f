"""The client process of ``benchmarks.concurrency``: simulated tablets and
chief judges' boards over keep-alive HTTPS connections to nginx, in one
asyncio event loop. It reads a plan (JSON) and writes what it saw (JSON):
latencies per endpoint, errors, and every mark acknowledged, for the parent
to check against the database.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import ssl
import time
import uuid
from decimal import Decimal
from pathlib import Path

ENDPOINTS = ("mark", "poll", "board")


class Conn:
    """One keep-alive HTTPS connection to nginx."""

    def __init__(self, port: int, ctx: ssl.SSLContext) -> None:
        self.port, self.ctx = port, ctx
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None
        self.etag = ""  # the last answer's ETag (a tablet sends it back on its next poll)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.transport.abort()
        self.reader = self.writer = None

    async def request(
        self,
        method: str,
        path: str,
        cookie: str,
        body: bytes = b"",
        csrf: str = "",
        etag: str = "",
    ) -> tuple[int, bytes]:
        if self.reader is None or self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(
                "127.0.0.1", self.port, ssl=self.ctx
            )
        origin = f"https://127.0.0.1:{self.port}"
        extra = (
            f"Content-Type: application/json\r\nX-CSRFToken: {csrf}\r\n"
            f"Origin: {origin}\r\nReferer: {origin}/tablet/\r\n"
            if method == "POST"
            else ""
        )
        head = (
            f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{self.port}\r\n"
            f"Cookie: {cookie}\r\nContent-Length: {len(body)}\r\n{extra}"
            + (f"If-None-Match: {etag}\r\n" if etag else "")
            + "\r\n"
        )
        self.writer.write(head.encode() + body)
        await self.writer.drain()
        status = int((await self.reader.readline()).split()[1])
        self.etag = ""
        length, close = 0, False
        while True:
            line = await self.reader.readline()
            if line in (b"\r\n", b""):
                break
            name, _, value = line.decode("latin-1").partition(":")
            name = name.strip().lower()
            if name == "content-length":
                length = int(value)
            elif name == "connection" and value.strip().lower() == "close":
                close = True
            elif name == "etag":
                self.etag = value.strip()
        data = await self.reader.readexactly(length)
        if close:
            self.close()
        return status, data


ERRORS = (TimeoutError, OSError, asyncio.IncompleteReadError, ValueError, IndexError)


class Client:
    """The simulated tablets and boards of one run (or one calibration)."""

    def __init__(self, plan: dict) -> None:
        self.plan = plan
        self.ctx = ssl.create_default_context()
        self.ctx.check_hostname = False
        self.ctx.verify_mode = ssl.CERT_NONE
        self.rng = random.Random(plan["seed"])
        self.lat: dict[str, list[float]] = {e: [] for e in ENDPOINTS}
        self.errors: dict[str, int] = dict.fromkeys(ENDPOINTS, 0)
        self.statuses: dict[str, dict[int, int]] = {e: {} for e in ENDPOINTS}
        self.retries = 0
        self.refused: list[dict] = []
        self.acked: list[dict] = []  # one per acknowledged first send
        self.unanswered: list[dict] = []  # given up on: stored or not?
        self.resent = self.replayed = 0
        self.next_mark = [0] * len(plan["tablets"])

    def tablet_cookie(self, tab: dict) -> str:
        return f"tablet_session={tab['token']}; csrftoken={self.plan['csrf']}"

    async def timed(self, endpoint: str, conn: Conn, *request) -> tuple[int, bytes] | None:
        t0 = time.perf_counter()
        try:
            # tablet.js gives up on a mark after 10 s and sends it again; the
            # poll and the board's refresh wait (nginx cuts them at 75 s).
            limit = self.plan["timeout"] if endpoint == "mark" else 60.0
            answer = await asyncio.wait_for(conn.request(*request), limit)
        except ERRORS:
            conn.close()
            self.errors[endpoint] += 1
            return None
        self.lat[endpoint].append(time.perf_counter() - t0)
        counts = self.statuses[endpoint]
        counts[answer[0]] = counts.get(answer[0], 0) + 1
        if answer[0] >= 500 or (answer[0] not in (200, 304) and endpoint != "mark"):
            self.errors[endpoint] += 1
        return answer

    def poll_request(self, tab: dict) -> tuple:
        path = f"/tablet/api/poll/{tab['skill']}?entry={tab['entry']}"
        return ("GET", path, self.tablet_cookie(tab))

    def board_request(self, board: dict) -> tuple:
        cookie = f"{self.plan['cookie']}={board['session']}"
        return ("GET", f"/tablet/board/{board['skill']}/grid/", cookie)

    async def every(self, endpoint: str, period: float, request: tuple, until: float) -> None:
        """One tablet's poll or one board's refresh on a fixed schedule. A
        tablet sends back the ETag of its last poll, as tablet.js does, and
        is answered 304 while nothing it shows changed."""
        conn = Conn(self.plan["port"], self.ctx)
        due = time.monotonic() + self.rng.uniform(0, period)
        etag = ""
        try:
            while True:
                await asyncio.sleep(max(0.0, due - time.monotonic()))
                if time.monotonic() >= until:
                    return
                method, path, cookie = request
                answer = await self.timed(endpoint, conn, method, path, cookie, b"", "", etag)
                if endpoint == "poll" and answer is not None and answer[0] == 200:
                    etag = conn.etag
                due += period
        finally:
            conn.close()

    async def send_mark(self, conn: Conn, index: int, until: float) -> bool:
        """The next mark of tablet ``index``, until answered (same client key
        on every retry); False when the tablet has no mark left."""
        tab = self.plan["tablets"][index]
        if self.next_mark[index] >= len(tab["marks"]):
            return False
        mark = tab["marks"][self.next_mark[index]]
        self.next_mark[index] += 1
        entry, aspect, kind, current, version = mark
        value = current
        while Decimal(value) == Decimal(current):  # a changed value: a new version
            value = (
                str(self.rng.randint(0, 3))
                if kind == "J"
                else f"{Decimal(self.rng.randint(0, 150)) / 100:.2f}"
            )
        key = str(uuid.uuid4())
        body = json.dumps(
            {
                "client_key": key,
                "entry": entry,
                "aspect": aspect,
                "value": value,
                "expected_version": version,
            }
        ).encode()
        request = ("POST", "/tablet/api/mark", self.tablet_cookie(tab), body, self.plan["csrf"])
        sent = {"key": key, "entry": entry, "aspect": aspect, "judge": tab["judge"], "value": value}
        sends = 2 if self.rng.random() < self.plan["resend"] else 1
        for attempt in range(sends):
            while True:
                answer = await self.timed("mark", conn, *request)
                if answer is not None and answer[0] < 500:
                    break
                if time.monotonic() > until + 30:
                    self.unanswered.append(sent)
                    return True
                self.retries += 1
                await asyncio.sleep(0.2)
            reply = json.loads(answer[1])
            if reply.get("status") != "saved":
                self.refused.append({"status": answer[0], **reply})
                return True
            if attempt:
                self.resent += 1
                self.replayed += bool(reply.get("replayed"))
            else:
                mark[3], mark[4] = value, reply["version"]
                self.acked.append(sent)
        return True

    async def marker(self, slot: int, until: float) -> None:
        """Closed loop: the next tablet's next mark as soon as one is answered."""
        conn = Conn(self.plan["port"], self.ctx)
        tablets = list(range(slot, len(self.plan["tablets"]), self.plan["in_flight"]))
        try:
            while tablets and time.monotonic() < until:
                index = tablets.pop(0)
                if await self.send_mark(conn, index, until):
                    tablets.append(index)
        finally:
            conn.close()

    async def solo(self, endpoint: str, until: float) -> None:
        """Calibration: one endpoint alone, closed loop."""
        if endpoint == "mark":
            await asyncio.gather(*(self.marker(s, until) for s in range(self.plan["in_flight"])))
            return
        items = self.plan["tablets"] if endpoint == "poll" else self.plan["boards"]
        make = self.poll_request if endpoint == "poll" else self.board_request

        async def loop(slot: int) -> None:
            conn = Conn(self.plan["port"], self.ctx)
            n = slot
            try:
                while time.monotonic() < until:
                    await self.timed(endpoint, conn, *make(items[n % len(items)]))
                    n += self.plan["in_flight"]
            finally:
                conn.close()

        await asyncio.gather(*(loop(s) for s in range(self.plan["in_flight"])))

    async def mixed(self, until: float) -> None:
        plan = self.plan
        await asyncio.gather(
            *(
                self.every("poll", plan["poll_every"], self.poll_request(t), until)
                for t in plan["tablets"]
            ),
            *(
                self.every("board", plan["board_every"], self.board_request(b), until)
                for b in plan["boards"]
            ),
            *(self.marker(s, until) for s in range(plan["in_flight"])),
        )


def client_main(plan_path: str, out_path: str) -> None:
    """Run one phase (``plan["phase"]``: "mixed" or an endpoint alone)."""
    plan = json.loads(Path(plan_path).read_text())
    client = Client(plan)
    started = time.perf_counter()
    until = time.monotonic() + plan["seconds"]
    if plan["phase"] == "mixed":
        asyncio.run(client.mixed(until))
    else:
        asyncio.run(client.solo(plan["phase"], until))
    usage = os.times()
    Path(out_path).write_text(
        json.dumps(
            {
                "seconds": time.perf_counter() - started,
                "cpu": usage.user + usage.system,
                "lat": client.lat,
                "errors": client.errors,
                "statuses": client.statuses,
                "retries": client.retries,
                "refused": client.refused,
                "acked": client.acked,
                "unanswered": client.unanswered,
                "resent": client.resent,
                "replayed": client.replayed,
                "tablets": [t["marks"] for t in plan["tablets"]],
            }
        )
    )
