"""A realistic Kazakhstan travel-eSIM catalog (prices include VAT).

Every plan has ``rollover``: renewing early carries what is left into the new bundle, so
renewing before the end never costs the traveller what they already paid for."""

from __future__ import annotations

from tulpar.catalog.service import PlanDefinition
from tulpar.kit.format import GB
from tulpar.models import Channel, RenewalPolicy

ALL_CHANNELS = tuple(Channel)

DEMO_PLANS = (
    PlanDefinition(
        code="KZ-7D-5GB",
        names={
            "zh-Hans": "哈萨克斯坦 7天 5GB",
            "ru": "Казахстан 7 дней 5 ГБ",
            "kk": "Қазақстан 7 күн 5 ГБ",
            "en": "Kazakhstan 7 days 5 GB",
        },
        validity_days=7,
        data_bytes=5 * GB,
        voice_seconds=30 * 60,
        sms_count=20,
        rollover=True,
        prices_minor={"KZT": 3_500_00, "CNY": 52_00, "USD": 7_00},
    ),
    PlanDefinition(
        code="KZ-15D-10GB",
        names={
            "zh-Hans": "哈萨克斯坦 15天 10GB",
            "ru": "Казахстан 15 дней 10 ГБ",
            "kk": "Қазақстан 15 күн 10 ГБ",
            "en": "Kazakhstan 15 days 10 GB",
        },
        validity_days=15,
        data_bytes=10 * GB,
        voice_seconds=60 * 60,
        sms_count=50,
        rollover=True,
        prices_minor={"KZT": 5_900_00, "CNY": 88_00, "USD": 12_00},
    ),
    PlanDefinition(
        code="KZ-30D-20GB",
        names={
            "zh-Hans": "哈萨克斯坦 30天 20GB",
            "ru": "Казахстан 30 дней 20 ГБ",
            "kk": "Қазақстан 30 күн 20 ГБ",
            "en": "Kazakhstan 30 days 20 GB",
        },
        validity_days=30,
        data_bytes=20 * GB,
        voice_seconds=120 * 60,
        sms_count=100,
        rollover=True,
        prices_minor={"KZT": 8_900_00, "CNY": 132_00, "USD": 18_00},
    ),
    PlanDefinition(
        code="KZ-30D-UNL",
        names={
            "zh-Hans": "哈萨克斯坦 30天 无限流量",
            "ru": "Казахстан 30 дней безлимитный интернет",
            "kk": "Қазақстан 30 күн шексіз интернет",
            "en": "Kazakhstan 30 days unlimited data",
        },
        validity_days=30,
        data_bytes=None,
        voice_seconds=60 * 60,
        sms_count=50,
        rollover=True,
        prices_minor={"KZT": 14_900_00, "CNY": 220_00, "USD": 30_00},
        renewal_policy=RenewalPolicy.queue,
    ),
    PlanDefinition(
        code="KZ-7D-1GB-STORE",
        names={
            "zh-Hans": "哈萨克斯坦 7天 1GB（门店）",
            "ru": "Казахстан 7 дней 1 ГБ (в салоне)",
            "kk": "Қазақстан 7 күн 1 ГБ (дүкенде)",
            "en": "Kazakhstan 7 days 1 GB (in store)",
        },
        validity_days=7,
        data_bytes=1 * GB,
        voice_seconds=10 * 60,
        sms_count=10,
        rollover=True,
        prices_minor={"KZT": 1_500_00},
        channels=(Channel.store,),
    ),
)
