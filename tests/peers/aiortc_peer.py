"""A WebRTC peer built on aiortc, driven only by what docs/protocol.md says.

It signs in to a parla server's WebSocket with a token, places or answers one call (or
several, one after another), sends a sine tone, records what it hears to a WAV file, and
follows a timeline of actions (hold, resume, ICE restart, garbage descriptions, hang-up).
Everything it sees goes to standard output as JSON lines, for the Rust test that started it.

Usage: aiortc_peer.py --url ws://127.0.0.1:PORT --token JWT [options]; see --help.
"""

import argparse
import asyncio
import fractions
import json
import math
import struct
import sys
import time
import wave

import aioice.ice
import websockets
from aiortc import (
    RTCConfiguration,
    RTCPeerConnection,
    RTCRtpSender,
    RTCSessionDescription,
)
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack
from aiortc.sdp import candidate_from_sdp
import av

# Loopback only: the tests never send a packet off this machine.
aioice.ice.get_host_addresses = lambda use_ipv4, use_ipv6: ["127.0.0.1"] if use_ipv4 else []

RATE = 48000
FRAME = 960


def say(event, **fields):
    print(json.dumps({"event": event, **fields}), flush=True)


DTMF_ROWS = {"1": 697, "2": 697, "3": 697, "A": 697, "4": 770, "5": 770, "6": 770, "B": 770,
             "7": 852, "8": 852, "9": 852, "C": 852, "*": 941, "0": 941, "#": 941, "D": 941}
DTMF_COLS = {"1": 1209, "4": 1209, "7": 1209, "*": 1209, "2": 1336, "5": 1336, "8": 1336, "0": 1336,
             "3": 1477, "6": 1477, "9": 1477, "#": 1477, "A": 1633, "B": 1633, "C": 1633, "D": 1633}


