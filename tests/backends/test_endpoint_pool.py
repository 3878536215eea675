"""The endpoint pool on its own: least outstanding requests, per-endpoint limits, back-off with
one probe after it, and the URL list of the CLI."""

import asyncio

import pytest

from judgekit.backends.pool import EndpointPool, format_endpoint_counts, read_base_urls
from judgekit.errors import ConfigError


class Clock:
    def __init__(self):
        self.t = 0.0

    def __call__(self):
        return self.t


def test_least_outstanding_and_limits():
    async def go():
        pool = EndpointPool(["a", "b", "c"], limit=2)
        got = [await pool.acquire() for _ in range(3)]
        assert sorted(e.url for e in got) == ["a", "b", "c"]  # spread, not piled on one
        await pool.release(got[1], ok=True)  # that one is now the least busy
        assert (await pool.acquire()).url == got[1].url
        more = [await pool.acquire() for _ in range(3)]
        assert sorted(e.url for e in more) == ["a", "b", "c"]  # each takes its second before any a third
        assert all(e.outstanding == 2 for e in pool.endpoints)
        waiter = asyncio.create_task(pool.acquire())  # all full: it waits for a release
        await asyncio.sleep(0.01)
        assert not waiter.done()
        await pool.release(pool.endpoints[2], ok=True)
        assert (await asyncio.wait_for(waiter, 1)).url == "c"

    asyncio.run(go())


def test_backoff_takes_an_endpoint_out_then_probes_it():
    async def go():
        clock = Clock()
        pool = EndpointPool(["a", "b"], limit=4, backoff=1.0, clock=clock)
        a = pool.endpoints[0]
        ep = await pool.acquire()
        while ep is not a:
            ep = await pool.acquire()
        await pool.release(a, ok=False, unwell=True)
        got = [await pool.acquire() for _ in range(4)]
        assert all(e.url == "b" for e in got)  # a is out
        clock.t = 1.5  # back-off over: one probe only
        assert (await pool.acquire()) is a
        assert pool.pick() is None  # b full, a probing
        await pool.release(a, ok=False, unwell=True)  # second strike: out for 2 s
        assert a.down_until == pytest.approx(3.5) and a.failed == 2 and a.taken_out == 2
        clock.t = 4.0
        assert (await pool.acquire()) is a
        await pool.release(a, ok=True)  # recovered: full capacity again
        assert a.strikes == 0 and a.capacity() == 4
        await pool.release(a, ok=False, unwell=True, retry_after=7.0)  # Retry-After wins
        assert a.down_until == pytest.approx(11.0)
        assert pool.counts()[0] == {"url": "a", "served": 1, "failed": 3, "taken_out": 3}

    asyncio.run(go())


def test_all_out_waits_for_the_first_to_come_back():
    async def go():
        pool = EndpointPool(["a"], limit=1, backoff=0.05)
        ep = await pool.acquire()
        await pool.release(ep, ok=False, unwell=True)
        t = asyncio.get_running_loop().time()
        assert (await asyncio.wait_for(pool.acquire(), 2)) is ep
        assert asyncio.get_running_loop().time() - t >= 0.04

    asyncio.run(go())


def test_config_errors_and_url_lists(tmp_path):
    with pytest.raises(ConfigError, match="twice"):
        EndpointPool(["a", "a"])
    with pytest.raises(ConfigError, match="at least one"):
        EndpointPool([])
    assert read_base_urls(None) is None and read_base_urls(["u1"]) == "u1"
    f = tmp_path / "urls.txt"
    f.write_text("# replicas\nhttp://h1:8000/v1\n\nhttp://h2:8000/v1  # second\n")
    assert read_base_urls(["http://h0/v1"], f) == ["http://h0/v1", "http://h1:8000/v1", "http://h2:8000/v1"]
    with pytest.raises(ConfigError, match="does not exist"):
        read_base_urls(None, tmp_path / "nope.txt")
    assert format_endpoint_counts({"endpoints": [{"url": "u", "served": 3, "failed": 1, "taken_out": 1}]}) == [
        "endpoint u: 3 served, 1 failed, taken out 1x"]
    assert format_endpoint_counts({"cache": {}}) == []
