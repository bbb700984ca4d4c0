-- The records of the order ceilings (scripts/bench/cost.sh): replicated customers and orders
-- md5(k) for k in 1..:n, each order with its published create event.
INSERT INTO replication_epoch (single, epoch) SELECT true, 1 WHERE NOT EXISTS (SELECT FROM replication_epoch);
INSERT INTO replica_customers (id, name, email, credit_limit, created_at, event_id, version, updated_at, epoch)
SELECT md5(k::text)::uuid, 'ceiling ' || k, 'ceiling-' || k || '@load.example', 100, now(), gen_random_uuid(), 1, now(), 1
FROM generate_series(1, :n) AS k;
INSERT INTO orders (id, customer_id, amount, request_id, created_at, updated_at)
SELECT md5(k::text)::uuid, md5(k::text)::uuid, 100, 'ceiling', now(), now()
FROM generate_series(1, :n) AS k;
INSERT INTO outbox (event_id, event_type, exchange, payload, request_id, headers, published_at)
SELECT gen_random_uuid(), 'order.created', 'order.events',
       json_build_object('id', md5(k::text)::uuid, 'customerId', md5(k::text)::uuid, 'amount', 100, 'status', 'created',
                         'createdAt', '2026-11-21T18:00:00.123Z', 'version', 1, 'updatedAt', '2026-11-21T18:00:00.123Z')::text,
       'ceiling', '{"x-epoch": "1"}', now()
FROM generate_series(1, :n) AS k;
VACUUM ANALYZE;