class Tone(MediaStreamTrack):
    """A sine tone in real time, 20 ms frames of 48 kHz mono; DTMF digits (140 ms each,
    100 ms apart) in place of the tone from `dtmf_at` seconds on."""

    kind = "audio"

    def __init__(self, freq, level=0.3, dtmf="", dtmf_at=1.5):
        super().__init__()
        self.freq = freq
        self.level = level
        self.sent = 0
        self.start = None
        self.dtmf = dtmf
        self.dtmf_at = int(dtmf_at * RATE)

    def sample(self, n):
        k = n - self.dtmf_at
        slot = int(0.24 * RATE)
        if self.dtmf and k >= 0 and k // slot < len(self.dtmf):
            if k % slot >= int(0.14 * RATE):
                return 0
            d = self.dtmf[k // slot]
            t = n / RATE
            return int(32767 * 0.2 * (math.sin(2 * math.pi * DTMF_ROWS[d] * t) + math.sin(2 * math.pi * DTMF_COLS[d] * t)))
        return int(32767 * self.level * math.sin(2 * math.pi * self.freq * n / RATE))

    async def recv(self):
        if self.start is None:
            self.start = time.monotonic()
        due = self.start + self.sent / RATE
        delay = due - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        samples = [self.sample(self.sent + i) for i in range(FRAME)]
        frame = av.AudioFrame(format="s16", layout="mono", samples=FRAME)
        frame.planes[0].update(struct.pack(f"<{FRAME}h", *samples))
        frame.sample_rate = RATE
        frame.pts = self.sent
        frame.time_base = fractions.Fraction(1, RATE)
        self.sent += FRAME
        return frame


class Recorder:
    """Writes what a remote track plays, 48 kHz mono, with silence where nothing came."""

    def __init__(self, path):
        self.path = path
        self.samples = []
        self.start = time.monotonic()

    def pad_to_now(self):
        due = int((time.monotonic() - self.start) * RATE)
        if due > len(self.samples) + FRAME * 3:
            self.samples.extend([0] * (due - len(self.samples)))

    def add(self, frame):
        self.pad_to_now()
        channels = len(frame.layout.channels)
        # The plane's buffer can be longer than its samples (alignment).
        data = bytes(frame.planes[0])[: frame.samples * channels * 2]
        values = struct.unpack(f"<{len(data) // 2}h", data)[::channels]
        # Narrowband codecs decode at 8 kHz: repeat each sample to keep the 48 kHz timeline.
        repeat = max(1, RATE // frame.sample_rate)
        for v in values:
            self.samples.extend([v] * repeat)

    async def consume(self, track):
        while True:
            try:
                frame = await track.recv()
            except MediaStreamError:
                return
            self.add(frame)

    def save(self):
        self.pad_to_now()
        with wave.open(self.path, "wb") as w:
            w.setnchannels(1)
            w.setsampwidth(2)
            w.setframerate(RATE)
            w.writeframes(struct.pack(f"<{len(self.samples)}h", *self.samples))


def take_telephone_events(rates):
    """aiortc has no telephone-event: offer/accept it at these clock rates, and report the
    events that arrive (RFC 4733: event, end bit, duration) instead of decoding them."""
    from aiortc import codecs as aiortc_codecs
    from aiortc.rtcrtpparameters import RTCRtpCodecParameters
    from aiortc.rtcrtpreceiver import RTCRtpReceiver

    pts = {48000: 101, 8000: 126}
    for rate in rates:
        aiortc_codecs.CODECS["audio"].append(
            RTCRtpCodecParameters(mimeType="audio/telephone-event", clockRate=rate, channels=1, payloadType=pts[rate])
        )
    original = RTCRtpReceiver._handle_rtp_packet
    seen = set()

    async def handle(self, packet, arrival_time_ms):
        codec = self._RTCRtpReceiver__codecs.get(packet.payload_type)
        if codec is not None and codec.mimeType.lower() == "audio/telephone-event":
            p = packet.payload
            if len(p) >= 4 and p[1] & 0x80 and packet.timestamp not in seen:
                seen.add(packet.timestamp)
                say("telephone_event", code=p[0], clock=codec.clockRate,
                    duration=int.from_bytes(p[2:4], "big"), payload_type=packet.payload_type)
            return
        await original(self, packet, arrival_time_ms)

    RTCRtpReceiver._handle_rtp_packet = handle


def codecs_named(names):
    caps = RTCRtpSender.getCapabilities("audio").codecs
    wanted = [n.lower() for n in names]
    return [c for c in caps if c.mimeType.split("/")[1].lower() in wanted]


def strip_candidates(sdp):
    lines = [l for l in sdp.split("\r\n") if not l.startswith("a=candidate:") and l != "a=end-of-candidates"]
    return "\r\n".join(lines)


def candidates_of(sdp):
    return [l[2:] for l in sdp.split("\r\n") if l.startswith("a=candidate:")]


class Peer:
    def __init__(self, args, ws):
        self.args = args
        self.ws = ws
        self.pc = None
        self.room = None
        self.other = None
        self.transceiver = None
        self.recorder = Recorder(args.record) if args.record else None
        self.record_task = None
        self.ended = asyncio.Event()
        self.answered = asyncio.Event()
        self.connected = asyncio.Event()
        self.signals = asyncio.Queue()
        self.req = 0
        # A description of the other side has arrived (applied or not yet).
        self.description_seen = False
        self.pending_candidates = []

    async def send(self, frame):
        await self.ws.send(json.dumps(frame))

    async def request(self, frame):
        self.req += 1
        frame["req_id"] = f"py-{self.req}"
        await self.send(frame)

    async def signal(self, signal):
        await self.send({"type": "call_signal", "room_id": self.room, "to_user": self.other, "signal": signal})

    def new_pc(self):
        pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))

        @pc.on("connectionstatechange")
        async def on_state():
            say("connection", state=pc.connectionState)
            if pc.connectionState == "connected":
                self.connected.set()

        @pc.on("track")
        def on_track(track):
            say("track", kind=track.kind)
            if self.recorder and track.kind == "audio":
                self.record_task = asyncio.ensure_future(self.recorder.consume(track))

        self.transceiver = pc.addTransceiver(Tone(self.args.tone, dtmf=self.args.dtmf_tones), direction="sendrecv")
        if self.args.codecs:
            self.transceiver.setCodecPreferences(codecs_named(self.args.codecs.split(",")))
        self.pc = pc

    async def apply(self, sdp, kind):
        await self.pc.setRemoteDescription(RTCSessionDescription(sdp, kind))
        for c in self.pending_candidates:
            await self.pc.addIceCandidate(c)
        self.pending_candidates = []

    async def describe(self, kind, sdp):
        """Sends our description: candidates inline, or trickled after it."""
        if self.args.trickle:
            await self.signal({"kind": kind, "sdp": strip_candidates(sdp)})
            for c in candidates_of(sdp):
                await self.signal({"kind": "candidate", "candidate": c, "sdp_mid": "0", "sdp_mline_index": 0})
            await self.signal({"kind": "end_of_candidates"})
        else:
            await self.signal({"kind": kind, "sdp": sdp})
        say(f"{kind}_sent", sdp=sdp)

    async def offer(self):
        await self.pc.setLocalDescription(await self.pc.createOffer())
        await self.describe("offer", self.pc.localDescription.sdp)
        answer = await self.next_description("answer")
        if answer is not None:
            try:
                await self.apply(answer, "answer")
            except Exception as e:  # an answer that rejects our audio, say
                say("remote_description_failed", error=str(e))

    async def next_description(self, kind, timeout=20):
        """The next offer or answer from the other side (candidates are applied as they come)."""
        try:
            while True:
                s = await asyncio.wait_for(self.signals.get(), timeout)
                if s["kind"] == kind:
                    say(f"{kind}_received", sdp=s["sdp"])
                    return s["sdp"]
        except asyncio.TimeoutError:
            say("no_description", kind=kind)
            return None

    async def on_signal(self, s):
        kind = s["kind"]
        if kind in ("offer", "answer"):
            self.description_seen = True
        if kind in ("candidate", "end_of_candidates") and not self.description_seen:
            say("candidate_before_description", signal=s)
        if kind == "candidate":
            c = candidate_from_sdp(s["candidate"].removeprefix("candidate:"))
            c.sdpMid = s.get("sdp_mid")
            c.sdpMLineIndex = s.get("sdp_mline_index")
            if self.pc is None or self.pc.remoteDescription is None:
                self.pending_candidates.append(c)
            else:
                await self.pc.addIceCandidate(c)
        elif kind == "end_of_candidates":
            pass
        elif kind == "offer" and self.pc is not None and self.pc.remoteDescription is not None:
            # A re-offer by parla: answer it.
            say("offer_received", sdp=s["sdp"])
            await self.apply(s["sdp"], "offer")
            await self.pc.setLocalDescription(await self.pc.createAnswer())
            await self.describe("answer", self.pc.localDescription.sdp)
        else:
            await self.signals.put(s)

    async def read(self):
        async for text in self.ws:
            f = json.loads(text)
            t = f.get("type")
            if t == "call_incoming" and self.args.role == "answer" and self.room is None:
                self.room = f["call"]["room_id"]
                self.other = f["call"]["caller"]
                await self.request({"type": "call_answer", "room_id": self.room})
            elif t == "call_updated" and f["call"]["room_id"] == self.room:
                joined = [p for p in f["call"]["participants"] if p["state"] == "joined"]
                if joined:
                    self.answered.set()
            elif t == "call_ended" and f["call"]["room_id"] == self.room:
                say("call_ended", reason=f["reason"])
                self.ended.set()
            elif t == "call_signal" and f["room_id"] == self.room:
                await self.on_signal(f["signal"])
            elif t == "error":
                say("error", code=f.get("code"), message=f.get("message"))
            elif t == "call_updated" and self.args.role == "call" and self.room is None:
                self.room = f["call"]["room_id"]

    async def hold(self, direction):
        self.transceiver.direction = direction
        say("renegotiate", direction=direction)
        await self.offer()

    async def timeline(self):
        for step in self.args.step:
            at, _, what = step.partition(":")
            await asyncio.sleep(float(at))
            say("step", what=what)
            if what in ("sendonly", "inactive", "recvonly", "sendrecv"):
                await self.hold(what)
            elif what == "restart":
                # A new ICE generation: a fresh connection's credentials in a re-offer.
                await self.pc.setLocalDescription(await self.pc.createOffer())
                await self.describe("offer", self.pc.localDescription.sdp)
            elif what == "garbage_offer":
                await self.signal({"kind": "offer", "sdp": "v=0\r\nthis is not SDP\r\n"})
            elif what == "hangup":
                await self.request({"type": "call_hangup", "room_id": self.room})
            elif what == "exit":
                say("exiting")
                return True
        return False

    async def run(self):
        reader = asyncio.ensure_future(self.read())
        if self.args.role == "call":
            await self.request({"type": "call_dial", "callees": [self.args.callee]})
            self.other = self.args.callee
            await asyncio.wait_for(self.answered.wait(), 30)
            self.new_pc()
            if self.args.first == "garbage":
                await self.signal({"kind": "offer", "sdp": "v=0\r\nthis is not SDP\r\n"})
                say("offer_sent", sdp="garbage")
            else:
                await self.offer()
        else:
            self.new_pc()
            offer = await self.next_description("offer", timeout=60)
            if offer is None:
                return
            await self.apply(offer, "offer")
            if self.args.first == "garbage":
                await self.signal({"kind": "answer", "sdp": "v=0\r\nthis is not SDP\r\n"})
                say("answer_sent", sdp="garbage")
            else:
                await self.pc.setLocalDescription(await self.pc.createAnswer())
                await self.describe("answer", self.pc.localDescription.sdp)
        try:
            await asyncio.wait_for(self.connected.wait(), 20)
        except asyncio.TimeoutError:
            say("never_connected")
        if await self.timeline():
            self.save()
            sys.stdout.flush()
            import os
            os._exit(0)
        try:
            await asyncio.wait_for(self.ended.wait(), self.args.wait)
        except asyncio.TimeoutError:
            say("still_in_call")
        self.save()
        await self.pc.close()
        reader.cancel()

    def save(self):
        if self.recorder:
            self.recorder.save()
            say("recorded", path=self.recorder.path)


