"""A real OTLP/HTTP trace receiver, and the checks of scripts/checks/trace-export-check.

    otlp_check.py receive PORT SPANS_FILE
        Listens on 127.0.0.1:PORT for POST /v1/traces (OTLP/HTTP, protobuf, gzip or
        not), decodes each ExportTraceServiceRequest with the opentelemetry-proto
        package and appends one JSON line per span to SPANS_FILE.

    otlp_check.py check CUSTOMER_URL ORDER_URL SPANS_FILE
        Sends requests to both services, waits for their spans, and checks that
        one request's spans from both services share one trace id (docs/design.md#trace).
        Prints "ok"/"FAIL" per check and "N passed, N failed" last; exits 1 on a failure.
"""

import gzip
import json
import sys
import time
import urllib.error
import urllib.request
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

# MARK: The receiver


def receive(port: int, spans_file: str) -> None:
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
        ExportTraceServiceRequest,
        ExportTraceServiceResponse,
    )
    from opentelemetry.proto.trace.v1.trace_pb2 import Span

    def value(any_value):
        kind = any_value.WhichOneof("value")
        return getattr(any_value, kind) if kind else None

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            if self.headers.get("Content-Encoding") == "gzip":
                body = gzip.decompress(body)
            if self.path != "/v1/traces" or self.headers.get("Content-Type") != "application/x-protobuf":
                self.send_error(415 if self.path == "/v1/traces" else 404)
                return
            request = ExportTraceServiceRequest()
            request.ParseFromString(body)
            with open(spans_file, "a") as out:
                for resource_spans in request.resource_spans:
                    resource = {a.key: value(a.value) for a in resource_spans.resource.attributes}
                    for scope_spans in resource_spans.scope_spans:
                        for span in scope_spans.spans:
                            out.write(json.dumps({
                                "service": resource.get("service.name"),
                                "name": span.name,
                                "kind": Span.SpanKind.Name(span.kind),
                                "traceId": span.trace_id.hex(),
                                "spanId": span.span_id.hex(),
                                "parentSpanId": span.parent_span_id.hex(),
                                "start": span.start_time_unix_nano,
                                "end": span.end_time_unix_nano,
                                "attributes": {a.key: value(a.value) for a in span.attributes},
                                "links": [{"traceId": l.trace_id.hex(), "spanId": l.span_id.hex()} for l in span.links],
                            }) + "\n")
            reply = ExportTraceServiceResponse().SerializeToString()
            self.send_response(200)
            self.send_header("Content-Type", "application/x-protobuf")
            self.send_header("Content-Length", str(len(reply)))
            self.end_headers()
            self.wfile.write(reply)

        def log_message(self, *args):
            pass

    ThreadingHTTPServer(("127.0.0.1", port), Handler).serve_forever()


# MARK: The checks


def call(method, url, body=None, headers=None):
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method, headers={"Content-Type": "application/json", **(headers or {})})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, dict(response.headers), json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), None


def spans(spans_file):
    try:
        with open(spans_file) as lines:
            return [json.loads(line) for line in lines]
    except FileNotFoundError:
        return []


def wait_for(what, condition, seconds=30):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = condition()
        if found:
            return found
        time.sleep(0.2)
    raise TimeoutError(f"waited {seconds} s for {what}")


def server_span(spans_file, service, request_id):
    """The server span of the request whose X-Request-ID was request_id."""
    for span in spans(spans_file):
        if span["service"] == service and span["kind"] == "SPAN_KIND_SERVER" and request_id in span["attributes"].values():
            return span
    return None


def trace_of(spans_file, trace_id):
    return [span for span in spans(spans_file) if span["traceId"] == trace_id]


