-- CustomerService's delete transaction (CustomerRepository.delete, Erasure.erase, Outbox.append),
-- for pgbench: each client deletes its own customers md5(k) of the setup, one after the other.
\set i :i + 1
\set k :client_id * :per_client + :i
BEGIN;
SELECT id, name, email, credit_limit, created_at, version, updated_at FROM customers WHERE id = md5(:k::text)::uuid FOR UPDATE;
WITH gone AS (DELETE FROM customers WHERE id = md5(:k::text)::uuid RETURNING id, version)
INSERT INTO deleted_customers (id, version, deleted_at, request_id)
SELECT id, version + 1, date_trunc('milliseconds', clock_timestamp()), 'pgbench' FROM gone
RETURNING version, deleted_at;
DELETE FROM outbox WHERE sequence IN (
    SELECT sequence FROM outbox WHERE (payload::jsonb) ->> 'id' = md5(:k::text)::uuid::text AND published_at IS NULL FOR UPDATE SKIP LOCKED);
UPDATE outbox SET payload = jsonb_build_object('id', md5(:k::text)::uuid::text, 'version', (payload::jsonb) -> 'version', 'erased', true)::text
WHERE (payload::jsonb) ->> 'id' = md5(:k::text)::uuid::text AND published_at IS NOT NULL AND NOT ((payload::jsonb) ? 'erased');
UPDATE idempotency_keys SET response_status = 410, response_body = '{"erased": true}', request_fingerprint = 'erased'
WHERE response_body IS NOT NULL AND (response_body::jsonb) ->> 'id' = md5(:k::text)::uuid::text;
INSERT INTO outbox (event_id, event_type, exchange, payload, request_id, headers)
VALUES (gen_random_uuid(), 'customer.deleted', 'customer.events',
        '{"id":"00000000-0000-0000-0000-000000000000","deletedAt":"2026-11-21T18:00:02.123Z","version":2}',
        'pgbench', '{"traceparent":"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"}'::jsonb || jsonb_build_object('x-epoch'::text, (SELECT epoch FROM replication_epoch)::text))
RETURNING sequence;
COMMIT;
