"""The CPU allocator setting: what it asks glibc for, old and new glibc alike."""

from __future__ import annotations

import ctypes

import pytest

from explorer.inference import devices


class FakeLibc:
    """glibc's mallopt, refusing mmap thresholds above ``mmap_max`` as glibc < 2.35 does."""

    def __init__(self, mmap_max: int) -> None:
        self.mmap_max = mmap_max
        self.set: dict[int, int] = {}

    def mallopt(self, param: int, value: int) -> int:
        if param == devices._M_MMAP_THRESHOLD and value > self.mmap_max:
            return 0
        self.set[param] = value
        return 1


@pytest.fixture
def fake_libc(monkeypatch):
    def install(mmap_max: int) -> FakeLibc:
        libc = FakeLibc(mmap_max)
        monkeypatch.setattr(ctypes, "CDLL", lambda name: libc)
        monkeypatch.setattr(devices, "_TUNED", False)
        monkeypatch.setattr(devices.sys, "platform", "linux")
        monkeypatch.delenv("EXPLORER_NO_MALLOPT", raising=False)
        return libc
    return install


def test_a_new_glibc_gets_the_1_gib_thresholds(fake_libc):
    libc = fake_libc(mmap_max=1 << 40)
    assert devices.tune_cpu_allocator()
    assert libc.set == {devices._M_MMAP_THRESHOLD: 1 << 30, devices._M_TRIM_THRESHOLD: 1 << 30}


def test_an_old_glibc_gets_its_largest_mmap_threshold_and_the_trim_threshold(fake_libc):
    libc = fake_libc(mmap_max=32 << 20)
    assert devices.tune_cpu_allocator()
    assert libc.set == {devices._M_MMAP_THRESHOLD: 32 << 20, devices._M_TRIM_THRESHOLD: 1 << 30}


def test_the_switch_turns_it_off(fake_libc, monkeypatch):
    libc = fake_libc(mmap_max=1 << 40)
    monkeypatch.setenv("EXPLORER_NO_MALLOPT", "1")
    assert not devices.tune_cpu_allocator()
    assert libc.set == {}
