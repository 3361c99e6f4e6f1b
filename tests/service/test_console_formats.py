"""How the console writes times and money: in the workspace's zone, with its sign.

Known answers: 06:30 UTC is 14:30 in Shanghai, and 20:00 UTC the next morning there.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from memberlens.service.console import _i18n


def test_a_utc_time_reads_in_shanghai_with_the_zone_named() -> None:
    utc = datetime(2026, 1, 10, 6, 30)  # stored naive: UTC
    assert _i18n.moment(utc, "en", "Asia/Shanghai", named=True) == (
        "2026-01-10 14:30 (Asia/Shanghai)"
    )
    assert _i18n.moment(utc, "zh-CN", "Asia/Shanghai", named=True) == (
        "2026年1月10日 14:30（北京时间）"
    )
    # 20:00 UTC is the next morning in Shanghai: the day follows the zone
    late = datetime(2026, 1, 10, 20, 0, tzinfo=UTC)
    assert _i18n.moment(late, "en", "Asia/Shanghai") == "2026-01-11 04:00"
    assert _i18n.local_day(late, "Asia/Shanghai") == date(2026, 1, 11)
    assert _i18n.moment("2026-01-10T06:30:00Z", "en", "Europe/London", named=True) == (
        "2026-01-10 06:30 (Europe/London)"
    )
    assert _i18n.moment(None, "en", "Asia/Shanghai") == "—"


def test_feature_values_read_as_their_unit() -> None:
    assert _i18n.feature_value(1234.5, "currency", "zh-CN", "CNY") == "¥1,234.50"
    assert _i18n.feature_value("mini_program", "channel", "zh-CN", "CNY") == "小程序"
    assert _i18n.feature_value("household", "category", "zh-CN", "CNY") == "家居日用"
    assert _i18n.feature_value("Gold", "tier", "zh-CN", "CNY") == "金卡"
    assert _i18n.feature_value(None, "days", "zh-CN", "CNY") == "—"
    assert _i18n.feature_value(12, "days", "en", "CNY") == "12"
