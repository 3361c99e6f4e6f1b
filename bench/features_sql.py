"""The peer of bench/features.py: the member features as one hand-written DuckDB query.

Same formulas as memberlens's registry (profile.feature_defs()), written the way an
analyst would write them for DuckDB alone: CTEs, FILTER clauses, QUALIFY for the modes.
``{cutoff}`` and ``{zone}`` (the default time zone) are SQL literals. It reads what the
features step reads, the text step's ``feedback_insights`` included (sentiment and
text-read complaints). A feature added to the registry must be added here too:
bench/features.py names the missing ones, and its ``--smoke`` run in the test suite
(tests/test_bench_smoke.py) catches it.
"""

HAND_SQL = """
WITH mm AS (SELECT source, source_member_key, member_id FROM member_map),
o AS (
  SELECT mm.member_id, o.source, o.order_id, o.ordered_at, o.channel, o.total_amount,
         coalesce(trim(o.coupon_code), '') <> '' OR coalesce(o.discount_amount, 0) > 0
           AS discounted,
         coalesce(o.status IN ('refunded', 'returned'), false) AS refunded
  FROM orders o JOIN mm USING (source, source_member_key)
  WHERE o.ordered_at < {cutoff} AND (o.status IS NULL OR o.status <> 'cancelled')),
kept AS (SELECT * FROM o WHERE NOT refunded),
versions AS (
  SELECT source, source_member_key, signup_at, timezone, _loaded_at,
         NULL::TIMESTAMP AS _end FROM members
  UNION ALL
  SELECT source, source_member_key, signup_at, timezone, _loaded_at, _superseded_at
  FROM members_history WHERE _superseded_by_run IS NULL OR _superseded_by_run <> _run_id),
chosen AS (
  SELECT *, _loaded_at <= {cutoff} AS known FROM versions
  QUALIFY row_number() OVER (PARTITION BY source, source_member_key ORDER BY
    _loaded_at <= {cutoff} DESC,
    CASE WHEN _loaded_at <= {cutoff} THEN 1 ELSE -1 END * coalesce(epoch(_end), 2 ^ 62) DESC,
    CASE WHEN _loaded_at <= {cutoff} THEN 1 ELSE -1 END * epoch(_loaded_at) DESC) = 1),
attrs AS (
  SELECT mm.member_id, min(c.signup_at) AS signup_at,
         coalesce(arg_min(c.timezone, coalesce(c.signup_at::VARCHAR, '9999') || c.source
                  || chr(31) || c.source_member_key)
                  FILTER (c.timezone IN (SELECT name FROM pg_timezone_names())), {zone}) AS zone
  FROM chosen c JOIN mm USING (source, source_member_key)
  WHERE c.signup_at < {cutoff} OR (c.signup_at IS NULL AND c.known)
  GROUP BY mm.member_id),
totals AS (
  SELECT member_id,
    count(*) FILTER (NOT refunded) AS frequency,
    sum(total_amount) FILTER (NOT refunded) AS monetary_raw,
    count(*) FILTER (NOT refunded AND total_amount IS NOT NULL) AS priced,
    min(ordered_at) FILTER (NOT refunded) AS first_order_at,
    max(ordered_at) FILTER (NOT refunded) AS last_order_at,
    count(*) FILTER (NOT refunded AND discounted) AS coupon_orders,
    count(*) FILTER (refunded) AS refunds, count(*) AS not_cancelled,
    count(DISTINCT ordered_at::DATE) FILTER (NOT refunded) AS purchase_days,
    min(ordered_at::DATE) FILTER (NOT refunded) AS first_day,
    max(ordered_at::DATE) FILTER (NOT refunded) AS last_day,
    count(*) FILTER (NOT refunded AND ordered_at >= {cutoff} - INTERVAL 30 DAY) AS o30,
    sum(total_amount) FILTER (NOT refunded AND ordered_at >= {cutoff} - INTERVAL 30 DAY) AS s30,
    count(*) FILTER (NOT refunded AND ordered_at >= {cutoff} - INTERVAL 90 DAY) AS o90,
    sum(total_amount) FILTER (NOT refunded AND ordered_at >= {cutoff} - INTERVAL 90 DAY) AS s90,
    count(*) FILTER (NOT refunded AND ordered_at >= {cutoff} - INTERVAL 365 DAY) AS o365,
    sum(total_amount) FILTER (NOT refunded AND ordered_at >= {cutoff} - INTERVAL 365 DAY) AS s365
  FROM o GROUP BY member_id),
spread AS (
  SELECT member_id, stddev_samp(gap::DOUBLE) AS interval_std_days FROM (
    SELECT member_id, date_diff('day', lag(day) OVER (PARTITION BY member_id ORDER BY day), day)
      AS gap FROM (SELECT DISTINCT member_id, ordered_at::DATE AS day FROM kept))
  WHERE gap IS NOT NULL GROUP BY member_id),
channel AS (
  SELECT member_id, channel AS preferred_channel FROM kept WHERE channel IS NOT NULL
  GROUP BY member_id, channel
  QUALIFY row_number() OVER (PARTITION BY member_id ORDER BY count(*) DESC, channel) = 1),
local AS (
  SELECT member_id, timezone(coalesce(a.zone, {zone}), timezone('UTC', ordered_at)) AS t
  FROM kept LEFT JOIN attrs a USING (member_id)),
weekday AS (
  SELECT member_id, isodow(t) AS preferred_weekday FROM local GROUP BY 1, 2
  QUALIFY row_number() OVER (PARTITION BY member_id ORDER BY count(*) DESC,
                             preferred_weekday) = 1),
hour AS (
  SELECT member_id, hour(t) AS preferred_hour FROM local GROUP BY 1, 2
  QUALIFY row_number() OVER (PARTITION BY member_id ORDER BY count(*) DESC,
                             preferred_hour) = 1),
lines AS (
  SELECT k.member_id, k.source, k.order_id, k.ordered_at, i.product_id, p.category,
         coalesce(i.amount, i.quantity * i.unit_price) AS amount
  FROM order_items i JOIN kept k USING (source, order_id)
  LEFT JOIN products p USING (product_id)),
favourite AS (
  SELECT member_id, category AS favourite_category,
         n_orders / t.frequency AS favourite_category_share
  FROM (SELECT member_id, category, sum(amount) AS spend,
               count(DISTINCT source || chr(31) || order_id) AS n_orders
        FROM lines WHERE category IS NOT NULL GROUP BY ALL) JOIN totals t USING (member_id)
  QUALIFY row_number() OVER (PARTITION BY member_id ORDER BY n_orders DESC, spend DESC,
                             category) = 1),
ev AS (
  SELECT mm.member_id, e.event_type, e.occurred_at, e.product_id
  FROM events e JOIN mm USING (source, source_member_key) WHERE e.occurred_at < {cutoff}
  UNION ALL
  SELECT mm.member_id, e.event_type, e.occurred_at, e.product_id
  FROM events e JOIN anonymous_map a USING (anonymous_id)
  JOIN mm ON mm.source = a.source AND mm.source_member_key = a.source_member_key
  WHERE e.source_member_key IS NULL AND e.occurred_at < {cutoff}),
ev_totals AS (
  SELECT member_id, max(occurred_at) AS last_event_at,
         count(*) FILTER (event_type = 'favorite') AS favourites
  FROM ev GROUP BY member_id),
buys AS (
  SELECT member_id, product_id, occurred_at AS bought_at FROM ev
  WHERE event_type = 'purchase' AND product_id IS NOT NULL
  UNION ALL
  SELECT member_id, product_id, ordered_at FROM lines WHERE product_id IS NOT NULL),
conversion AS (
  SELECT v.member_id, count(*) AS product_views,
         count(*) FILTER (b.last_buy >= v.first_view) AS converted
  FROM (SELECT member_id, product_id, min(occurred_at) AS first_view FROM ev
        WHERE event_type = 'view' AND product_id IS NOT NULL GROUP BY ALL) v
  LEFT JOIN (SELECT member_id, product_id, max(bought_at) AS last_buy FROM buys GROUP BY ALL) b
    USING (member_id, product_id)
  GROUP BY v.member_id),
cart AS (
  SELECT a.member_id, count(*) AS cart_abandonments
  FROM ev a WHERE a.event_type = 'add_to_cart' AND a.product_id IS NOT NULL
    AND a.occurred_at <= {cutoff} - INTERVAL 7 DAY
    AND NOT EXISTS (SELECT 1 FROM buys b WHERE b.member_id = a.member_id
                    AND b.product_id = a.product_id AND b.bought_at >= a.occurred_at
                    AND b.bought_at < a.occurred_at + INTERVAL 7 DAY)
  GROUP BY a.member_id),
active AS (
  SELECT member_id,
         count(DISTINCT t::DATE) FILTER (t >= {cutoff} - INTERVAL 30 DAY) AS active_days_30d,
         count(DISTINCT t::DATE) AS active_days_90d
  FROM (SELECT member_id, occurred_at AS t FROM ev
        WHERE occurred_at >= {cutoff} - INTERVAL 90 DAY
        UNION ALL
        SELECT member_id, ordered_at FROM kept WHERE ordered_at >= {cutoff} - INTERVAL 90 DAY)
  GROUP BY member_id),
fb AS (
  SELECT mm.member_id, count(*) FILTER (kind = 'review') AS reviews,
         avg(rating) FILTER (kind = 'review' AND rating IS NOT NULL) AS avg_rating,
         count(*) FILTER (kind = 'complaint' OR coalesce(fi.complaint, false)) AS complaints,
         arg_max(nps, strftime(occurred_at, '%Y-%m-%d %H:%M:%S.%f') || chr(31) || feedback_id)
           FILTER (nps IS NOT NULL) AS last_nps,
         arg_max(fi.sentiment,
                 strftime(occurred_at, '%Y-%m-%d %H:%M:%S.%f') || chr(31) || feedback_id)
           FILTER (fi.sentiment IS NOT NULL) AS last_sentiment
  FROM feedback f JOIN mm USING (source, source_member_key)
  LEFT JOIN feedback_insights fi USING (feedback_id)
  WHERE f.occurred_at < {cutoff} GROUP BY mm.member_id),
msg AS (
  SELECT mm.member_id, count(*) AS messages,
         count(*) FILTER (opened_at < {cutoff}) AS opened,
         count(*) FILTER (clicked_at < {cutoff}) AS clicked
  FROM touches t JOIN mm USING (source, source_member_key)
  WHERE t.sent_at < {cutoff} AND NOT coalesce(t.bounced, false) GROUP BY mm.member_id),
points AS (
  SELECT member_id, sum(points) AS points_balance FROM points_ledger
  WHERE occurred_at < {cutoff} GROUP BY member_id),
population AS (
  SELECT member_id FROM attrs UNION SELECT member_id FROM o UNION SELECT member_id FROM ev)
SELECT p.member_id,
  floor((epoch({cutoff}) - epoch(t.last_order_at)) / 86400)::BIGINT AS recency_days,
  coalesce(t.frequency, 0) AS frequency,
  (CASE WHEN coalesce(t.frequency, 0) = 0 THEN 0 ELSE t.monetary_raw END)::DECIMAL(18,2)
    AS monetary,
  round(t.monetary_raw / nullif(t.priced, 0), 2)::DECIMAL(18,2) AS avg_order_value,
  floor((epoch({cutoff}) - epoch(least(a.signup_at, t.first_order_at))) / 86400)::BIGINT
    AS tenure_days,
  date_diff('day', t.first_day, t.last_day) / nullif(t.purchase_days - 1, 0)
    AS interval_mean_days,
  s.interval_std_days,
  CASE WHEN t.frequency > 0 AND t.priced = 0 THEN NULL ELSE coalesce(t.s30, 0) END
    ::DECIMAL(18,2) AS spend_30d,
  coalesce(t.o30, 0) AS orders_30d,
  CASE WHEN t.frequency > 0 AND t.priced = 0 THEN NULL ELSE coalesce(t.s90, 0) END
    ::DECIMAL(18,2) AS spend_90d,
  coalesce(t.o90, 0) AS orders_90d,
  CASE WHEN t.frequency > 0 AND t.priced = 0 THEN NULL ELSE coalesce(t.s365, 0) END
    ::DECIMAL(18,2) AS spend_365d,
  coalesce(t.o365, 0) AS orders_365d,
  c.preferred_channel, w.preferred_weekday, h.preferred_hour,
  t.coupon_orders / nullif(coalesce(t.frequency, 0), 0) AS coupon_share,
  t.refunds / nullif(t.not_cancelled, 0) AS refund_rate,
  f.favourite_category, f.favourite_category_share,
  coalesce(v.product_views, 0) AS product_views,
  v.converted / nullif(v.product_views, 0) AS view_to_buy,
  coalesce(ca.cart_abandonments, 0) AS cart_abandonments,
  coalesce(e.favourites, 0) AS favourites,
  floor((epoch({cutoff}) - epoch(e.last_event_at)) / 86400)::BIGINT AS days_since_last_event,
  coalesce(ac.active_days_30d, 0) AS active_days_30d,
  coalesce(ac.active_days_90d, 0) AS active_days_90d,
  coalesce(fb.reviews, 0) AS reviews, fb.avg_rating, coalesce(fb.complaints, 0) AS complaints,
  fb.last_sentiment, fb.last_nps, coalesce(m.messages, 0) AS messages,
  m.opened / nullif(m.messages, 0) AS open_rate, m.clicked / nullif(m.messages, 0) AS click_rate,
  coalesce(pt.points_balance, 0) AS points_balance, NULL::VARCHAR AS tier
FROM population p
LEFT JOIN attrs a USING (member_id) LEFT JOIN totals t USING (member_id)
LEFT JOIN spread s USING (member_id) LEFT JOIN channel c USING (member_id)
LEFT JOIN weekday w USING (member_id) LEFT JOIN hour h USING (member_id)
LEFT JOIN favourite f USING (member_id) LEFT JOIN ev_totals e USING (member_id)
LEFT JOIN conversion v USING (member_id) LEFT JOIN cart ca USING (member_id)
LEFT JOIN active ac USING (member_id) LEFT JOIN fb USING (member_id)
LEFT JOIN msg m USING (member_id) LEFT JOIN points pt USING (member_id)
"""

RFM_SQL = """
SELECT member_id,
       floor((epoch(TIMESTAMP '2025-01-01') - epoch(max(ordered_at))) / 86400)::BIGINT
         AS recency_days,
       count(*) AS frequency, sum(amount) AS monetary
FROM read_parquet('{path}') GROUP BY member_id
"""