async def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", required=True, help="ws://host:port of the parla server")
    ap.add_argument("--token", required=True)
    ap.add_argument("--device", default="aiortc")
    ap.add_argument("--role", choices=["call", "answer"], required=True)
    ap.add_argument("--callee", help="who to call (--role call)")
    ap.add_argument("--tone", type=float, default=880.0)
    ap.add_argument("--record", help="WAV file for what is heard")
    ap.add_argument("--codecs", help="comma-separated codec names to offer/accept, e.g. PCMU")
    ap.add_argument("--trickle", action="store_true", help="send descriptions without candidates, then each candidate")
    ap.add_argument("--first", default="sdp", help="`garbage`: the first offer or answer is not SDP")
    ap.add_argument("--step", action="append", default=[], help="SECONDS:ACTION after connecting, in order")
    ap.add_argument("--wait", type=float, default=30.0, help="seconds to wait for the call to end")
    ap.add_argument("--dtmf-tones", default="", help="digits to send as in-band tones, 1.5 s in")
    ap.add_argument("--events", default="", help="take telephone-event at these clock rates (48000,8000) and report each")
    args = ap.parse_args()
    if args.events:
        take_telephone_events([int(r) for r in args.events.split(",")])
    url = f"{args.url}/v1/ws?device_id={args.device}&device_name=aiortc"
    async with websockets.connect(url, additional_headers={"Authorization": f"Bearer {args.token}"}) as ws:
        ready = json.loads(await ws.recv())
        say("ready", user=ready.get("user_id"))
        await Peer(args, ws).run()


if __name__ == "__main__":
    asyncio.run(main())
