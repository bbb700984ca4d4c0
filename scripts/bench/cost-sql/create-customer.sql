-- CustomerService's create transaction (CustomerRepository.create, Outbox.append), for pgbench.
BEGIN;
INSERT INTO customers (id, name, email, credit_limit, request_id, created_at, updated_at)
SELECT gen_random_uuid(), 'pgbench', 'pgbench-' || gen_random_uuid() || '@load.example', 100, 'pgbench', now.at, now.at
FROM (SELECT date_trunc('milliseconds', clock_timestamp()) AS at) AS now
RETURNING created_at;
INSERT INTO outbox (event_id, event_type, exchange, payload, request_id, headers)
VALUES (gen_random_uuid(), 'customer.created', 'customer.events',
        '{"id":"00000000-0000-0000-0000-000000000000","name":"pgbench","email":"pgbench@load.example","creditLimit":100,"createdAt":"2026-11-21T18:00:00.123Z","version":1,"updatedAt":"2026-11-21T18:00:00.123Z"}',
        'pgbench', '{"traceparent":"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"}'::jsonb || jsonb_build_object('x-epoch'::text, (SELECT epoch FROM replication_epoch)::text))
RETURNING sequence;
COMMIT;
