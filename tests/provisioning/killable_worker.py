"""Runs ``provisioning.apply`` for one order and stops dead between the carrier's answer and
the local apply, waiting to be killed (the test sends SIGKILL)."""

from __future__ import annotations

import os
import sys
import time

from tulpar.fulfilment import tasks
from tulpar.integrations.carrier import use_carrier
from tulpar.integrations.carrier.http import HttpCarrier
from tulpar.integrations.carrier.protocol import ApplyBundleRequest, CarrierResponse


class CarrierThenHang(HttpCarrier):
    def apply_bundle(self, request: ApplyBundleRequest, *, timeout: float) -> CarrierResponse:
        answer = super().apply_bundle(request, timeout=timeout)
        print(f"carrier answered {answer.status.value}", flush=True)
        time.sleep(60)  # killed here
        return answer


if __name__ == "__main__":
    with use_carrier(CarrierThenHang(os.environ["TULPAR_CARRIER_URL"])):
        tasks.apply(order_id=int(sys.argv[1]))
    sys.exit(1)  # never reached when killed
