#!/usr/bin/env python3
"""Wideband PESQ of a degraded recording against its reference.

usage: pesq_score.py REF.wav DEG.wav   (16 kHz mono 16-bit WAV files)
Aligns DEG to REF by cross-correlation, trims both to the overlap, and prints the MOS-LQO,
the lag found (ms) and the length scored (s).
"""
import sys
import wave

import numpy as np
from pesq import pesq


def read(path):
    with wave.open(path, "rb") as w:
        assert w.getnchannels() == 1 and w.getsampwidth() == 2, path
        rate = w.getframerate()
        data = np.frombuffer(w.readframes(w.getnframes()), dtype=np.int16)
    return rate, data.astype(np.float64)


def main():
    rate_r, ref = read(sys.argv[1])
    rate_d, deg = read(sys.argv[2])
    assert rate_r == rate_d == 16000, (rate_r, rate_d)
    n = len(ref) + len(deg)
    size = 1 << (n - 1).bit_length()
    corr = np.fft.irfft(np.fft.rfft(deg, size) * np.conj(np.fft.rfft(ref, size)), size)
    lag = int(np.argmax(corr))
    if lag > size // 2:
        lag -= size
    if lag >= 0:
        deg = deg[lag:]
    else:
        ref = ref[-lag:]
    m = min(len(ref), len(deg))
    score = pesq(16000, ref[:m], deg[:m], "wb")
    print(f"{score:.3f} {lag / 16.0:.1f} {m / 16000.0:.2f}")


if __name__ == "__main__":
    main()
