/// The HTTP contract of OrderService, generated from openapi.yaml.
