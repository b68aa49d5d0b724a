"""The carrier simulator that ships with Tulpar (``tulpar carrier-sim``): an HTTP service
speaking the carrier protocol of :mod:`tulpar.integrations.carrier.wire`, with configurable
latency, temporary failures, permanently failing cards, outage windows, asynchronous
completion by signed callback, and optional usage records so demo balances move."""
