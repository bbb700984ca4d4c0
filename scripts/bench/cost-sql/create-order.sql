-- OrderService's create transaction (OrderRepository.create: only for a live customer of the
-- replica; Outbox.append), for pgbench, for a customer md5(k) of the setup.
\set k random(1, :records)
BEGIN;
INSERT INTO orders (id, customer_id, amount, request_id, created_at, updated_at)
SELECT gen_random_uuid(), md5(:k::text)::uuid, 100, 'pgbench', now.at, now.at
FROM (SELECT date_trunc('milliseconds', clock_timestamp()) AS at) AS now
WHERE EXISTS (SELECT 1 FROM replica_customers WHERE id = md5(:k::text)::uuid AND deleted_at IS NULL)
RETURNING created_at;
INSERT INTO outbox (event_id, event_type, exchange, payload, request_id, headers)
VALUES (gen_random_uuid(), 'order.created', 'order.events',
        '{"id":"00000000-0000-0000-0000-000000000000","customerId":"00000000-0000-0000-0000-000000000000","amount":100,"status":"created","createdAt":"2026-11-21T18:00:00.123Z","version":1,"updatedAt":"2026-11-21T18:00:00.123Z"}',
        'pgbench', '{"traceparent":"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"}'::jsonb || jsonb_build_object('x-epoch'::text, (SELECT epoch FROM replication_epoch)::text))
RETURNING sequence;
COMMIT;
