"""The channel kit: helpers every channel shares (SMS, web pages, receipts, USSD) — language
resolution, gettext catalogues, Jinja2 page environments and the one formatter for money,
dates, data and durations. It imports no domain package and no models, so any layer may use
it without pulling the business in."""
