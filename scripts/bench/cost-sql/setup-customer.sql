-- The records of the customer ceilings (scripts/bench/cost.sh): customers md5(k) for k in 1..:n,
-- each with its published create event, as CustomerService holds them after a create.
INSERT INTO replication_epoch (single, epoch) SELECT true, 1 WHERE NOT EXISTS (SELECT FROM replication_epoch);
INSERT INTO customers (id, name, email, credit_limit, request_id, created_at, updated_at)
SELECT md5(k::text)::uuid, 'ceiling ' || k, 'ceiling-' || k || '@load.example', 100, 'ceiling', now(), now()
FROM generate_series(1, :n) AS k;
INSERT INTO outbox (event_id, event_type, exchange, payload, request_id, headers, published_at)
SELECT gen_random_uuid(), 'customer.created', 'customer.events',
       json_build_object('id', md5(k::text)::uuid, 'name', 'ceiling ' || k, 'email', 'ceiling-' || k || '@load.example',
                         'creditLimit', 100, 'createdAt', '2026-11-21T18:00:00.123Z', 'version', 1, 'updatedAt', '2026-11-21T18:00:00.123Z')::text,
       'ceiling', '{"x-epoch": "1"}', now()
FROM generate_series(1, :n) AS k;
VACUUM ANALYZE;