def check(customer_url, order_url, spans_file):
    results = []

    def expect(name, condition, detail=""):
        results.append(condition)
        print(f"{'ok  ' if condition else 'FAIL'} {name}" + ("" if condition else f"\n     {detail}"))

    def follow(service, peer, request_id, event_type):
        """The request's trace: its server span, transaction span, the peer's apply span, the publish link."""
        request = wait_for(f"{service}'s span of request {request_id}", lambda: server_span(spans_file, service, request_id))
        trace_id = request["traceId"]
        name = f"{event_type} apply"
        wait_for(f"{peer}'s {name} span in trace {trace_id}",
                 lambda: any(s["service"] == peer and s["name"] == name for s in trace_of(spans_file, trace_id)))
        trace = trace_of(spans_file, trace_id)
        transaction = next((s for s in trace if s["service"] == service and s["name"] == "transaction"), None)
        apply = next(s for s in trace if s["service"] == peer and s["name"] == name)
        expect(f"{event_type}: {service}'s transaction span is a child of its request span",
               transaction is not None and transaction["parentSpanId"] == request["spanId"],
               f"trace {trace_id}: {[(s['service'], s['name']) for s in trace]}")
        expect(f"{event_type}: {peer}'s apply span is a child of {service}'s transaction span (one trace id)",
               transaction is not None and apply["parentSpanId"] == transaction["spanId"] and apply["kind"] == "SPAN_KIND_CONSUMER",
               f"apply {apply}")
        publish = wait_for(
            f"{service}'s publish span linking to the transaction",
            lambda: next((s for s in spans(spans_file) if s["service"] == service and s["kind"] == "SPAN_KIND_PRODUCER"
                          and transaction and {"traceId": trace_id, "spanId": transaction["spanId"]} in s["links"]), None),
            seconds=10)
        expect(f"{event_type}: {service}'s publish span links to the transaction", publish is not None)
        expect(f"{event_type}: the apply span carries the request id", apply["attributes"].get("request.id") == request_id,
               f"attributes {apply['attributes']}")
        return trace_id

    tag = uuid.uuid4().hex[:8]
    status, headers, customer = call("POST", f"{customer_url}/customers",
                                     {"name": "Trace Export", "email": f"trace-{tag}@example.com", "creditLimit": 1000})
    expect("create a customer", status == 201, f"status {status}")
    if status == 201:
        follow("customer-service", "order-service", headers["X-Request-ID"], "customer.created")

        # The customer reaches OrderService's replica, then an order for it.
        def order_created():
            status, headers, _ = call("POST", f"{order_url}/orders", {"customerId": customer["id"], "amount": 250})
            return (status, headers) if status == 201 else None
        status, headers = wait_for("an order accepted for the replicated customer", order_created)
        follow("order-service", "customer-service", headers["X-Request-ID"], "order.created")

        # The caller's trace is continued: the request span is a child of the caller's span.
        caller_trace, caller_span = uuid.uuid4().hex, uuid.uuid4().hex[:16]
        status, headers, _ = call("PATCH", f"{customer_url}/customers/{customer['id']}", {"creditLimit": 2000},
                                  {"traceparent": f"00-{caller_trace}-{caller_span}-01"})
        expect("update the customer with a caller's traceparent", status == 200, f"status {status}")
        if status == 200:
            trace_id = follow("customer-service", "order-service", headers["X-Request-ID"], "customer.updated")
            request = server_span(spans_file, "customer-service", headers["X-Request-ID"])
            expect("the caller's trace id and span are continued",
                   trace_id == caller_trace and request["parentSpanId"] == caller_span,
                   f"trace {trace_id}, parent {request['parentSpanId']}")

    failed = results.count(False)
    print(f"{len(results) - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "receive":
        receive(int(sys.argv[2]), sys.argv[3])
    elif len(sys.argv) == 5 and sys.argv[1] == "check":
        try:
            sys.exit(check(sys.argv[2], sys.argv[3], sys.argv[4]))
        except TimeoutError as error:
            print(f"FAIL {error}\n0 passed, 1 failed")
            sys.exit(1)
    else:
        sys.exit(__doc__)
