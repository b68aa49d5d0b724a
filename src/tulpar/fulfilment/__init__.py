"""What happens when an order moves: the reactions to each move, in one layer above the
domains. Payment, provisioning and the inbox report outcomes; the functions here move the
order (through :mod:`tulpar.order.service`) and run what follows — provisioning, the bundle,
the confirmation SMS, the receipt, refunds and support tickets."""
