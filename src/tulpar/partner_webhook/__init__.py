"""Outgoing webhooks to partners: their endpoints and secrets, the events of their own orders
and cards (an outbox written in the transaction of the change), and deliveries — at least
once, signed like Stripe's, retried with exponential backoff for up to 3 days, in order per
card and endpoint.

Where events come from: order moves (fulfilment calls :func:`service.record_order_event`
after completing, refunding or failing an order), data thresholds (a statement trigger on
``usage_threshold_events``, migration 0017, so rating's statements write them) and expiry
(:func:`service.record_expiring`, the periodic ``partner_webhook.tick``)."""
