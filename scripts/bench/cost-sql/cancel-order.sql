-- OrderService's cancel transaction (OrderRepository.cancel: the row locked, the status set;
-- Outbox.append), for pgbench: each client cancels its own orders md5(k) of the setup.
\set i :i + 1
\set k :client_id * :per_client + :i
BEGIN;
SELECT id, customer_id, amount, status, created_at, version, updated_at FROM orders WHERE id = md5(:k::text)::uuid FOR UPDATE;
UPDATE orders SET status = 'cancelled', version = version + 1, updated_at = date_trunc('milliseconds', clock_timestamp())
WHERE id = md5(:k::text)::uuid
RETURNING version, updated_at;
INSERT INTO outbox (event_id, event_type, exchange, payload, request_id, headers)
VALUES (gen_random_uuid(), 'order.cancelled', 'order.events',
        '{"id":"00000000-0000-0000-0000-000000000000","customerId":"00000000-0000-0000-0000-000000000000","amount":100,"status":"cancelled","createdAt":"2026-11-21T18:00:00.123Z","version":2,"updatedAt":"2026-11-21T18:00:01.123Z"}',
        'pgbench', '{"traceparent":"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"}'::jsonb || jsonb_build_object('x-epoch'::text, (SELECT epoch FROM replication_epoch)::text))
RETURNING sequence;
COMMIT;
