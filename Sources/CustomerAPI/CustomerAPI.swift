/// The HTTP contract of CustomerService, generated from openapi.yaml.
