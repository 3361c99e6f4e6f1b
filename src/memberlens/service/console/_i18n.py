"""Console strings in English and Simplified Chinese; numbers and dates per locale."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

STRINGS: dict[str, dict[str, str]] = {
    "app": {"en": "memberlens", "zh-CN": "memberlens"},
    "overview": {"en": "Overview", "zh-CN": "概览"},
    "members": {"en": "Members", "zh-CN": "会员"},
    "segments": {"en": "Segments", "zh-CN": "人群"},
    "campaigns": {"en": "Campaigns", "zh-CN": "营销活动"},
    "reports": {"en": "Reports", "zh-CN": "报表"},
    "coming": {"en": "coming soon", "zh-CN": "即将推出"},
    "login": {"en": "Log in", "zh-CN": "登录"},
    "logout": {"en": "Log out", "zh-CN": "退出"},
    "email": {"en": "E-mail", "zh-CN": "邮箱"},
    "password": {"en": "Password", "zh-CN": "密码"},
    "language": {"en": "中文", "zh-CN": "English"},
    "active": {"en": "Active in period", "zh-CN": "期间活跃会员"},
    "orders": {"en": "Orders", "zh-CN": "订单"},
    "revenue": {"en": "Revenue", "zh-CN": "销售额"},
    "repurchase": {"en": "Repurchase rate", "zh-CN": "复购率"},
    "period": {"en": "Period", "zh-CN": "周期"},
    "days": {"en": "days", "zh-CN": "天"},
    "as_of": {"en": "data as of", "zh-CN": "数据截至"},
    "trend": {"en": "Orders and revenue by month", "zh-CN": "每月订单与销售额"},
    "channels": {"en": "Orders by channel", "zh-CN": "各渠道订单"},
    "no_data": {
        "en": "No orders yet: import some with `memberlens ingest`.",
        "zh-CN": "暂无订单：请先用 `memberlens ingest` 导入数据。",
    },
    "forbidden": {"en": "Your role may not open this page.", "zh-CN": "您的角色无权访问此页面。"},
    "bad_login": {"en": "Wrong e-mail or password.", "zh-CN": "邮箱或密码错误。"},
    "locked": {
        "en": "Too many failed logins: try again in 15 minutes.",
        "zh-CN": "登录失败次数过多，请 15 分钟后再试。",
    },
    "disabled": {
        "en": "This account is disabled; ask an admin.",
        "zh-CN": "该账号已停用，请联系管理员。",
    },
}


def translate(key: str, locale: str) -> str:
    entry = STRINGS[key]
    return entry.get(locale, entry["en"])


def number(value: int | float | Decimal, locale: str) -> str:
    """Grouped digits (the same in both locales), two decimals for money."""
    if isinstance(value, Decimal):
        return f"{value:,.2f}"
    return f"{value:,}"


def percent(value: float, locale: str) -> str:
    return f"{value * 100:.1f}%"


def day(value: date | None, locale: str) -> str:
    if value is None:
        return "—"
    return f"{value.year}年{value.month}月{value.day}日" if locale == "zh-CN" else value.isoformat()
