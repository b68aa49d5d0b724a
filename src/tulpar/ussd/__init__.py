"""The USSD channel (``*100#``): a pure menu, the service that feeds and acts for it, and the
gateway adapters."""
