"""Defect 1 in server mode: PostgreSQL stops and starts in the middle of a burst of paid
renewals; ``tulpar worker`` (the same process) reconnects and every order completes
exactly once. On main the worker exited with ConnectorException and the paid orders stayed
``awaiting_payment`` / ``provisioning``."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

from tests.resilience import processes as p
from tests.resilience.embedded import embedded_server
from tulpar.carrier_sim.server import simulator_in_thread
from tulpar.carrier_sim.settings import SimulatorSettings

CARDS = 8


def test_a_database_restart_mid_burst_loses_and_doubles_nothing(tmp_path: Path) -> None:
    with (
        embedded_server() as server,
        simulator_in_thread(SimulatorSettings()) as simulator,
        p.processes() as running,
    ):
        factory = p.sessions(server)
        iccids, key = p.seed(factory, CARDS)
        web = f"http://127.0.0.1:{p.free_port()}"
        env = p.environment(server, carrier_url=simulator.url, web=web, data_dir=tmp_path)
        port = web.rsplit(":", 1)[1]
        running.append(p.Tulpar(["serve", "--port", port], env, tmp_path / "web.log").start())
        worker = p.Tulpar(["worker", "--concurrency", "4"], env, tmp_path / "worker.log")
        running.append(worker.start())
        p.wait_for(
            p.answers(f"{web}/readyz"),
            "not ready",
            seconds=p.STARTUP_SECONDS,
            alive=running,
            log_dir=tmp_path,
        )
        assert worker.child is not None
        worker_pid = worker.child.pid

        first, second = iccids[: CARDS // 2], iccids[CARDS // 2 :]
        with ThreadPoolExecutor(4) as pool, httpx.Client(timeout=30) as client:
            order_ids = list(pool.map(lambda iccid: p.renew(client, web, key, iccid), first))
            server.stop()  # while the first half is being paid for, provisioned, confirmed
            server.start()
            order_ids += list(pool.map(lambda iccid: p.renew(client, web, key, iccid), second))

        p.wait_for(
            lambda: p.settled(factory),
            "orders not completed",
            seconds=p.DEADLINE_SECONDS,
            alive=running,
            log_dir=tmp_path,
            explain=lambda: p.unsettled(factory),
        )
        assert worker.running  # it carried on, the same process
        assert worker.child.pid == worker_pid
        p.wait_for(
            p.answers(f"{web}/readyz"),
            "not ready after the restart",
            seconds=10,
            alive=running,
            log_dir=tmp_path,
        )
        p.assert_each_completed_once(factory, order_ids, dict(simulator.book.applications))
        assert "worker.reconnecting" in (tmp_path / "worker.log").read_text()
