"""The fault drill (issue 12, "Must show"): a burst of paid renewals, then ``kill -9`` of the
web and the worker, then a database stop and start, on an embedded server. The web comes
back first: /readyz says not ready, naming the worker, until a worker runs again; then
every order completes exactly once and the ledger reconciles."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

from tests.resilience import processes as p
from tests.resilience.embedded import embedded_server
from tulpar.carrier_sim.server import simulator_in_thread
from tulpar.carrier_sim.settings import SimulatorSettings

CARDS = 8
# The carrier answers slowly, so the kill finds renewals still being provisioned.
CARRIER_LATENCY_MS = 300
UNFINISHED = "SELECT count(*) FROM orders WHERE state <> 'completed'"


def _readiness(url: str) -> tuple[int, list[str]]:
    try:
        response = httpx.get(url, timeout=2)
    except httpx.HTTPError:
        return 0, []
    return response.status_code, list(response.json().get("failing", []))


def test_kill_web_and_worker_restart_the_database_and_nothing_is_lost_or_doubled(
    tmp_path: Path,
) -> None:
    with (
        embedded_server() as server,
        simulator_in_thread(SimulatorSettings(latency_ms=CARRIER_LATENCY_MS)) as simulator,
        p.processes() as running,
    ):
        factory = p.sessions(server)
        iccids, key = p.seed(factory, CARDS)
        web_url = f"http://127.0.0.1:{p.free_port()}"
        ready = f"{web_url}/readyz"
        env = p.environment(server, carrier_url=simulator.url, web=web_url, data_dir=tmp_path)
        port = web_url.rsplit(":", 1)[1]

        def web() -> p.Tulpar:
            return p.Tulpar(["serve", "--port", port], env, tmp_path / "web.log").start()

        def worker() -> p.Tulpar:
            args = ["worker", "--concurrency", "4"]
            return p.Tulpar(args, env, tmp_path / "worker.log").start()

        running += [web(), worker()]
        p.wait_for(
            p.answers(ready),
            "not ready",
            seconds=p.STARTUP_SECONDS,
            alive=running,
            log_dir=tmp_path,
        )

        with ThreadPoolExecutor(4) as pool, httpx.Client(timeout=30) as client:
            order_ids = list(pool.map(lambda iccid: p.renew(client, web_url, key, iccid), iccids))
        # At once, with the burst's jobs queued or running.
        for process in running:
            process.kill()
        running.clear()
        [(unfinished,)] = p.rows(factory, UNFINISHED)
        assert unfinished > 0, "the burst was over before the kill: no drill"
        server.stop()
        server.start()

        running.append(web())
        seen: list[tuple[int, list[str]]] = []

        def worker_reported_down() -> bool:
            seen.append(_readiness(ready))
            return seen[-1] == (503, ["worker"])

        p.wait_for(
            worker_reported_down,
            f"the worker's absence not reported: {seen[-3:]}",
            seconds=p.STARTUP_SECONDS,
            alive=running,
            log_dir=tmp_path,
        )
        assert p.rows(factory, UNFINISHED) == [(unfinished,)]  # nothing moved without a worker

        running.append(worker())
        p.wait_for(
            lambda: p.settled(factory),
            "orders not completed",
            seconds=p.DEADLINE_SECONDS,
            alive=running,
            log_dir=tmp_path,
            explain=lambda: p.unsettled(factory),
        )
        p.wait_for(p.answers(ready), "not ready again", seconds=30, alive=running, log_dir=tmp_path)
        p.assert_each_completed_once(factory, order_ids, dict(simulator.book.applications))
