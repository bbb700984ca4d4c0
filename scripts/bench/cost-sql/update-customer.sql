-- CustomerService's update transaction (CustomerRepository.update: the row locked, If-Match
-- checked, one field changed; Outbox.append), for pgbench, on a customer md5(k) of the setup.
\set k random(1, :records)
BEGIN;
SELECT id, name, email, credit_limit, created_at, version, updated_at FROM customers WHERE id = md5(:k::text)::uuid FOR UPDATE;
UPDATE customers SET name = name, email = email, credit_limit = credit_limit + 1, version = version + 1,
    updated_at = date_trunc('milliseconds', clock_timestamp())
WHERE id = md5(:k::text)::uuid
RETURNING version, updated_at;
INSERT INTO outbox (event_id, event_type, exchange, payload, request_id, headers)
VALUES (gen_random_uuid(), 'customer.updated', 'customer.events',
        '{"id":"00000000-0000-0000-0000-000000000000","name":"pgbench","email":"pgbench@load.example","creditLimit":1001,"createdAt":"2026-11-21T18:00:00.123Z","version":2,"updatedAt":"2026-11-21T18:00:01.123Z"}',
        'pgbench', '{"traceparent":"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"}'::jsonb || jsonb_build_object('x-epoch'::text, (SELECT epoch FROM replication_epoch)::text))
RETURNING sequence;
COMMIT;
