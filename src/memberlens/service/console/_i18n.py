"""Console strings in English and Simplified Chinese; numbers, dates and times per locale.

The console's own page text lives here. What the console shares with the JSON API —
reasons, labels of enumerated values, money — is rendered from the one catalogue in
:mod:`memberlens.core.i18n`. Times are stored in UTC and shown in the workspace's zone
(``[workspace] default_timezone``), which the page names.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from memberlens import profile
from memberlens.core import i18n, progress

_FEATURES = {f.name: f for f in profile.feature_defs()}

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
    # a chart's month ticks (d3 time format): Plotly would write English month names
    "month_format": {"en": "%b %Y", "zh-CN": "%Y年%-m月"},
    "channels": {"en": "Orders by channel", "zh-CN": "各渠道订单"},
    "no_data": {
        "en": "No orders yet: import some with `memberlens ingest`.",
        "zh-CN": "暂无订单：请先用 `memberlens ingest` 导入数据。",
    },
    "busy": {
        "en": "The data is busy with a {holder} right now. This page is back when it ends: "
        "try again in a minute.",
        "zh-CN": "数据正在执行{holder}任务，完成后即可查看本页，请一分钟后重试。",
    },
    "no_refresh": {
        "en": "— no refresh yet (run `memberlens refresh`)",
        "zh-CN": "—（尚未刷新，请运行 `memberlens refresh`）",
    },
    "refresh_running": {
        "en": "A refresh is running{step}; pages show the data as of {as_of} until it ends.",
        "zh-CN": "数据刷新进行中{step}；完成前各页面显示截至 {as_of} 的数据。",
    },
    "data_stale": {
        "en": "The newest order or event ({newest}) is {days} days before the as-of {as_of}: "
        "members look lapsed. Refresh as of the data: `memberlens refresh --as-of DAY`, or "
        '`[refresh] as_of = "data"` in `memberlens.toml`.',
        "zh-CN": "最新的订单或行为（{newest}）比数据截至日 {as_of} 早 {days} 天，会员会显得已经"
        "流失。请按数据日期刷新：`memberlens refresh --as-of 日期`，或在 `memberlens.toml` 中"
        '设置 `[refresh] as_of = "data"`。',
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
    # errors on console pages (see _errors.py): a title and what to do, by code
    "error_code": {"en": "Code", "zh-CN": "错误代码"},
    "error_back": {"en": "Back", "zh-CN": "返回"},
    "error_title": {"en": "This could not be done", "zh-CN": "无法完成此操作"},
    "error_fix": {
        "en": "Go back and try again; if it keeps failing, tell an admin the code below.",
        "zh-CN": "请返回后重试；如仍失败，请把下方的错误代码告诉管理员。",
    },
    "no_snapshot_title": {"en": "Not computed yet", "zh-CN": "尚未计算"},
    "no_snapshot_fix": {
        "en": "This shows what a refresh computes, and none has computed it yet. Run "
        "`memberlens refresh` (or wait for the scheduled one), then reload this page.",
        "zh-CN": "此处显示刷新计算的结果，但尚无刷新计算过它。请运行 `memberlens refresh`"
        "（或等待定时刷新），然后重新加载本页。",
    },
    "bad_segment_title": {"en": "No such segment", "zh-CN": "人群不存在"},
    "bad_segment_fix": {
        "en": "Choose a saved segment on the Segments page, or save one there first.",
        "zh-CN": "请在“人群”页面选择已保存的人群，或先在该页面保存一个。",
    },
    "invalid_request_title": {
        "en": "A value in the address is missing or wrong",
        "zh-CN": "网址中的参数缺失或有误",
    },
    "invalid_request_fix": {
        "en": "Check “{field}”: go back and choose again, or open the page from the menu.",
        "zh-CN": "请检查“{field}”：返回重新选择，或从菜单打开该页面。",
    },
    "http_404_title": {"en": "No such page", "zh-CN": "页面不存在"},
    "http_404_fix": {
        "en": "The address leads nowhere: use the menu above to find the page.",
        "zh-CN": "该网址不存在，请使用上方菜单查找页面。",
    },
    "http_405_title": {"en": "Not available this way", "zh-CN": "不支持此访问方式"},
    "http_405_fix": {
        "en": "Open the page from the menu; its forms send what they need.",
        "zh-CN": "请从菜单打开该页面，页面中的表单会提交所需内容。",
    },
    "csrf_title": {"en": "The form has expired", "zh-CN": "表单已过期"},
    "csrf_fix": {
        "en": "Reload the page and send the form again.",
        "zh-CN": "请重新加载页面后再次提交表单。",
    },
    "internal_title": {"en": "Something went wrong", "zh-CN": "出现错误"},
    "internal_fix": {
        "en": "memberlens hit a bug; the server log has the error type. Please report it.",
        "zh-CN": "memberlens 出现程序错误，服务器日志中记录了错误类型，请报告此问题。",
    },
    "workspace_title": {"en": "The workspace is busy", "zh-CN": "工作区正忙"},
    "workspace_fix": {
        "en": "Another process holds the workspace right now: try again in a minute.",
        "zh-CN": "另一个进程正在占用工作区，请一分钟后重试。",
    },
    # members: search and the member page
    "search": {"en": "Search", "zh-CN": "搜索"},
    "search_hint": {"en": "Member id, phone or e-mail", "zh-CN": "会员 ID、手机号或邮箱"},
    "found": {"en": "members found", "zh-CN": "位会员"},
    "more_found": {
        "en": "More members match; showing the first {n}. Search more precisely.",
        "zh-CN": "匹配的会员较多，仅显示前 {n} 位，请缩小搜索范围。",
    },
    "none_found": {
        "en": "No member matches. Phone and e-mail must be complete (they are compared "
        "by a keyed hash, not by parts).",
        "zh-CN": "没有匹配的会员。手机号和邮箱需完整输入（按加密哈希比对，不支持部分匹配）。",
    },
    "member": {"en": "Member", "zh-CN": "会员"},
    "member_id": {"en": "Member id", "zh-CN": "会员 ID"},
    "sources": {"en": "Sources", "zh-CN": "来源"},
    "source": {"en": "Source", "zh-CN": "来源"},
    "source_key": {"en": "Source key", "zh-CN": "来源会员号"},
    "name": {"en": "Name", "zh-CN": "姓名"},
    "phone": {"en": "Phone", "zh-CN": "手机号"},
    "gender": {"en": "Gender", "zh-CN": "性别"},
    "birth_date": {"en": "Birth date", "zh-CN": "出生日期"},
    "address": {"en": "Address", "zh-CN": "地址"},
    "city": {"en": "City", "zh-CN": "城市"},
    "region": {"en": "Region", "zh-CN": "地区"},
    "occupation": {"en": "Occupation", "zh-CN": "职业"},
    "education": {"en": "Education", "zh-CN": "学历"},
    "signup": {"en": "Signed up", "zh-CN": "注册日期"},
    "signup_channel": {"en": "Signup channel", "zh-CN": "注册渠道"},
    "member_locale": {"en": "Language", "zh-CN": "语言"},
    "records": {"en": "Source records", "zh-CN": "来源记录"},
    "masked_note": {
        "en": "Personal data is masked for your role.",
        "zh-CN": "您的角色只能查看脱敏后的个人信息。",
    },
    "revealed_note": {
        "en": "Personal data is shown in clear; this view is recorded in the audit log.",
        "zh-CN": "个人信息以明文显示，本次查看已记入审计日志。",
    },
    "order_id": {"en": "Order", "zh-CN": "订单号"},
    "ordered_at": {"en": "Ordered", "zh-CN": "下单时间"},
    "channel": {"en": "Channel", "zh-CN": "渠道"},
    "status": {"en": "Status", "zh-CN": "状态"},
    "amount": {"en": "Amount", "zh-CN": "金额"},
    "lines": {"en": "Lines", "zh-CN": "行数"},
    "units": {"en": "Items", "zh-CN": "件数"},
    "no_orders": {"en": "No orders.", "zh-CN": "暂无订单。"},
    "events": {"en": "Events", "zh-CN": "行为事件"},
    "event_type": {"en": "Event", "zh-CN": "事件"},
    "occurred_at": {"en": "Time", "zh-CN": "时间"},
    "product": {"en": "Product", "zh-CN": "商品"},
    "category": {"en": "Category", "zh-CN": "品类"},
    "no_events": {"en": "No events.", "zh-CN": "暂无行为事件。"},
    "newest_of": {
        "en": "the newest {n} of {total}",
        "zh-CN": "共 {total} 条，显示最新 {n} 条",
    },
    "consents": {"en": "Consent history", "zh-CN": "授权记录"},
    "recorded_at": {"en": "Recorded", "zh-CN": "记录时间"},
    "purpose": {"en": "Purpose", "zh-CN": "用途"},
    "statement": {"en": "Statement", "zh-CN": "表态"},
    "granted": {"en": "Granted", "zh-CN": "同意"},
    "withdrawn": {"en": "Withdrawn", "zh-CN": "撤回"},
    "policy_version": {"en": "Policy version", "zh-CN": "隐私政策版本"},
    "purpose_marketing": {"en": "Marketing", "zh-CN": "营销"},
    "purpose_personalisation": {"en": "Personalisation", "zh-CN": "个性化"},
    "purpose_analytics": {"en": "Analytics", "zh-CN": "统计分析"},
    "purpose_profiling": {"en": "Profiling", "zh-CN": "用户画像"},
    "all_channels": {"en": "all channels", "zh-CN": "全部渠道"},
    "no_consents": {
        "en": "No consent statements: each purpose's default applies.",
        "zh-CN": "暂无授权记录：各用途按默认规则处理。",
    },
    "member_missing": {
        "en": "No member with id {id}. Member ids look like m_0123456789abcdef; "
        "search by phone, e-mail or id instead.",
        "zh-CN": "不存在 ID 为 {id} 的会员。会员 ID 形如 m_0123456789abcdef，"
        "请改用手机号、邮箱或 ID 搜索。",
    },
    "back_to_search": {"en": "Back to member search", "zh-CN": "返回会员搜索"},
    # the audit log
    "audit": {"en": "Audit log", "zh-CN": "审计日志"},
    "audit_intact": {
        "en": "Chain verified: {n} entries, none edited or missing.",
        "zh-CN": "哈希链校验通过：共 {n} 条，无篡改或缺失。",
    },
    "audit_broken": {
        "en": "Chain verification FAILED ({code}): {message}.",
        "zh-CN": "哈希链校验失败（{code}）：{message}。",
    },
    "seq": {"en": "#", "zh-CN": "序号"},
    "at": {"en": "Time", "zh-CN": "时间"},
    "actor": {"en": "Actor", "zh-CN": "操作人"},
    "action": {"en": "Action", "zh-CN": "操作"},
    "target": {"en": "Target", "zh-CN": "对象"},
    "member_token": {"en": "Member token", "zh-CN": "会员审计标识"},
    "ip_address": {"en": "IP address", "zh-CN": "IP 地址"},
    "detail": {"en": "Detail", "zh-CN": "详情"},
    "any": {"en": "any", "zh-CN": "全部"},
    "from": {"en": "From", "zh-CN": "起始日期"},
    "to": {"en": "To", "zh-CN": "截止日期"},
    "filter": {"en": "Filter", "zh-CN": "筛选"},
    "entries": {"en": "entries", "zh-CN": "条记录"},
    "no_entries": {"en": "No entries match.", "zh-CN": "没有符合条件的记录。"},
    "previous": {"en": "Previous", "zh-CN": "上一页"},
    "next": {"en": "Next", "zh-CN": "下一页"},
    "page_of": {"en": "page {page} of {pages}", "zh-CN": "第 {page} / {pages} 页"},
    "bad_day": {
        "en": "'{value}' is not a date: use YYYY-MM-DD.",
        "zh-CN": "“{value}”不是有效日期，请使用“年-月-日”格式（如 2026-01-10）。",
    },
    "profile": {"en": "Profile", "zh-CN": "画像"},
    "snapshot": {"en": "Snapshot", "zh-CN": "快照"},
    "snapshot_of": {"en": "snapshot of {day}", "zh-CN": "{day} 快照"},
    "no_profile": {
        "en": "No profile yet: run a refresh to compute features and tags.",
        "zh-CN": "暂无画像：请先运行刷新以计算特征和标签。",
    },
    "tags": {"en": "Tags", "zh-CN": "标签"},
    "no_tags": {"en": "No tags.", "zh-CN": "没有标签。"},
    "features": {"en": "Features", "zh-CN": "特征"},
    "feature": {"en": "Feature", "zh-CN": "特征"},
    "value": {"en": "Value", "zh-CN": "值"},
    "unit": {"en": "Unit", "zh-CN": "单位"},
    "meaning": {"en": "Meaning", "zh-CN": "含义"},
    "formula": {"en": "Formula", "zh-CN": "公式"},
    "type": {"en": "Type", "zh-CN": "类型"},
    "tier": {"en": "Tier", "zh-CN": "等级"},
    "tier_history": {"en": "Tier history", "zh-CN": "等级历史"},
    "qualifying_value": {"en": "Qualifying value", "zh-CN": "定级值"},
    "tier_since": {"en": "Since", "zh-CN": "起始日"},
    "previous_tier": {"en": "Previous tier", "zh-CN": "原等级"},
    "points": {"en": "Points", "zh-CN": "积分"},
    "points_ledger": {"en": "Points ledger", "zh-CN": "积分流水"},
    "balance": {"en": "Balance", "zh-CN": "余额"},
    "expiring_points": {"en": "Expiring", "zh-CN": "即将过期"},
    "next_expiry": {"en": "Next expiry", "zh-CN": "下次过期"},
    "reason": {"en": "Reason", "zh-CN": "原因"},
    "expires_at": {"en": "Expires", "zh-CN": "过期时间"},
    "note_col": {"en": "Note", "zh-CN": "备注"},
    "feedback": {"en": "Feedback", "zh-CN": "反馈"},
    "no_feedback": {"en": "No feedback.", "zh-CN": "没有反馈。"},
    "kind": {"en": "Kind", "zh-CN": "类别"},
    "rating": {"en": "Rating", "zh-CN": "评分"},
    "text": {"en": "Text", "zh-CN": "内容"},
    "messages": {"en": "Messages", "zh-CN": "消息"},
    "no_messages": {"en": "No messages.", "zh-CN": "没有消息。"},
    "sent_at": {"en": "Sent", "zh-CN": "发送时间"},
    "campaign": {"en": "Campaign", "zh-CN": "活动"},
    "opened_at": {"en": "Opened", "zh-CN": "打开时间"},
    "clicked_at": {"en": "Clicked", "zh-CN": "点击时间"},
    "dictionary": {"en": "Dictionary", "zh-CN": "数据字典"},
    "timeline": {"en": "Timeline", "zh-CN": "时间线"},
    "predictions": {"en": "Predictions", "zh-CN": "预测"},
    "expected_purchases_90d": {
        "en": "Expected purchases, 90 days",
        "zh-CN": "未来 90 天预计购买次数",
    },
    "clv_percentile": {"en": "CLV percentile", "zh-CN": "客户终身价值百分位"},
    "p_alive": {"en": "P(alive)", "zh-CN": "活跃概率"},
    "clv_short": {"en": "CLV", "zh-CN": "客户终身价值（CLV）"},
    "seen_sent": {"en": "sent", "zh-CN": "已发送"},
    "seen_opened": {"en": "opened", "zh-CN": "已打开"},
    "seen_clicked": {"en": "clicked", "zh-CN": "已点击"},
    "what": {"en": "What", "zh-CN": "内容"},
    "kind_order": {"en": "order", "zh-CN": "订单"},
    "kind_event": {"en": "event", "zh-CN": "行为"},
    "kind_feedback": {"en": "feedback", "zh-CN": "反馈"},
    "kind_message": {"en": "message", "zh-CN": "消息"},
    "no_timeline": {"en": "Nothing has happened yet.", "zh-CN": "暂无记录。"},
    "segment_builder": {"en": "Build a segment", "zh-CN": "创建人群"},
    "rule": {"en": "Rule", "zh-CN": "规则"},
    "rule_help": {
        "en": "A rule over features, tags, RFM, stages and what members did, e.g. "
        '`tier = "Gold" and not purchased(within: 30d)`',
        "zh-CN": "基于特征、标签、RFM、生命周期和会员行为的规则，例如 "
        '`tier = "Gold" and not purchased(within: 30d)`',
    },
    "live_count": {"en": "Members now", "zh-CN": "当前人数"},
    "segment_name": {"en": "Segment name", "zh-CN": "人群名称"},
    "description": {"en": "Description", "zh-CN": "说明"},
    "save": {"en": "Save", "zh-CN": "保存"},
    "saved_segments": {"en": "Saved segments", "zh-CN": "已保存的人群"},
    "no_segments": {"en": "No segment saved yet.", "zh-CN": "尚未保存任何人群。"},
    "not_computed": {"en": "not computed yet", "zh-CN": "尚未计算"},
    "rfm_grid": {
        "en": "RFM: members by recency and frequency-monetary score",
        "zh-CN": "RFM：按最近购买与频次-金额得分的会员数",
    },
    "rfm_segments": {"en": "RFM segments", "zh-CN": "RFM 分群"},
    "r_score": {"en": "R", "zh-CN": "R 得分"},
    "fm_score": {"en": "FM", "zh-CN": "FM 得分"},
    "flow_new": {"en": "(new)", "zh-CN": "（新进入）"},
    "flow_gone": {"en": "(gone)", "zh-CN": "（已离开）"},
    "cluster_name": {"en": "Name", "zh-CN": "聚类名称"},
    "lifecycle_flow": {
        "en": "Lifecycle stages: flow since the last refresh",
        "zh-CN": "生命周期阶段：自上次刷新以来的流转",
    },
    "clusters": {"en": "Clusters", "zh-CN": "聚类"},
    "cluster_map": {"en": "Members by cluster (2-D projection)", "zh-CN": "会员聚类（二维投影）"},
    "size": {"en": "Size", "zh-CN": "人数"},
    "share": {"en": "Share", "zh-CN": "占比"},
    "value_share": {"en": "Share of money", "zh-CN": "金额占比"},
    "cluster": {"en": "Cluster", "zh-CN": "聚类"},
    "refit_each_refresh": {
        "en": "Fitted again by every refresh; a new version is recorded when the clusters change.",
        "zh-CN": "每次刷新都会重新聚类；聚类结果变化时记录新版本。",
    },
    "distinctive": {"en": "Most distinctive (z-score)", "zh-CN": "最显著特征（z 分数）"},
    "compare": {"en": "Compare", "zh-CN": "对比"},
    "overlap": {"en": "Members in both", "zh-CN": "两者共有会员"},
    "segment": {"en": "Segment", "zh-CN": "人群"},
    "no_snapshot": {
        "en": "Nothing computed yet: run a refresh first.",
        "zh-CN": "尚无数据：请先运行刷新。",
    },
    "stage": {"en": "Stage", "zh-CN": "阶段"},
    "trend_col": {"en": "Trend", "zh-CN": "趋势"},
    "dictionary_intro": {
        "en": "Every member feature, defined once in code (version {version}).",
        "zh-CN": "全部会员特征，均在代码中统一定义（版本 {version}）。",
    },
    "none": {"en": "none", "zh-CN": "无"},
    # predictions and model cards
    "models": {"en": "Models", "zh-CN": "模型"},
    "model_cards": {"en": "Model cards", "zh-CN": "模型卡片"},
    "no_predictions": {
        "en": "No predictions yet: fit a lifetime-value model with `memberlens predict clv "
        "--calibration-end DATE` and a churn model with `memberlens predict churn`, then run "
        "`memberlens refresh` to score the members.",
        "zh-CN": "暂无预测：请先用 `memberlens predict clv --calibration-end DATE` 训练"
        "生命周期价值模型、用 `memberlens predict churn` 训练流失模型，再运行 "
        "`memberlens refresh` 为会员打分。",
    },
    "no_clv_model": {
        "en": "No CLV scores: fit a model with `memberlens predict clv --calibration-end DATE`, "
        "then refresh.",
        "zh-CN": "暂无 CLV 分数：请用 `memberlens predict clv --calibration-end DATE` "
        "训练模型后刷新。",
    },
    "no_churn_model": {
        "en": "No churn risk: fit a model with `memberlens predict churn`, then refresh.",
        "zh-CN": "暂无流失风险：请用 `memberlens predict churn` 训练模型后刷新。",
    },
    "no_models": {
        "en": "No CLV or churn model registered yet: fit them with `memberlens predict clv "
        "--calibration-end DATE` and `memberlens predict churn`.",
        "zh-CN": "尚未注册 CLV 或流失模型：请用 `memberlens predict clv --calibration-end DATE` "
        "和 `memberlens predict churn` 训练。",
    },
    "scored_members": {"en": "Members scored", "zh-CN": "已评分会员"},
    "fit_members": {"en": "Members in the fit", "zh-CN": "训练会员数"},
    "model_version": {"en": "Models", "zh-CN": "模型版本"},
    "clv": {"en": "Customer lifetime value (CLV)", "zh-CN": "客户终身价值（CLV）"},
    "clv_total": {"en": "Total CLV", "zh-CN": "客户终身价值合计"},
    "clv_mean": {"en": "Mean CLV", "zh-CN": "平均客户终身价值"},
    "clv_median": {"en": "median", "zh-CN": "中位数"},
    "clv_distribution": {"en": "Members by CLV", "zh-CN": "会员客户终身价值分布"},
    "clv_above_cap": {
        "en": "{n} members above the 99th percentile ({cap}) are not drawn.",
        "zh-CN": "高于第 99 百分位（{cap}）的 {n} 位会员未在图中显示。",
    },
    "clv_by_segment": {"en": "CLV by RFM segment", "zh-CN": "各 RFM 分群的客户终身价值"},
    "churn_risk_mean": {"en": "Mean churn risk", "zh-CN": "平均流失风险"},
    "churn_risk": {"en": "Churn risk", "zh-CN": "流失风险"},
    "churn_band": {"en": "Risk band", "zh-CN": "风险等级"},
    "churn_bands": {"en": "Members by churn-risk band", "zh-CN": "各流失风险等级的会员数"},
    "high_risk_members": {"en": "High churn risk", "zh-CN": "高流失风险会员"},
    "band_high": {"en": "High", "zh-CN": "高"},
    "band_medium": {"en": "Medium", "zh-CN": "中"},
    "band_low": {"en": "Low", "zh-CN": "低"},
    "band_lapsed": {"en": "Lapsed", "zh-CN": "已流失"},
    "lapsed_members": {"en": "Lapsed already", "zh-CN": "已流失会员"},
    "of_active": {"en": "of {n} active members", "zh-CN": "共 {n} 位活跃会员"},
    "lapsed_note_days": {
        "en": "Lapsed: no purchase in the last {days} days, the churn horizon (nine repeat "
        "purchases in ten come sooner). They are gone rather than at risk: win them back. "
        "Risk bands and the list below are of the active members; a lapsed member has no "
        "expected next purchase.",
        "zh-CN": "已流失：最近 {days} 天（流失判定期，九成复购在此期限内发生）没有购买。"
        "这些会员已经流失而非面临流失风险，应以召回为主。风险等级与下方名单只统计活跃会员；"
        "已流失会员不预测下次购买日期。",
    },
    "lapsed_note": {
        "en": "Lapsed: no purchase for longer than the churn horizon. They are gone rather "
        "than at risk: win them back. Risk bands and the list below are of the active "
        "members; a lapsed member has no expected next purchase.",
        "zh-CN": "已流失：超过流失判定期没有购买。这些会员已经流失而非面临流失风险，"
        "应以召回为主。风险等级与下方名单只统计活跃会员；已流失会员不预测下次购买日期。",
    },
    "no_active_at_risk": {
        "en": "Every scored member has lapsed: nobody is left at risk of lapsing.",
        "zh-CN": "所有已评分会员均已流失，没有仍处于流失风险中的会员。",
    },
    "most_at_risk": {
        "en": "The {n} active members most at risk of lapsing",
        "zh-CN": "流失风险最高的 {n} 位活跃会员",
    },
    "export_all_csv": {"en": "Export the whole list (CSV)", "zh-CN": "导出完整名单（CSV）"},
    "next_purchase": {
        "en": "Next purchase, if they buy again",
        "zh-CN": "预计下次购买（若再次购买）",
    },
    "reasons": {"en": "Reasons", "zh-CN": "原因"},
    "model_stage_candidate": {"en": "candidate", "zh-CN": "候选"},
    "model_stage_production": {"en": "production", "zh-CN": "生产中"},
    "model_stage_retired": {"en": "retired", "zh-CN": "已退役"},
    "training_window": {"en": "Training window", "zh-CN": "训练数据区间"},
    "created": {"en": "created", "zh-CN": "创建于"},
    "held_out_test": {"en": "Held-out test", "zh-CN": "留出测试"},
    "churn_model": {"en": "Churn model", "zh-CN": "流失模型"},
    "baseline": {"en": "BG/NBD baseline", "zh-CN": "BG/NBD 基线"},
    "baseline_score": {
        "en": "BG/NBD expected purchases in the horizon (fewer = riskier)",
        "zh-CN": "BG/NBD 预测的流失判定期内购买次数（越少风险越高）",
    },
    "interest_tag": {"en": "interest: {category}", "zh-CN": "兴趣：{category}"},
    "brier": {"en": "Brier", "zh-CN": "布里尔分数"},
    "gamma_gamma": {"en": "Gamma-Gamma", "zh-CN": "伽马-伽马模型"},
    "kmeans": {"en": "K-Means", "zh-CN": "K 均值聚类"},
    "silhouette": {"en": "silhouette", "zh-CN": "轮廓系数"},
    "top_decile_lift": {"en": "Top-decile lift", "zh-CN": "前 10% 提升度"},
    "overlap_warning": {
        "en": "training label windows overlap the test: figures are optimistic",
        "zh-CN": "训练标签窗口与测试期重叠：指标偏乐观",
    },
    "horizon_days": {"en": "Churn horizon (days)", "zh-CN": "流失判定期（天）"},
    "test_rows": {"en": "Members in the test", "zh-CN": "测试会员数"},
    "churn_rate": {"en": "Churned in the test", "zh-CN": "测试期流失率"},
    "validation": {"en": "Validation", "zh-CN": "验证集"},
    "next_purchase_mae": {
        "en": "Next-purchase error (MAE, days)",
        "zh-CN": "下次购买日误差（MAE，天）",
    },
    "naive": {"en": "naive", "zh-CN": "朴素基线"},
    "repeat_members": {"en": "Repeat buyers", "zh-CN": "复购会员"},
    "log_likelihood": {"en": "log-likelihood", "zh-CN": "对数似然"},
    "holdout": {"en": "Holdout repeat purchases", "zh-CN": "留出期复购次数"},
    "predicted": {"en": "predicted", "zh-CN": "预测"},
    "observed": {"en": "observed", "zh-CN": "实际"},
    "perfect": {"en": "perfect calibration", "zh-CN": "完美校准"},
    "calibration": {
        "en": "Calibration on the held-out test",
        "zh-CN": "留出测试上的校准情况",
    },
    "importance": {"en": "Feature importance", "zh-CN": "特征重要性"},
    "drift": {"en": "Drift", "zh-CN": "漂移"},
    "max_psi": {"en": "largest PSI", "zh-CN": "最大 PSI"},
    "drift_flagged": {
        "en": "above the threshold {threshold}: the next refresh retrains this model",
        "zh-CN": "超过阈值 {threshold}：下次刷新将重新训练该模型",
    },
    "drift_ok": {"en": "within the threshold {threshold}", "zh-CN": "未超过阈值 {threshold}"},
    "no_drift": {
        "en": "not measured yet (each refresh measures it)",
        "zh-CN": "尚未测量（每次刷新时测量）",
    },
    # recommendations: the member page's lists, the evaluation report, similar items
    "recommendations": {"en": "Recommendations", "zh-CN": "推荐"},
    "recommendations_report": {"en": "Evaluation and scenarios", "zh-CN": "评估与场景"},
    "similar_items": {"en": "Similar items", "zh-CN": "相似商品"},
    "rank": {"en": "Rank", "zh-CN": "排名"},
    "product_name": {"en": "Product name", "zh-CN": "商品名称"},
    "score": {"en": "Score", "zh-CN": "得分"},
    "algorithm": {"en": "Algorithm", "zh-CN": "算法"},
    "scenario": {"en": "Scenario", "zh-CN": "场景"},
    "mmr_lambda": {"en": "MMR λ", "zh-CN": "多样性权衡 λ（MMR）"},
    "rec_personalised": {
        "en": "personalised: the member's own list",
        "zh-CN": "个性化：会员专属列表",
    },
    "rec_fallback_city": {
        "en": "not personalised: trending in the city {place}",
        "zh-CN": "非个性化：城市“{place}”的热门商品",
    },
    "rec_fallback_region": {
        "en": "not personalised: trending in the region {place}",
        "zh-CN": "非个性化：地区“{place}”的热门商品",
    },
    "rec_fallback_all": {
        "en": "not personalised: trending everywhere",
        "zh-CN": "非个性化：全站热门商品",
    },
    "rec_no_consent": {
        "en": "the member has not consented to personalisation",
        "zh-CN": "会员未同意个性化推荐",
    },
    "rec_empty_list": {
        "en": "Nothing left after the request-time rules (out of stock, just bought).",
        "zh-CN": "经实时规则（缺货、刚购买）过滤后没有可推荐的商品。",
    },
    "rec_no_list": {
        "en": "No list for this scenario yet: run a refresh.",
        "zh-CN": "该场景尚无列表：请运行刷新。",
    },
    "no_recommendations": {
        "en": "No recommendation lists published yet: run `memberlens refresh` to compute "
        "and publish them.",
        "zh-CN": "尚未发布推荐列表：请运行 `memberlens refresh` 计算并发布。",
    },
    "no_member_scenarios": {
        "en": "`recommend.toml` declares no member scenario.",
        "zh-CN": "`recommend.toml` 中没有面向会员的场景。",
    },
    "auto_choice": {"en": "What `auto` stands for", "zh-CN": "`auto`（自动选择）所代表的算法"},
    "chosen_by_evaluate": {
        "en": "chosen by `memberlens recommend evaluate` (best NDCG on validation)",
        "zh-CN": "由 `memberlens recommend evaluate` 选定（验证集 NDCG 最佳）",
    },
    "chosen_by_refresh": {
        "en": "chosen by a refresh on a validation split of its data",
        "zh-CN": "由刷新在其数据的验证集上选定",
    },
    "settings": {"en": "Settings", "zh-CN": "参数"},
    "default_settings": {"en": "the algorithm's defaults", "zh-CN": "算法默认参数"},
    "validation_ndcg": {"en": "NDCG@{k} on validation", "zh-CN": "验证集 NDCG@{k}"},
    "no_auto": {
        "en": "Nothing chosen for `auto` yet: run `memberlens recommend evaluate` (it "
        "registers its default), or the next refresh chooses on a validation split.",
        "zh-CN": "尚未为 `auto` 选定算法：请运行 `memberlens recommend evaluate`（会登记其"
        "默认算法），或由下次刷新在验证集上选定。",
    },
    "evaluation": {"en": "Offline evaluation", "zh-CN": "离线评估"},
    "evaluation_intro": {
        "en": "Split {split} (seed {seed}): {users} test members, {items} held-out items; "
        "metrics at k = {k}, 95% bootstrap intervals in brackets.",
        "zh-CN": "切分方式 {split}（种子 {seed}）：{users} 位测试会员，{items} 个留出商品；"
        "指标取 k = {k}，括号内为 95% 自助法区间。",
    },
    "evaluation_note": {
        "en": "The default (highlighted) has the best NDCG on a validation split carved from "
        "the training part; the test figures are reported once, never used to choose.",
        "zh-CN": "默认算法（高亮）是在训练部分切出的验证集上 NDCG 最佳者；测试集指标仅用于"
        "报告，不参与选择。",
    },
    "no_evaluation": {
        "en": "No evaluation registered: run `memberlens recommend evaluate` to compare every "
        "algorithm on held-out interactions; its default becomes what `auto` stands for.",
        "zh-CN": "尚未登记评估：请运行 `memberlens recommend evaluate`，在留出的交互数据上"
        "比较全部算法；其默认算法即成为 `auto` 所代表的算法。",
    },
    "default_marker": {"en": "default", "zh-CN": "默认"},
    "vs_popularity": {"en": "NDCG vs popularity", "zh-CN": "NDCG 相对热门基线"},
    "vs_pop_better": {"en": "better", "zh-CN": "更好"},
    "vs_pop_worse": {"en": "worse", "zh-CN": "更差"},
    "vs_pop_unclear": {"en": "no clear difference", "zh-CN": "无明显差异"},
    "fit_seconds": {"en": "Fit (s)", "zh-CN": "训练耗时（秒）"},
    "ndcg_chart": {
        "en": "NDCG@{k} per algorithm (95% interval)",
        "zh-CN": "各算法 NDCG@{k}（95% 区间）",
    },
    "scenarios": {"en": "Scenarios", "zh-CN": "推荐场景"},
    "anchor": {"en": "Lists per", "zh-CN": "列表对象"},
    "anchor_member": {"en": "member", "zh-CN": "会员"},
    "anchor_item": {"en": "product", "zh-CN": "商品"},
    "novelty_share": {"en": "Novelty share", "zh-CN": "新颖商品占比"},
    "lists_col": {"en": "Lists in the newest snapshot", "zh-CN": "最新快照中的列表数"},
    "lists_breakdown": {
        "en": "{members} members' own, {fallbacks} fallbacks",
        "zh-CN": "会员专属 {members} 个，兜底 {fallbacks} 个",
    },
    "no_lists": {
        "en": "No lists computed yet: run a refresh.",
        "zh-CN": "尚未计算推荐列表：请运行刷新。",
    },
    "similar_intro": {
        "en": "A product's similar items as the API serves them now; items out of stock now "
        "are left out.",
        "zh-CN": "某商品的相似商品，与 API 当前返回的一致；当前缺货的商品不显示。",
    },
    "product_id": {"en": "Product id", "zh-CN": "商品 ID"},
    "show": {"en": "Show", "zh-CN": "查看"},
    "starting_points": {
        "en": "Most recommended (newest snapshot)",
        "zh-CN": "最常被推荐的商品（最新快照）",
    },
    "in_lists": {"en": "in {n} lists", "zh-CN": "出现在 {n} 个列表中"},
    "similar_to": {"en": "Similar to {product}", "zh-CN": "与“{product}”相似的商品"},
    "catalogue_facts": {"en": "In the catalogue", "zh-CN": "商品目录信息"},
    "price": {"en": "price", "zh-CN": "价格"},
    "stock": {"en": "Stock", "zh-CN": "库存"},
    "in_stock": {"en": "in stock", "zh-CN": "有货"},
    "out_of_stock": {"en": "out of stock", "zh-CN": "缺货"},
    "stock_unknown": {"en": "stock unknown", "zh-CN": "库存未知"},
    "unknown_product": {
        "en": "{product} is not in the imported catalogue.",
        "zh-CN": "导入的商品目录中没有 {product}。",
    },
    "similar_stock_note": {
        "en": "Every item shown is in stock now: the list leaves out what is not.",
        "zh-CN": "所列商品当前均有货：缺货商品已被排除。",
    },
    "no_similar": {
        "en": "No similar items for {product} in {scenario}: it has no list in the last "
        "refresh (nobody chose it together with another product, or it is new), or every "
        "similar item is out of stock now.",
        "zh-CN": "{scenario} 场景中没有与 {product} 相似的商品：上次刷新未为其生成列表"
        "（没有会员同时选择过它和其他商品，或它是新商品），或相似商品当前均缺货。",
    },
    "no_item_scenario": {
        "en": '`recommend.toml` declares no item scenario: add one with `anchor = "item"` '
        "(`docs/recommendations.md`), then refresh.",
        "zh-CN": '`recommend.toml` 中没有面向商品的场景：请添加 `anchor = "item"` 的场景'
        "（见 `docs/recommendations.md`），然后刷新。",
    },
    # -- the feedback page and the member page's feedback section ----------------------
    "fb_window": {
        "en": "Feedback of the {days} days before {day}, read by {model}.",
        "zh-CN": "{day} 之前 {days} 天内的反馈，由 {model} 解读。",
    },
    "feedback_report": {"en": "Feedback report", "zh-CN": "反馈报告"},
    "fb_bucket": {"en": "Trend", "zh-CN": "趋势粒度"},
    "fb_by_week": {"en": "by week", "zh-CN": "按周"},
    "fb_by_month": {"en": "by month", "zh-CN": "按月"},
    "fb_total": {"en": "Feedback", "zh-CN": "反馈总数"},
    "fb_with_text": {"en": "With text", "zh-CN": "含文字"},
    "fb_negative": {"en": "Negative", "zh-CN": "负面"},
    "fb_complaints": {"en": "Complaints", "zh-CN": "投诉"},
    "fb_none": {
        "en": "No feedback imported yet: import some with `memberlens ingest feedback FILE`.",
        "zh-CN": "尚未导入反馈：请用 `memberlens ingest feedback FILE` 导入。",
    },
    "fb_not_read": {
        "en": "Feedback is imported but no refresh has read it yet: run a refresh.",
        "zh-CN": "反馈已导入，但尚未经刷新解读：请运行刷新。",
    },
    "fb_empty_window": {
        "en": "No feedback in this window: choose more days.",
        "zh-CN": "此时间段内没有反馈：请选择更长的天数。",
    },
    "fb_no_text": {
        "en": "No feedback with text in this window.",
        "zh-CN": "此时间段内没有含文字的反馈。",
    },
    "sentiment_trend": {"en": "Mean sentiment (−1 … 1)", "zh-CN": "平均情感（−1 … 1）"},
    "sentiment": {"en": "Sentiment", "zh-CN": "情感"},
    "sentiment_positive": {"en": "positive", "zh-CN": "正面"},
    "sentiment_neutral": {"en": "neutral", "zh-CN": "中性"},
    "sentiment_negative": {"en": "negative", "zh-CN": "负面"},
    "with_text_count": {"en": "With text", "zh-CN": "含文字条数"},
    "nps_overall": {"en": "NPS", "zh-CN": "净推荐值（NPS）"},
    "csat_overall": {"en": "CSAT", "zh-CN": "满意度（CSAT）"},
    "nps_trend": {"en": "NPS per period (95% interval)", "zh-CN": "各期 NPS（95% 区间）"},
    "interval_95": {"en": "95% interval", "zh-CN": "95% 区间"},
    "answers": {"en": "Answers", "zh-CN": "回答数"},
    "promoters": {"en": "Promoters", "zh-CN": "推荐者"},
    "passives": {"en": "Passives", "zh-CN": "中立者"},
    "detractors": {"en": "Detractors", "zh-CN": "贬损者"},
    "satisfied": {"en": "Satisfied (4–5)", "zh-CN": "满意（4–5 分）"},
    "mean_rating": {"en": "Mean rating", "zh-CN": "平均评分"},
    "no_answers": {"en": "No answers in this window.", "zh-CN": "此时间段内没有回答。"},
    "by_group": {"en": "NPS and CSAT by group", "zh-CN": "各分组的 NPS 与 CSAT"},
    "by_tier": {"en": "By tier", "zh-CN": "按等级"},
    "by_channel": {"en": "By channel", "zh-CN": "按渠道"},
    "by_segment": {"en": "By segment", "zh-CN": "按人群"},
    "group": {"en": "Group", "zh-CN": "分组"},
    "no_groups": {
        "en": "No group has 5 answers or more.",
        "zh-CN": "没有回答数达到 5 的分组。",
    },
    "compare_choose": {
        "en": "Choose two saved segments above to see them side by side.",
        "zh-CN": "请在上方选择两个已保存的人群进行对比。",
    },
    "compare_none": {
        "en": "No segment is saved yet: save one with the builder on the Segments page.",
        "zh-CN": "尚未保存任何人群：请在“人群”页面用人群构建器保存。",
    },
    # segments: saving computes at once
    "segment_saved_count": {
        "en": "Saved {name}: {n} members in the snapshot of {day}.",
        "zh-CN": "已保存 {name}：{day} 快照中共 {n} 位会员。",
    },
    "segment_saved_pending": {
        "en": "Saved {name}. The data is busy with a job right now, so its members are "
        "counted by the next refresh; save it again in a minute to count them now.",
        "zh-CN": "已保存 {name}。数据正在执行任务，其会员将在下次刷新时计算；"
        "也可一分钟后再次保存以立即计算。",
    },
    "segment_saved_no_refresh": {
        "en": "Saved {name}. No refresh has run yet: run `memberlens refresh` to count "
        "its members.",
        "zh-CN": "已保存 {name}。尚未运行过刷新：请运行 `memberlens refresh` 计算其会员。",
    },
    # members: the member list
    "member_list": {"en": "All members", "zh-CN": "全部会员"},
    "days_since_purchase": {"en": "Days since last purchase", "zh-CN": "距上次购买天数"},
    "apply_filters": {"en": "Filter", "zh-CN": "筛选"},
    "members_matching": {"en": "members match", "zh-CN": "位会员符合条件"},
    "list_masked_note": {
        "en": "Personal values are masked here; open a member to see more.",
        "zh-CN": "此处个人信息已打码，打开会员详情可查看更多。",
    },
    "previous_page": {"en": "Previous", "zh-CN": "上一页"},
    "next_page": {"en": "Next", "zh-CN": "下一页"},
    "list_empty": {
        "en": "No member matches these filters: choose others.",
        "zh-CN": "没有符合这些条件的会员，请更换筛选条件。",
    },
    "no_member_list": {
        "en": "No refresh has run yet: run `memberlens refresh` to list members. Search "
        "works already.",
        "zh-CN": "尚未运行过刷新：请运行 `memberlens refresh` 以列出会员。搜索功能已可使用。",
    },
    "pain_points": {"en": "Top pain points", "zh-CN": "主要痛点"},
    "pain_points_note": {
        "en": "Aspects ranked by negative mentions; quotes are the clauses that complain "
        "about the aspect, never praise, most negative first. Contacts written in "
        "feedback are masked.",
        "zh-CN": "按负面提及数排序；引文为抱怨该方面的分句（不含好评），最负面的在前。"
        "反馈中写下的联系方式已打码。",
    },
    "aspect": {"en": "Aspect", "zh-CN": "方面"},
    "mentions": {"en": "Mentions", "zh-CN": "提及数"},
    "negative_mentions": {"en": "Negative", "zh-CN": "负面提及"},
    "mean_positive": {"en": "Mean P(positive)", "zh-CN": "平均正面概率"},
    "quotes": {"en": "Quotes", "zh-CN": "引文"},
    "few_mentions": {"en": "fewer than 5 mentions", "zh-CN": "提及不足 5 次"},
    "no_pain_points": {
        "en": "No aspect of the lexicon is mentioned in this window.",
        "zh-CN": "此时间段内的反馈未提及词典中的任何方面。",
    },
    "keywords": {"en": "Keywords of negative feedback", "zh-CN": "负面反馈关键词"},
    "topics": {"en": "Topics of negative feedback", "zh-CN": "负面反馈话题"},
    "topic_n": {"en": "Topic {n} ({size} texts)", "zh-CN": "话题 {n}（{size} 条）"},
    "no_negative": {
        "en": "No negative feedback in this window.",
        "zh-CN": "此时间段内没有负面反馈。",
    },
    "worst_products": {
        "en": "Products with the most negative feedback",
        "zh-CN": "负面反馈最多的商品",
    },
    "negative_or_complaint": {"en": "Negative or complaint", "zh-CN": "负面或投诉"},
    "no_products": {
        "en": "No product has negative feedback in this window.",
        "zh-CN": "此时间段内没有商品收到负面反馈。",
    },
    "complaint": {"en": "Complaint", "zh-CN": "投诉"},
    "aspects": {"en": "Aspects", "zh-CN": "涉及方面"},
    "last_sentiment": {"en": "Last sentiment", "zh-CN": "最近一次情感"},
    "not_read": {"en": "not read yet", "zh-CN": "尚未解读"},
    "fb_kind_review": {"en": "review", "zh-CN": "评价"},
    "fb_kind_complaint": {"en": "complaint", "zh-CN": "投诉"},
    "fb_kind_survey": {"en": "survey", "zh-CN": "问卷"},
    "fb_kind_consult": {"en": "consultation", "zh-CN": "咨询"},
    "yes": {"en": "yes", "zh-CN": "是"},
}


def translate(key: str, locale: str) -> str:
    entry = STRINGS[key]
    return entry.get(locale, entry["en"])


def number(value: int | float | Decimal, locale: str) -> str:
    """Grouped digits (the same in both locales), two decimals for a Decimal."""
    if isinstance(value, Decimal):
        return f"{value:,.2f}"
    return f"{value:,}"


def percent(value: float, locale: str) -> str:
    return f"{value * 100:.1f}%"


def day(value: date | str | None, locale: str) -> str:
    """A day: 2026年1月10日 in Chinese, ISO in English; ISO text is read first."""
    if isinstance(value, str):
        try:
            value = date.fromisoformat(value[:10])
        except ValueError:
            return str(value)
    if value is None:
        return "—"
    return f"{value.year}年{value.month}月{value.day}日" if locale == "zh-CN" else value.isoformat()


def moment(
    value: datetime | str | None, locale: str, tz: str = "UTC", *, named: bool = False
) -> str:
    """A stored time (UTC) in the zone ``tz`` to the minute: the day as :func:`day`
    writes it, then HH:MM; with the zone named after it when ``named``.

    >>> moment(datetime(2026, 1, 10, 6, 30), "en", "Asia/Shanghai", named=True)
    '2026-01-10 14:30 (Asia/Shanghai)'
    >>> moment("2026-01-10T06:30:00Z", "zh-CN", "Asia/Shanghai", named=True)
    '2026年1月10日 14:30（北京时间）'
    """
    local = i18n.local_time(value, tz)
    if local is None:
        return "—"
    said = f"{day(local.date(), locale)} {local:%H:%M}"
    return zoned(said, locale, tz) if named else said


def local_day(value: datetime | str | None, tz: str) -> date | None:
    """The day a stored time (UTC) falls on in the zone ``tz``."""
    local = i18n.local_time(value, tz)
    return local.date() if local else None


def zoned(text: str, locale: str, tz: str) -> str:
    """``text`` with the zone named after it, as each language brackets it.

    >>> zoned("Time", "en", "Asia/Shanghai"), zoned("时间", "zh-CN", "Asia/Shanghai")
    ('Time (Asia/Shanghai)', '时间（北京时间）')
    """
    name = i18n.zone_name(tz, locale)
    return f"{text}（{name}）" if locale == "zh-CN" else f"{text} ({name})"


def algorithm_label(value: str | None, locale: str) -> str:
    """A list's maker as people read it: ``item_knn v3`` is the item-kNN algorithm's
    registered version 3.

    >>> algorithm_label("item_knn v3", "zh-CN"), algorithm_label("trending", "en")
    ('基于商品的协同过滤 v3', 'trending')
    """
    name, _, version = str(value or "").partition(" v")
    said = i18n.label("algorithm", name, locale)
    return f"{said} v{version}" if version else said


def step_label(path: str, locale: str) -> str:
    """A running job's stage path (``refresh › recommendations``) in ``locale``.

    >>> step_label("recommendations › home", "zh-CN")
    '推荐 › home'
    """
    parts = str(path).split(progress.SEPARATOR)
    return progress.SEPARATOR.join(i18n.label("refresh_step", p.strip(), locale) for p in parts)


def feature_value(value: Any, unit: str, locale: str, currency: str) -> str:
    """A member feature's value as its unit reads: money with its sign, decimals to two
    places (a share stays 0–1, as rules write it), texts by their label (channel,
    category, tier).

    >>> feature_value(0.25, "share 0-1", "en", "CNY"), feature_value(7.778, "days", "en", "CNY")
    ('0.25', '7.78')
    >>> feature_value("web", "channel", "zh-CN", "CNY"), feature_value(30, "currency", "en", "CNY")
    ('网站', '¥30.00')
    """
    if value is None:
        return "—"
    if unit == "currency":
        return i18n.money(value, currency)
    if isinstance(value, str):
        return i18n.label(unit, value, locale)
    if isinstance(value, float):
        return f"{value:,.2f}"
    return number(value, locale)


def feature_label(name: str, locale: str) -> str:
    """How a member feature is named: its dictionary phrase in Chinese, its name in
    English (the name is what rules use)."""
    if locale != "zh-CN":
        return name
    found = _FEATURES.get(name)
    return found.description_zh if found else i18n.label("feature", name, locale)
